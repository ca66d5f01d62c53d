//! The event loop through GraphQL on both databases: an event goes the whole way (report →
//! accept → escalate → dispatch → acknowledge → resolve → close → reopen) with every step in its
//! timeline; illegal steps and bad input are refused and change nothing; who may take which
//! step on which event; the deadline sweeper with an injected clock.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::tokens::{secured, token};
use common::{backends, first_error_code, Backend, Hub};
use gridhub::config::Settings;
use gridhub::event_loop::Loop;
use gridhub::feed::ChangeFeed;
use gridhub::graphql::id::{encode, NodeType};
use gridhub::sweeper::{sweep, Sweep, SWEEPER};
use serde_json::{json, Value};

const EVENT: &str = "id status stepDueAt respondBy resolveBy reportedAt overdueSince satisfaction
    heldAt { code level } department { code }
    timeline { action fromStatus toStatus actor note attachments department { code } }";

fn report(fields: &str) -> String {
    format!("mutation($input: ReportEventInput!) {{ reportEvent(input: $input) {{ {fields} }} }}")
}

fn step(mutation: &str, input_type: &str) -> String {
    format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {EVENT} }} }}")
}

/// Codes of a grid (leaf) and of its community.
async fn a_grid(hub: &Hub) -> (String, String) {
    let data = hub
        .data(
            "{ grids(filter: {levels: [GRID]}, first: 1) { nodes { code parent { code } } } }",
            json!({}),
        )
        .await;
    let grid = &data["grids"]["nodes"][0];
    (
        grid["code"].as_str().unwrap().to_string(),
        grid["parent"]["code"].as_str().unwrap().to_string(),
    )
}

fn new_event(grid: &str, priority: &str, title: &str) -> Value {
    json!({
        "gridCode": grid,
        "category": "SAFETY_HAZARD",
        "priority": priority,
        "channel": "PATROL",
        "title": title,
        "description": "3号楼楼道堆放杂物，堵塞消防通道",
        "latitude": 45.59,
        "longitude": 84.88,
        "note": "巡查发现",
        "attachments": ["https://files.example/evt/photo1.jpg"],
    })
}

async fn data_of(hub: &Hub, headers: &[(&str, &str)], query: &str, input: Value) -> Value {
    let (status, _, body) = hub
        .query_as(
            headers,
            json!({"query": query, "variables": {"input": input}}),
        )
        .await;
    assert!(
        status == 200 && body.get("errors").is_none(),
        "{:?}: {status} {body:#}\n{query}",
        hub.backend
    );
    body["data"].clone()
}

/// The input type of a step's mutation.
fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "dispatchEvent" => "DispatchEventInput",
        "closeEvent" => "CloseEventInput",
        _ => "EventStepInput",
    }
}

/// Steps taken on one event of a hub.
struct Steps<'a> {
    hub: &'a Hub,
    id: Value,
}

impl Steps<'_> {
    /// The input of a step: the event's id and `extra`.
    fn input(&self, extra: Value) -> Value {
        let mut input = json!({"eventId": self.id});
        if let Value::Object(extra) = extra {
            input.as_object_mut().unwrap().extend(extra);
        }
        input
    }

    /// Takes a step as `who`, expecting success; returns the event.
    async fn ok(&self, who: &[(&str, &str)], mutation: &str, extra: Value) -> Value {
        let query = step(mutation, input_type(mutation));
        data_of(self.hub, who, &query, self.input(extra)).await[mutation].clone()
    }

    /// Takes a step as `who`, expecting an error; returns its code and message.
    async fn refused(
        &self,
        who: &[(&str, &str)],
        mutation: &str,
        extra: Value,
    ) -> (String, String) {
        let query = step(mutation, input_type(mutation));
        let body = json!({"query": query, "variables": {"input": self.input(extra)}});
        let (_, _, body) = self.hub.query_as(who, body).await;
        assert!(body["data"].is_null(), "{mutation} should fail: {body:#}");
        let code = first_error_code(&body).unwrap_or_default();
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        (code, message.to_string())
    }
}

fn minutes_between(from: &Value, to: &Value) -> i64 {
    let at = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    (at(to) - at(from)).num_minutes()
}

