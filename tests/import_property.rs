//! Property resident imports with identity resolution, on SQLite and PostgreSQL: exact counts of
//! `property/residents.csv` after `police/persons.csv`, a resident without an ID number merged
//! into her police person, an ambiguous 王伟 left to a person's decision through
//! `identityCandidates`, `mergeIdentity`, `splitSourceRecord` and `keepIdentitiesApart`, those
//! closed to every caller but an admin or the property department, and a re-import that changes
//! nothing.

mod common;

use common::imports::{counts, fixture, import, scalar};
use common::tokens::{secured, token};
use common::{backends, first_error_code, Backend, Hub};
use serde_json::{json, Value};

/// A bearer token for `subject` in `role`, acting for `department`.
fn bearer(subject: &str, role: &str, department: Option<&str>) -> String {
    format!("Bearer {}", token(subject, role, department, None))
}

async fn hub(backend: Backend) -> Hub {
    Hub::start_with(backend, 300, secured).await
}

async fn ask(hub: &Hub, token: &str, query: &str, variables: Value) -> Value {
    let (_, _, body) = hub
        .query_as(
            &[("Authorization", token)],
            json!({"query": query, "variables": variables}),
        )
        .await;
    body
}

/// Runs `query` as `token`, asserting it has no errors; returns `data`.
async fn data(hub: &Hub, token: &str, query: &str, variables: Value) -> Value {
    let body = ask(hub, token, query, variables).await;
    assert!(body.get("errors").is_none(), "{:?}: {body:#}", hub.backend);
    body["data"].clone()
}

const CANDIDATES: &str = "query($status: IdentityCandidateStatus) { identityCandidates(status: $status) { id score status sourceRecord { id sourceId } person { id name } } }";
const MERGE: &str =
    "mutation($id: ID!) { mergeIdentity(candidateId: $id) { id status decidedBy } }";
const KEEP_APART: &str =
    "mutation($id: ID!) { keepIdentitiesApart(candidateId: $id) { id status } }";
const SPLIT: &str = "mutation($id: ID!) { splitSourceRecord(sourceRecordId: $id) { id sourceId element { __typename } } }";

async fn candidates(hub: &Hub, token: &str, status: &str) -> Vec<Value> {
    let found = data(hub, token, CANDIDATES, json!({"status": status})).await;
    found["identityCandidates"].as_array().cloned().unwrap()
}

/// Persons linked to the property record of 王伟 (WY2026110002).
async fn wang_wei_links(hub: &Hub) -> i64 {
    scalar(
        hub,
        "SELECT COUNT(*) FROM source_records WHERE source_id = 'WY2026110002' AND element_id <> 0",
    )
    .await
}

