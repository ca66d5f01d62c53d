//! Lookup oracles: finding a person by a sensitive value discloses the value. An attacker who
//! sees a masked ID number (and the birth year and age beside it) enumerates the check-valid
//! candidates and asks `personByIdNumber` for each, as aliases of one request, as a batch, or
//! over many requests; every role that may not read ID numbers in full must learn nothing, and
//! one that may must be limited and audited.

use crate::common::{backends, Hub};
use crate::probe::{bearer, hardened, Probe, CASE_ID, PURPOSE};
use gridhub::entity::audit_entry;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;

const PERSONS: u64 = 300;

/// A real person: id, ID number and grid code, read as an administrator.
async fn victim(hub: &Hub) -> (String, String, String) {
    let admin = bearer("admin-01", "admin", None, None);
    let (_, _, body) = hub
        .query_as(
            &[
                ("Authorization", admin.as_str()),
                ("X-Purpose", PURPOSE),
                ("X-Case-Id", CASE_ID),
            ],
            json!({"query": "{ persons(first: 1) { nodes { id idNumber grid { code } } } }"}),
        )
        .await;
    let person = &body["data"]["persons"]["nodes"][0];
    let text = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("victim: {body}"))
            .to_string()
    };
    (
        text(&person["id"]),
        text(&person["idNumber"]),
        text(&person["grid"]["code"]),
    )
}

/// Check-valid ID numbers that share `real`'s region and birth date: what an attacker who saw
/// the masked number and the birth date would try, `real` among them at `at`.
fn candidates(real: &str, count: usize, at: usize) -> Vec<String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let head = &real[..14];
    let mut all: Vec<String> = (0..1000)
        .map(|sequence| format!("{head}{sequence:03}"))
        .map(|body| {
            let sum: u32 = body
                .bytes()
                .zip(WEIGHTS)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            format!("{body}{}", CHECK[(sum % 11) as usize] as char)
        })
        .filter(|n| n != real)
        .take(count - 1)
        .collect();
    all.insert(at.min(all.len()), real.to_string());
    all
}

fn aliased(numbers: &[String]) -> String {
    let fields: Vec<String> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| format!("p{i}: personByIdNumber(idNumber: \"{n}\") {{ id }}"))
        .collect();
    format!("{{ {} }}", fields.join(" "))
}

/// Whether `body` names the person `id` anywhere in its data.
fn found(body: &Value, id: &str) -> bool {
    body["data"].to_string().contains(id)
}

/// Principals that may not read ID numbers in full, with the headers they send.
fn unentitled(grid: &str) -> Vec<(&'static str, String, bool)> {
    vec![
        (
            "grid worker of the victim's grid",
            bearer("w1", "grid_worker", None, Some(grid)),
            true,
        ),
        (
            "civil affairs without a grant",
            bearer("ca1", "department", Some("civil_affairs"), None),
            true,
        ),
        (
            "property without a grant",
            bearer("pr1", "department", Some("property"), None),
            true,
        ),
        (
            "party without a grant",
            bearer("pa1", "department", Some("party"), None),
            true,
        ),
        (
            "command centre",
            bearer("cc1", "command_centre", None, None),
            true,
        ),
        ("auditor", bearer("au1", "auditor", None, None), true),
        (
            "police without a purpose",
            bearer("po1", "department", Some("police"), None),
            false,
        ),
        (
            "admin without a purpose",
            bearer("ad1", "admin", None, None),
            false,
        ),
    ]
}

