//! The read API through HTTP, on SQLite and (when configured) PostgreSQL: nested queries cost a
//! bounded number of statements, paging visits every row once, filters hold, identifiers are
//! masked, and bad input gets coded errors without hurting the server.

mod common;

use common::{backends, first_error_code, Hub};
use serde_json::{json, Value};
use std::collections::HashSet;

const PERSONS: u64 = 400;

async fn a_community_code(hub: &Hub) -> String {
    let data = hub
        .data(
            "{ grids(filter: {levels: [COMMUNITY]}, first: 1) { nodes { code } } }",
            json!({}),
        )
        .await;
    data["grids"]["nodes"][0]["code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A grid → its persons → their houses → the houses' residents → their organisations. Every
/// loader type sits at one depth, so the statement count is exact, not merely bounded.
const NESTED: &str = r#"
query Nested($code: String!, $first: Int!) {
  grid(code: $code) {
    name
    persons(first: $first) {
      totalCount
      nodes {
        name idNumber
        residences {
          role
          house {
            address
            residences { role person { name memberships { role organization { name kind } } } }
          }
        }
      }
    }
  }
}"#;

#[tokio::test]
async fn nested_query_costs_the_same_statements_at_any_page_size() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let code = a_community_code(&hub).await;
        let mut costs = Vec::new();
        for first in [5, 20] {
            let before = hub.statements();
            let data = hub
                .data(NESTED, json!({"code": code, "first": first}))
                .await;
            costs.push(hub.statements() - before);
            let persons = data["grid"]["persons"]["nodes"].as_array().unwrap();
            assert_eq!(persons.len(), first, "{backend:?}");
            let housed = persons
                .iter()
                .filter(|p| !p["residences"].as_array().unwrap().is_empty())
                .count();
            assert!(housed > 0, "{backend:?}: seeded persons live somewhere");
        }
        assert_eq!(costs[0], costs[1], "{backend:?}: statements {costs:?}");
        assert!(costs[0] <= 12, "{backend:?}: {} statements", costs[0]);
    }
}

const PAGE: &str = r#"
query Page($code: String!, $first: Int, $after: String, $last: Int, $before: String) {
  persons(filter: {gridCode: $code}, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
  }
}"#;

fn ids_of(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn page_forward(hub: &Hub, code: &str) -> (Vec<String>, i64) {
    let (mut ids, mut after) = (Vec::new(), Value::Null);
    loop {
        let vars = json!({"code": code, "first": 7, "after": after});
        let page = hub.data(PAGE, vars).await["persons"].clone();
        ids.extend(ids_of(&page));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, page["totalCount"].as_i64().unwrap());
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn page_backward(hub: &Hub, code: &str) -> Vec<String> {
    let (mut ids, mut before) = (Vec::new(), Value::Null);
    loop {
        let vars = json!({"code": code, "last": 7, "before": before});
        let page = hub.data(PAGE, vars).await["persons"].clone();
        let mut chunk = ids_of(&page);
        chunk.extend(ids);
        ids = chunk;
        if !page["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
            return ids;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
}

#[tokio::test]
async fn paging_forward_and_backward_returns_every_row_once_in_order() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let code = a_community_code(&hub).await;
        let (forward, total) = page_forward(&hub, &code).await;
        assert!(total > 14, "{backend:?}: a community has persons");
        assert_eq!(forward.len() as i64, total, "{backend:?}");
        let distinct: HashSet<_> = forward.iter().collect();
        assert_eq!(distinct.len(), forward.len(), "{backend:?}: no duplicates");
        let backward = page_backward(&hub, &code).await;
        assert_eq!(backward, forward, "{backend:?}: same rows, same order");
    }
}

const EVENTS: &str = r#"
query Events($first: Int!, $after: String, $filter: EventFilter) {
  events(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id status reportedAt }
  }
}"#;

#[tokio::test]
async fn events_page_newest_first_and_filters_hold() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let filter = json!({"statuses": ["CLOSED", "RESOLVED"],
                            "reportedFrom": "2026-01-01T00:00:00Z",
                            "reportedTo": "2026-11-01T00:00:00Z"});
        let (mut seen, mut after) = (Vec::new(), Value::Null);
        let total = loop {
            let vars = json!({"first": 50, "after": after, "filter": filter});
            let page = hub.data(EVENTS, vars).await["events"].clone();
            seen.extend(page["nodes"].as_array().unwrap().iter().cloned());
            if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break page["totalCount"].as_i64().unwrap();
            }
            after = page["pageInfo"]["endCursor"].clone();
        };
        assert!(total > 50, "{backend:?}: enough events to page");
        assert_eq!(seen.len() as i64, total, "{backend:?}");
        let times: Vec<&str> = seen
            .iter()
            .map(|e| e["reportedAt"].as_str().unwrap())
            .collect();
        let parsed: Vec<chrono::DateTime<chrono::Utc>> =
            times.iter().map(|t| t.parse().unwrap()).collect();
        assert!(
            parsed.windows(2).all(|w| w[0] >= w[1]),
            "{backend:?}: newest first"
        );
        for event in &seen {
            assert!(["CLOSED", "RESOLVED"].contains(&event["status"].as_str().unwrap()));
        }
        assert!(times.iter().all(|t| t.starts_with("2026-")), "{backend:?}");
    }
}

