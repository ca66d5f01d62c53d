//! Data-sharing requests 数据共享申请: one department asks another for named fields of named
//! element types. An approved request is a grant until it ends or is revoked. List columns hold
//! comma-separated names.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sharing_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub requester: String,
    pub provider: String,
    pub element_types: String,
    pub fields: String,
    pub purposes: String,
    pub legal_basis: String,
    pub operations: String,
    pub ends_at: DateTimeUtc,
    pub status: String,
    pub requested_by: String,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
