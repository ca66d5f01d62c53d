//! Per-grid tallies: how many persons live in each grid and how many households it has, kept as
//! rows so that dashboard counts over a subtree sum a few tallies instead of counting every
//! person of a district.

use crate::layout::Table;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table() -> Table {
    Table::without_id("grid_tallies")
        .fk("grid_id", "grids")
        .col(big_integer(Alias::new("population")))
        .col(big_integer(Alias::new("households")))
        .unique(&["grid_id"])
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table().create(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table().drop(manager).await
    }
}
