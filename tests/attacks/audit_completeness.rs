//! Attack class "audit completeness": reads of a resident's sensitive values through every path
//! that shows one (the person's fields, lists, source payloads, party points through the person
//! and through the branch, conflicts between departments), as several roles. Each read shown in
//! full leaks when the resident's data access report does not name its reader; a full read
//! refused leaks when no refusal is audited; while the audit store fails, each full read served
//! leaks.

use crate::common::{self, audit, Hub};
use crate::probe::{self, bearer, Probe};
use serde_json::{json, Value};
use std::time::Duration;

/// One way of reading a sensitive value of the resident, as a role.
struct Path {
    /// Who reads: the subject of its token, unique per path.
    subject: &'static str,
    role: &'static str,
    department: Option<&'static str>,
    /// The query; `$person` and `$organization` are the resident and its party branch.
    query: &'static str,
    /// The field the report must name.
    field: &'static str,
}

const PATHS: [Path; 10] = [
    Path {
        subject: "admin-card",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { idNumber } } o: node(id: $organization) { id } }",
        field: "person.idNumber",
    },
    Path {
        subject: "admin-list",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { nodes(ids: [$person, $organization]) { ... on Person { phone birthDate } } }",
        field: "person.phone",
    },
    Path {
        subject: "admin-payload",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { sourceRecords { payload } } } o: node(id: $organization) { id } }",
        field: "sourceRecord.payload",
    },
    Path {
        subject: "admin-points",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { memberships { points } } } o: node(id: $organization) { id } }",
        field: "membership.partyPoints",
    },
    Path {
        subject: "admin-branch",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { p: node(id: $person) { id } node(id: $organization) { ... on Organization { memberships { points } } } }",
        field: "membership.partyPoints",
    },
    Path {
        subject: "admin-conflicts",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { conflicts { shownValue claims { value } } idNumber } } o: node(id: $organization) { id } }",
        field: "person.idNumber",
    },
    Path {
        subject: "admin-record",
        role: "admin",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { sourceRecords { element { ... on Person { phone } } } } } o: node(id: $organization) { id } }",
        field: "person.phone",
    },
    Path {
        subject: "police-card",
        role: "department",
        department: Some("police"),
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { idNumber sourceRecords { payload } } } o: node(id: $organization) { id } }",
        field: "person.idNumber",
    },
    Path {
        subject: "party-branch",
        role: "department",
        department: Some("party"),
        query: "query($person: ID!, $organization: ID!) { p: node(id: $person) { id } node(id: $organization) { ... on Organization { memberships { points person { id } } } } }",
        field: "membership.partyPoints",
    },
    Path {
        subject: "worker-card",
        role: "grid_worker",
        department: None,
        query: "query($person: ID!, $organization: ID!) { node(id: $person) { ... on Person { phone tags } } o: node(id: $organization) { id } }",
        field: "person.phone",
    },
];

const REPORT: &str =
    "query($id: ID) { dataAccessReport(personId: $id) { reads { subject fields } } }";

/// Headers of a full read by `auth`, with a purpose and a case reference.
fn stated(auth: &str) -> [(&str, &str); 3] {
    [
        ("Authorization", auth),
        ("X-Purpose", "case_handling"),
        ("X-Case-Id", "CASE-12"),
    ]
}

/// A resident with party points and source records, the branch holding the points, and the
/// resident's grid code.
async fn resident(hub: &Hub) -> (String, String, String) {
    let admin = bearer("finder", "admin", None, None);
    let body = hub
        .query_as(
            &stated(&admin),
            json!({"query": "{ persons(first: 100, filter: {}) { nodes { id grid { code } sourceRecords { id } memberships { points organization { id } } } } }"}),
        )
        .await
        .2;
    let persons = body["data"]["persons"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    persons
        .iter()
        .find_map(|p| {
            let membership = p["memberships"]
                .as_array()?
                .iter()
                .find(|m| m["points"].is_number())?;
            (!p["sourceRecords"].as_array()?.is_empty()).then(|| {
                (
                    p["id"].as_str().unwrap().to_string(),
                    membership["organization"]["id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    p["grid"]["code"].as_str().unwrap().to_string(),
                )
            })
        })
        .unwrap_or_else(|| panic!("no party member with source records: {body}"))
}

/// Whether `body` shows some sensitive value in full: an unmasked string or a number where a
/// path's field sits (masked strings carry `*`).
fn shows_in_full(body: &Value) -> bool {
    match body {
        Value::String(text) => !text.contains('*') && text.chars().any(|c| c.is_ascii_digit()),
        Value::Number(_) => true,
        Value::Array(items) => items.iter().any(shows_in_full),
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "id" | "code"))
            .any(|(_, value)| shows_in_full(value)),
        _ => false,
    }
}