#[tokio::test]
async fn no_role_without_the_right_to_read_id_numbers_can_look_them_up() {
    let mut probe = Probe::new("lookup oracles");
    for backend in backends() {
        let hub = Hub::start_with(backend, PERSONS, hardened).await;
        let (id, number, grid) = victim(&hub).await;
        let guesses = candidates(&number, 50, 37);
        for (who, token, with_purpose) in unentitled(&grid) {
            let mut headers = vec![("Authorization", token.as_str())];
            if with_purpose {
                headers.extend([("X-Purpose", PURPOSE), ("X-Case-Id", CASE_ID)]);
            }
            let single = json!({"query": format!("{{ personByIdNumber(idNumber: \"{number}\") {{ id }} }}")});
            let (_, _, body) = hub.query_as(&headers, single).await;
            probe.attempt(format!("{backend:?}: {who}: one lookup"), found(&body, &id));
            let (_, _, body) = hub
                .query_as(&headers, json!({"query": aliased(&guesses)}))
                .await;
            probe.attempt(format!("{backend:?}: {who}: 50 aliases"), found(&body, &id));
            let batch: Vec<Value> = guesses
                .chunks(10)
                .map(|chunk| json!({"query": aliased(chunk)}))
                .collect();
            let (_, _, body) = hub.query_as(&headers, Value::Array(batch)).await;
            probe.attempt(
                format!("{backend:?}: {who}: a batch"),
                body.to_string().contains(&id),
            );
            let variables = json!({"query": "query($n: String!) { personByIdNumber(idNumber: $n) { id } }", "variables": {"n": number}});
            let (_, _, body) = hub.query_as(&headers, variables).await;
            probe.attempt(
                format!("{backend:?}: {who}: through a variable"),
                found(&body, &id),
            );
        }
    }
    probe.finish();
}

#[tokio::test]
async fn an_entitled_lookup_is_budgeted_per_request_and_per_principal_and_audited() {
    let mut probe = Probe::new("lookup oracles (entitled)");
    for backend in backends() {
        let hub = Hub::start_with(backend, PERSONS, hardened).await;
        let (id, number, _) = victim(&hub).await;
        let police = bearer("police-sync", "department", Some("police"), None);
        let headers = [
            ("Authorization", police.as_str()),
            ("X-Purpose", PURPOSE),
            ("X-Case-Id", CASE_ID),
        ];

        let guesses = candidates(&number, 200, 150);
        let (_, _, body) = hub
            .query_as(&headers, json!({"query": aliased(&guesses)}))
            .await;
        let answered = body["data"]
            .as_object()
            .map_or(0, |d| d.values().filter(|v| !v.is_null()).count());
        probe.attempt(
            format!("{backend:?}: 200 aliases, the real one at 150"),
            found(&body, &id),
        );
        probe.attempt(
            format!("{backend:?}: more answers than lookups allowed ({answered})"),
            answered > 20,
        );
        let refused = body["errors"].as_array().map_or(0, Vec::len);
        probe.attempt(
            format!("{backend:?}: the aliases over the budget are refused ({refused})"),
            refused < 180,
        );

        let (_, _, body) = hub
            .query_as(&headers, json!({"query": format!("{{ personByIdNumber(idNumber: \"{number}\") {{ id }} }}")}))
            .await;
        probe.attempt(
            format!("{backend:?}: an entitled lookup still works"),
            !found(&body, &id),
        );
        let audited = poll_audit(&hub, "police-sync").await;
        probe.attempt(
            format!("{backend:?}: the lookup is not in the audit log"),
            !audited,
        );

        let admin = bearer("admin-bulk", "admin", None, None);
        let headers = [
            ("Authorization", admin.as_str()),
            ("X-Purpose", PURPOSE),
            ("X-Case-Id", CASE_ID),
        ];
        let mut made = 0;
        for round in 0..35 {
            let chunk = candidates(&number, 20, 0);
            let (_, _, body) = hub
                .query_as(&headers, json!({"query": aliased(&chunk)}))
                .await;
            let errors = body["errors"].as_array().map_or(0, Vec::len);
            made += 20 - errors;
            if errors == 20 && round > 0 {
                break;
            }
        }
        probe.attempt(
            format!("{backend:?}: lookups in an hour ({made}) past 600"),
            made > 600,
        );
    }
    probe.finish();
}

/// Whether a read of `person.idNumber` by `subject` reaches the audit log within a few seconds.
async fn poll_audit(hub: &Hub, subject: &str) -> bool {
    for _ in 0..50 {
        let entries = audit_entry::Entity::find()
            .filter(audit_entry::Column::Subject.eq(subject))
            .all(&hub.db.conn)
            .await
            .expect("audit entries");
        if entries.iter().any(|e| e.fields.contains("person.idNumber")) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
