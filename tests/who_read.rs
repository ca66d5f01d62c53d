//! "Who read my data" end to end through HTTP: staff and a department system read a resident's
//! sensitive fields for stated purposes, and an auditor then sees exactly who read which fields,
//! when and why; the audit log is closed to every other role; a revoked API key stops working on
//! the next request. Reads through source payloads and party points are reports of the person
//! they belong to, and refused full reads are audited too.

mod common;

use common::{backends, first_error_code, Backend, Hub};
use gridhub::access::credentials::token::{issue_hs256, Claims};
use gridhub::access::credentials::{create_key, revoke_key, NewKey};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "who-read-test-secret";

fn bearer(subject: &str, role: &str) -> String {
    bearer_for(subject, role, None)
}

fn bearer_for(subject: &str, role: &str, department: Option<&str>) -> String {
    let claims = Claims {
        sub: subject.to_string(),
        role: role.to_string(),
        department: department.map(str::to_string),
        grid: None,
        exp: chrono::Utc::now().timestamp() as u64 + 600,
        purpose: None,
        case_id: None,
    };
    format!(
        "Bearer {}",
        issue_hs256(SECRET, &claims, None, None).unwrap()
    )
}

async fn hub(backend: Backend) -> Hub {
    Hub::start_with(backend, 300, |s| {
        s.auth.required = true;
        s.auth.jwt_hs256_secret = SECRET.to_string();
    })
    .await
}

async fn ask(hub: &Hub, headers: &[(&str, &str)], query: &str, variables: Value) -> (u16, Value) {
    let (status, _, body) = hub
        .query_as(headers, json!({"query": query, "variables": variables}))
        .await;
    (status, body)
}

const CARD: &str = "query($id: ID!) { node(id: $id) { ... on Person { idNumber phone } } }";
const REPORT: &str = "query($id: ID) { dataAccessReport(personId: $id) { reads { subject role department kind fields purpose caseId } } }";