#[tokio::test]
async fn an_event_goes_round_the_whole_loop() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 50, secured).await;
        let admin = bearer(token("admin-01", "admin", None, None));
        let police_officer = bearer(token("police-01", "department", Some("police"), None));
        let (grid_level, department) = (borrowed(&admin), borrowed(&police_officer));
        let query = "query($input: Int) { grids(filter: {levels: [GRID]}, first: $input) {
            nodes { code parent { code } } } }";
        let grids = data_of(&hub, &grid_level, query, json!(1)).await;
        let first = &grids["grids"]["nodes"][0];
        let grid = first["code"].as_str().unwrap().to_string();
        let community = first["parent"]["code"].as_str().unwrap().to_string();
        let input = new_event(&grid, "URGENT", "楼道堆物");
        let reported =
            data_of(&hub, &grid_level, &report(EVENT), input).await["reportEvent"].clone();
        assert_eq!(reported["status"], "REPORTED");
        assert_eq!(reported["heldAt"]["code"], grid.as_str());
        let reported_at = &reported["reportedAt"];
        assert_eq!(minutes_between(reported_at, &reported["respondBy"]), 15);
        assert_eq!(minutes_between(reported_at, &reported["stepDueAt"]), 15);
        assert_eq!(
            minutes_between(reported_at, &reported["resolveBy"]),
            24 * 60
        );
        let event = Steps {
            hub: &hub,
            id: reported["id"].clone(),
        };
        let note = || json!({"note": "处理中"});

        let accepted = event.ok(&grid_level, "acceptEvent", note()).await;
        assert_eq!(accepted["status"], "ACCEPTED");
        assert!(accepted["stepDueAt"].is_null());
        let escalated = event.ok(&grid_level, "escalateEvent", note()).await;
        assert_eq!(escalated["status"], "ESCALATED");
        assert_eq!(escalated["heldAt"]["code"], community.as_str());
        assert_eq!(escalated["heldAt"]["level"], "COMMUNITY");
        let police = json!({"department": "police"});
        let dispatched = event.ok(&grid_level, "dispatchEvent", police).await;
        assert_eq!(dispatched["status"], "DISPATCHED");
        assert_eq!(dispatched["department"]["code"], "police");
        let acknowledged = event.ok(&department, "acknowledgeDispatch", note()).await;
        assert_eq!(acknowledged["status"], "ACKNOWLEDGED");
        let resolved = event.ok(&department, "resolveEvent", note()).await;
        assert_eq!(resolved["status"], "RESOLVED");
        let rating =
            json!({"satisfaction": 5, "attachments": ["https://files.example/evt/done.jpg"]});
        let closed = event.ok(&grid_level, "closeEvent", rating).await;
        assert_eq!(closed["status"], "CLOSED");
        assert_eq!(closed["satisfaction"], 5);
        let reopened = event.ok(&grid_level, "reopenEvent", note()).await;
        assert_eq!(reopened["status"], "ACCEPTED");
        assert!(reopened["satisfaction"].is_null());

        let timeline = reopened["timeline"].as_array().unwrap();
        let steps: Vec<(&str, &str)> = timeline
            .iter()
            .map(|s| {
                (
                    s["action"].as_str().unwrap(),
                    s["toStatus"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                ("REPORT", "REPORTED"),
                ("ACCEPT", "ACCEPTED"),
                ("ESCALATE", "ESCALATED"),
                ("DISPATCH", "DISPATCHED"),
                ("ACKNOWLEDGE", "ACKNOWLEDGED"),
                ("RESOLVE", "RESOLVED"),
                ("CLOSE", "CLOSED"),
                ("REOPEN", "ACCEPTED"),
            ],
            "{backend:?}"
        );
        assert!(timeline[0]["fromStatus"].is_null());
        assert_eq!(timeline[7]["fromStatus"], "CLOSED");
        assert_eq!(timeline[0]["note"], "巡查发现");
        assert_eq!(timeline[1]["note"], "处理中");
        assert_eq!(
            timeline[0]["attachments"][0],
            "https://files.example/evt/photo1.jpg"
        );
        assert_eq!(
            timeline[6]["attachments"][0],
            "https://files.example/evt/done.jpg"
        );
        assert_eq!(timeline[3]["department"]["code"], "police");
        assert_eq!(timeline[4]["department"]["code"], "police");
        assert!(timeline[1]["actor"].as_str().unwrap().contains("admin-01"));
    }
}

