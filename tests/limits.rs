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
                .contains("nested too deep"),
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
