//! The command-centre screen at `/screen`: the page and its assets are served with their types
//! and a content security policy, and in headless Chromium a command-centre operator's screen
//! (its token in the fragment `#token=`) shows an event reported through the API in its live feed and counts
//! it among the open events (`tests/e2e/screen.mjs`, driven with playwright-core).
//!
//! The browser test runs on SQLite only: the page talks to the hub over HTTP and WebSocket the
//! same way whatever the database, and the subscriptions themselves are tested on both backends.

mod common;

use common::tokens::{secured, token};
use common::{node, Backend, Hub};
use serde_json::json;
use std::time::Duration;

/// How long the whole browser run may take before it counts as failed.
const BROWSER_DEADLINE: Duration = Duration::from_secs(120);

async fn street_code(hub: &Hub, admin: &str) -> String {
    let bearer = format!("Bearer {admin}");
    let query =
        json!({"query": "{ grids(filter: {levels: [STREET]}, first: 1) { nodes { code } } }"});
    let (_, _, body) = hub.query_as(&[("Authorization", &bearer)], query).await;
    body["data"]["grids"]["nodes"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a seeded street: {body:#}"))
        .to_string()
}

async fn get(hub: &Hub, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", hub.base))
        .await
        .expect("request")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn screen_page_and_assets_are_served_with_their_types() {
    let hub = Hub::start(Backend::Sqlite, 0).await;
    let page = get(&hub, "/screen?grid=650203001").await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let policy = header(&page, "content-security-policy").to_string();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"),
        "the page's content security policy keeps scripts and connections on the hub: {policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("网格指挥中心") && html.contains("/screen/screen.js"));
    for (path, kind) in [
        ("/screen/screen.js", "text/javascript"),
        ("/screen/screen.css", "text/css"),
    ] {
        let asset = get(&hub, path).await;
        assert_eq!(asset.status(), 200, "{path}");
        assert!(header(&asset, "content-type").starts_with(kind), "{path}");
        assert!(!asset.text().await.unwrap().is_empty(), "{path}");
    }
    assert_eq!(get(&hub, "/screen/missing.js").await.status(), 404);
}

#[tokio::test]
async fn a_token_in_the_screen_address_is_refused_and_the_page_takes_it_from_the_fragment() {
    let hub = Hub::start(Backend::Sqlite, 0).await;
    for query in [
        "token=abc",
        "grid=650203001&token=abc",
        "access_token=abc",
        "TOKEN=",
    ] {
        let page = get(&hub, &format!("/screen?{query}")).await;
        assert_eq!(page.status(), 400, "{query}");
        assert!(page.text().await.unwrap().contains("#token="), "{query}");
    }
    let page = get(&hub, "/screen?grid=650203001&tokens_shown=1").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let script = get(&hub, "/screen/screen.js").await.text().await.unwrap();
    assert!(script.contains("window.location.hash") && !script.contains("params.get('token')"));
}

#[tokio::test]
async fn screen_shows_a_reported_event_live_in_chromium() {
    if node::skip("screen browser test", node::missing_browser()) {
        return;
    }
    let hub = Hub::start_with(Backend::Sqlite, 300, secured).await;
    let admin = token("admin-screen", "admin", None, None);
    let grid = street_code(&hub, &admin).await;
    let args = vec![
        hub.base.clone(),
        grid.clone(),
        token("command-centre-screen", "command_centre", None, Some(&grid)),
        admin.clone(),
    ];
    let output = node::run_script("screen.mjs", args, BROWSER_DEADLINE).await;
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("ok: event"),
        "the screen did not show the reported event ({}):\n{stdout}\n{stderr}",
        output.status
    );
    println!("{}", stdout.trim());
}
