//! Provenance: each record a department sent, kept as it arrived.

use super::vocabulary::ElementType;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "source_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub department_id: i64,
    pub source_id: String,
    pub element_type: ElementType,
    pub element_id: i64,
    pub received_at: DateTimeUtc,
    pub payload: String,
    /// The record's values under the hub's column names (JSON object), for conflicts.
    pub fields: String,
    /// SHA-256 of the raw payload: an unchanged re-import has the same fingerprint.
    pub fingerprint: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
