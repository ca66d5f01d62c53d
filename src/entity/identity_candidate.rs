//! Identity candidates: a department record that may describe an existing person, waiting for
//! someone to merge it into that person or keep them apart.

use sea_orm::entity::prelude::*;

/// Status of a candidate nobody has decided yet.
pub const OPEN: &str = "open";

/// Status of the candidate the record was merged into.
pub const MERGED: &str = "merged";

/// Status of a candidate decided to be a different person.
pub const KEPT_APART: &str = "kept_apart";

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_candidates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_record_id: i64,
    pub person_id: i64,
    pub score: f64,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
