//! The audit log for auditors: pages of audit entries (newest first, filtered by kind, subject,
//! element and time), and the data access report of one person or household ("who read my
//! data"). Only requests whose data holds [`AuditReader`] may use these fields.

use super::connection::{page_complexity, PageLimits};
use super::error::{bad_input, coded, Code, OrInternal};
use super::id::{decode, decode_as, encode, NodeType};
use crate::access::audit::{self, AuditFilter, AuditKind};
use crate::db::Database;
use crate::entity::audit_entry;
use async_graphql::connection::PageInfo;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

/// Marker in a request's data: the caller's role may read the audit log.
pub struct AuditReader;

/// Page size and largest page when the schema sets no [`PageLimits`].
const FALLBACK_LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// Prefix of audit entry cursors.
const CURSOR_PREFIX: &str = "AuditEntry:";

/// Element type names used in the audit log for the node types that have a global id.
const ELEMENT_NAMES: [(NodeType, &str); 10] = [
    (NodeType::Grid, "grid"),
    (NodeType::Person, "person"),
    (NodeType::House, "house"),
    (NodeType::Place, "place"),
    (NodeType::Event, "event"),
    (NodeType::ManagedObject, "object"),
    (NodeType::Organization, "organization"),
    (NodeType::Department, "department"),
    (NodeType::VolunteerActivity, "volunteer_activity"),
    (NodeType::SourceRecord, "source_record"),
];

/// The element type name the audit log records for `node_type` (e.g. `person`).
pub fn element_name(node_type: NodeType) -> &'static str {
    ELEMENT_NAMES
        .iter()
        .find(|(t, _)| *t == node_type)
        .map_or("unknown", |(_, name)| name)
}

fn node_type_of(element_name: &str) -> Option<NodeType> {
    ELEMENT_NAMES
        .iter()
        .find(|(_, name)| *name == element_name)
        .map(|(t, _)| *t)
}

fn require_reader(ctx: &Context<'_>) -> Result<()> {
    match ctx.data_opt::<AuditReader>() {
        Some(_) => Ok(()),
        None => Err(coded(
            Code::Forbidden,
            "only auditors may read the audit log",
        )),
    }
}

fn connection<'c>(ctx: &'c Context<'_>) -> Result<&'c DatabaseConnection> {
    Ok(&ctx.data::<Database>()?.conn)
}

/// What an audit entry records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AuditKind")]
pub enum AuditEntryKind {
    /// Someone read sensitive fields of an element (e.g. a person's ID number).
    Read,
    /// Someone changed data.
    Mutation,
    /// Someone revealed sensitive data beyond their normal rights in an emergency ("break
    /// glass"); such reads deserve an auditor's attention.
    BreakGlass,
    /// Someone asked to read sensitive fields in full and was refused (no purpose or case
    /// reference, a purpose the grant does not allow, the audit log unavailable).
    Refused,
}

impl From<AuditKind> for AuditEntryKind {
    fn from(kind: AuditKind) -> Self {
        match kind {
            AuditKind::Read => AuditEntryKind::Read,
            AuditKind::Mutation => AuditEntryKind::Mutation,
            AuditKind::BreakGlass => AuditEntryKind::BreakGlass,
            AuditKind::Refused => AuditEntryKind::Refused,
        }
    }
}

impl From<AuditEntryKind> for AuditKind {
    fn from(kind: AuditEntryKind) -> Self {
        match kind {
            AuditEntryKind::Read => AuditKind::Read,
            AuditEntryKind::Mutation => AuditKind::Mutation,
            AuditEntryKind::BreakGlass => AuditKind::BreakGlass,
            AuditEntryKind::Refused => AuditKind::Refused,
        }
    }
}

/// One entry of the audit log.
pub struct AuditRecord(pub audit_entry::Model);

/// One entry of the tamper-evident audit log: who did or read what, about which element, when
/// and why. Entries are numbered 1, 2, 3 … without gaps and cannot be changed afterwards without
/// `gridhub audit verify` noticing.
#[Object(name = "AuditEntry")]
impl AuditRecord {
    /// Position of the entry in the log (1 for the first entry, no gaps).
    async fn sequence(&self) -> i64 {
        self.0.id
    }

    /// When it happened (UTC, RFC 3339).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// What happened: a read, a mutation, a break-glass reveal or a refused read.
    async fn kind(&self) -> Result<AuditEntryKind> {
        AuditKind::parse(&self.0.kind)
            .map(AuditEntryKind::from)
            .ok_or_else(|| format!("unknown audit kind `{}`", self.0.kind))
            .or_internal()
    }

