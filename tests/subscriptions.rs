//! Live feeds through a real graphql-transport-ws client at `/graphql/ws`, on SQLite and (when
//! configured) PostgreSQL: changes of reported events arrive, filtered by status and bounded by
//! the subscriber's grid scope; overdue lists and statistics arrive at once and after changes;
//! bad grid codes and bad credentials get clear errors; on PostgreSQL a change made through one
//! process reaches the subscribers of another.

mod common;

use common::ws::Client;
use common::{backends, tokens, Backend, Hub};
use serde_json::{json, Value};
use std::time::Duration;

const PERSONS: u64 = 200;

const EVENT_CHANGED: &str = "subscription Changes($code: String, $statuses: [EventStatus!]) {
  eventChanged(gridCode: $code, statuses: $statuses) {
    eventId status action event { id title grid { code } }
  }
}";

const REPORT: &str = "mutation Report($code: String!, $title: String!) {
  reportEvent(input: {gridCode: $code, category: SAFETY_HAZARD, priority: URGENT,
                      title: $title, description: \"走廊堆放杂物\"}) { id }
}";

const ACCEPT: &str =
    "mutation Accept($id: ID!) { acceptEvent(input: {eventId: $id}) { id status } }";

/// Codes of the first `n` grids of `level`.
async fn grids(hub: &Hub, level: &str, n: usize) -> Vec<String> {
    let query =
        format!("{{ grids(filter: {{levels: [{level}]}}, first: {n}) {{ nodes {{ code }} }} }}");
    let data = hub.data(&query, json!({})).await;
    let codes: Vec<String> = data["grids"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        codes.len(),
        n,
        "{:?}: {n} grids of level {level}",
        hub.backend
    );
    codes
}

/// Reports an event in grid `code` through HTTP (with `headers`); returns its id.
async fn report(hub: &Hub, headers: &[(&str, &str)], code: &str, title: &str) -> String {
    let body = json!({"query": REPORT, "variables": {"code": code, "title": title}});
    let (_, _, body) = hub.query_as(headers, body).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["reportEvent"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A staff token with `role` scoped to `grid`.
fn token(role: &str, grid: Option<&str>) -> String {
    tokens::token(&format!("{role}-01"), role, None, grid)
}

fn bearer(token: &str) -> Value {
    json!({"Authorization": format!("Bearer {token}")})
}

async fn secured_hub(backend: Backend) -> Hub {
    Hub::start_with(backend, PERSONS, tokens::secured).await
}

#[tokio::test]
async fn reported_and_accepted_events_reach_subscribers_filtered_by_status() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let grid = grids(&hub, "GRID", 1).await.remove(0);
        let community = grid[..12].to_string();
        let mut client = Client::connect(&hub, json!({})).await;
        client
            .subscribe("all", EVENT_CHANGED, json!({"code": community}))
            .await;
        client
            .subscribe(
                "accepted",
                EVENT_CHANGED,
                json!({"code": community, "statuses": ["ACCEPTED"]}),
            )
            .await;
        client.settle().await;

        let id = report(&hub, &[], &grid, "楼道堆物").await;
        let reported = client.next_of("all").await;
        let change = &reported["data"]["eventChanged"];
        assert_eq!(change["eventId"], id.as_str(), "{backend:?}: {reported}");
        assert_eq!(change["status"], "REPORTED");
        assert_eq!(change["action"], "REPORT");
        assert_eq!(change["event"]["title"], "楼道堆物");
        assert_eq!(change["event"]["grid"]["code"], grid.as_str());

        let body = hub.query(ACCEPT, json!({"id": id})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        let accepted = client.next_of("accepted").await;
        let change = &accepted["data"]["eventChanged"];
        assert_eq!(change["eventId"], id.as_str(), "{backend:?}: {accepted}");
        assert_eq!(
            change["status"], "ACCEPTED",
            "the REPORTED change is filtered out"
        );
        assert_eq!(change["action"], "ACCEPT");
        let all = client.next_of("all").await;
        assert_eq!(all["data"]["eventChanged"]["status"], "ACCEPTED");
    }
}

#[tokio::test]
async fn a_subscriber_sees_only_changes_inside_its_grid_scope() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let admin = format!("Bearer {}", token("admin", None));
        let admin_headers = [("Authorization", admin.as_str())];
        let (_, _, body) = hub
            .query_as(
                &admin_headers,
                json!({"query": "{ grids(filter: {levels: [GRID]}, first: 2) { nodes { code } } }"}),
            )
            .await;
        let codes: Vec<String> = body["data"]["grids"]["nodes"]
            .as_array()
            .expect("two grids")
            .iter()
            .map(|g| g["code"].as_str().unwrap().to_string())
            .collect();
        let (mine, other) = (&codes[0], &codes[1]);

        let mut inside = Client::connect(&hub, bearer(&token("grid_worker", Some(mine)))).await;
        let mut outside = Client::connect(&hub, bearer(&token("grid_worker", Some(other)))).await;
        inside.subscribe("1", EVENT_CHANGED, json!({})).await;
        outside.subscribe("1", EVENT_CHANGED, json!({})).await;
        inside.settle().await;
        outside.settle().await;

        let first = report(&hub, &admin_headers, mine, "井盖缺失").await;
        let seen = inside.next_of("1").await;
        assert_eq!(
            seen["data"]["eventChanged"]["eventId"],
            first.as_str(),
            "{backend:?}: {seen}"
        );
        assert_eq!(seen["data"]["eventChanged"]["event"]["title"], "井盖缺失");

        let second = report(&hub, &admin_headers, other, "路灯不亮").await;
        let seen = outside.next_of("1").await;
        assert_eq!(
            seen["data"]["eventChanged"]["eventId"],
            second.as_str(),
            "{backend:?}: the worker of another grid skips the first event: {seen}"
        );

        inside
            .subscribe("2", EVENT_CHANGED, json!({"code": other}))
            .await;
        let refused = inside.next_of("2").await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{backend:?}: a grid outside the scope looks missing: {refused}"
        );
    }
}

