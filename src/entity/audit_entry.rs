//! The audit log: one entry per mutation, per element whose sensitive fields a request read, and
//! per break-glass reveal. Entries are hash-chained: `hash` covers the entry and `prev_hash`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub kind: String,
    pub subject: String,
    pub role: String,
    pub department: Option<String>,
    pub purpose: Option<String>,
    pub case_id: Option<String>,
    pub operation_hash: Option<String>,
    pub element_type: Option<String>,
    pub element_id: Option<i64>,
    pub fields: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