    /// Whether this was a break-glass reveal.
    async fn break_glass(&self) -> bool {
        self.0.kind == AuditKind::BreakGlass.as_str()
    }

    /// Who acted: the name of the API key, the staff member's account, or `anonymous`.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The role the caller acted in, e.g. `grid_worker`.
    async fn role(&self) -> &str {
        &self.0.role
    }

    /// The department the caller acted for (`police`, `civil_affairs`, …), if any.
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }

    /// The purpose the caller stated for the request, if any.
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }

    /// The case reference the request served, if any.
    async fn case_id(&self) -> Option<&str> {
        self.0.case_id.as_deref()
    }

    /// Hash of the GraphQL operation the request ran, if known.
    async fn operation_hash(&self) -> Option<&str> {
        self.0.operation_hash.as_deref()
    }

    /// Type of the element read or changed, in lower case: `person`, `house`, `place`, `event`,
    /// `object`, `organization`, `grid`, …; null when the entry is not about one element.
    async fn element_type(&self) -> Option<&str> {
        self.0.element_type.as_deref()
    }

    /// Global id of the element read or changed (usable with `node(id:)`); null when the entry
    /// is not about one element.
    async fn element_id(&self) -> Option<ID> {
        let node_type = node_type_of(self.0.element_type.as_deref()?)?;
        Some(encode(node_type, self.0.element_id?))
    }

    /// Names of the fields read or changed, e.g. `["person.idNumber", "person.phone"]`.
    async fn fields(&self) -> Vec<&str> {
        self.0.fields.split(',').filter(|f| !f.is_empty()).collect()
    }

    /// Further detail recorded with the entry (may be empty).
    async fn detail(&self) -> &str {
        &self.0.detail
    }
}

/// One audit entry in a page, with the cursor to page on from it.
#[derive(SimpleObject)]
pub struct AuditEntryEdge {
    /// Opaque cursor: pass it as `after` to get the entries older than this one.
    cursor: String,
    /// The audit entry.
    node: AuditRecord,
}

/// A page of audit entries, newest first (Relay connection).
#[derive(SimpleObject)]
pub struct AuditEntryConnection {
    /// The entries of this page, each with its cursor.
    edges: Vec<AuditEntryEdge>,
    /// Whether older entries follow, and the cursor to fetch them.
    page_info: PageInfo,
}

/// Narrows the audit log. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditEntryFilter {
    /// Only entries of this kind.
    pub kind: Option<AuditEntryKind>,
    /// Only entries by this caller (the `subject` of the entries).
    pub subject: Option<String>,
    /// Only entries about the element with this global id (a person, a house, …).
    pub element_id: Option<ID>,
    /// Only entries recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries recorded before this time.
    pub until: Option<DateTime<Utc>>,
}

