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

/// Takes a step expecting success; returns the event.
async fn take(hub: &Hub, mutation: &str, input_type: &str, input: Value) -> Value {
    data_of(hub, &[], &step(mutation, input_type), input).await[mutation].clone()
}

/// Takes a step expecting an error; returns its code and message.
async fn refused(
    hub: &Hub,
    headers: &[(&str, &str)],
    mutation: &str,
    input_type: &str,
    input: Value,
) -> (String, String) {
    let (_, _, body) = hub
        .query_as(
            headers,
            json!({"query": step(mutation, input_type), "variables": {"input": input}}),
        )
        .await;
    assert!(body["data"].is_null(), "{mutation} should fail: {body:#}");
    let code = first_error_code(&body).unwrap_or_default();
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    (code, message)
}

fn minutes_between(from: &Value, to: &Value) -> i64 {
    let at = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    (at(to) - at(from)).num_minutes()
}

#[tokio::test]
async fn an_event_goes_round_the_whole_loop() {
    for backend in backends() {
        let hub = Hub::start(backend, 50).await;
        let (grid, community) = a_grid(&hub).await;
        let reported = data_of(
            &hub,
            &[],
            &report(EVENT),
            new_event(&grid, "URGENT", "楼道堆物"),
        )
        .await["reportEvent"]
            .clone();
        assert_eq!(reported["status"], "REPORTED");
        assert_eq!(reported["heldAt"]["code"], grid.as_str());
        assert_eq!(
            minutes_between(&reported["reportedAt"], &reported["respondBy"]),
            15
        );
        assert_eq!(
            minutes_between(&reported["reportedAt"], &reported["stepDueAt"]),
            15
        );
        assert_eq!(
            minutes_between(&reported["reportedAt"], &reported["resolveBy"]),
            24 * 60
        );
        let id = reported["id"].clone();
        let on = |extra: Value| {
            let mut input = json!({"eventId": id, "note": "处理中"});
            input
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            input
        };

        let accepted = take(&hub, "acceptEvent", "EventStepInput", on(json!({}))).await;
        assert_eq!(accepted["status"], "ACCEPTED");
        assert!(accepted["stepDueAt"].is_null());
        let escalated = take(&hub, "escalateEvent", "EventStepInput", on(json!({}))).await;
        assert_eq!(escalated["status"], "ESCALATED");
        assert_eq!(escalated["heldAt"]["code"], community.as_str());
        assert_eq!(escalated["heldAt"]["level"], "COMMUNITY");
        let dispatched = take(
            &hub,
            "dispatchEvent",
            "DispatchEventInput",
            on(json!({"department": "police"})),
        )
        .await;
        assert_eq!(dispatched["status"], "DISPATCHED");
        assert_eq!(dispatched["department"]["code"], "police");
        let acknowledged = take(&hub, "acknowledgeDispatch", "EventStepInput", on(json!({}))).await;
        assert_eq!(acknowledged["status"], "ACKNOWLEDGED");
        let resolved = take(&hub, "resolveEvent", "EventStepInput", on(json!({}))).await;
        assert_eq!(resolved["status"], "RESOLVED");
        let closed = take(
            &hub,
            "closeEvent",
            "CloseEventInput",
            on(json!({"satisfaction": 5, "attachments": ["https://files.example/evt/done.jpg"]})),
        )
        .await;
        assert_eq!(closed["status"], "CLOSED");
        assert_eq!(closed["satisfaction"], 5);
        let reopened = take(&hub, "reopenEvent", "EventStepInput", on(json!({}))).await;
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
        assert!(timeline[1]["actor"].as_str().unwrap().contains("anonymous"));
    }
}

