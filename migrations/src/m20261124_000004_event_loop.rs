//! The event loop as a process: the grid level that holds an event after escalations, the
//! deadline of its current step, and when the deadline sweeper found it overdue.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn c(name: &'static str) -> Alias {
    Alias::new(name)
}

/// The new columns of `events`, one statement each (SQLite adds one column at a time).
fn columns() -> Vec<ColumnDef> {
    vec![
        big_integer_null(c("held_at_grid_id")),
        timestamp_with_time_zone_null(c("step_due_at")),
        timestamp_with_time_zone_null(c("overdue_since")),
    ]
}

/// Indexes the sweeper walks: open events by resolution and by step deadline.
fn indexes() -> Vec<(&'static str, [&'static str; 2])> {
    vec![
        ("idx_events_status_resolve_by", ["status", "resolve_by"]),
        ("idx_events_status_step_due_at", ["status", "step_due_at"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            let alter = Table::alter()
                .table(c("events"))
                .add_column(&mut column)
                .to_owned();
            manager.alter_table(alter).await?;
        }
        for (name, [first, second]) in indexes() {
            let index = Index::create()
                .name(name)
                .table(c("events"))
                .col(c(first))
                .col(c(second))
                .to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in indexes() {
            let index = Index::drop().name(name).table(c("events")).to_owned();
            manager.drop_index(index).await?;
        }
        for column in ["overdue_since", "step_due_at", "held_at_grid_id"] {
            let alter = Table::alter()
                .table(c("events"))
                .drop_column(c(column))
                .to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