impl AuditEntryFilter {
    fn to_filter(&self) -> Result<AuditFilter> {
        let element = match &self.element_id {
            Some(id) => {
                let (node_type, row) = decode(id)?;
                Some((element_name(node_type).to_string(), row))
            }
            None => None,
        };
        Ok(AuditFilter {
            kind: self.kind.map(AuditKind::from),
            subject: self.subject.clone(),
            element,
            since: self.since,
            until: self.until,
        })
    }
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64> {
    let invalid = || bad_input(format!("`{cursor}` is not a valid audit entry cursor"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|id| id.parse().ok())
        .ok_or_else(invalid)
}

fn page_size(ctx: &Context<'_>, first: Option<i32>) -> Result<u64> {
    let limits = ctx
        .data_opt::<PageLimits>()
        .copied()
        .unwrap_or(FALLBACK_LIMITS);
    match first {
        None => Ok(u64::from(limits.default_size)),
        Some(n) if n < 0 => Err(bad_input("`first` must not be negative")),
        Some(n) if n as u32 > limits.max_size => Err(bad_input(format!(
            "`first` must be at most {} (got {n})",
            limits.max_size
        ))),
        Some(n) => Ok(n as u64),
    }
}

fn connection_of(page: audit::AuditPage) -> AuditEntryConnection {
    let edges: Vec<AuditEntryEdge> = page
        .entries
        .into_iter()
        .map(|entry| AuditEntryEdge {
            cursor: encode_cursor(entry.id),
            node: AuditRecord(entry),
        })
        .collect();
    let page_info = PageInfo {
        has_previous_page: false,
        has_next_page: page.has_next_page,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    AuditEntryConnection { edges, page_info }
}

/// Who read the data of one person or household.
#[derive(SimpleObject)]
pub struct DataAccessReport {
    /// Global ids of the persons covered: the person asked about, or everyone who lives, lived
    /// in or owns the house asked about.
    persons: Vec<ID>,
    /// Every read and break-glass reveal of their data (and, for a house, of the house itself),
    /// newest first. `breakGlass` marks emergency reveals.
    reads: Vec<AuditRecord>,
}

async fn person_report(db: &DatabaseConnection, person_id: i64) -> Result<DataAccessReport> {
    let reads = audit::reads_about(db, "person", &[person_id])
        .await
        .or_internal()?;
    Ok(report(&[person_id], reads))
}

async fn household_report(db: &DatabaseConnection, house_id: i64) -> Result<DataAccessReport> {
    let persons = audit::household_person_ids(db, house_id)
        .await
        .or_internal()?;
    let mut reads = audit::reads_about(db, "person", &persons)
        .await
        .or_internal()?;
    reads.extend(
        audit::reads_about(db, "house", &[house_id])
            .await
            .or_internal()?,
    );
    reads.sort_by_key(|entry| std::cmp::Reverse(entry.id));
    Ok(report(&persons, reads))
}

fn report(persons: &[i64], reads: Vec<audit_entry::Model>) -> DataAccessReport {
    DataAccessReport {
        persons: persons
            .iter()
            .map(|id| encode(NodeType::Person, *id))
            .collect(),
        reads: reads.into_iter().map(AuditRecord).collect(),
    }
}

/// The audit log's entry points, for auditors only.
#[derive(Default)]
pub struct AuditQuery;

/// Entry points for auditors: the audit log and data access reports. Callers without the
/// auditor's right get a FORBIDDEN error.
#[Object]
impl AuditQuery {
    /// Audit entries, newest first. FORBIDDEN unless the caller may read the audit log.
    #[graphql(complexity = "page_complexity(first, None, child_complexity)")]
    async fn audit_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the entries must meet.")] filter: Option<AuditEntryFilter>,
        #[graphql(desc = "Entries older than the entry of this cursor.")] after: Option<String>,
        #[graphql(desc = "The first n entries (at most the configured page size).")] first: Option<
            i32,
        >,
    ) -> Result<AuditEntryConnection> {
        require_reader(ctx)?;
        let filter = filter.unwrap_or_default().to_filter()?;
        let before_id = after.as_deref().map(decode_cursor).transpose()?;
        let size = page_size(ctx, first)?;
        let page = audit::entries_page(connection(ctx)?, &filter, before_id, size)
            .await
            .or_internal()?;
        Ok(connection_of(page))
    }

    /// Who read the data of one person, or of one household (pass exactly one of the two ids):
    /// every read and break-glass reveal, with who, which fields, when, why and for which case.
    /// FORBIDDEN unless the caller may read the audit log.
    async fn data_access_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of a person.")] person_id: Option<ID>,
        #[graphql(desc = "Global id of a house: the report covers everyone tied to it.")]
        house_id: Option<ID>,
    ) -> Result<DataAccessReport> {
        require_reader(ctx)?;
        let db = connection(ctx)?;
        match (person_id, house_id) {
            (Some(id), None) => person_report(db, decode_as(&id, NodeType::Person)?).await,
            (None, Some(id)) => household_report(db, decode_as(&id, NodeType::House)?).await,
            _ => Err(bad_input("pass exactly one of `personId` and `houseId`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Schema};

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(57)).unwrap(), 57);
        assert!(decode_cursor("bm9wZQ").is_err());
        assert!(decode_cursor("!!").is_err());
    }

    #[test]
    fn element_names_round_trip() {
        for (node_type, name) in ELEMENT_NAMES {
            assert_eq!(element_name(node_type), name);
            assert_eq!(node_type_of(name), Some(node_type));
        }
    }

    #[tokio::test]
    async fn callers_without_the_auditor_marker_are_forbidden() {
        let schema = Schema::new(AuditQuery, EmptyMutation, EmptySubscription);
        for query in [
            "{ auditEntries { edges { cursor } } }",
            "{ dataAccessReport(personId: \"x\") { reads { sequence } } }",
        ] {
            let response = schema.execute(query).await;
            let error = &response.errors[0];
            assert_eq!(error.message, "only auditors may read the audit log");
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            assert_eq!(code, Some(&async_graphql::Value::from("FORBIDDEN")));
        }
    }
}
