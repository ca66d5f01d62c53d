//! Houses (房): compounds, buildings, units and rooms as one tree.

use super::vocabulary::{HouseKind, HouseUsage};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "houses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub grid_id: i64,
    pub kind: HouseKind,
    pub name: String,
    pub address: String,
    pub usage: Option<HouseUsage>,
    pub area_sqm: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
