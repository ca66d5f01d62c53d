//! Objects (物): managed physical things such as hydrants, cameras and gates.

use super::vocabulary::{ObjectKind, ObjectStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "objects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub place_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub kind: ObjectKind,
    pub code: String,
    pub name: String,
    pub status: ObjectStatus,
    pub latitude: f64,
    pub longitude: f64,
    pub installed_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
