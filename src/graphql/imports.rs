//! Import runs and the rows they rejected, in GraphQL: a department sees its own imports, an
//! admin every department's. Nothing a department sent is lost: each rejected row is kept with
//! its line number, reason and raw text.

use super::error::{forbidden, OrInternal};
use super::guard;
use crate::access::policy::GrantRights;
use crate::db::Database;
use crate::entity::{import, import_rejection};
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Most imports or rejected rows listed at once.
const MAX_LISTED: u64 = 500;

/// One import run.
pub struct Import(import::Model);

/// One import run: a department file or pushed body, with what happened to its rows.
#[Object]
impl Import {
    /// Number of the import.
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// Department that sent the data.
    async fn department(&self) -> &str {
        &self.0.department
    }

    /// Kind of records, e.g. `persons`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// File name, or `http` for a body pushed to `/ingest/{department}`.
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }

    /// `running` (or stopped halfway: run it again to complete it) or `finished`.
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// Who started it (API key or token subject, or `cli`).
    async fn started_by(&self) -> &str {
        &self.0.started_by
    }

    /// When it started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// When it finished; null while running or when stopped halfway.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// Rows that created an element.
    async fn inserted(&self) -> i64 {
        self.0.inserted
    }

    /// Rows that changed an element.
    async fn updated(&self) -> i64 {
        self.0.updated
    }

    /// Rows that changed nothing (re-imports, duplicates).
    async fn unchanged(&self) -> i64 {
        self.0.unchanged
    }

    /// Rows not taken; see `rejections`.
    async fn rejected(&self) -> i64 {
        self.0.rejected
    }

    /// The rows it rejected, in line order (at most 500).
    async fn rejections(&self, ctx: &Context<'_>) -> Result<Vec<ImportRejection>> {
        let db = &ctx.data::<Database>()?.conn;
        let rows = import_rejection::Entity::find()
            .filter(import_rejection::Column::ImportId.eq(self.0.id))
            .order_by_asc(import_rejection::Column::Line)
            .limit(MAX_LISTED)
            .all(db)
            .await
            .or_internal()?;
        Ok(rows.into_iter().map(ImportRejection).collect())
    }
}

/// A row an import rejected.
pub struct ImportRejection(import_rejection::Model);

/// A row an import rejected, kept as it arrived.
#[Object]
impl ImportRejection {
    /// Line in the file (the header is line 1 of a CSV file; the first object line 1 of NDJSON).
    async fn line(&self) -> i64 {
        self.0.line
    }

    /// Why it was rejected, e.g. a wrong ID check character or an unknown grid code.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The row as received (JSON of header → value); empty when the line could not be read.
    async fn raw(&self) -> &str {
        &self.0.raw
    }
}

/// Import runs in GraphQL queries.
#[derive(Default)]
pub struct ImportQuery;

/// Import runs.
#[Object]
impl ImportQuery {
    /// Import runs, newest first (at most 500): a department sees its own, an admin all.
    async fn imports(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only imports of this department (police, civil_affairs, property, party)."
        )]
        department: Option<String>,
    ) -> Result<Vec<Import>> {
        let access = guard::access(ctx)?;
        let own = match access.role.grants {
            GrantRights::Any => None,
            GrantRights::OwnDepartment => access.principal.department.clone(),
            GrantRights::None => None,
        };
        if access.role.grants == GrantRights::None
            || (access.role.grants == GrantRights::OwnDepartment && own.is_none())
        {
            return Err(forbidden(
                "imports are visible to the department that sent them and to admins",
            ));
        }
        let mut select = import::Entity::find();
        if let Some(department) = own.or(department) {
            select = select.filter(import::Column::Department.eq(department));
        }
        let db = &ctx.data::<Database>()?.conn;
        let rows = select
            .order_by_desc(import::Column::Id)
            .limit(MAX_LISTED)
            .all(db)
            .await
            .or_internal()?;
        Ok(rows.into_iter().map(Import).collect())
    }
}
