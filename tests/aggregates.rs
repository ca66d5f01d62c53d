//! Command-centre aggregates through HTTP on both databases: every breakdown of `grid { stats }`
//! agrees with the lists it summarises (events, organizations' memberships, volunteer
//! activities), deadline compliance and events per day match figures computed here from the
//! events themselves, the whole screen costs a bounded number of statements, small counts are
//! withheld from a command-centre token while a grid worker sees them exactly, and a role
//! without the `aggregates` right is refused.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{backends, first_error_code, Backend, Hub};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

const PERSONS: u64 = 400;
const SECRET: &str = "aggregates-test-secret";

const STATS: &str = r#"
population households openEvents overdueEvents suppressBelow partyMembers volunteers
eventsByStatus { key count suppressed }
eventsByCategory { key count suppressed }
eventsByPriority { key count suppressed }
compliance: deadlineCompliance
windowed: deadlineCompliance(from: $from, to: $to)
overdue(first: 5) { id resolveBy overdue status }
eventsPerDay(days: 60) { day reported resolved suppressed }
volunteerHours { category activities volunteers hours suppressed }
"#;

fn screen(children: bool) -> String {
    let nested = if children {
        format!("children {{ code stats {{ {STATS} }} }}")
    } else {
        String::new()
    };
    format!(
        "query Screen($code: String!, $from: DateTime, $to: DateTime) {{
           grid(code: $code) {{ code stats {{ {STATS} }} {nested} }} }}"
    )
}

async fn street_of(hub: &Hub) -> String {
    let data = hub
        .data(
            "{ grids(filter: {levels: [STREET]}) { nodes { code } } }",
            json!({}),
        )
        .await;
    data["grids"]["nodes"][0]["code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every event of the subtree of `code`, page by page.
async fn all_events(hub: &Hub, code: &str) -> Vec<Value> {
    let query = r#"query($code: String!, $after: String) {
        events(filter: {gridCode: $code}, first: 100, after: $after) {
          nodes { status category priority reportedAt resolveBy resolvedAt }
          pageInfo { hasNextPage endCursor } } }"#;
    let mut events = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = hub.data(query, json!({"code": code, "after": after})).await;
        let page = &data["events"];
        events.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return events;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|t| t.parse().unwrap())
}

/// `{key: count}` of a breakdown list, checking that it lists `len` keys.
fn breakdown(list: &Value, len: usize) -> BTreeMap<String, i64> {
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), len, "every value listed: {list:?}");
    list.iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// `{value: n}` of a field of the events.