#[tokio::test]
async fn residents_import_with_exact_counts_and_resolve_identities() {
    for backend in backends() {
        let hub = hub(backend).await;
        let (code, output) =
            import(&hub, "police", "persons", &fixture("police/persons.csv")).await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        let (code, output) = import(
            &hub,
            "property",
            "residents",
            &fixture("property/residents.csv"),
        )
        .await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        assert_eq!(counts(&output), [2, 1, 0, 10], "{backend:?}: {output}");
        for (line, reason) in [
            (5, "no person with this ID number"),
            (7, "no person matches"),
            (13, "check character"),
            (14, "role"),
        ] {
            let row = output
                .lines()
                .find(|l| l.contains(&format!("line {line}: ")))
                .unwrap_or_else(|| panic!("{backend:?}: line {line} rejected: {output}"));
            assert!(row.contains(reason), "{backend:?}: {row}");
        }

        assert_eq!(
            scalar(
                &hub,
                "SELECT COUNT(*) FROM persons WHERE name = '李秀英' AND birth_date = '1962-03-08'"
            )
            .await,
            1,
            "{backend:?}: 李秀英 stays one person"
        );
        assert_eq!(
            scalar(
                &hub,
                "SELECT COUNT(DISTINCT s.department_id) FROM source_records s JOIN persons p \
                 ON s.element_type = 'person' AND s.element_id = p.id \
                 WHERE p.id_number = '65020319620308184X'"
            )
            .await,
            2,
            "{backend:?}: 李秀英 has records from police and property"
        );
        assert_eq!(
            scalar(
                &hub,
                "SELECT COUNT(*) FROM persons WHERE id_number = '650203197004120935' \
                 AND phone = '13709905566'"
            )
            .await,
            1,
            "{backend:?}: property's phone wins for 张建国"
        );
        assert_eq!(
            wang_wei_links(&hub).await,
            0,
            "{backend:?}: 王伟 is not merged"
        );
        let admin = bearer("admin-conflicts", "admin", None);
        let (_, _, card) = hub
            .query_as(
                &[("Authorization", &admin), ("X-Purpose", "data_quality"), ("X-Case-Id", "DQ-0001")],
                json!({"query": r#"{ personByIdNumber(idNumber: "650203197004120935") { conflicts { field shownValue claims { department value } } } }"#}),
            )
            .await;
        assert_eq!(
            card["data"]["personByIdNumber"]["conflicts"],
            json!([{"field": "phone", "shownValue": "13709905566", "claims": [
                {"department": "police", "value": "13709901122"},
                {"department": "property", "value": "13709905566"}]}]),
            "{backend:?}: police and property disagree on 张建国's phone and property's is shown: {card}"
        );

        decide_wang_wei(&hub).await;

        let records = scalar(&hub, "SELECT COUNT(*) FROM source_records").await;
        let (_, output) = import(
            &hub,
            "property",
            "residents",
            &fixture("property/residents.csv"),
        )
        .await;
        assert_eq!(counts(&output), [0, 0, 3, 10], "{backend:?}: {output}");
        assert_eq!(
            scalar(&hub, "SELECT COUNT(*) FROM source_records").await,
            records
        );
    }
}

/// The candidates of the property 王伟: listed, merged, split, kept apart; and closed to others.
async fn decide_wang_wei(hub: &Hub) {
    let backend = hub.backend;
    let admin = bearer("admin-wang", "admin", None);
    let open = candidates(hub, &admin, "OPEN").await;
    assert_eq!(open.len(), 2, "{backend:?}: {open:?}");
    for candidate in &open {
        assert_eq!(candidate["sourceRecord"]["sourceId"], "WY2026110002");
        assert_eq!(candidate["person"]["name"], "王伟");
        assert_eq!(
            candidate["score"], 0.3,
            "{backend:?}: name and birth date, other phone"
        );
    }

    for token in [
        bearer("worker-li", "grid_worker", None),
        bearer("police-system", "department", Some("police")),
        bearer("auditor-zhao", "auditor", None),
    ] {
        let body = ask(hub, &token, CANDIDATES, json!({"status": "OPEN"})).await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{body}"
        );
        let body = ask(hub, &token, MERGE, json!({"id": open[0]["id"]})).await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{body}"
        );
    }
    let property = bearer("property-system", "department", Some("property"));
    assert_eq!(candidates(hub, &property, "OPEN").await.len(), 2);

    let merged = data(hub, &property, MERGE, json!({"id": open[0]["id"]})).await;
    assert_eq!(merged["mergeIdentity"]["status"], "MERGED");
    assert_eq!(merged["mergeIdentity"]["decidedBy"], "property-system");
    assert!(candidates(hub, &admin, "OPEN").await.is_empty());
    let kept = candidates(hub, &admin, "KEPT_APART").await;
    assert_eq!(kept.len(), 1, "{backend:?}: the other candidate is closed");
    assert_eq!(kept[0]["id"], open[1]["id"]);
    assert_eq!(wang_wei_links(hub).await, 1, "{backend:?}: merged");
    let again = ask(hub, &admin, MERGE, json!({"id": open[1]["id"]})).await;
    assert_eq!(
        first_error_code(&again).as_deref(),
        Some("CONFLICT"),
        "{again}"
    );

    let record = open[0]["sourceRecord"]["id"].clone();
    let split = data(hub, &admin, SPLIT, json!({"id": record})).await;
    assert_eq!(split["splitSourceRecord"]["element"], Value::Null);
    assert_eq!(wang_wei_links(hub).await, 0, "{backend:?}: split");
    let reopened = candidates(hub, &admin, "OPEN").await;
    assert_eq!(reopened.len(), 1, "{backend:?}: {reopened:?}");
    assert_eq!(reopened[0]["id"], open[1]["id"]);
    let kept = candidates(hub, &admin, "KEPT_APART").await;
    assert_eq!(
        kept[0]["id"], open[0]["id"],
        "{backend:?}: the wrong merge is kept apart"
    );

    let apart = data(hub, &admin, KEEP_APART, json!({"id": open[1]["id"]})).await;
    assert_eq!(apart["keepIdentitiesApart"]["status"], "KEPT_APART");
    assert!(candidates(hub, &admin, "OPEN").await.is_empty());
    assert_eq!(
        scalar(
            hub,
            "SELECT COUNT(*) FROM persons WHERE name = '王伟' AND birth_date = '1985-07-15'"
        )
        .await,
        2,
        "{backend:?}: no person was created or merged away"
    );
}