#[tokio::test]
async fn person_filters_and_masking_hold() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let query = r#"query($f: PersonFilter) { persons(filter: $f, first: 100) {
            totalCount nodes { name idNumber phone gender tags } } }"#;
        let all = hub.data(query, json!({"f": null})).await;
        assert_eq!(all["persons"]["totalCount"], PERSONS as i64, "{backend:?}");
        let surname = all["persons"]["nodes"][0]["name"].as_str().unwrap();
        let surname: String = surname.chars().take(1).collect();
        let named = hub.data(query, json!({"f": {"namePrefix": surname}})).await;
        let nodes = named["persons"]["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty());
        for person in nodes {
            assert!(person["name"].as_str().unwrap().starts_with(&surname));
            let id = person["idNumber"].as_str().unwrap();
            assert!(
                id.len() == 18 && &id[6..14] == "********",
                "{backend:?}: masked id {id}"
            );
            if let Some(phone) = person["phone"].as_str() {
                assert_eq!(&phone[3..7], "****", "{backend:?}: masked phone {phone}");
            }
        }
        let women = hub.data(query, json!({"f": {"gender": "FEMALE"}})).await;
        for person in women["persons"]["nodes"].as_array().unwrap() {
            assert_eq!(person["gender"], "FEMALE");
            assert_eq!(
                person["tags"].as_array().unwrap().len(),
                0,
                "{backend:?}: welfare and key-person tags are hidden from the anonymous principal"
            );
        }
        let by_welfare_tag = hub
            .query(query, json!({"f": {"tags": ["ELDERLY_LIVING_ALONE"]}}))
            .await;
        assert_eq!(
            first_error_code(&by_welfare_tag).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: filtering by a hidden tag would disclose it: {by_welfare_tag}"
        );
    }
}

#[tokio::test]
async fn every_element_is_reachable_by_node_and_nodes() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let ids = hub
            .data(
                r#"{ grids(first: 1) { nodes { id } } persons(first: 1) { nodes { id } }
                   houses(first: 1) { nodes { id } } places(first: 1) { nodes { id } }
                   events(first: 1) { nodes { id } } objects(first: 1) { nodes { id } }
                   organizations(first: 1) { nodes { id } } departments { id }
                   volunteerActivities(first: 1) { nodes { id } } }"#,
                json!({}),
            )
            .await;
        let mut all: Vec<Value> = ids
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["nodes"][0]["id"].clone())
            .filter(|v| !v.is_null())
            .collect();
        all.push(ids["departments"][0]["id"].clone());
        assert_eq!(all.len(), 9, "{backend:?}: {ids}");
        let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }";
        let found = hub.data(query, json!({"ids": all})).await;
        let returned: Vec<Value> = found["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].clone())
            .collect();
        assert_eq!(returned, all, "{backend:?}");
        for id in &all {
            let one = hub
                .data(
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({"id": id}),
                )
                .await;
            assert_eq!(&one["node"]["id"], id);
        }
    }
}

fn deep_query(levels: usize) -> String {
    let mut query = String::from("code");
    for _ in 0..levels {
        query = format!("parent {{ {query} }}");
    }
    format!("{{ grids(first: 1) {{ nodes {{ {query} }} }} }}")
}

