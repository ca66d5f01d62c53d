//! Indexes for the command-centre aggregates (`grid { stats }`): each walks a subtree's grids from
//! the grid closure and reads, per grid, only an index — events by status, category and priority
//! with their resolution times; events resolved per day; volunteer participations per activity;
//! memberships per organization.

use sea_orm_migration::prelude::*;

/// Name (short enough for PostgreSQL's 63 characters), table and columns of each index.
const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "ix_events_grid_id_breakdown",
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
    (
        "ix_events_grid_id_resolved_at",
        "events",
        &["grid_id", "resolved_at"],
    ),
    (
        "ix_volunteer_participations_activity_id_person_id",
        "volunteer_participations",
        &["activity_id", "person_id", "hours"],
    ),
    (
        "ix_memberships_organization_id_role_person_id",
        "memberships",
        &["organization_id", "role", "person_id", "until"],
    ),
];

/// Adds the aggregate indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Alias::new(*table));
            for column in *columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            let drop = Index::drop()
                .name(*name)
                .table(Alias::new(*table))
                .to_owned();
            manager.drop_index(drop).await?;
        }
        Ok(())
    }
}