#[tokio::test]
async fn illegal_steps_and_bad_input_are_refused_and_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 50).await;
        let (grid, _) = a_grid(&hub).await;
        let input = new_event(&grid, "NORMAL", "占道经营");
        let event = Steps {
            hub: &hub,
            id: data_of(&hub, &[], &report("id"), input).await["reportEvent"]["id"].clone(),
        };
        let none = || json!({});

        let (code, message) = event
            .refused(&[], "closeEvent", json!({"satisfaction": 5}))
            .await;
        assert_eq!(code, "CONFLICT", "{backend:?}");
        assert_eq!(
            message,
            "cannot close an event that is REPORTED (steps allowed now: accept, reject, escalate)"
        );
        let (code, _) = event.refused(&[], "acknowledgeDispatch", none()).await;
        assert_eq!(code, "CONFLICT");
        let file = json!({"attachments": ["file:///etc/passwd"]});
        let (code, message) = event.refused(&[], "acceptEvent", file).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("file:///etc/passwd"), "{message}");
        for (id, expected) in [
            (json!("bm90LWFuLWlk"), "BAD_USER_INPUT"),
            (json!(encode(NodeType::Person, 1)), "BAD_USER_INPUT"),
            (json!(encode(NodeType::Event, 999_999)), "NOT_FOUND"),
        ] {
            let wrong = Steps { hub: &hub, id };
            let (code, message) = wrong.refused(&[], "acceptEvent", none()).await;
            assert_eq!(code, expected, "{message}");
        }

        event.ok(&[], "acceptEvent", none()).await;
        let long = json!({"note": "字".repeat(5001)});
        let (code, message) = event.refused(&[], "resolveEvent", long).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        event.ok(&[], "escalateEvent", none()).await;
        let unknown = json!({"department": "fire_brigade"});
        let (code, message) = event.refused(&[], "dispatchEvent", unknown).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("known: "), "{message}");
        event.ok(&[], "escalateEvent", none()).await;
        event.ok(&[], "escalateEvent", none()).await;
        let (code, message) = event.refused(&[], "escalateEvent", none()).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("top of the grid tree"), "{message}");
        event.ok(&[], "resolveEvent", none()).await;
        let (code, message) = event
            .refused(&[], "closeEvent", json!({"satisfaction": 7}))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("1 to 5"), "{message}");

        for patch in [
            json!({"title": "   "}),
            json!({"gridCode": "12x"}),
            json!({"latitude": 95.0}),
            json!({"longitude": null}),
        ] {
            let mut input = new_event(&grid, "NORMAL", "x");
            input
                .as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            let body = json!({"query": report("id"), "variables": {"input": input}});
            let (_, _, body) = hub.query_as(&[], body).await;
            let code = first_error_code(&body);
            assert_eq!(code.as_deref(), Some("BAD_USER_INPUT"), "{patch}: {body}");
        }

        let now = status_of(&hub, &[], &event.id).await;
        assert_eq!(now["status"], "RESOLVED", "{backend:?}");
        let steps = now["timeline"].as_array().unwrap().len();
        assert_eq!(
            steps, 6,
            "report, accept, three escalations, resolve: {now}"
        );
    }
}

/// A step attempted: who, which mutation, its input besides the id, the error it meets (`None`:
/// it is taken) and what the error's message says.
type Attempt<'a> = (
    &'a [(&'a str, &'a str)],
    &'a str,
    Value,
    Option<&'a str>,
    &'a str,
);