/// The reads of one person the auditor sees, waiting for the audit writer's batch.
async fn reads_of(hub: &Hub, auditor: &str, person: &str, expected: usize) -> Vec<Value> {
    for _ in 0..40 {
        let (status, body) = ask(
            hub,
            &[("Authorization", auditor)],
            REPORT,
            json!({"id": person}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let reads = body["data"]["dataAccessReport"]["reads"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if reads.len() >= expected {
            return reads;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the audit log never held {expected} reads of {person}");
}

#[tokio::test]
async fn an_auditor_sees_who_read_a_residents_fields_and_why() {
    for backend in backends() {
        let hub = hub(backend).await;
        let admin = bearer("admin-wang", "admin");
        let auditor = bearer("auditor-li", "auditor");
        let (_, body) = ask(
            &hub,
            &[("Authorization", &admin)],
            "{ persons(first: 1, filter: {}) { nodes { id } } }",
            json!({}),
        )
        .await;
        let person = body["data"]["persons"]["nodes"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();

        let with_purpose = |auth: &str| -> Vec<(String, String)> {
            vec![
                ("Authorization".into(), auth.to_string()),
                ("X-Purpose".into(), "case_handling".into()),
                ("X-Case-Id".into(), "CASE-7".into()),
            ]
        };
        let admin_headers = with_purpose(&admin);
        let borrowed: Vec<(&str, &str)> = admin_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = ask(&hub, &borrowed, CARD, json!({"id": person})).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert!(body.get("errors").is_none(), "{backend:?}: {body}");

        let (key, plaintext) = create_key(
            &hub.db.conn,
            NewKey {
                name: "police-sync".into(),
                role: "department".into(),
                department: Some("police".into()),
                grid_code: None,
            },
        )
        .await
        .unwrap();
        let key_headers = [
            ("X-Api-Key", plaintext.as_str()),
            ("X-Purpose", "identity_verification"),
            ("X-Case-Id", "GA-0012"),
        ];
        let (status, body) = ask(&hub, &key_headers, CARD, json!({"id": person})).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert!(body["data"]["node"]["idNumber"].as_str().unwrap().len() == 18);
        assert!(
            !body["data"]["node"]["idNumber"]
                .as_str()
                .unwrap()
                .contains('*'),
            "{backend:?}: police sees its own field in full"
        );

        let reads = reads_of(&hub, &auditor, &person, 2).await;
        let by = |subject: &str| reads.iter().find(|r| r["subject"] == subject).cloned();
        let admin_read = by("admin-wang").expect("the admin's read is reported");
        assert_eq!(admin_read["purpose"], "case_handling");
        assert_eq!(admin_read["caseId"], "CASE-7");
        assert_eq!(admin_read["kind"], "READ");
        let fields: Vec<&str> = admin_read["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"person.idNumber"),
            "{backend:?}: {fields:?}"
        );
        let key_read = by(&key.name).expect("the department system's read is reported");
        assert_eq!(key_read["department"], "police");
        assert_eq!(
            key_read["fields"],
            json!(["person.idNumber"]),
            "{backend:?}: the phone stayed masked for police, so only the ID number was read"
        );
        assert_eq!(
            reads.len(),
            2,
            "{backend:?}: masked reads are not reads of personal data: {reads:?}"
        );

        for who in [&admin, &bearer("worker-zhao", "grid_worker")] {
            let (_, body) = ask(
                &hub,
                &[("Authorization", who)],
                REPORT,
                json!({"id": person}),
            )
            .await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{backend:?}: {body}"
            );
        }
        let (_, body) = ask(
            &hub,
            &[("Authorization", &auditor)],
            CARD,
            json!({"id": person}),
        )
        .await;
        assert_eq!(
            body["data"]["node"],
            Value::Null,
            "{backend:?}: the auditor reads no persons: {body}"
        );

        revoke_key(&hub.db.conn, &key.name).await.unwrap();
        let (status, body) = ask(&hub, &key_headers, CARD, json!({"id": person})).await;
        assert_eq!(status, 401, "{backend:?}: {body}");
        assert_eq!(first_error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("revoked"),
            "{backend:?}: {body}"
        );
    }
}

/// Headers of a full read by `auth` with a purpose and a case reference.
fn stated(auth: &str) -> Vec<(&str, &str)> {
    vec![
        ("Authorization", auth),
        ("X-Purpose", "case_handling"),
        ("X-Case-Id", "CASE-11"),
    ]
}

/// A person with party points and source records, and an organization they belong to.
async fn member_with_sources(hub: &Hub, admin: &str) -> (String, String) {
    let (_, body) = ask(
        hub,
        &stated(admin),
        "{ persons(first: 100, filter: {}) { nodes { id sourceRecords { id } memberships { points organization { id } } } } }",
        json!({}),
    )
    .await;
    let persons = body["data"]["persons"]["nodes"]
        .as_array()
        .expect("persons");
    persons
        .iter()
        .find_map(|p| {
            let has_sources = !p["sourceRecords"].as_array()?.is_empty();
            let membership = p["memberships"]
                .as_array()?
                .iter()
                .find(|m| m["points"].is_number())?;
            has_sources.then(|| {
                (
                    p["id"].as_str().unwrap().to_string(),
                    membership["organization"]["id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
        })
        .expect("a party member with source records")
}

#[tokio::test]
async fn reads_through_payloads_and_party_points_are_reads_of_the_person() {
    for backend in backends() {
        let hub = hub(backend).await;
        let admin = bearer("admin-wang", "admin");
        let auditor = bearer("auditor-li", "auditor");
        let (person, organization) = member_with_sources(&hub, &admin).await;
        let before = reads_of(&hub, &auditor, &person, 1).await.len();
        let reads: [(&str, String, &str, Value); 4] = [
            (
                "payload-reader",
                bearer("payload-reader", "admin"),
                "query($id: ID!) { node(id: $id) { ... on Person { sourceRecords { payload } } } }",
                json!({"id": person}),
            ),
            (
                "points-reader",
                bearer("points-reader", "admin"),
                "query($id: ID!) { node(id: $id) { ... on Person { memberships { points } } } }",
                json!({"id": person}),
            ),
            (
                "branch-reader",
                bearer_for("branch-reader", "department", Some("party")),
                "query($id: ID!) { node(id: $id) { ... on Organization { memberships { points person { id } } } } }",
                json!({"id": organization}),
            ),
            (
                "record-reader",
                bearer("record-reader", "admin"),
                "query($id: ID!) { node(id: $id) { ... on Person { sourceRecords { id } } } }",
                json!({"id": person}),
            ),
        ];
        for (_, auth, query, variables) in &reads[..3] {
            let (status, body) = ask(&hub, &stated(auth), query, variables.clone()).await;
            assert_eq!(status, 200, "{backend:?}: {body}");
            assert!(body.get("errors").is_none(), "{backend:?}: {body}");
        }
        let report = reads_of(&hub, &auditor, &person, before + 3).await;
        let fields_of = |subject: &str| -> Vec<String> {
            report
                .iter()
                .filter(|r| r["subject"] == subject)
                .flat_map(|r| r["fields"].as_array().cloned().unwrap_or_default())
                .map(|f| f.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            fields_of("payload-reader"),
            ["sourceRecord.payload"],
            "{backend:?}"
        );
        assert_eq!(
            fields_of("points-reader"),
            ["membership.partyPoints"],
            "{backend:?}"
        );
        assert_eq!(
            fields_of("branch-reader"),
            ["membership.partyPoints"],
            "{backend:?}"
        );
        let (_, auth, query, variables) = &reads[3];
        ask(&hub, &stated(auth), query, variables.clone()).await;
        assert!(
            fields_of(reads[3].0).is_empty(),
            "{backend:?}: ids are not sensitive"
        );
    }
}

#[tokio::test]
async fn refused_full_reads_are_audited() {
    for backend in backends() {
        let hub = hub(backend).await;
        let admin = bearer("admin-wang", "admin");
        let auditor = bearer("auditor-li", "auditor");
        let (_, body) = ask(
            &hub,
            &[("Authorization", &admin)],
            "{ persons(first: 1, filter: {}) { nodes { id } } }",
            json!({}),
        )
        .await;
        let person = body["data"]["persons"]["nodes"][0]["id"].clone();
        let (_, body) = ask(
            &hub,
            &[("Authorization", &admin)],
            CARD,
            json!({"id": person}),
        )
        .await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: {body}"
        );
        let refused = "query($f: AuditEntryFilter) { auditEntries(filter: $f, first: 10) { edges { node { subject kind fields detail } } } }";
        let mut entries = Vec::new();
        for _ in 0..40 {
            let (_, body) = ask(
                &hub,
                &[("Authorization", &auditor)],
                refused,
                json!({"f": {"kind": "REFUSED", "elementId": person}}),
            )
            .await;
            entries = body["data"]["auditEntries"]["edges"]
                .as_array()
                .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
                .unwrap_or_default();
            if !entries.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(entries.len(), 1, "{backend:?}: {entries:?}");
        assert_eq!(entries[0]["subject"], "admin-wang");
        assert!(
            entries[0]["fields"]
                .as_array()
                .unwrap()
                .contains(&json!("person.idNumber")),
            "{backend:?}: {entries:?}"
        );
        assert!(
            entries[0]["detail"]
                .as_str()
                .unwrap()
                .contains("needs a purpose"),
            "{backend:?}: {entries:?}"
        );
    }
}
