//! Counts kept per grid (its own rows, not its subtree's), recomputed after bulk writes; see
//! `crate::tally`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "grid_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub grid_id: i64,
    /// Persons whose grid is this one.
    pub population: i64,
    /// Current household heads of the houses in this grid.
    pub households: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