#[tokio::test]
async fn bad_credentials_close_the_connection_with_the_reason() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let mut anonymous = Client::open(&hub, json!({})).await;
        let reason = anonymous
            .receive()
            .await
            .expect_err("the connection is closed");
        assert!(
            reason.starts_with("UNAUTHENTICATED"),
            "{backend:?}: {reason}"
        );

        let mut forged = Client::open(&hub, json!({"Authorization": "Bearer not-a-token"})).await;
        let reason = forged
            .receive()
            .await
            .expect_err("the connection is closed");
        assert!(
            reason.starts_with("UNAUTHENTICATED"),
            "{backend:?}: {reason}"
        );
    }
}

#[tokio::test]
async fn bad_grid_codes_get_the_same_errors_as_queries() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let mut client = Client::connect(&hub, json!({})).await;
        let cases = [
            ("malformed", EVENT_CHANGED, "11010x", "BAD_USER_INPUT"),
            ("unknown", EVENT_CHANGED, "999999", "NOT_FOUND"),
            (
                "overdue",
                "subscription($code: String) { overdueEvents(gridCode: $code) { id } }",
                "12",
                "BAD_USER_INPUT",
            ),
            (
                "stats",
                "subscription($code: String!) { stats(gridCode: $code) { population } }",
                "999999",
                "NOT_FOUND",
            ),
        ];
        for (id, query, code, expected) in cases {
            client.subscribe(id, query, json!({"code": code})).await;
            let payload = client.next_of(id).await;
            let error = &payload["errors"][0];
            assert_eq!(
                error["extensions"]["code"], expected,
                "{backend:?} {id}: {payload}"
            );
            assert!(
                error["message"].as_str().unwrap().contains(code),
                "{backend:?} {id}: the message names the code: {payload}"
            );
        }
    }
}

