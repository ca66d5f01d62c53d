//! The timeline of an event: one row per step taken.

use super::vocabulary::{EventActionKind, EventStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: i64,
    pub department_id: Option<i64>,
    pub action: EventActionKind,
    pub from_status: Option<EventStatus>,
    pub to_status: EventStatus,
    pub actor: String,
    pub note: String,
    pub attachments: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
