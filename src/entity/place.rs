//! Places (地): compounds, streets, shops, business buildings, schools, public spaces.

use super::vocabulary::PlaceKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "places")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub kind: PlaceKind,
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub boundary: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