#[tokio::test]
async fn illegal_steps_and_bad_input_are_refused_and_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 50).await;
        let (grid, _) = a_grid(&hub).await;
        let id = data_of(
            &hub,
            &[],
            &report("id"),
            new_event(&grid, "NORMAL", "占道经营"),
        )
        .await["reportEvent"]["id"]
            .clone();
        let on = |extra: Value| {
            let mut input = json!({"eventId": id});
            input
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            input
        };

        let (code, message) = refused(
            &hub,
            &[],
            "closeEvent",
            "CloseEventInput",
            on(json!({"satisfaction": 5})),
        )
        .await;
        assert_eq!(code, "CONFLICT", "{backend:?}");
        assert_eq!(
            message,
            "cannot close an event that is REPORTED (steps allowed now: accept, reject, escalate)"
        );
        let (code, _) = refused(
            &hub,
            &[],
            "acknowledgeDispatch",
            "EventStepInput",
            on(json!({})),
        )
        .await;
        assert_eq!(code, "CONFLICT");
        let (code, message) = refused(
            &hub,
            &[],
            "acceptEvent",
            "EventStepInput",
            on(json!({"attachments": ["file:///etc/passwd"]})),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("file:///etc/passwd"), "{message}");
        let (code, message) = refused(
            &hub,
            &[],
            "acceptEvent",
            "EventStepInput",
            json!({"eventId": "bm90LWFuLWlk"}),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let missing = gridhub::graphql::id::encode(gridhub::graphql::id::NodeType::Event, 999_999);
        let (code, _) = refused(
            &hub,
            &[],
            "acceptEvent",
            "EventStepInput",
            json!({"eventId": missing}),
        )
        .await;
        assert_eq!(code, "NOT_FOUND");

        take(&hub, "acceptEvent", "EventStepInput", on(json!({}))).await;
        let (code, message) = refused(
            &hub,
            &[],
            "resolveEvent",
            "EventStepInput",
            on(json!({"note": "字".repeat(5001)})),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        take(&hub, "escalateEvent", "EventStepInput", on(json!({}))).await;
        let (code, message) = refused(
            &hub,
            &[],
            "dispatchEvent",
            "DispatchEventInput",
            on(json!({"department": "fire_brigade"})),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("known: "), "{message}");
        for _ in 0..2 {
            take(&hub, "escalateEvent", "EventStepInput", on(json!({}))).await;
        }
        let (code, message) =
            refused(&hub, &[], "escalateEvent", "EventStepInput", on(json!({}))).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("top of the grid tree"), "{message}");
        take(&hub, "resolveEvent", "EventStepInput", on(json!({}))).await;
        let (code, message) = refused(
            &hub,
            &[],
            "closeEvent",
            "CloseEventInput",
            on(json!({"satisfaction": 7})),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("1 to 5"), "{message}");

        let bad_report = |patch: Value| {
            let mut input = new_event(&grid, "NORMAL", "x");
            input
                .as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            input
        };
        for patch in [
            json!({"title": "   "}),
            json!({"gridCode": "12x"}),
            json!({"latitude": 95.0}),
            json!({"longitude": null}),
        ] {
            let (_, _, body) = hub
                .query_as(&[], json!({"query": report("id"), "variables": {"input": bad_report(patch.clone())}}))
                .await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("BAD_USER_INPUT"),
                "{patch}: {body}"
            );
        }

        let event = hub
            .data(
                "query($id: ID!) { node(id: $id) { ... on Event { status satisfaction timeline { action } } } }",
                json!({"id": id}),
            )
            .await;
        let event = &event["node"];
        assert_eq!(event["status"], "RESOLVED", "{backend:?}");
        assert!(event["satisfaction"].is_null());
        assert_eq!(event["timeline"].as_array().unwrap().len(), 6, "{event}");
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn who_may_take_which_step_on_which_event() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 50, secured).await;
        let admin = bearer(&token("admin-01", "admin", None, None));
        let admin = [("Authorization", admin.as_str())];
        let grids = data_of(
            &hub,
            &admin,
            "query($input: Int) { grids(filter: {levels: [GRID]}, first: $input) { nodes { code parent { code parent { code } } } } }",
            json!(2),
        )
        .await;
        let nodes = grids["grids"]["nodes"].as_array().unwrap();
        let grid = nodes[0]["code"].as_str().unwrap();
        let other_grid = nodes[1]["code"].as_str().unwrap();
        let street = nodes[0]["parent"]["parent"]["code"].as_str().unwrap();

        let worker = bearer(&token("wang", "grid_worker", None, Some(grid)));
        let worker = [("Authorization", worker.as_str())];
        let stranger = bearer(&token("li", "grid_worker", None, Some(other_grid)));
        let stranger = [("Authorization", stranger.as_str())];
        let centre = bearer(&token("centre", "command_centre", None, Some(street)));
        let centre = [("Authorization", centre.as_str())];
        let police = bearer(&token("police-01", "department", Some("police"), None));
        let police = [("Authorization", police.as_str())];
        let property = bearer(&token("property-01", "department", Some("property"), None));
        let property = [("Authorization", property.as_str())];
        let auditor = bearer(&token("audit-01", "auditor", None, None));
        let auditor = [("Authorization", auditor.as_str())];

        let (_, _, body) = hub
            .query_as(&stranger, json!({"query": report("id"), "variables": {"input": new_event(grid, "HIGH", "x")}}))
            .await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("NOT_FOUND"),
            "{backend:?}: {body}"
        );
        let (_, _, body) = hub
            .query_as(&auditor, json!({"query": report("id"), "variables": {"input": new_event(grid, "HIGH", "x")}}))
            .await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{body}"
        );

        let id = data_of(
            &hub,
            &worker,
            &report("id"),
            new_event(grid, "HIGH", "噪音扰民"),
        )
        .await["reportEvent"]["id"]
            .clone();
        let on = |extra: Value| {
            let mut input = json!({"eventId": id});
            input
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            input
        };
        let (code, _) = refused(
            &hub,
            &stranger,
            "acceptEvent",
            "EventStepInput",
            on(json!({})),
        )
        .await;
        assert_eq!(
            code, "NOT_FOUND",
            "another grid's worker does not see the event"
        );
        data_of(
            &hub,
            &worker,
            &step("acceptEvent", "EventStepInput"),
            on(json!({})),
        )
        .await;
        data_of(
            &hub,
            &worker,
            &step("escalateEvent", "EventStepInput"),
            on(json!({})),
        )
        .await;
        let (code, message) = refused(
            &hub,
            &worker,
            "resolveEvent",
            "EventStepInput",
            on(json!({})),
        )
        .await;
        assert_eq!(code, "FORBIDDEN", "held at the community now: {message}");
        let dispatch = on(json!({"department": "police"}));
        let (code, message) = refused(
            &hub,
            &worker,
            "dispatchEvent",
            "DispatchEventInput",
            dispatch.clone(),
        )
        .await;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("may not dispatch"), "{message}");
        let (code, _) = refused(
            &hub,
            &police,
            "dispatchEvent",
            "DispatchEventInput",
            dispatch.clone(),
        )
        .await;
        assert_eq!(code, "FORBIDDEN", "departments do not blow the whistle");
        data_of(
            &hub,
            &centre,
            &step("dispatchEvent", "DispatchEventInput"),
            dispatch,
        )
        .await;
        let (code, message) = refused(
            &hub,
            &property,
            "acknowledgeDispatch",
            "EventStepInput",
            on(json!({})),
        )
        .await;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("police"), "{message}");
        let (code, _) = refused(
            &hub,
            &centre,
            "acknowledgeDispatch",
            "EventStepInput",
            on(json!({})),
        )
        .await;
        assert_eq!(
            code, "FORBIDDEN",
            "the command centre does not report for duty"
        );
        data_of(
            &hub,
            &police,
            &step("acknowledgeDispatch", "EventStepInput"),
            on(json!({})),
        )
        .await;
        let resolved = data_of(
            &hub,
            &police,
            &step("resolveEvent", "EventStepInput"),
            on(json!({})),
        )
        .await;
        assert_eq!(resolved["resolveEvent"]["status"], "RESOLVED");
        let (code, _) = refused(
            &hub,
            &police,
            "closeEvent",
            "CloseEventInput",
            on(json!({"satisfaction": 4})),
        )
        .await;
        assert_eq!(code, "FORBIDDEN", "verification is the grid's");
        let closed = data_of(
            &hub,
            &centre,
            &step("closeEvent", "CloseEventInput"),
            on(json!({"satisfaction": 4})),
        )
        .await;
        let timeline = closed["closeEvent"]["timeline"].as_array().unwrap();
        let actors: Vec<&str> = timeline
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

async fn status_of(hub: &Hub, id: &Value) -> Value {
    hub.data(
        "query($id: ID!) { node(id: $id) { ... on Event { status overdueSince heldAt { level } timeline { action actor } } } }",
        json!({"id": id}),
    )
    .await["node"]
        .clone()
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
    assert_eq!(status_of(&hub, &urgent).await["status"], "REPORTED");
    assert!(status_of(&hub, &urgent).await["overdueSince"].is_null());

    let later = now + Duration::minutes(20);
    let swept = sweep(db, &event_loop, &settings, later).await.unwrap();
    assert_eq!(
        swept.escalated,
        before.escalated + 1,
        "{backend:?}: {swept:?}"
    );
    let urgent_now = status_of(&hub, &urgent).await;
    assert_eq!(urgent_now["status"], "ESCALATED", "{backend:?}");
    assert_eq!(urgent_now["heldAt"]["level"], "COMMUNITY");
    assert_eq!(urgent_now["timeline"][1]["actor"], SWEEPER);
    assert_eq!(status_of(&hub, &normal).await["status"], "REPORTED");

    let late = now + Duration::hours(3);
    sweep(db, &event_loop, &settings, late).await.unwrap();
    let normal_now = status_of(&hub, &normal).await;
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
