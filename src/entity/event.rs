//! Events (事): everything that must be handled in the grid.

use super::vocabulary::{EventCategory, EventChannel, EventPriority, EventStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub place_id: Option<i64>,
    pub house_id: Option<i64>,
    pub department_id: Option<i64>,
    pub category: EventCategory,
    pub priority: EventPriority,
    pub status: EventStatus,
    pub channel: EventChannel,
    pub title: String,
    pub description: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub reported_at: DateTimeUtc,
    pub respond_by: DateTimeUtc,
    pub resolve_by: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub satisfaction: Option<i32>,
    pub held_at_grid_id: Option<i64>,
    pub step_due_at: Option<DateTimeUtc>,
    pub overdue_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
