//! Import runs and the rows they rejected, in GraphQL: a department sees its own imports, an
//! admin every department's, and a principal scoped to a grid only the imports it pushed itself.
//! Nothing a department sent is lost: each rejected row is kept with its line number, reason and
//! raw text, which are shown under the policy of source payloads (masked, or in full with a
//! purpose and case reference, and then audited).

use super::error::{forbidden, OrInternal};
use super::guard;
use crate::access::context::Resolution;
use crate::access::field_policy::SensitiveField;
use crate::access::policy::GrantRights;
use crate::db::Database;
use crate::domain::{id_number, masking};
use crate::entity::{import, import_rejection};
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

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

    /// Why it was rejected, e.g. a wrong ID check character or an unknown grid code; the
    /// values it quotes are masked like `raw`.
    async fn reason(&self, ctx: &Context<'_>) -> Result<String> {
        let quoted = serde_json::to_string(&quoted_values(&self.0.reason)).or_internal()?;
        let shown = self.shown(ctx, &quoted)?;
        let values: Vec<String> = serde_json::from_str(&shown).unwrap_or_default();
        Ok(with_quoted_values(&self.0.reason, &values))
    }

    /// The row as received (JSON of header → value); empty when the line could not be read.
    /// Shown like a source record's payload: ID numbers, phones and other sensitive values in
    /// it are masked unless the caller may read payloads in full and states a purpose and a
    /// case reference; such a read is written to the audit log.
    async fn raw(&self, ctx: &Context<'_>) -> Result<String> {
        self.shown(ctx, &self.0.raw)
    }
}

impl ImportRejection {
    /// `text` (JSON) in full when the request reads source payloads in full, noting the read;
    /// otherwise masked by the payload policy.
    fn shown(&self, ctx: &Context<'_>, text: &str) -> Result<String> {
        let access = guard::access(ctx)?;
        let field = SensitiveField::SourcePayload;
        if *access.resolution(field) == Resolution::Full {
            access.note_read(field, ("import_rejection", self.0.id));
            return Ok(text.to_string());
        }
        Ok(field.mask(&id_shaped_masked(text)).unwrap_or_default())
    }
}

/// `text` (JSON, or plain text) with every string that has the shape of a resident ID number
/// masked as one, even when its check character is wrong: rejected rows are where mistyped
/// numbers are, and a mistyped number still identifies its person.
fn id_shaped_masked(text: &str) -> String {
    fn walk(value: Value) -> Value {
        match value {
            Value::String(s) if id_shaped(&s) => Value::String(masking::mask_id_number(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(walk).collect()),
            Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, walk(v))).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => walk(value).to_string(),
        Err(_) => text.to_string(),
    }
}

/// 18 characters of which the first 17 are digits and the last a digit or X, or 15 digits
/// (spaces and full-width forms normalised first).
fn id_shaped(text: &str) -> bool {
    let normalized = id_number::normalize(text);
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match normalized.len() {
        18 => {
            let (head, last) = normalized.split_at(17);
            digits(head) && (digits(last) || last.eq_ignore_ascii_case("x"))
        }
        15 => digits(&normalized),
        _ => false,
    }
}

/// The values a rejection reason quotes between backticks, in order.
fn quoted_values(reason: &str) -> Vec<&str> {
    reason.split('`').skip(1).step_by(2).collect()
}

/// `reason` with its quoted values replaced by `values`, in order (values beyond those given
/// are left out).
fn with_quoted_values(reason: &str, values: &[String]) -> String {
    reason
        .split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => part,
            _ => values.get(i / 2).map_or("", String::as_str),
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// Import runs in GraphQL queries.
#[derive(Default)]
pub struct ImportQuery;

/// Import runs.
#[Object]
impl ImportQuery {
    /// Import runs, newest first (at most 500): a department sees its own, an admin all, and a
    /// principal scoped to a grid only those it pushed itself.
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
        if access.scope.root.is_some() {
            select = select.filter(import::Column::StartedBy.eq(&access.principal.subject));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_keeps_its_text_around_replaced_values() {
        let reason = "id_number `650203198501015654`: wrong check character";
        assert_eq!(quoted_values(reason), vec!["650203198501015654"]);
        let masked = with_quoted_values(reason, &["6502**********5654".to_string()]);
        assert_eq!(
            masked,
            "id_number `6502**********5654`: wrong check character"
        );
        assert_eq!(with_quoted_values("no `a` or `b`", &[]), "no `` or ``");
        assert_eq!(quoted_values("nothing quoted"), Vec::<&str>::new());
    }

    #[test]
    fn mistyped_id_numbers_are_masked_too() {
        let raw =
            r#"{"身份证号":"650203198501015654","网格编码":"650203001001","n":["65020363022839"]}"#;
        let masked: Value = serde_json::from_str(&id_shaped_masked(raw)).unwrap();
        assert_eq!(masked["身份证号"], "6502**********5654");
        assert_eq!(masked["网格编码"], "650203001001");
        assert!(id_shaped("650203630228395") && id_shaped("65020319850101565x"));
        assert!(!id_shaped("6502031985010156") && !id_shaped("65020319850101565Y"));
    }
}
