//! Volunteer activities (志愿服务) held by a team in a grid.

use super::vocabulary::VolunteerCategory;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub grid_id: i64,
    pub category: VolunteerCategory,
    pub title: String,
    pub held_on: Date,
    pub hours: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
