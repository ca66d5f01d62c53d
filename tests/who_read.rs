//! "Who read my data" end to end through HTTP: staff and a department system read a resident's
//! sensitive fields for stated purposes, and an auditor then sees exactly who read which fields,
//! when and why; the audit log is closed to every other role; a revoked API key stops working on
//! the next request.

mod common;

use common::{backends, first_error_code, Backend, Hub};
use gridhub::access::credentials::token::{issue_hs256, Claims};
use gridhub::access::credentials::{create_key, revoke_key, NewKey};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "who-read-test-secret";

fn bearer(subject: &str, role: &str) -> String {
    let claims = Claims {
        sub: subject.to_string(),
        role: role.to_string(),
        department: None,
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