fn counted(events: &[Value], field: &str) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts
            .entry(event[field].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

/// The share of resolved events resolved by their deadline, among those reported in the window.
fn compliance(
    events: &[Value],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Option<f64> {
    let (mut resolved, mut on_time) = (0, 0);
    for event in events {
        let reported = time(&event["reportedAt"]).unwrap();
        if from.is_some_and(|f| reported < f) || to.is_some_and(|t| reported >= t) {
            continue;
        }
        if let Some(at) = time(&event["resolvedAt"]) {
            resolved += 1;
            on_time += i32::from(at <= time(&event["resolveBy"]).unwrap());
        }
    }
    (resolved > 0).then(|| f64::from(on_time) / f64::from(resolved))
}

fn close(a: &Value, b: Option<f64>) {
    match b {
        Some(b) => assert!((a.as_f64().unwrap() - b).abs() < 1e-9, "{a} != {b}"),
        None => assert!(a.is_null(), "{a} should be null"),
    }
}

fn assert_events_agree(stats: &Value, events: &[Value]) {
    let zeros = |keys: &[&str]| -> BTreeMap<String, i64> {
        keys.iter().map(|k| (k.to_string(), 0)).collect()
    };
    let mut status = zeros(&[
        "REPORTED",
        "ACCEPTED",
        "REJECTED",
        "ESCALATED",
        "DISPATCHED",
        "ACKNOWLEDGED",
        "RESOLVED",
        "CLOSED",
    ]);
    status.extend(counted(events, "status"));
    assert_eq!(breakdown(&stats["eventsByStatus"], 8), status);
    let by_category = breakdown(&stats["eventsByCategory"], 8);
    for (key, n) in counted(events, "category") {
        assert_eq!(by_category[&key], n, "{key}");
    }
    assert_eq!(by_category.values().sum::<i64>(), events.len() as i64);
    let by_priority = breakdown(&stats["eventsByPriority"], 4);
    for (key, n) in counted(events, "priority") {
        assert_eq!(by_priority[&key], n, "{key}");
    }
    assert_eq!(by_priority.values().sum::<i64>(), events.len() as i64);
}

fn assert_days_agree(stats: &Value, events: &[Value]) {
    let days = stats["eventsPerDay"].as_array().unwrap();
    assert_eq!(days.len(), 60);
    let today = Utc::now().date_naive();
    let first = today - Duration::days(59);
    let (mut reported, mut resolved) = (HashMap::new(), HashMap::new());
    for event in events {
        let on = |t: DateTime<Utc>| t.date_naive();
        *reported
            .entry(on(time(&event["reportedAt"]).unwrap()))
            .or_insert(0) += 1;
        if let Some(at) = time(&event["resolvedAt"]) {
            *resolved.entry(on(at)).or_insert(0) += 1;
        }
    }
    let mut sum = 0;
    for (i, entry) in days.iter().enumerate() {
        let day: NaiveDate = entry["day"].as_str().unwrap().parse().unwrap();
        assert_eq!(day, first + Duration::days(i as i64));
        assert_eq!(
            entry["reported"],
            reported.get(&day).copied().unwrap_or(0),
            "{day}"
        );
        assert_eq!(
            entry["resolved"],
            resolved.get(&day).copied().unwrap_or(0),
            "{day}"
        );
        sum += entry["reported"].as_i64().unwrap();
    }
    assert!(sum > 0, "the seeded history reaches into the last 60 days");
}

fn assert_overdue(stats: &Value) {
    let overdue = stats["overdue"].as_array().unwrap();
    let expected = stats["overdueEvents"].as_i64().unwrap().min(5);
    assert_eq!(overdue.len() as i64, expected);
    assert!(expected > 0, "the seed leaves some events overdue");
    assert!(overdue.iter().all(|e| e["overdue"] == true));
    let deadlines: Vec<_> = overdue
        .iter()
        .map(|e| time(&e["resolveBy"]).unwrap())
        .collect();
    assert!(
        deadlines.windows(2).all(|w| w[0] <= w[1]),
        "most overdue first"
    );
}

/// Distinct persons with a current party membership in party organisations of the subtree,
/// from the organizations list.
async fn party_members(hub: &Hub, code: &str) -> i64 {
    let query = r#"query($code: String!) { organizations(first: 100, filter: {gridCode: $code,
        kinds: [STREET_PARTY_COMMITTEE, COMMUNITY_PARTY_COMMITTEE, GENERAL_PARTY_BRANCH,
        PARTY_BRANCH, PARTY_GROUP]}) { pageInfo { hasNextPage }
        nodes { memberships { role until person { id } } } } }"#;
    let data = hub.data(query, json!({"code": code})).await;
    assert_eq!(data["organizations"]["pageInfo"]["hasNextPage"], false);
    let today = Utc::now().date_naive().to_string();
    let mut persons = HashSet::new();
    for org in data["organizations"]["nodes"].as_array().unwrap() {
        for m in org["memberships"].as_array().unwrap() {
            let current = m["until"].as_str().is_none_or(|u| u > today.as_str());
            if m["role"] == "PARTY_MEMBER" && current {
                persons.insert(m["person"]["id"].as_str().unwrap().to_string());
            }
        }
    }
    persons.len() as i64
}

/// Volunteers of the subtree, and per category the activities and hours, from the list.
async fn volunteering(hub: &Hub, code: &str) -> (i64, BTreeMap<String, (i64, f64)>) {
    let query = r#"query($code: String!) { volunteerActivities(first: 100,
        filter: {gridCode: $code}) { pageInfo { hasNextPage }
        nodes { category participations { hours person { id } } } } }"#;
    let data = hub.data(query, json!({"code": code})).await;
    let list = &data["volunteerActivities"];
    assert_eq!(list["pageInfo"]["hasNextPage"], false);
    let mut persons = HashSet::new();
    let mut by_category: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for activity in list["nodes"].as_array().unwrap() {
        let entry = by_category
            .entry(activity["category"].as_str().unwrap().to_string())
            .or_default();
        entry.0 += 1;
        for p in activity["participations"].as_array().unwrap() {
            entry.1 += p["hours"].as_f64().unwrap();
            persons.insert(p["person"]["id"].as_str().unwrap().to_string());
        }
    }
    (persons.len() as i64, by_category)
}