/// Headers carrying a bearer token.
fn bearer(token: String) -> [(&'static str, String); 1] {
    [("Authorization", format!("Bearer {token}"))]
}

/// `(name, value)` pairs borrowed from owned headers.
fn borrowed<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn who_may_take_which_step_on_which_event() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 50, secured).await;
        let admin = bearer(token("admin-01", "admin", None, None));
        let query = "query($input: Int) { grids(filter: {levels: [GRID]}, first: $input) {
            nodes { code parent { code parent { code } } } } }";
        let grids = data_of(&hub, &borrowed(&admin), query, json!(2)).await;
        let nodes = grids["grids"]["nodes"].as_array().unwrap();
        let grid = nodes[0]["code"].as_str().unwrap();
        let other_grid = nodes[1]["code"].as_str().unwrap();
        let street = nodes[0]["parent"]["parent"]["code"].as_str().unwrap();

        let worker = bearer(token("wang", "grid_worker", None, Some(grid)));
        let stranger = bearer(token("li", "grid_worker", None, Some(other_grid)));
        let centre = bearer(token("centre", "command_centre", None, Some(street)));
        let police = bearer(token("police-01", "department", Some("police"), None));
        let property = bearer(token("property-01", "department", Some("property"), None));
        let auditor = bearer(token("audit-01", "auditor", None, None));
        let district = bearer(token("district-centre", "command_centre", None, None));
        let (district, admin_steps) = (borrowed(&district), borrowed(&admin));
        let (worker, stranger, centre) =
            (borrowed(&worker), borrowed(&stranger), borrowed(&centre));
        let (police, property, auditor) =
            (borrowed(&police), borrowed(&property), borrowed(&auditor));

        for (who, expected) in [(&stranger, "NOT_FOUND"), (&auditor, "FORBIDDEN")] {
            let input = new_event(grid, "HIGH", "x");
            let body = json!({"query": report("id"), "variables": {"input": input}});
            let (_, _, body) = hub.query_as(who, body).await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some(expected),
                "{backend:?}: {body}"
            );
        }
        let input = new_event(grid, "HIGH", "噪音扰民");
        let event = Steps {
            hub: &hub,
            id: data_of(&hub, &worker, &report("id"), input).await["reportEvent"]["id"].clone(),
        };
        let none = || json!({});
        let police_please = || json!({"department": "police"});
        let rating = || json!({"satisfaction": 4});

        // Each attempt in order: who, which step, and the error it meets (None: it is taken).
        let attempts: [Attempt; 18] = [
            (
                &stranger,
                "acceptEvent",
                none(),
                Some("NOT_FOUND"),
                "another grid's event is not there",
            ),
            (&worker, "acceptEvent", none(), None, ""),
            (&worker, "escalateEvent", none(), None, ""),
            (
                &worker,
                "resolveEvent",
                none(),
                Some("FORBIDDEN"),
                "held at grid",
            ),
            (
                &worker,
                "dispatchEvent",
                police_please(),
                Some("FORBIDDEN"),
                "may not dispatch",
            ),
            (
                &police,
                "dispatchEvent",
                police_please(),
                Some("FORBIDDEN"),
                "may not dispatch",
            ),
            (&centre, "dispatchEvent", police_please(), None, ""),
            (
                &property,
                "acknowledgeDispatch",
                none(),
                Some("FORBIDDEN"),
                "(police)",
            ),
            (
                &centre,
                "acknowledgeDispatch",
                none(),
                Some("FORBIDDEN"),
                "may not acknowledge",
            ),
            (
                &admin_steps,
                "acknowledgeDispatch",
                none(),
                Some("FORBIDDEN"),
                "(police)",
            ),
            (&police, "acknowledgeDispatch", none(), None, ""),
            (
                &centre,
                "resolveEvent",
                none(),
                Some("FORBIDDEN"),
                "(police)",
            ),
            (
                &district,
                "resolveEvent",
                none(),
                Some("FORBIDDEN"),
                "(police)",
            ),
            (
                &admin_steps,
                "resolveEvent",
                none(),
                Some("FORBIDDEN"),
                "(police)",
            ),
            (&police, "resolveEvent", none(), None, ""),
            (
                &police,
                "closeEvent",
                rating(),
                Some("FORBIDDEN"),
                "may not close",
            ),
            (
                &worker,
                "closeEvent",
                rating(),
                Some("FORBIDDEN"),
                "held at grid",
            ),
            (&centre, "closeEvent", rating(), None, ""),
        ];
        for (who, mutation, extra, expected, why) in attempts {
            match expected {
                None => {
                    event.ok(who, mutation, extra).await;
                }
                Some(code) => {
                    let (got, message) = event.refused(who, mutation, extra).await;
                    assert_eq!(got, code, "{backend:?} {mutation}: {message}");
                    assert!(
                        message.contains(why) || code == "NOT_FOUND",
                        "{why}: {message}"
                    );
                }
            }
        }

        let now = status_of(&hub, &borrowed(&admin), &event.id).await;
        let actors: Vec<&str> = now["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["actor"].as_str().unwrap())
            .collect();
        assert_eq!(
            actors,
            [
                "wang (grid_worker)",
                "wang (grid_worker)",
                "wang (grid_worker)",
                "centre (command_centre)",
                "police-01 (department)",
                "police-01 (department)",
                "centre (command_centre)",
            ],
            "{backend:?}"
        );
    }
}

