//! Live-feed latency: many graphql-transport-ws subscribers to `eventChanged` on one gridhub,
//! while events are reported and accepted through HTTP one after another. For every change a
//! subscriber receives, the time from sending the mutation that made it to the receipt is kept;
//! the report gives their count, p50, p99 and maximum.

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const SUBSCRIPTION: &str = "subscription($code: String) {
  eventChanged(gridCode: $code) { eventId status action event { id title } }
}";

/// The same without the event itself: the feed alone, no statement per delivery.
const SUBSCRIPTION_WITHOUT_EVENT: &str = "subscription($code: String) {
  eventChanged(gridCode: $code) { eventId status action }
}";

const REPORT: &str = "mutation($code: String!, $title: String!) {
  reportEvent(input: {gridCode: $code, category: SAFETY_HAZARD, priority: NORMAL,
                      title: $title, description: \"benchmark\"}) { id }
}";

const ACCEPT: &str = "mutation($id: ID!) { acceptEvent(input: {eventId: $id}) { id } }";

/// Connections opened at the same time while subscribers connect.
const CONNECTING_AT_ONCE: usize = 50;

/// What one run measures.
pub struct Plan {
    /// Base URL of gridhub, e.g. `http://127.0.0.1:18082`.
    pub base: String,
    /// Bearer token for subscribers and mutations (none when authentication is off).
    pub token: Option<String>,
    /// Grid code the subscribers watch.
    pub watch: String,
    /// Grid code the events are reported in (inside `watch`).
    pub report_in: String,
    /// Number of WebSocket subscribers.
    pub subscribers: usize,
    /// Number of events reported (each is accepted too: two changes per event).
    pub events: usize,
    /// Pause between two mutations.
    pub pause: Duration,
    /// Whether subscribers select the event itself (one statement per delivery).
    pub with_event: bool,
}

/// The measured latencies.
#[derive(Serialize)]
pub struct Report {
    subscribers: usize,
    changes: usize,
    expected: usize,
    delivered: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// One change as a subscriber received it.
struct Receipt {
    at: Instant,
    event_id: String,
    status: String,
}

/// The mutation that caused a change, by event id and resulting status.
type Sent = HashMap<(String, String), Instant>;

/// Runs `plan` and reports the latencies.
pub async fn run(plan: Plan) -> Result<Report> {
    let plan = Arc::new(plan);
    let (receipts, mut received) = unbounded_channel();
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let mut tasks = Vec::new();
    for _ in 0..plan.subscribers {
        let ready = gate.clone().acquire_owned().await?;
        let plan = plan.clone();
        let receipts = receipts.clone();
        let (subscribed, done) = tokio::sync::oneshot::channel();
        tasks.push(tokio::spawn(async move {
            subscribe(&plan, receipts, subscribed).await
        }));
        done.await.context("a subscriber failed to connect")??;
        drop(ready);
    }
    drop(receipts);
    eprintln!("{} subscribers connected", plan.subscribers);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = drive(&plan).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for task in &tasks {
        task.abort();
    }
    let mut latencies = Vec::new();
    while let Some(receipt) = received.recv().await {
        let receipt: Receipt = receipt;
        if let Some(t0) = sent.get(&(receipt.event_id, receipt.status)) {
            latencies.push(receipt.at.duration_since(*t0).as_secs_f64() * 1000.0);
        }
    }
    Ok(summarise(&plan, sent.len(), latencies))
}

fn summarise(plan: &Plan, changes: usize, mut latencies: Vec<f64>) -> Report {
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(i).copied().unwrap_or(f64::NAN)
    };
    Report {
        subscribers: plan.subscribers,
        changes,
        expected: changes * plan.subscribers,
        delivered: latencies.len(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
    }
}

/// One subscriber: connects, subscribes, says so on `subscribed`, then sends every change it
/// receives to `receipts`.
async fn subscribe(
    plan: &Plan,
    receipts: UnboundedSender<Receipt>,
    subscribed: tokio::sync::oneshot::Sender<Result<()>>,
) -> Result<()> {
    let mut socket = match connect(plan).await {
        Ok(socket) => {
            let _ = subscribed.send(Ok(()));
            socket
        }
        Err(error) => {
            let _ = subscribed.send(Err(error));
            return Ok(());
        }
    };
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let at = Instant::now();
        let value: Value = serde_json::from_str(&text)?;
        let change = &value["payload"]["data"]["eventChanged"];
        if let (Some(id), Some(status)) = (change["eventId"].as_str(), change["status"].as_str()) {
            let _ = receipts.send(Receipt {
                at,
                event_id: id.to_string(),
                status: status.to_string(),
            });
        }
    }
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An acknowledged graphql-transport-ws connection with the subscription started.
async fn connect(plan: &Plan) -> Result<Socket> {
    let url = format!("{}/graphql/ws", plan.base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let payload = match &plan.token {
        Some(token) => json!({"Authorization": format!("Bearer {token}")}),
        None => json!({}),
    };
    let init = json!({"type": "connection_init", "payload": payload});
    socket.send(Message::text(init.to_string())).await?;
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    let query = if plan.with_event {
        SUBSCRIPTION
    } else {
        SUBSCRIPTION_WITHOUT_EVENT
    };
    let start = json!({"type": "subscribe", "id": "1",
                       "payload": {"query": query, "variables": {"code": plan.watch}}});
    socket.send(Message::text(start.to_string())).await?;
    Ok(socket)
}

/// Reports and accepts `plan.events` events one after another; returns when each mutation was
/// sent, by the change it made.
async fn drive(plan: &Plan) -> Result<Sent> {
    let client = reqwest::Client::new();
    let mut sent = Sent::new();
    for n in 0..plan.events {
        let variables = json!({"code": plan.report_in, "title": format!("bench {n}")});
        let t0 = Instant::now();
        let data = mutate(&client, plan, REPORT, variables).await?;
        let id = data["reportEvent"]["id"]
            .as_str()
            .context("reportEvent returned no id")?
            .to_string();
        sent.insert((id.clone(), "REPORTED".to_string()), t0);
        tokio::time::sleep(plan.pause).await;
        let t0 = Instant::now();
        mutate(&client, plan, ACCEPT, json!({"id": id})).await?;
        sent.insert((id, "ACCEPTED".to_string()), t0);
        tokio::time::sleep(plan.pause).await;
    }
    Ok(sent)
}

/// Posts a mutation; returns its `data`, failing on GraphQL errors.
async fn mutate(
    client: &reqwest::Client,
    plan: &Plan,
    query: &str,
    variables: Value,
) -> Result<Value> {
    let mut request = client
        .post(format!("{}/graphql", plan.base))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = &plan.token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await?.json().await?;
    if body.get("errors").is_some() {
        bail!("mutation failed: {body}");
    }
    Ok(body["data"].clone())
}