fn assert_volunteering(stats: &Value, volunteers: i64, by_category: &BTreeMap<String, (i64, f64)>) {
    assert_eq!(stats["volunteers"], volunteers);
    assert!(volunteers > 0);
    let hours = stats["volunteerHours"].as_array().unwrap();
    assert_eq!(hours.len(), 6, "every category listed");
    for entry in hours {
        let (activities, sum) = by_category
            .get(entry["category"].as_str().unwrap())
            .copied()
            .unwrap_or_default();
        assert_eq!(entry["activities"], activities, "{entry}");
        assert!(
            (entry["hours"].as_f64().unwrap() - sum).abs() < 1e-6,
            "{entry}"
        );
    }
}

#[tokio::test]
async fn every_breakdown_agrees_with_the_lists_it_summarises() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let code = street_of(&hub).await;
        let events = all_events(&hub, &code).await;
        assert!(events.len() > 100, "{backend:?}: {} events", events.len());
        let from = Utc::now() - Duration::days(400);
        let to = Utc::now() - Duration::days(100);
        let variables = json!({"code": code, "from": from.to_rfc3339(), "to": to.to_rfc3339()});

        let before = hub.statements();
        let data = hub.data(&screen(false), variables).await;
        let cost = hub.statements() - before;
        assert!(cost <= 5, "{backend:?}: the screen took {cost} statements");

        let stats = &data["grid"]["stats"];
        assert_eq!(stats["population"], PERSONS, "{backend:?}");
        assert!(
            stats["suppressBelow"].is_null(),
            "{backend:?}: exact for this role"
        );
        assert_events_agree(stats, &events);
        close(&stats["compliance"], compliance(&events, None, None));
        close(
            &stats["windowed"],
            compliance(&events, Some(from), Some(to)),
        );
        assert_ne!(
            stats["compliance"], stats["windowed"],
            "{backend:?}: the window counts"
        );
        assert_days_agree(stats, &events);
        assert_overdue(stats);
        let party = party_members(&hub, &code).await;
        assert!(party > 0, "{backend:?}");
        assert_eq!(stats["partyMembers"], party, "{backend:?}");
        let (volunteers, by_category) = volunteering(&hub, &code).await;
        assert_volunteering(stats, volunteers, &by_category);
    }
}

