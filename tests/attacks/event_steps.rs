//! Event steps beyond the rules: the steps of a department (acknowledging a dispatch, resolving
//! once acknowledged) belong to the department the event was dispatched to. A command centre,
//! an admin, another department and a `department` credential naming no department each try
//! them; a leak is a step taken.

use crate::common::{backends, Hub};
use crate::probe::{bearer, hardened, Probe};
use serde_json::{json, Value};

fn mutation(name: &str, input_type: &str) -> String {
    format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ id status }} }}")
}

/// Runs step `name` on `event` as `auth` with `extra` input; returns the new status, if taken.
async fn take(hub: &Hub, auth: &str, name: &str, event: &Value, extra: Value) -> Option<String> {
    let input_type = match name {
        "dispatchEvent" => "DispatchEventInput",
        "reportEvent" => "ReportEventInput",
        _ => "EventStepInput",
    };
    let mut input = json!({"eventId": event});
    input.as_object_mut()?.extend(extra.as_object()?.clone());
    let body = json!({"query": mutation(name, input_type), "variables": {"input": input}});
    let (_, _, answer) = hub.query_as(&[("Authorization", auth)], body).await;
    answer["data"][name]["status"].as_str().map(str::to_string)
}

#[tokio::test]
async fn department_steps_are_taken_only_by_the_department_dispatched_to() {
    let mut probe = Probe::new("event steps");
    for backend in backends() {
        let hub = Hub::start_with(backend, 50, hardened).await;
        let admin = bearer("admin-01", "admin", None, None);
        let (_, _, grids) = hub
            .query_as(
                &[("Authorization", admin.as_str())],
                json!({"query": "{ grids(filter: {levels: [GRID]}, first: 1) { nodes { code parent { parent { code } } } } }"}),
            )
            .await;
        let grid = grids["data"]["grids"]["nodes"][0]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let street = grids["data"]["grids"]["nodes"][0]["parent"]["parent"]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let report = json!({"query": mutation("reportEvent", "ReportEventInput"), "variables": {"input": {
            "gridCode": grid, "category": "SAFETY_HAZARD", "priority": "HIGH", "channel": "PATROL",
            "title": "楼道堆物", "description": "", "latitude": 45.59, "longitude": 84.88}}});
        let (_, _, reported) = hub
            .query_as(&[("Authorization", admin.as_str())], report)
            .await;
        let event = reported["data"]["reportEvent"]["id"].clone();
        assert!(event.is_string(), "{backend:?}: {reported}");
        for step in ["acceptEvent", "escalateEvent"] {
            take(&hub, &admin, step, &event, json!({}))
                .await
                .expect("grid step");
        }
        take(
            &hub,
            &admin,
            "dispatchEvent",
            &event,
            json!({"department": "police"}),
        )
        .await
        .expect("dispatch");

        let others = [
            (
                "the street's command centre",
                bearer("cc1", "command_centre", None, Some(&street)),
            ),
            (
                "the district's command centre",
                bearer("cc2", "command_centre", None, None),
            ),
            ("an admin", admin.clone()),
            (
                "property",
                bearer("pr1", "department", Some("property"), None),
            ),
            (
                "a department credential naming none",
                bearer("nd1", "department", None, None),
            ),
        ];
        for (who, auth) in &others {
            let taken = take(&hub, auth, "acknowledgeDispatch", &event, json!({})).await;
            probe.attempt(
                format!("{backend:?}: {who} acknowledges police's dispatch"),
                taken.is_some(),
            );
        }
        let police = bearer("po1", "department", Some("police"), None);
        take(&hub, &police, "acknowledgeDispatch", &event, json!({}))
            .await
            .expect("police acknowledges");
        for (who, auth) in &others {
            let taken = take(&hub, auth, "resolveEvent", &event, json!({})).await;
            probe.attempt(
                format!("{backend:?}: {who} resolves what police acknowledged"),
                taken.is_some(),
            );
        }
    }
    probe.finish();
}
