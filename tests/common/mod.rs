//! Test harness: starts gridhub in-process on a fresh database (a temporary SQLite file, and a
//! freshly created PostgreSQL database when `GRIDHUB_TEST_DATABASE_URL` is set), seeds it, and
//! talks to it over real HTTP.

#![allow(dead_code)]

pub mod audit;
pub mod imports;
pub mod node;
pub mod tokens;
pub mod ws;

use gridhub::config::Settings;
use gridhub::db::{self, Database};
use gridhub::http::{router, AppState};
use gridhub::seed::{self, SeedOptions};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Which database a hub runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `GRIDHUB_TEST_DATABASE_URL`.
    Postgres,
}

/// SQLite always; PostgreSQL too when `GRIDHUB_TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if std::env::var("GRIDHUB_TEST_DATABASE_URL").is_ok() {
        all.push(Backend::Postgres);
    }
    all
}

/// Owns the database of one hub and removes it when dropped (also when a test panics).
enum Store {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Store::Postgres { admin_url, name } = self {
            let (admin_url, target) = (admin_url.clone(), name.clone());
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Runtime::new().expect("runtime");
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {target} WITH (FORCE)"
                        ))
                        .await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(_))) {
                eprintln!("could not drop test database {name}");
            }
        }
    }
}

/// Runs `command` (the real binary, as a user would) to its end without blocking the test's
/// runtime: the in-process hub it shares keeps serving and finishes its open transactions, as a
/// separate `gridhub serve` would, instead of holding SQLite's write lock while the command waits.
pub async fn output_of(command: std::process::Command) -> std::process::Output {
    tokio::process::Command::from(command)
        .output()
        .await
        .expect("run the command")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "gridhub_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        n
    )
}

/// The `postgres` maintenance database on the server of `GRIDHUB_TEST_DATABASE_URL`, where test
/// databases are created and dropped: the database the URL names need not exist.
pub fn postgres_admin_url() -> String {
    let url = std::env::var("GRIDHUB_TEST_DATABASE_URL").expect("GRIDHUB_TEST_DATABASE_URL");
    with_database(&url, "postgres")
}

/// `url` naming the database `name` instead, its query kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (url, query) = url
        .split_once('?')
        .map_or((url, None), |(u, q)| (u, Some(q)));
    let (base, _) = url.rsplit_once('/').expect("a database URL has a path");
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

async fn create_store(backend: Backend) -> (Store, String) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
            (Store::Sqlite(dir), url)
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let name = unique_name();
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to the maintenance database of GRIDHUB_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let url = with_database(&admin_url, &name);
            (Store::Postgres { admin_url, name }, url)
        }
    }
}

/// The audit checkpoint file of a test hub on `url`: the default (beside the SQLite file) for
/// SQLite, one in the system's temporary directory for a PostgreSQL test database.
fn checkpoint_file(backend: Backend, url: &str) -> String {
    match backend {
        Backend::Sqlite => String::new(),
        Backend::Postgres => {
            let name = url.rsplit('/').next().unwrap_or("hub");
            let file = std::env::temp_dir().join(format!("{name}.audit-checkpoints"));
            file.display().to_string()
        }
    }
}

/// A running gridhub on its own database.
pub struct Hub {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The hub's database pool (for counting statements).
    pub db: Database,
    /// Which database it runs on.
    pub backend: Backend,
    /// The database's URL, for the command line.
    pub url: String,
    client: reqwest::Client,
    _store: Option<Store>,
}

/// Serves a hub for `database` under `settings` on a free local port; returns its base URL.
async fn serve(database: &Database, settings: &Settings) -> String {
    let state = AppState::new(database.clone(), settings)
        .await
        .expect("application state");
    let app = router(state, &settings.server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(gridhub::http::serve(listener, app, std::future::pending()));
    base
}

impl Hub {
    /// A hub on a migrated database seeded with `persons` persons, with default settings.
    pub async fn start(backend: Backend, persons: u64) -> Hub {
        Self::start_with(backend, persons, |_| {}).await
    }

    /// Like [`Hub::start`], with settings changed by `adjust`.
    pub async fn start_with(
        backend: Backend,
        persons: u64,
        adjust: impl FnOnce(&mut Settings),
    ) -> Hub {
        let (store, url) = create_store(backend).await;
        let mut settings = Settings::defaults();
        settings.database.url = url.clone();
        settings.database.max_connections = 4;
        settings.audit.checkpoint_file = checkpoint_file(backend, &url);
        adjust(&mut settings);
        let database = db::connect(&settings.database).await.expect("connect");
        db::migrate(&database.conn).await.expect("migrate");
        if persons > 0 {
            let options = SeedOptions {
                persons,
                ..SeedOptions::default()
            };
            seed::seed(&database.conn, &options).await.expect("seed");
        }
        let base = serve(&database, &settings).await;
        Hub {
            base,
            db: database,
            backend,
            url,
            client: reqwest::Client::new(),
            _store: Some(store),
        }
    }

    /// A second hub on this hub's database, as a second gridhub process behind a load balancer
    /// would be (its own pool, change feed and port), with settings changed by `adjust`. The
    /// database stays owned by this hub.
    pub async fn sibling(&self, adjust: impl FnOnce(&mut Settings)) -> Hub {
        let mut settings = Settings::defaults();
        settings.database.url = self.url.clone();
        settings.database.max_connections = 4;
        settings.audit.checkpoint_file = self.checkpoint_file();
        adjust(&mut settings);
        let database = db::connect(&settings.database).await.expect("connect");
        let base = serve(&database, &settings).await;
        Hub {
            base,
            db: database,
            backend: self.backend,
            url: self.url.clone(),
            client: reqwest::Client::new(),
            _store: None,
        }
    }

    /// The file the hub appends its audit checkpoints to.
    pub fn checkpoint_file(&self) -> String {
        let file = checkpoint_file(self.backend, &self.url);
        if file.is_empty() {
            Settings::defaults()
                .audit
                .for_database(&self.url)
                .checkpoint_file
        } else {
            file
        }
    }

    /// POSTs a GraphQL request and returns the JSON body (whatever the status).
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        self.post_json(json!({"query": query, "variables": variables}))
            .await
            .1
    }

    /// POSTs `body` to /graphql; returns the status and the JSON body.
    pub async fn post_json(&self, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs `body` to /graphql with extra request headers (e.g. `Authorization`, `X-Purpose`);
    /// returns the status, the response headers and the JSON body (`Null` when not JSON).
    pub async fn query_as(
        &self,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// POSTs raw bytes to /graphql as JSON; returns the status and the body text.
    pub async fn post_raw(&self, body: Vec<u8>) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// GETs a path; returns the status and the body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Runs `query`, asserts it has no errors and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.query(query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "{:?}: unexpected errors: {body:#}",
            self.backend
        );
        body["data"].clone()
    }

    /// SQL statements executed so far by the hub's pool.
    pub fn statements(&self) -> u64 {
        self.db.statements_executed()
    }
}

/// The `extensions.code` of the first error of a response.
pub fn first_error_code(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_string)
}