#[tokio::test]
async fn bad_input_gets_coded_errors_and_the_server_keeps_serving() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 100, |s| s.server.body_limit_bytes = 64 * 1024).await;
        let cases = [
            ("{ node(id: \"not-an-id\") { id } }", "BAD_USER_INPUT"),
            ("{ node(id: \"Tm9wZTox\") { id } }", "BAD_USER_INPUT"),
            ("{ grid(code: \"650203999999\") { name } }", "NOT_FOUND"),
            ("{ grid(code: \"65a\") { name } }", "BAD_USER_INPUT"),
            (
                "{ persons(filter: {gridCode: \"650203999999\"}) { totalCount } }",
                "NOT_FOUND",
            ),
            ("{ persons(first: -1) { totalCount } }", "BAD_USER_INPUT"),
            (
                "{ persons(first: 100000) { totalCount } }",
                "BAD_USER_INPUT",
            ),
            (
                "{ persons(first: 1, last: 1) { totalCount } }",
                "BAD_USER_INPUT",
            ),
            (
                "{ persons(after: \"bogus\") { totalCount } }",
                "BAD_USER_INPUT",
            ),
            (
                "{ personByIdNumber(idNumber: \"110105194912310021\") { name } }",
                "BAD_USER_INPUT",
            ),
            ("{ persons { nosuchfield } }", "BAD_USER_INPUT"),
            ("{ persons(first: 1) { ", "BAD_USER_INPUT"),
            (
                "{ grids(first: 100) { nodes { persons(first: 100) { nodes { name
                   residences { house { address residences { person { name } } } } } } } } }",
                "BAD_USER_INPUT",
            ),
        ];
        for (query, code) in cases {
            let body = hub.query(query, json!({})).await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some(code),
                "{backend:?} {query}: {body}"
            );
        }
        let missing = hub
            .data("{ node(id: \"R3JpZDo5OTk5OTk\") { id } }", json!({}))
            .await;
        assert!(
            missing["node"].is_null(),
            "{backend:?}: Grid:999999 does not exist"
        );
        let deep = hub.query(&deep_query(30), json!({})).await;
        assert_eq!(
            first_error_code(&deep).as_deref(),
            Some("BAD_USER_INPUT"),
            "{deep}"
        );

        let (status, body) = hub
            .post_raw(b"{\"query\": \"{ persons { totalCount }".to_vec())
            .await;
        assert_eq!(status, 400, "malformed JSON: {body}");
        assert!(body.contains("BAD_USER_INPUT"), "{body}");

        let huge = format!(
            "{{\"query\": \"{{ departments {{ name }} }}\", \"x\": \"{}\"}}",
            "a".repeat(100_000)
        );
        let (status, _) = hub.post_raw(huge.into_bytes()).await;
        assert_eq!(status, 413, "oversize body");

        let (status, _) = hub.get("/healthz").await;
        assert_eq!(status, 200);
        let data = hub.data("{ departments { code } }", json!({})).await;
        assert_eq!(
            data["departments"].as_array().unwrap().len(),
            4,
            "{backend:?}: still serving"
        );
    }
}

#[tokio::test]
async fn probes_graphiql_and_get_requests_work() {
    for backend in backends() {
        let hub = Hub::start(backend, 0).await;
        assert_eq!(hub.get("/healthz").await.0, 200);
        assert_eq!(hub.get("/readyz").await.0, 200);
        let (status, page) = hub.get("/").await;
        assert_eq!(status, 200);
        assert!(page.contains("GraphiQL"));
        let (status, body) = hub
            .get("/graphql?query=%7B%20departments%20%7B%20code%20%7D%20%7D")
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"departments\""), "{body}");
    }
}

#[tokio::test]
async fn ancestors_run_from_the_root_to_the_parent_in_one_statement() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let query = "{ grids(filter: {levels: [MICRO_GRID]}, first: 30) {
            nodes { code ancestors { code level } } } }";
        let before = hub.statements();
        let data = hub.data(query, json!({})).await;
        let cost = hub.statements() - before;
        assert!(cost <= 2, "{backend:?}: {cost} statements");
        let nodes = data["grids"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 30, "{backend:?}");
        for node in nodes {
            let code = node["code"].as_str().unwrap();
            let ancestors = node["ancestors"].as_array().unwrap();
            let codes: Vec<&str> = ancestors
                .iter()
                .map(|a| a["code"].as_str().unwrap())
                .collect();
            let levels: Vec<&str> = ancestors
                .iter()
                .map(|a| a["level"].as_str().unwrap())
                .collect();
            assert_eq!(
                codes,
                [&code[..6], &code[..9], &code[..12], &code[..15]],
                "{backend:?}"
            );
            assert_eq!(
                levels,
                ["DISTRICT", "STREET", "COMMUNITY", "GRID"],
                "{backend:?}"
            );
        }
    }
}