#[tokio::test]
async fn the_screen_of_a_grid_and_all_its_children_costs_a_bounded_number_of_statements() {
    for backend in backends() {
        let hub = Hub::start(backend, PERSONS).await;
        let code = street_of(&hub).await;
        let variables = json!({"code": code, "from": null, "to": null});
        let before = hub.statements();
        let data = hub.data(&screen(true), variables).await;
        let cost = hub.statements() - before;
        let children = data["grid"]["children"].as_array().unwrap();
        assert!(children.len() >= 4, "{backend:?}");
        // Per level of the tree: the grids, the counts, the breakdowns, the overdue pages.
        assert!(
            cost <= 10,
            "{backend:?}: {} grids took {cost} statements",
            children.len() + 1
        );
        let total = |field: &str| -> i64 {
            children
                .iter()
                .map(|c| c["stats"][field].as_i64().unwrap())
                .sum()
        };
        let stats = &data["grid"]["stats"];
        for field in ["population", "partyMembers"] {
            assert_eq!(
                stats[field].as_i64().unwrap(),
                total(field),
                "{backend:?}: {field}"
            );
        }
        let per_status = |s: &Value| -> i64 {
            s["eventsByStatus"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["count"].as_i64().unwrap())
                .sum()
        };
        let children_events: i64 = children.iter().map(|c| per_status(&c["stats"])).sum();
        assert_eq!(per_status(stats), children_events, "{backend:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Suppression and access

fn token(role: &str, grid: &str) -> String {
    let exp = Utc::now().timestamp() + 3600;
    let mut claims = json!({"sub": format!("{role}-01"), "role": role, "exp": exp});
    if !grid.is_empty() {
        claims["grid"] = json!(grid);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn secured_hub(backend: Backend) -> Hub {
    Hub::start_with(backend, PERSONS, |s| {
        s.auth.required = true;
        s.auth.jwt_hs256_secret = SECRET.into();
    })
    .await
}

const MICRO_GRIDS: &str = r#"query($code: String!) { grid(code: $code) { stats {
    population households partyMembers volunteers suppressBelow
    eventsByStatus { key count suppressed } }
  descendants: children { code children { code children { code stats {
    population households partyMembers volunteers
    volunteerHours { category activities volunteers hours suppressed }
    eventsByCategory { key count suppressed } } } } } } }"#;

async fn as_role(hub: &Hub, role: &str, code: &str, query: &str) -> Value {
    let bearer = format!("Bearer {}", token(role, code));
    let body = json!({"query": query, "variables": {"code": code}});
    let (status, _, body) = hub.query_as(&[("Authorization", &bearer)], body).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The stats of every micro-grid (three levels under the street), by code.
fn micro_grids(data: &Value) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for community in data["grid"]["descendants"].as_array().unwrap() {
        for grid in community["children"].as_array().unwrap() {
            for micro in grid["children"].as_array().unwrap() {
                all.insert(
                    micro["code"].as_str().unwrap().to_string(),
                    micro["stats"].clone(),
                );
            }
        }
    }
    all
}

#[tokio::test]
async fn small_person_counts_are_withheld_from_the_command_centre_only() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let admin = as_role(
            &hub,
            "admin",
            "",
            "{ grids(filter: {levels: [STREET]}) { nodes { code } } }",
        )
        .await;
        let code = admin["data"]["grids"]["nodes"][0]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let worker = as_role(&hub, "grid_worker", &code, MICRO_GRIDS).await;
        let screen = as_role(&hub, "command_centre", &code, MICRO_GRIDS).await;
        assert!(worker.get("errors").is_none(), "{worker}");
        assert!(screen.get("errors").is_none(), "{screen}");

        let street = &screen["data"]["grid"]["stats"];
        assert_eq!(
            street["population"], PERSONS,
            "{backend:?}: large counts are shown"
        );
        assert_eq!(street["suppressBelow"], 5, "{backend:?}");
        assert!(worker["data"]["grid"]["stats"]["suppressBelow"].is_null());
        assert_eq!(
            street["eventsByStatus"], worker["data"]["grid"]["stats"]["eventsByStatus"],
            "{backend:?}: the command centre reads events, so their counts are exact"
        );

        let exact = micro_grids(&worker["data"]);
        let shown = micro_grids(&screen["data"]);
        assert_eq!(
            exact.keys().collect::<Vec<_>>(),
            shown.keys().collect::<Vec<_>>()
        );
        let mut withheld = 0;
        for (code, exact) in &exact {
            let shown = &shown[code];
            for field in ["population", "households", "partyMembers", "volunteers"] {
                let n = exact[field].as_i64().unwrap();
                if (1..5).contains(&n) {
                    assert!(shown[field].is_null(), "{backend:?}: {code} {field} = {n}");
                    withheld += 1;
                } else {
                    let rounded = (n + 2) / 5 * 5;
                    assert_eq!(shown[field], rounded, "{backend:?}: {code} {field} = {n}");
                }
            }
            for (e, s) in exact["volunteerHours"]
                .as_array()
                .unwrap()
                .iter()
                .zip(shown["volunteerHours"].as_array().unwrap())
            {
                let n = e["volunteers"].as_i64().unwrap();
                assert_eq!(
                    s["suppressed"],
                    (1..5).contains(&n),
                    "{backend:?}: {code} {s}"
                );
                assert_eq!(e["suppressed"], false);
                if (1..5).contains(&n) {
                    assert!(s["volunteers"].is_null() && s["hours"].is_null());
                }
            }
            assert_eq!(exact["eventsByCategory"], shown["eventsByCategory"]);
        }
        assert!(
            withheld > 0,
            "{backend:?}: some micro-grid has a small count"
        );
    }
}

#[tokio::test]
async fn the_suppression_threshold_is_configurable_and_a_role_without_aggregates_is_refused() {
    let policy = include_str!("../src/access/policy.toml").replace(
        "break_glass = true\naggregates = true",
        "break_glass = true\naggregates = false",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    let backend = backends()[0];
    let hub = Hub::start_with(backend, PERSONS, |s| {
        s.auth.required = true;
        s.auth.jwt_hs256_secret = SECRET.into();
        s.access.policy_file = file.display().to_string();
        s.aggregates.suppress_below = 1000;
    })
    .await;
    let admin = as_role(
        &hub,
        "admin",
        "",
        "{ grids(filter: {levels: [STREET]}) { nodes { code } } }",
    )
    .await;
    let code = admin["data"]["grids"]["nodes"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let query =
        "query($code: String!) { grid(code: $code) { stats { population suppressBelow } } }";
    let screen = as_role(&hub, "command_centre", &code, query).await;
    let stats = &screen["data"]["grid"]["stats"];
    assert!(stats["population"].is_null(), "{screen}");
    assert_eq!(stats["suppressBelow"], 1000);
    let worker = as_role(&hub, "grid_worker", &code, query).await;
    assert_eq!(
        first_error_code(&worker).as_deref(),
        Some("FORBIDDEN"),
        "{worker}"
    );
}