/// The event `id` as `who` reads it.
async fn status_of(hub: &Hub, who: &[(&str, &str)], id: &Value) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on Event {
        status overdueSince heldAt { level } timeline { action actor } } } }";
    let (_, _, body) = hub
        .query_as(who, json!({"query": query, "variables": {"id": id}}))
        .await;
    body["data"]["node"].clone()
}

#[tokio::test]
async fn the_sweeper_escalates_urgent_events_and_marks_late_ones_overdue() {
    for backend in backends() {
        sweeps(backend).await;
    }
}

async fn sweeps(backend: Backend) {
    let hub = Hub::start(backend, 50).await;
    let (grid, _) = a_grid(&hub).await;
    let settings = Settings::defaults().events;
    let feed = ChangeFeed::in_process();
    let event_loop = Loop {
        feed: feed.clone(),
        deadlines: settings.deadlines,
    };
    let now = Utc::now();
    let db = &hub.db.conn;
    let urgent = data_of(
        &hub,
        &[],
        &report("id"),
        new_event(&grid, "URGENT", "燃气泄漏"),
    )
    .await["reportEvent"]["id"]
        .clone();
    let normal = data_of(
        &hub,
        &[],
        &report("id"),
        new_event(&grid, "NORMAL", "路灯不亮"),
    )
    .await["reportEvent"]["id"]
        .clone();
    let mut changes = feed.subscribe();

    let before = sweep(db, &event_loop, &settings, now + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(status_of(&hub, &[], &urgent).await["status"], "REPORTED");
    assert!(status_of(&hub, &[], &urgent).await["overdueSince"].is_null());

    let later = now + Duration::minutes(20);
    let swept = sweep(db, &event_loop, &settings, later).await.unwrap();
    assert_eq!(
        swept.escalated,
        before.escalated + 1,
        "{backend:?}: {swept:?}"
    );
    let urgent_now = status_of(&hub, &[], &urgent).await;
    assert_eq!(urgent_now["status"], "ESCALATED", "{backend:?}");
    assert_eq!(urgent_now["heldAt"]["level"], "COMMUNITY");
    assert_eq!(urgent_now["timeline"][1]["actor"], SWEEPER);
    assert_eq!(status_of(&hub, &[], &normal).await["status"], "REPORTED");

    let late = now + Duration::hours(3);
    sweep(db, &event_loop, &settings, late).await.unwrap();
    let normal_now = status_of(&hub, &[], &normal).await;
    assert_eq!(
        normal_now["status"], "REPORTED",
        "normal events are not escalated"
    );
    assert!(
        !normal_now["overdueSince"].is_null(),
        "{backend:?}: {normal_now}"
    );
    let again = sweep(db, &event_loop, &settings, late).await.unwrap();
    assert_eq!(again, Sweep::default(), "an event is marked once");

    let mut seen = Vec::new();
    while let Ok(change) = changes.try_recv() {
        seen.push((change.status, change.action));
    }
    use gridhub::entity::vocabulary::{EventActionKind, EventStatus};
    assert!(seen.contains(&(EventStatus::Escalated, Some(EventActionKind::Escalate))));
    assert!(seen.contains(&(EventStatus::Reported, None)), "{seen:?}");
}