/// Runs `path` on the resident; its answer's data.
async fn read(hub: &Hub, path: &Path, ids: &(String, String, String), headers: bool) -> Value {
    let grid = (path.role == "grid_worker").then_some(ids.2.as_str());
    let auth = bearer(path.subject, path.role, path.department, grid);
    let body = json!({"query": path.query, "variables": {"person": ids.0, "organization": ids.1}});
    let stated = stated(&auth);
    let headers: &[(&str, &str)] = if headers { &stated } else { &stated[..1] };
    hub.query_as(headers, body).await.2
}

/// The readers and fields the auditor sees in the resident's report, once `expected` readers
/// are there (or after five seconds).
async fn report(hub: &Hub, person: &str, expected: &[&str]) -> Vec<(String, Vec<String>)> {
    let auditor = bearer("auditor", "auditor", None, None);
    let mut reads = Vec::new();
    for _ in 0..50 {
        let body = hub
            .query_as(
                &[("Authorization", &auditor)],
                json!({"query": REPORT, "variables": {"id": person}}),
            )
            .await
            .2;
        reads = body["data"]["dataAccessReport"]["reads"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let fields = r["fields"].as_array().cloned().unwrap_or_default();
                let fields = fields
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect();
                (
                    r["subject"].as_str().unwrap_or_default().to_string(),
                    fields,
                )
            })
            .collect();
        if expected
            .iter()
            .all(|s| reads.iter().any(|(subject, _)| subject == s))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    reads
}

#[tokio::test]
async fn every_full_read_is_in_the_residents_report_and_none_is_served_unaudited() {
    let mut probe = Probe::new("audit completeness");
    for backend in common::backends() {
        let hub = Hub::start_with(backend, 200, probe::hardened).await;
        let ids = resident(&hub).await;
        let mut shown = Vec::new();
        for path in &PATHS {
            let body = read(&hub, path, &ids, true).await;
            if shows_in_full(&body["data"]) {
                shown.push(path);
            }
        }
        assert!(
            shown.len() >= 6,
            "{backend:?}: the paths show values in full"
        );
        let subjects: Vec<&str> = shown.iter().map(|p| p.subject).collect();
        let reads = report(&hub, &ids.0, &subjects).await;
        for path in &shown {
            let reported = reads.iter().any(|(subject, fields)| {
                subject == path.subject && fields.iter().any(|f| f == path.field)
            });
            probe.attempt(
                format!(
                    "{backend:?}: {} reads {} unreported",
                    path.subject, path.field
                ),
                !reported,
            );
        }

        for path in &PATHS {
            let body = read(&hub, path, &ids, false).await;
            if shows_in_full(&body["data"]) {
                probe.attempt(
                    format!(
                        "{backend:?}: {} read in full without a purpose",
                        path.subject
                    ),
                    true,
                );
            }
        }
        let refused = refusals(&hub, &subjects).await;
        for subject in &subjects {
            probe.attempt(
                format!("{backend:?}: {subject}'s refused read unaudited"),
                !refused.iter().any(|s| s == subject),
            );
        }

        let worker = bearer("glass-breaker", "grid_worker", None, Some(&ids.2));
        let reveal = json!({
            "query": "mutation($id: ID!) { breakGlass(id: $id, fields: [\"person.idNumber\"], reason: \"fire on the stairs\") { value } }",
            "variables": {"id": ids.0},
        });
        let body = hub.query_as(&stated(&worker), reveal.clone()).await.2;
        assert!(
            shows_in_full(&body["data"]),
            "{backend:?}: break-glass reveals while the log is written: {body}"
        );
        audit::break_store(&hub.db.conn).await;
        let admin = bearer("trigger", "admin", None, None);
        audit::until(
            &hub,
            &stated(&admin),
            "{ persons(first: 1, filter: {}) { nodes { idNumber } } }",
            |body| body.get("errors").is_some(),
        )
        .await;
        for path in &PATHS {
            let body = read(&hub, path, &ids, true).await;
            probe.attempt(
                format!(
                    "{backend:?}: {} served in full while the audit store fails",
                    path.subject
                ),
                shows_in_full(&body["data"]),
            );
        }
        let body = hub.query_as(&stated(&worker), reveal).await.2;
        probe.attempt(
            format!("{backend:?}: break-glass reveal while the audit store fails"),
            shows_in_full(&body["data"]),
        );
        audit::mend_store(&hub.db.conn).await;
    }
    probe.finish();
}

/// The subjects of the refusals in the audit log, once `expected` are all there (or after five
/// seconds).
async fn refusals(hub: &Hub, expected: &[&str]) -> Vec<String> {
    let mut subjects = Vec::new();
    for _ in 0..50 {
        subjects = audit::entries(&hub.db.conn)
            .await
            .into_iter()
            .filter(|e| e.kind == "refused")
            .map(|e| e.subject)
            .collect();
        if expected.iter().all(|s| subjects.iter().any(|t| t == s)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    subjects
}
