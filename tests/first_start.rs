//! The README's first command on a fresh machine: `gridhub serve` in an empty directory creates
//! the SQLite file, migrates and seeds it, and answers a query for the persons of a grid; SIGTERM
//! stops it cleanly.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("gridhub did not become ready");
}

#[tokio::test]
async fn serve_in_an_empty_directory_shows_seeded_persons_of_a_grid() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_gridhub"))
        .args(["serve", "--listen", &address])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    assert!(
        dir.path().join("gridhub.db").exists(),
        "SQLite file created"
    );

    let query = r#"{ grids(filter: {levels: [GRID]}, first: 1) {
        nodes { code persons(first: 3) { totalCount nodes { name idNumber } } } } }"#;
    let body: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grid = &body["data"]["grids"]["nodes"][0];
    assert!(
        grid["persons"]["totalCount"].as_i64().unwrap() > 0,
        "{body}"
    );
    assert_eq!(
        grid["persons"]["nodes"].as_array().unwrap().len(),
        3,
        "{body}"
    );

    let pid = server.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = server.0.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}
