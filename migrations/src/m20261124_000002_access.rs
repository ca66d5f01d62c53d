//! Access control: API keys of department systems and service accounts (only a hash is kept),
//! data-sharing requests and the grants they become, registered operations a grant may be bound
//! to, and the hash-chained audit log with its signed head.

use crate::layout::Table;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

fn c(name: &'static str) -> Alias {
    Alias::new(name)
}

fn tables() -> Vec<Table> {
    vec![
        Table::new("api_keys")
            .col(string(c("name")))
            .col(string(c("key_hash")))
            .col(string(c("key_prefix")))
            .col(string(c("role")))
            .col(string_null(c("department")))
            .col(string_null(c("grid_code")))
            .col(timestamp_with_time_zone(c("created_at")))
            .col(timestamp_with_time_zone_null(c("revoked_at")))
            .unique(&["key_hash"])
            .unique(&["name"]),
        Table::new("registered_operations")
            .col(string(c("hash")))
            .col(string(c("name")))
            .col(text(c("query")))
            .col(string(c("registered_by")))
            .col(timestamp_with_time_zone(c("registered_at")))
            .unique(&["hash"]),
        Table::new("sharing_requests")
            .col(string(c("requester")))
            .col(string(c("provider")))
            .col(text(c("element_types")))
            .col(text(c("fields")))
            .col(text(c("purposes")))
            .col(text(c("legal_basis")))
            .col(text(c("operations")))
            .col(timestamp_with_time_zone(c("ends_at")))
            .col(string(c("status")))
            .col(string(c("requested_by")))
            .col(timestamp_with_time_zone(c("requested_at")))
            .col(string_null(c("decided_by")))
            .col(timestamp_with_time_zone_null(c("decided_at")))
            .col(text_null(c("decision_note")))
            .index(&["requester", "status"])
            .index(&["provider", "status"]),
        Table::new("audit_entries")
            .col(timestamp_with_time_zone(c("at")))
            .col(string(c("kind")))
            .col(string(c("subject")))
            .col(string(c("role")))
            .col(string_null(c("department")))
            .col(text_null(c("purpose")))
            .col(text_null(c("case_id")))
            .col(string_null(c("operation_hash")))
            .col(string_null(c("element_type")))
            .col(big_integer_null(c("element_id")))
            .col(text(c("fields")))
            .col(text(c("detail")))
            .col(string(c("prev_hash")))
            .col(string(c("hash")))
            .index(&["element_type", "element_id"])
            .index(&["subject"])
            .index(&["kind"]),
        Table::new("audit_head")
            .col(big_integer(c("last_id")))
            .col(string(c("last_hash")))
            .col(string(c("mac"))),
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            table.create(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().iter().rev() {
            table.drop(manager).await?;
        }
        Ok(())
    }
}
