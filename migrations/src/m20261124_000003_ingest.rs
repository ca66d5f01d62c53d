//! Department imports: each import run with its counts, the rows it rejected (line and reason,
//! nothing lost), identity candidates waiting for a person to merge or keep apart, and on each
//! source record its values under the hub's column names and a fingerprint for re-imports.

use crate::layout::Table;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

fn c(name: &'static str) -> Alias {
    Alias::new(name)
}

fn tables() -> Vec<Table> {
    vec![
        Table::new("imports")
            .col(string(c("department")))
            .col(string(c("kind")))
            .col(string(c("file_name")))
            .col(string(c("status")))
            .col(string(c("started_by")))
            .col(timestamp_with_time_zone(c("started_at")))
            .col(timestamp_with_time_zone_null(c("finished_at")))
            .col(big_integer(c("inserted")))
            .col(big_integer(c("updated")))
            .col(big_integer(c("unchanged")))
            .col(big_integer(c("rejected")))
            .index(&["department", "id"]),
        Table::new("import_rejections")
            .fk("import_id", "imports")
            .col(big_integer(c("line")))
            .col(text(c("reason")))
            .col(text(c("raw"))),
        Table::new("identity_candidates")
            .fk("source_record_id", "source_records")
            .fk("person_id", "persons")
            .col(double(c("score")))
            .col(string(c("status")))
            .col(string_null(c("decided_by")))
            .col(timestamp_with_time_zone_null(c("decided_at")))
            .index(&["status", "id"]),
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

fn source_record_columns() -> TableAlterStatement {
    sea_query::Table::alter()
        .table(c("source_records"))
        .add_column(text(c("fields")).default("{}"))
        .to_owned()
}

fn source_record_fingerprint() -> TableAlterStatement {
    sea_query::Table::alter()
        .table(c("source_records"))
        .add_column(string(c("fingerprint")).default(""))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(source_record_columns()).await?;
        manager.alter_table(source_record_fingerprint()).await?;
        for table in tables() {
            table.create(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().iter().rev() {
            table.drop(manager).await?;
        }
        for column in ["fingerprint", "fields"] {
            manager
                .alter_table(
                    sea_query::Table::alter()
                        .table(c("source_records"))
                        .drop_column(c(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
