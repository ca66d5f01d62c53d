//! Aliases and batches: many operations in one HTTP call or on one WebSocket, and many aliases
//! in one operation or spread over a batch, to get past the per-principal rate and the
//! per-request limits. A leak is an operation run past the principal's rate, or a call whose
//! aliases together exceed the limit and still run.

use crate::common::{backends, Backend, Hub};
use crate::probe::{bearer, hardened, Probe};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// The grid worker's rate in the built-in policy, per minute.
const GRID_WORKER_RATE: u64 = 600;

/// Operations a rate of `per_minute` lets through in `elapsed`: the burst and what refilled.
fn allowance(per_minute: u64, elapsed: Duration) -> u64 {
    per_minute + (elapsed.as_secs_f64() * per_minute as f64 / 60.0).ceil() as u64 + 1
}

/// How many operations of a batch answer ran (no error).
fn ran_in(answer: &Value) -> u64 {
    let answers = match answer.as_array() {
        Some(batch) => batch.clone(),
        None => vec![answer.clone()],
    };
    answers.iter().filter(|a| a.get("errors").is_none()).count() as u64
}

async fn a_grid_code(hub: &Hub) -> String {
    let admin = bearer("ab-admin", "admin", None, None);
    let (_, _, body) = hub
        .query_as(
            &[("Authorization", &admin)],
            json!({"query": "{ grids(first: 1, filter: {levels: [GRID]}) { nodes { code } } }"}),
        )
        .await;
    body["data"]["grids"]["nodes"][0]["code"]
        .as_str()
        .expect("a leaf grid")
        .to_string()
}

#[tokio::test]
async fn aliases_and_batches() {
    let mut probe = Probe::new("aliases and batches");
    for backend in backends() {
        let hub = Hub::start_with(backend, 300, hardened).await;
        let grid = a_grid_code(&hub).await;
        batched_operations(&hub, &grid, &mut probe, backend).await;
        socket_operations(&hub, &grid, &mut probe, backend).await;
        aliases(&hub, &grid, &mut probe, backend).await;
    }
    probe.finish();
}

/// Batches of 20 (the largest allowed) until the grid worker's minute is spent, and a batch of
/// 2,000.
async fn batched_operations(hub: &Hub, grid: &str, probe: &mut Probe, backend: Backend) {
    let auth = bearer("ab-batcher", "grid_worker", None, Some(grid));
    let headers = [("Authorization", auth.as_str())];
    let one = json!({"query": "{ __typename }"});
    let (status, _, answer) = hub
        .query_as(&headers, json!(vec![one.clone(); 2_000]))
        .await;
    probe.attempt(
        format!("{backend:?}: one batch of 2,000 operations: {status}"),
        ran_in(&answer) > 0 && status == 200,
    );
    let started = Instant::now();
    let mut ran = 0;
    for _ in 0..40 {
        let (_, _, answer) = hub.query_as(&headers, json!(vec![one.clone(); 20])).await;
        ran += ran_in(&answer);
    }
    let allowed = allowance(GRID_WORKER_RATE, started.elapsed());
    probe.attempt(
        format!("{backend:?}: 40 batches of 20 ran {ran} operations, the rate allows {allowed}"),
        ran > allowed,
    );
    let other = bearer("ab-batcher-2", "grid_worker", None, Some(grid));
    let (status, _, _) = hub
        .query_as(&[("Authorization", other.as_str())], one)
        .await;
    assert_eq!(status, 200, "{backend:?}: the rate is per principal");
}

/// 650 operations on one socket with the rate at 600 a minute.
async fn socket_operations(hub: &Hub, grid: &str, probe: &mut Probe, backend: Backend) {
    let auth = bearer("ab-socket", "grid_worker", None, Some(grid));
    let url = format!("{}/graphql/ws", hub.base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a WebSocket URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("handshake");
    let send = |message: Value| Message::text(message.to_string());
    let init = json!({"type": "connection_init", "payload": {"Authorization": auth}});
    socket.send(send(init)).await.expect("init");
    let started = Instant::now();
    let total = 650;
    for id in 0..total {
        let subscribe = json!({"type": "subscribe", "id": id.to_string(),
                               "payload": {"query": "{ __typename }"}});
        socket.send(send(subscribe)).await.expect("subscribe");
    }
    let (mut answered, mut refused, mut completed) = (0u64, 0u64, 0);
    while completed < total {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else {
            break;
        };
        let message: Value = serde_json::from_str(&text).expect("JSON");
        match message["type"].as_str() {
            Some("next") if message["payload"].get("errors").is_some() => refused += 1,
            Some("next") => answered += 1,
            Some("error") => refused += 1,
            Some("complete") => completed += 1,
            _ => {}
        }
    }
    let allowed = allowance(GRID_WORKER_RATE, started.elapsed());
    probe.attempt(
        format!("{backend:?}: one socket answered {answered} of {total} operations ({refused} refused), the rate allows {allowed}"),
        answered > allowed || answered + refused < total as u64,
    );
}

/// Aliased lookups and aggregates in one operation and spread over a batch.
async fn aliases(hub: &Hub, grid: &str, probe: &mut Probe, backend: Backend) {
    let callers = [
        bearer("ab-alias-admin", "admin", None, None),
        bearer("ab-alias-worker", "grid_worker", None, Some(grid)),
        bearer("ab-alias-civil", "department", Some("civil_affairs"), None),
    ];
    let lookups = |n: usize| -> String {
        (0..n)
            .map(|i| {
                format!("l{i}: personByIdNumber(idNumber: \"11010119900307{i:04}\") {{ id }} ")
            })
            .collect()
    };
    for auth in &callers {
        let headers = [("Authorization", auth.as_str())];
        let (status, _, answer) = hub
            .query_as(
                &headers,
                json!({"query": format!("{{ {} }}", lookups(3_000))}),
            )
            .await;
        probe.attempt(
            format!("{backend:?}: 3,000 aliased lookups in one operation: {status}"),
            ran_in(&answer) > 0,
        );
        let part = json!({"query": format!("{{ {} }}", lookups(150))});
        let (status, _, answer) = hub.query_as(&headers, json!(vec![part; 20])).await;
        probe.attempt(
            format!("{backend:?}: 3,000 aliased lookups over a batch of 20: {status}"),
            ran_in(&answer) > 0,
        );
        let compliance: String = (0..1_000)
            .map(|i| format!("c{i}: deadlineCompliance "))
            .collect();
        let query = format!("{{ grid(code: \"{grid}\") {{ stats {{ {compliance} }} }} }}");
        let (status, _, answer) = hub.query_as(&headers, json!({ "query": query })).await;
        probe.attempt(
            format!("{backend:?}: 1,000 aliases of deadlineCompliance: {status}"),
            ran_in(&answer) > 0,
        );
        let fragment = format!(
            "{{ grid(code: \"{grid}\") {{ ...S ...S ...S ...S ...S }} }} fragment S on Grid {{ stats {{ {} }} }}",
            (0..100).map(|i| format!("c{i}: deadlineCompliance ")).collect::<String>()
        );
        let (status, _, answer) = hub.query_as(&headers, json!({ "query": fragment })).await;
        probe.attempt(
            format!("{backend:?}: 500 aliases through one fragment spread five times: {status}"),
            ran_in(&answer) > 0,
        );
    }
}
