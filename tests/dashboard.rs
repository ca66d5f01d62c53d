//! Command-centre reads through HTTP on both databases: grid statistics agree with the lists
//! they summarise and cost one statement however many grids a dashboard shows; a person card
//! shows the person's latest events; /metrics reports requests by operation.

mod common;

use common::{backends, Hub};
use serde_json::json;

const DASHBOARD: &str = r#"
query Dashboard($code: String!) {
  grid(code: $code) {
    code
    stats { population households openEvents overdueEvents }
    children { code stats { population households openEvents overdueEvents } }
  }
}"#;

const TOTALS: &str = r#"
query Totals($code: String!) {
  persons(filter: {gridCode: $code}) { totalCount }
  open: events(filter: {gridCode: $code, statuses: [REPORTED, ACCEPTED, ESCALATED, DISPATCHED, ACKNOWLEDGED]}) { totalCount }
  overdue: events(filter: {gridCode: $code, overdue: true}) { totalCount }
}"#;

#[tokio::test]
async fn grid_stats_agree_with_lists_and_cost_one_batch() {
    for backend in backends() {
        let hub = Hub::start(backend, 400).await;
        let street = hub
            .data(
                "{ grids(filter: {levels: [STREET]}) { nodes { code } } }",
                json!({}),
            )
            .await["grids"]["nodes"][0]["code"]
            .clone();
        let before = hub.statements();
        let data = hub.data(DASHBOARD, json!({"code": street})).await;
        let cost = hub.statements() - before;
        assert!(cost <= 5, "{backend:?}: dashboard took {cost} statements");

        let grid = &data["grid"];
        let stats = &grid["stats"];
        let children = grid["children"].as_array().unwrap();
        assert!(!children.is_empty());
        for field in ["population", "households", "openEvents", "overdueEvents"] {
            let sum: i64 = children
                .iter()
                .map(|c| c["stats"][field].as_i64().unwrap())
                .sum();
            assert_eq!(stats[field].as_i64().unwrap(), sum, "{backend:?}: {field}");
        }
        assert_eq!(stats["population"], 400, "{backend:?}");
        assert!(
            stats["households"].as_i64().unwrap() > 100,
            "{backend:?}: {stats}"
        );

        let totals = hub.data(TOTALS, json!({"code": street})).await;
        assert_eq!(stats["population"], totals["persons"]["totalCount"]);
        assert_eq!(stats["openEvents"], totals["open"]["totalCount"]);
        assert_eq!(stats["overdueEvents"], totals["overdue"]["totalCount"]);
        assert!(stats["overdueEvents"].as_i64().unwrap() <= stats["openEvents"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn person_events_are_the_latest_the_person_is_involved_in() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        let query = r#"{ persons(first: 100) { nodes { id
            events(first: 5) { nodes { reportedAt involvements { person { id } } } } } } }"#;
        let data = hub.data(query, json!({})).await;
        let mut with_events = 0;
        for person in data["persons"]["nodes"].as_array().unwrap() {
            let events = person["events"]["nodes"].as_array().unwrap();
            assert!(events.len() <= 5);
            with_events += usize::from(!events.is_empty());
            let times: Vec<&str> = events
                .iter()
                .map(|e| e["reportedAt"].as_str().unwrap())
                .collect();
            let parsed: Vec<chrono::DateTime<chrono::Utc>> =
                times.iter().map(|t| t.parse().unwrap()).collect();
            assert!(
                parsed.windows(2).all(|w| w[0] >= w[1]),
                "{backend:?}: newest first"
            );
            for event in events {
                let involved = event["involvements"].as_array().unwrap();
                assert!(involved.iter().any(|i| i["person"]["id"] == person["id"]));
            }
        }
        assert!(
            with_events > 0,
            "{backend:?}: some persons are involved in events"
        );
    }
}

#[tokio::test]
async fn metrics_report_requests_by_operation_and_sql_statements() {
    let hub = Hub::start(common::Backend::Sqlite, 50).await;
    let body = json!({"query": "query DepartmentList { departments { code } }", "operationName": "DepartmentList"});
    let (status, _) = hub.post_json(body).await;
    assert_eq!(status, 200);
    let (status, text) = hub.get("/metrics").await;
    assert_eq!(status, 200);
    for expected in [
        "gridhub_graphql_requests_total{operation=\"DepartmentList\"}",
        "gridhub_graphql_request_duration_seconds_bucket{operation=\"DepartmentList\"",
        "gridhub_sql_statements_total",
        "gridhub_db_pool_connections",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
}

/// Population and households of the whole district, as the dashboard shows them.
async fn district_tallies(hub: &Hub) -> (i64, i64) {
    let data = hub
        .data(
            "{ grids(filter: {levels: [DISTRICT]}) { nodes { stats { population households } } } }",
            json!({}),
        )
        .await;
    let stats = &data["grids"]["nodes"][0]["stats"];
    (
        stats["population"].as_i64().unwrap(),
        stats["households"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn tallies_match_the_rows_and_are_rebuilt_for_a_database_without_them() {
    use sea_orm::{ConnectionTrait, Statement};
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        let conn = &hub.db.conn;
        let heads = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM residences \
                 WHERE role = 'household_head' AND until IS NULL",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(district_tallies(&hub).await, (300, heads), "{backend:?}");

        conn.execute_unprepared("DELETE FROM grid_tallies")
            .await
            .unwrap();
        assert_eq!(district_tallies(&hub).await, (0, 0), "{backend:?}");
        gridhub::tally::ensure(conn).await.unwrap();
        assert_eq!(district_tallies(&hub).await, (300, heads), "{backend:?}");
    }
}

#[tokio::test]
async fn stats_of_many_grids_at_once_add_up_to_the_district() {
    for backend in backends() {
        let hub = Hub::start(backend, 400).await;
        let query = "{ grids(filter: {levels: [MICRO_GRID]}, first: 100) {
            totalCount nodes { stats { population openEvents } } }
            district: grids(filter: {levels: [DISTRICT]}) {
            nodes { stats { population openEvents } } } }";
        let data = hub.data(query, json!({})).await;
        let nodes = data["grids"]["nodes"].as_array().unwrap();
        assert!(nodes.len() > 32, "{backend:?}: {} micro-grids", nodes.len());
        assert_eq!(data["grids"]["totalCount"], nodes.len(), "{backend:?}");
        let district = &data["district"]["nodes"][0]["stats"];
        for field in ["population", "openEvents"] {
            let sum: i64 = nodes
                .iter()
                .map(|n| n["stats"][field].as_i64().unwrap())
                .sum();
            assert_eq!(
                district[field].as_i64().unwrap(),
                sum,
                "{backend:?}: {field}"
            );
        }
        assert_eq!(district["population"], 400, "{backend:?}");
    }
}
