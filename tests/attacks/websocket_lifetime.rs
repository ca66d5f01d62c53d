//! Attack class: a WebSocket outliving its credential. A socket opened with a short-lived token
//! or an API key that is then revoked keeps listening and sends new operations; it must be
//! closed (4401 at expiry, 4403 after revocation within the recheck interval) and deliver
//! nothing more. `connection_init` with a credential no request could use is refused.

use crate::common::{backends, Hub};
use crate::probe::{bearer, claims, hardened, sign};
use crate::Probe;
use futures_util::{SinkExt, StreamExt};
use gridhub::access::credentials::{create_key, revoke_key, NewKey};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PERSONS: u64 = 60;
const EVENT_CHANGED: &str = "subscription { eventChanged { eventId event { title } } }";
const REPORT: &str = "mutation($code: String!, $title: String!) {
  reportEvent(input: {gridCode: $code, category: SAFETY_HAZARD, priority: URGENT,
                      title: $title, description: \"attack suite\"}) { id } }";

/// What the server sent: a protocol message, or the close frame's code and reason.
#[derive(Debug)]
enum Received {
    Message(Value),
    Closed(u16, String),
    Nothing,
}

/// Opens `/graphql/ws` and sends `connection_init` with `payload`.
async fn open(hub: &Hub, payload: Value) -> Socket {
    let url = format!("{}/graphql/ws", hub.base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a WebSocket URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket handshake");
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    let _ = socket.send(Message::text(message.to_string())).await;
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str) {
    let payload = json!({"query": query, "variables": {}});
    send(
        socket,
        json!({"type": "subscribe", "id": id, "payload": payload}),
    )
    .await;
}

/// The next message within `wait`.
async fn receive(socket: &mut Socket, wait: Duration) -> Received {
    loop {
        let Ok(next) = tokio::time::timeout(wait, socket.next()).await else {
            return Received::Nothing;
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                return Received::Message(serde_json::from_str(&text).expect("JSON"))
            }
            Some(Ok(Message::Close(frame))) => {
                return frame.map_or(Received::Closed(1005, String::new()), |f| {
                    Received::Closed(f.code.into(), f.reason.to_string())
                })
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Received::Closed(1006, String::new()),
        }
    }
}

/// Whether the connection was acknowledged.
async fn acknowledged(socket: &mut Socket) -> bool {
    matches!(receive(socket, Duration::from_secs(5)).await,
             Received::Message(m) if m["type"] == "connection_ack")
}

/// Every message until the socket closes or `wait` passes without one; the close, if any.
async fn drain(socket: &mut Socket, wait: Duration) -> (Vec<Value>, Option<(u16, String)>) {
    let mut messages = Vec::new();
    loop {
        match receive(socket, wait).await {
            Received::Message(message) => messages.push(message),
            Received::Closed(code, reason) => return (messages, Some((code, reason))),
            Received::Nothing => return (messages, None),
        }
    }
}

/// Whether any of `messages` carries data (a delivered event or an operation's result).
fn carries_data(messages: &[Value]) -> bool {
    messages
        .iter()
        .any(|m| m["type"] == "next" && !m["payload"]["data"].is_null())
}

async fn hub(backend: crate::common::Backend) -> Hub {
    Hub::start_with(backend, PERSONS, |s| {
        hardened(s);
        s.subscriptions.recheck_interval_secs = 1;
    })
    .await
}

/// A leaf grid code of the hub, read as an admin.
async fn some_grid(hub: &Hub, admin: &str) -> String {
    let body = json!({"query": "{ grids(filter: {levels: [GRID]}, first: 1) { nodes { code } } }"});
    let (_, _, answer) = hub.query_as(&[("Authorization", admin)], body).await;
    answer["data"]["grids"]["nodes"][0]["code"]
        .as_str()
        .expect("a grid")
        .to_string()
}

async fn report(hub: &Hub, admin: &str, code: &str, title: &str) {
    let body = json!({"query": REPORT, "variables": {"code": code, "title": title}});
    let (status, _, answer) = hub.query_as(&[("Authorization", admin)], body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
}

/// A token of `role` that expires in `seconds`.
fn short_lived(role: &str, department: Option<&str>, seconds: i64) -> String {
    let mut claims = claims(&format!("{role}-short"), role);
    claims["exp"] = json!(chrono::Utc::now().timestamp() + seconds);
    if let Some(department) = department {
        claims["department"] = json!(department);
    }
    format!("Bearer {}", sign(&claims))
}

#[tokio::test]
async fn sockets_end_when_their_token_expires() {
    let mut probe = Probe::new("websocket lifetime: token expiry");
    for backend in backends() {
        let hub = hub(backend).await;
        let admin = bearer("ws-admin", "admin", None, None);
        let grid = some_grid(&hub, &admin).await;
        let holders = [
            ("admin", None),
            ("command_centre", None),
            ("grid_worker", None),
            ("department", Some("police")),
        ];
        for (role, department) in holders {
            let token = short_lived(role, department, 2);
            let mut socket = open(&hub, json!({"Authorization": token})).await;
            assert!(acknowledged(&mut socket).await, "{backend:?} {role}");
            subscribe(&mut socket, "events", EVENT_CHANGED).await;
            subscribe(
                &mut socket,
                "overdue",
                "subscription { overdueEvents { id } }",
            )
            .await;
            tokio::time::sleep(Duration::from_millis(3500)).await;
            report(&hub, &admin, &grid, &format!("after expiry {role}")).await;
            subscribe(&mut socket, "late", "subscription { overdueEvents { id } }").await;
            let (messages, closed) = drain(&mut socket, Duration::from_secs(3)).await;
            let delivered = messages.iter().any(|m| {
                m["payload"]["data"]["eventChanged"]["event"]["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("after expiry"))
            });
            probe.attempt(
                format!("{backend:?} {role}: event delivered after expiry"),
                delivered,
            );
            let late = messages
                .iter()
                .any(|m| m["id"] == "late" && m["type"] == "next");
            probe.attempt(
                format!("{backend:?} {role}: new operation after expiry"),
                late,
            );
            let closed_right = closed
                .as_ref()
                .is_some_and(|(code, reason)| *code == 4401 && reason.contains("expired"));
            probe.attempt(
                format!("{backend:?} {role}: socket left open after expiry ({closed:?})"),
                !closed_right,
            );
        }
        // A token already expired within the leeway is admitted, then closed at once.
        let mut socket = open(
            &hub,
            json!({"Authorization": short_lived("admin", None, -5)}),
        )
        .await;
        let acked = acknowledged(&mut socket).await;
        subscribe(&mut socket, "now", EVENT_CHANGED).await;
        report(&hub, &admin, &grid, "after expiry, leeway").await;
        let (messages, closed) = drain(&mut socket, Duration::from_secs(3)).await;
        probe.attempt(
            format!("{backend:?}: expired token within the leeway reads (acked {acked})"),
            carries_data(&messages) || closed.is_none_or(|(code, _)| code != 4401),
        );
    }
    probe.finish();
}

#[tokio::test]
async fn sockets_end_when_their_api_key_is_revoked() {
    let mut probe = Probe::new("websocket lifetime: key revocation");
    for backend in backends() {
        let hub = hub(backend).await;
        let admin = bearer("ws-admin", "admin", None, None);
        let grid = some_grid(&hub, &admin).await;
        let keys = [
            ("ws-police", "department", Some("police")),
            ("ws-property", "department", Some("property")),
            ("ws-worker", "grid_worker", None),
            ("ws-admin-key", "admin", None),
        ];
        for (base, role, department) in keys {
            for header in ["X-Api-Key", "Authorization"] {
                let name = format!("{base}-{header}");
                let new = NewKey {
                    name: name.clone(),
                    role: role.to_string(),
                    department: department.map(str::to_string),
                    grid_code: None,
                };
                let (_, key) = create_key(&hub.db.conn, new).await.expect("a key");
                let value = if header == "X-Api-Key" {
                    key
                } else {
                    format!("Bearer {key}")
                };
                let mut socket = open(&hub, json!({ header: value })).await;
                assert!(acknowledged(&mut socket).await, "{backend:?} {name}");
                subscribe(&mut socket, "events", EVENT_CHANGED).await;
                let alive = drain(&mut socket, Duration::from_millis(300))
                    .await
                    .1
                    .is_none();
                assert!(
                    alive,
                    "{backend:?} {name}: the key's socket is open before revocation"
                );
                revoke_key(&hub.db.conn, &name).await.expect("revoke");
                tokio::time::sleep(Duration::from_millis(2500)).await;
                report(&hub, &admin, &grid, &format!("after revocation {name}")).await;
                subscribe(&mut socket, "late", "subscription { overdueEvents { id } }").await;
                let (messages, closed) = drain(&mut socket, Duration::from_secs(3)).await;
                probe.attempt(
                    format!("{backend:?} {name} via {header}: data after revocation"),
                    carries_data(&messages),
                );
                let closed_right = closed
                    .as_ref()
                    .is_some_and(|(code, reason)| *code == 4403 && reason.contains("revoked"));
                probe.attempt(
                    format!("{backend:?} {name} via {header}: socket left open ({closed:?})"),
                    !closed_right,
                );
            }
        }
    }
    probe.finish();
}

#[tokio::test]
async fn connection_init_refuses_credentials_no_request_could_use() {
    let mut probe = Probe::new("websocket lifetime: connection_init");
    for backend in backends() {
        let hub = hub(backend).await;
        let anonymous_key = NewKey {
            name: "legacy-anonymous".to_string(),
            role: "anonymous".to_string(),
            department: None,
            grid_code: None,
        };
        let (_, key) = create_key(&hub.db.conn, anonymous_key)
            .await
            .expect("a key");
        let mut purposeless = claims("junk-purpose", "admin");
        purposeless["purpose"] = json!("x");
        let mut expired = claims("expired", "admin");
        expired["exp"] = json!(chrono::Utc::now().timestamp() - 120);
        let payloads = [
            (
                "anonymous token",
                json!({"Authorization": bearer("a", "anonymous", None, None)}),
            ),
            ("anonymous key", json!({"X-Api-Key": key})),
            (
                "root token",
                json!({"Authorization": bearer("r", "root", None, None)}),
            ),
            (
                "department without department",
                json!({"Authorization": bearer("d", "department", None, None)}),
            ),
            (
                "misspelt role",
                json!({"Authorization": bearer("m", "departmnet", Some("police"), None)}),
            ),
            (
                "junk purpose claim",
                json!({"Authorization": format!("Bearer {}", sign(&purposeless))}),
            ),
            (
                "junk purpose header",
                json!({"Authorization": bearer("p", "admin", None, None), "X-Purpose": "x"}),
            ),
            (
                "junk case header",
                json!({"Authorization": bearer("c", "admin", None, None), "X-Case-Id": "x"}),
            ),
            (
                "expired token",
                json!({"Authorization": format!("Bearer {}", sign(&expired))}),
            ),
            ("no credential", json!({})),
        ];
        for (what, payload) in payloads {
            let mut socket = open(&hub, payload).await;
            let acked = acknowledged(&mut socket).await;
            subscribe(
                &mut socket,
                "events",
                "subscription { overdueEvents { id } }",
            )
            .await;
            let (messages, _) = drain(&mut socket, Duration::from_secs(2)).await;
            probe.attempt(
                format!("{backend:?}: {what} admitted"),
                acked || carries_data(&messages),
            );
        }
    }
    probe.finish();
}
