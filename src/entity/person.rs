//! Persons (人), keyed by the resident ID number.

use super::vocabulary::Gender;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub id_number: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: Date,
    pub ethnicity: String,
    pub phone: Option<String>,
    pub household_address: Option<String>,
    pub local_household: bool,
    pub floating: bool,
    pub grid_id: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
