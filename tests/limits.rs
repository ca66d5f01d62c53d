//! Abuse limits per principal, through HTTP: the request rate of a role (429 with Retry-After),
//! its page size and depth, and introspection only for roles that allow it in production mode.

mod common;

use common::{backends, first_error_code, Hub};
use gridhub::access::credentials::token::{issue_hs256, Claims};
use serde_json::{json, Value};

const SECRET: &str = "limits-test-secret";

/// Two roles: `tight` may make 3 requests a minute, pages of 5 and depth 3; `roomy` has the
/// defaults and may introspect.
const POLICY: &str = r#"
[roles.tight]
description = "tight limits"
read = ["grid", "person"]
default_field = "masked"
source_records = "none"
limits = { requests_per_minute = 3, max_page_size = 5, max_depth = 3 }

[roles.roomy]
description = "default limits"
read = ["grid", "person"]
default_field = "masked"
source_records = "none"
introspection = true
"#;

fn bearer(role: &str, subject: &str) -> String {
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
        issue_hs256(SECRET, &claims, None, None).expect("token")
    )
}

async fn limited_hub(backend: common::Backend, policy: &std::path::Path) -> Hub {
    let policy = policy.display().to_string();
    Hub::start_with(backend, 200, move |s| {
        s.auth.required = true;
        s.auth.jwt_hs256_secret = SECRET.to_string();
        s.access.policy_file = policy;
        s.access.production = true;
    })
    .await
}

async fn ask(hub: &Hub, auth: &str, query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    hub.query_as(&[("Authorization", auth)], json!({ "query": query }))
        .await
}

#[tokio::test]
async fn each_role_has_its_own_limits() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    for backend in backends() {
        let hub = limited_hub(backend, &policy).await;
        let tight = bearer("tight", "tight-1");
        let roomy = bearer("roomy", "roomy-1");

        let (status, _, body) = ask(&hub, &tight, "{ persons(first: 6) { nodes { name } } }").await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(first_error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
        let (_, _, body) = ask(
            &hub,
            &tight,
            "{ persons(first: 5) { nodes { grid { parent { code } } } } }",
        )
        .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("nests fields deeper than 3"),
            "{backend:?}: a query deeper than 3 is refused: {body}"
        );
        let (_, _, body) = ask(&hub, &tight, "{ __schema { queryType { name } } }").await;
        assert_eq!(
            body["data"]["__schema"],
            Value::Null,
            "{backend:?}: introspection is off in production for this role: {body}"
        );

        let (status, headers, body) =
            ask(&hub, &tight, "{ persons(first: 1) { nodes { name } } }").await;
        assert_eq!(
            status, 429,
            "{backend:?}: the fourth request in a minute is refused: {body}"
        );
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("TOO_MANY_REQUESTS")
        );
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(
            (1..=60).contains(&retry),
            "{backend:?}: Retry-After {retry}"
        );

        let other_tight = bearer("tight", "tight-2");
        let (status, _, _) = ask(
            &hub,
            &other_tight,
            "{ persons(first: 1) { nodes { name } } }",
        )
        .await;
        assert_eq!(
            status, 200,
            "{backend:?}: the rate is counted per principal"
        );

        let (status, _, body) = ask(
            &hub,
            &roomy,
            "{ __schema { queryType { name } } persons(first: 50) { nodes { name } } }",
        )
        .await;
        assert_eq!(status, 200);
        assert!(body.get("errors").is_none(), "{backend:?}: {body}");
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
        assert_eq!(
            body["data"]["persons"]["nodes"].as_array().unwrap().len(),
            50
        );
    }
}

#[tokio::test]
async fn a_role_missing_from_the_policy_is_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    for backend in backends() {
        let hub = limited_hub(backend, &policy).await;
        let (status, _, body) = ask(
            &hub,
            &bearer("admin", "someone"),
            "{ grids(first: 1) { nodes { code } } }",
        )
        .await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        assert_eq!(first_error_code(&body).as_deref(), Some("FORBIDDEN"));
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("admin"));
    }
}

/// A production hub under [`POLICY`] (written to a temporary directory kept with it).
async fn policy_hub(backend: common::Backend) -> (Hub, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    (limited_hub(backend, &policy).await, dir)
}

/// Fragments F0 … F`levels`, each spreading the next `fan` times: `fan^levels` fields once
/// expanded, in a document of a few hundred bytes.
fn fragment_bomb(levels: usize, fan: usize) -> String {
    let mut doc = String::from("query { grids(first: 1) { nodes { ...F0 } } }\n");
    for level in 0..levels {
        let spreads = vec![format!("...F{}", level + 1); fan].join(" ");
        doc.push_str(&format!("fragment F{level} on Grid {{ code {spreads} }}\n"));
    }
    doc.push_str(&format!("fragment F{levels} on Grid {{ code }}\n"));
    doc
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_it_is_validated() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let roomy = bearer("roomy", "roomy-bomb");
        let bomb = fragment_bomb(30, 3);
        assert!(bomb.len() < 2_000);
        let started = std::time::Instant::now();
        let (status, _, body) = ask(&hub, &roomy, &bomb).await;
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(status, 400, "{backend:?}: {body}");
        assert_eq!(first_error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
        assert!(
            message(&body).contains("expands to more than 5000 fields"),
            "{body}"
        );
        let cycle = "{ grids(first: 1) { nodes { ...A } } } fragment A on Grid { code ...A }";
        let (status, _, body) = ask(&hub, &roomy, cycle).await;
        assert_eq!(status, 400, "{backend:?}: {body}");
        assert!(message(&body).contains("spreads itself"), "{body}");
        assert_eq!(hub.get("/healthz").await, (200, "ok".to_string()));
    }
}