#[tokio::test]
async fn overdue_events_and_stats_arrive_at_once_and_after_changes() {
    for backend in backends() {
        let hub = Hub::start_with(backend, PERSONS, |s| {
            s.subscriptions.stats_interval_millis = 100;
        })
        .await;
        let district = grids(&hub, "DISTRICT", 1).await.remove(0);
        let grid = grids(&hub, "GRID", 1).await.remove(0);
        let expected = hub
            .data(
                "query($code: String!) {
                   grid(code: $code) { stats { population openEvents overdueEvents } }
                   events(filter: {gridCode: $code, overdue: true}, first: 100) { nodes { id } }
                 }",
                json!({"code": district}),
            )
            .await;
        let mut client = Client::connect(&hub, json!({})).await;
        client
            .subscribe(
                "overdue",
                "subscription($code: String) { overdueEvents(gridCode: $code) { id overdue } }",
                json!({"code": district}),
            )
            .await;
        client
            .subscribe(
                "stats",
                "subscription($code: String!) { stats(gridCode: $code) { population openEvents overdueEvents } }",
                json!({"code": district}),
            )
            .await;

        let overdue = client.next_of("overdue").await;
        let listed = overdue["data"]["overdueEvents"]
            .as_array()
            .expect("a list")
            .clone();
        let expected_ids = expected["events"]["nodes"].as_array().unwrap();
        assert_eq!(
            listed.len(),
            expected_ids.len().min(100),
            "{backend:?}: {overdue}"
        );
        assert!(
            listed.iter().all(|e| e["overdue"] == true),
            "{backend:?}: {overdue}"
        );
        let stats = client.next_of("stats").await;
        assert_eq!(
            stats["data"]["stats"], expected["grid"]["stats"],
            "{backend:?}: the first snapshot is the grid's stats"
        );

        report(&hub, &[], &grid, "积水").await;
        let fresh = client.next_of("stats").await;
        let before = expected["grid"]["stats"]["openEvents"].as_i64().unwrap();
        assert_eq!(
            fresh["data"]["stats"]["openEvents"].as_i64(),
            Some(before + 1),
            "{backend:?}: a fresh snapshot after a report: {fresh}"
        );
        let again = client.next_of("overdue").await;
        assert!(
            again["data"]["overdueEvents"].is_array(),
            "{backend:?}: {again}"
        );
    }
}

#[tokio::test]
async fn a_change_made_through_one_process_reaches_subscribers_of_another() {
    if std::env::var("GRIDHUB_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: GRIDHUB_TEST_DATABASE_URL is not set");
        return;
    }
    let a = Hub::start(Backend::Postgres, PERSONS).await;
    let b = a.sibling(|_| {}).await;
    let grid = grids(&a, "GRID", 1).await.remove(0);
    let mut on_a = Client::connect(&a, json!({})).await;
    let mut on_b = Client::connect(&b, json!({})).await;
    on_a.subscribe("1", EVENT_CHANGED, json!({"code": grid}))
        .await;
    on_b.subscribe("1", EVENT_CHANGED, json!({"code": grid}))
        .await;
    on_a.settle().await;
    on_b.settle().await;

    let id = report(&a, &[], &grid, "高空坠物隐患").await;
    let heard = on_b.next_of("1").await;
    assert_eq!(
        heard["data"]["eventChanged"]["eventId"],
        id.as_str(),
        "{heard}"
    );
    assert_eq!(
        heard["data"]["eventChanged"]["event"]["title"],
        "高空坠物隐患"
    );

    let body = b.query(ACCEPT, json!({"id": id})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    for client in [&mut on_a, &mut on_b] {
        let reported_or_accepted = client.next_of("1").await;
        let status = reported_or_accepted["data"]["eventChanged"]["status"].clone();
        let accepted = if status == "REPORTED" {
            client.next_of("1").await["data"]["eventChanged"]["status"].clone()
        } else {
            status
        };
        assert_eq!(
            accepted, "ACCEPTED",
            "each process delivers each change once, in order"
        );
    }
    for client in [&mut on_a, &mut on_b] {
        client.nothing_for("1", Duration::from_millis(300)).await;
    }
}
