//! The signed head of the audit chain: the last entry's id and hash, with a MAC over both, so
//! that removing entries from the end of the chain is detected.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_head")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub last_id: i64,
    pub last_hash: String,
    pub mac: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