#[tokio::test]
async fn aliases_and_aggregates_count_against_the_limits() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let roomy = bearer("roomy", "roomy-alias");
        let aliases: String = (0..201).map(|i| format!("a{i}: __typename ")).collect();
        let (status, _, body) = ask(&hub, &roomy, &format!("{{ {aliases} }}")).await;
        assert_eq!(status, 400, "{backend:?}: {body}");
        assert!(
            message(&body).contains("more than 200 aliased fields"),
            "{body}"
        );
        let compliance: String = (0..199)
            .map(|i| {
                format!(
                    "c{i}: deadlineCompliance(from: \"2020-01-{:02}T00:00:00Z\") ",
                    i % 28 + 1
                )
            })
            .collect();
        let (status, _, body) = ask(
            &hub,
            &roomy,
            &format!("{{ grids(first: 3) {{ nodes {{ stats {{ {compliance} }} }} }} }}"),
        )
        .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(first_error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
        assert!(message(&body).contains("too complex"), "{body}");
    }
}

#[tokio::test]
async fn a_batch_has_an_operation_limit_and_one_complexity_budget() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let roomy = bearer("roomy", "roomy-batch");
        let auth = [("Authorization", roomy.as_str())];
        let simple = json!({"query": "{ __typename }"});
        let (status, _, body) = hub.query_as(&auth, json!(vec![simple; 21])).await;
        assert_eq!(status, 400, "{backend:?}: {body}");
        assert!(message(&body).contains("at most 20 operations"), "{body}");

        let pages: String = (0..40)
            .map(|i| format!("p{i}: persons(first: 100) {{ nodes {{ name }} }} "))
            .collect();
        let heavy = json!({"query": format!("{{ {pages} }}")});
        let (status, _, body) = hub.query_as(&auth, json!(vec![heavy; 3])).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let answers = body.as_array().expect("a batch answer");
        assert!(answers[0].get("errors").is_none(), "{backend:?}: {body}");
        assert!(answers[1].get("errors").is_none(), "{backend:?}: {body}");
        assert!(
            message(&answers[2]).contains("together exceed the complexity limit"),
            "{backend:?}: the third heavy operation is over the shared budget: {}",
            answers[2]
        );
    }
}

#[tokio::test]
async fn every_operation_of_a_batch_counts_against_the_rate() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let query = json!({"query": "{ __typename }"});
        let first = bearer("tight", "tight-batch-1");
        let auth = [("Authorization", first.as_str())];
        let (status, _, body) = hub.query_as(&auth, json!(vec![query.clone(); 3])).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let (status, _, body) = hub.query_as(&auth, query.clone()).await;
        assert_eq!(
            status, 429,
            "{backend:?}: three operations used the minute: {body}"
        );
        let second = bearer("tight", "tight-batch-2");
        let auth = [("Authorization", second.as_str())];
        let (status, headers, body) = hub.query_as(&auth, json!(vec![query; 4])).await;
        assert_eq!(
            status, 429,
            "{backend:?}: four operations exceed a minute: {body}"
        );
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("TOO_MANY_REQUESTS")
        );
        assert!(headers.contains_key("retry-after"));
    }
}

#[tokio::test]
async fn mutations_are_refused_over_get() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let roomy = bearer("roomy", "roomy-get");
        let client = reqwest::Client::new();
        let get = |query: &str| {
            client
                .get(format!("{}/graphql", hub.base))
                .query(&[("query", query)])
                .header("Authorization", roomy.as_str())
                .send()
        };
        let mutation = "mutation { acceptEvent(input: {eventId: \"x\"}) { id } }";
        let response = get(mutation).await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{backend:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
        assert!(message(&body).contains("POST"), "{body}");
        let named =
            "query Q { __typename } mutation M { acceptEvent(input: {eventId: \"x\"}) { id } }";
        assert_eq!(get(named).await.unwrap().status().as_u16(), 405);
        let response = get("{ __typename }").await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "{backend:?}: queries run over GET"
        );
    }
}

#[tokio::test]
async fn suggestions_are_given_only_where_introspection_is() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let typo = "{ persns(first: 1) { nodes { name } } }";
        let (_, _, body) = ask(&hub, &bearer("tight", "tight-typo"), typo).await;
        assert_eq!(first_error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
        assert!(
            !message(&body).contains("Did you mean"),
            "{backend:?}: {body}"
        );
        let (_, _, body) = ask(&hub, &bearer("roomy", "roomy-typo"), typo).await;
        assert!(
            message(&body).contains("Did you mean"),
            "{backend:?}: {body}"
        );
    }
}

#[tokio::test]
async fn a_value_that_does_not_parse_is_bad_user_input() {
    for backend in backends() {
        let (hub, _dir) = policy_hub(backend).await;
        let roomy = bearer("roomy", "roomy-junk");
        let auth = [("Authorization", roomy.as_str())];
        let query = "query($since: DateTime) { auditEntries(filter: {since: $since}) { pageInfo { hasNextPage } } }";
        for junk in [json!("junk"), json!("2024-13-45T99:00:00Z"), json!(17)] {
            let (_, _, body) = hub
                .query_as(&auth, json!({"query": query, "variables": {"since": junk}}))
                .await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("BAD_USER_INPUT"),
                "{backend:?}: {junk}: {body}"
            );
            assert!(message(&body).contains("DateTime"), "{backend:?}: {body}");
        }
    }
}
