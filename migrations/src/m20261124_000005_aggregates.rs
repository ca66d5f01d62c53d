//! Indexes for the command-centre aggregates (`grid { stats }`): each walks a subtree's grids from
//! the grid closure and reads, per grid, only an index — events by status, category and priority
//! with their resolution times; events resolved per day; volunteer participations per activity;
//! memberships per organization.

use sea_orm_migration::prelude::*;

/// Table and columns of each index; the name is `ix_<table>_<columns>`.
const INDEXES: &[(&str, &[&str])] = &[
    (
        "events",
        &[
            "grid_id",
            "status",
            "category",
            "priority",
            "resolved_at",
            "resolve_by",
        ],
    ),
    ("events", &["grid_id", "resolved_at"]),
    (
        "volunteer_participations",
        &["activity_id", "person_id", "hours"],
    ),
    (
        "memberships",
        &["organization_id", "role", "person_id", "until"],
    ),
];

fn name(table: &str, columns: &[&str]) -> String {
    format!("ix_{table}_{}", columns.join("_"))
}

/// Adds the aggregate indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name(table, columns)).table(Alias::new(*table));
            for column in *columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            let drop = Index::drop()
                .name(name(table, columns))
                .table(Alias::new(*table))
                .to_owned();
            manager.drop_index(drop).await?;
        }
        Ok(())
    }
}
