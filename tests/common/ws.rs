//! A graphql-transport-ws client of `/graphql/ws`, as front-end clients (graphql-ws) speak it:
//! connection_init with a payload, subscribe, and the messages of each subscription.

use super::Hub;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a message may take to arrive.
const WAIT: Duration = Duration::from_secs(10);

/// One graphql-transport-ws connection.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages received while waiting for another subscription's.
    held: Vec<Value>,
    /// Subscriptions started so far.
    started: usize,
}

impl Client {
    /// Opens `/graphql/ws` of `hub` and sends `connection_init` with `payload`.
    pub async fn open(hub: &Hub, payload: Value) -> Client {
        let url = format!("{}/graphql/ws", hub.base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut client = Client {
            socket,
            held: Vec::new(),
            started: 0,
        };
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        client
    }

    /// Opens a connection and waits for its acknowledgement.
    pub async fn connect(hub: &Hub, payload: Value) -> Client {
        let mut client = Client::open(hub, payload).await;
        let ack = client.receive().await.expect("connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.started += 1;
        self.send(json!({"type": "subscribe", "id": id,
                         "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// Waits until the subscriptions started before are listening: a feed answers at once
    /// only after the earlier ones, on the same connection, began listening.
    pub async fn settle(&mut self) {
        let id = format!("settle-{}", self.started);
        self.subscribe(&id, "subscription { overdueEvents { id } }", json!({}))
            .await;
        let first = self.next_of(&id).await;
        assert!(first["data"]["overdueEvents"].is_array(), "{first}");
        self.send(json!({"type": "complete", "id": id})).await;
    }

    /// The next protocol message, or `Err(reason)` when the server closed the connection.
    pub async fn receive(&mut self) -> Result<Value, String> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the wait")
                .ok_or_else(|| "connection ended".to_string())?
                .map_err(|e| e.to_string())?;
            match message {
                Message::Text(text) => return Ok(serde_json::from_str(&text).expect("JSON")),
                Message::Close(frame) => {
                    return Err(frame.map(|f| f.reason.to_string()).unwrap_or_default())
                }
                _ => continue,
            }
        }
    }

    /// The payload of the next message of subscription `id` (other subscriptions' messages in
    /// between are held for them).
    pub async fn next_of(&mut self, id: &str) -> Value {
        loop {
            let message = match self.held.iter().position(|m| m["id"] == id) {
                Some(i) => self.held.remove(i),
                None => self.receive().await.expect("an open connection"),
            };
            if message["id"] != id {
                self.held.push(message);
                continue;
            }
            assert!(
                message["type"] == "next" || message["type"] == "error",
                "{message}"
            );
            return message["payload"].clone();
        }
    }

    /// Asserts that no message of subscription `id` arrives within `wait`.
    pub async fn nothing_for(&mut self, id: &str, wait: Duration) {
        assert!(!self.held.iter().any(|m| m["id"] == id), "{:?}", self.held);
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = message {
                let message: Value = serde_json::from_str(&text).expect("JSON");
                assert_ne!(message["id"], id, "{message}");
            }
        }
    }
}
