//! Configuration: built-in defaults, then an optional `gridhub.toml`, then `GRIDHUB__…`
//! environment variables (`GRIDHUB__DATABASE__URL` sets `database.url`). Every key is listed in
//! the README.

use crate::domain::deadlines::Deadlines;
use crate::entity::vocabulary::EventPriority;
use serde::Deserialize;
use std::path::Path;

/// The whole configuration of one gridhub process.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// HTTP server settings.
    pub server: ServerSettings,
    /// Database settings.
    pub database: DatabaseSettings,
    /// Limits on GraphQL requests.
    pub graphql: GraphqlSettings,
    /// Demo data written on first start.
    pub seed: SeedSettings,
    /// Logging.
    pub log: LogSettings,
    /// Authentication of callers: API keys and JWT bearer tokens.
    pub auth: AuthSettings,
    /// Access policy: roles, production mode.
    pub access: AccessSettings,
    /// The tamper-evident audit log.
    pub audit: AuditSettings,
    /// Aggregate statistics for dashboards and command centres.
    pub aggregates: AggregatesSettings,
    /// The event loop: deadlines and the deadline sweeper.
    pub events: EventSettings,
    /// Live feeds over WebSocket.
    pub subscriptions: SubscriptionSettings,
    /// Department files pushed to `/ingest` or imported.
    pub ingest: IngestSettings,
}

/// Department files pushed to `/ingest` or imported.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct IngestSettings {
    /// Longest line of a file, in bytes: a longer NDJSON line is refused as a bad record, a
    /// longer CSV line stops the file there.
    pub max_line_bytes: usize,
    /// Longest value of one column, in bytes: a record with a longer one is refused.
    pub max_field_bytes: usize,
}

/// Live feeds over WebSocket.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionSettings {
    /// Shortest time, in milliseconds, between two snapshots of `stats(gridCode)`.
    pub stats_interval_millis: u64,
    /// Seconds between two checks that an open connection's API key is still in force; a
    /// revoked key's connection is closed (4403) at the next check.
    pub recheck_interval_secs: u64,
}

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// Time after which a request is cancelled, in seconds.
    pub request_timeout_secs: u64,
}

/// Database settings.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// Seconds to wait for a free connection before failing a request.
    pub acquire_timeout_secs: u64,
}

/// Limits on GraphQL requests.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphqlSettings {
    /// Deepest selection nesting a query may have.
    pub max_depth: usize,
    /// Deepest nesting of fields under `__schema` or `__type`: the standard introspection
    /// queries of GraphiQL and code generators nest about 15 deep, beyond `max_depth`.
    pub max_introspection_depth: usize,
    /// Highest complexity (fields, multiplied by page sizes of lists) a query may have.
    pub max_complexity: usize,
    /// Page size when a connection is asked for without `first` or `last`.
    pub default_page_size: u32,
    /// Largest `first` or `last` a connection accepts.
    pub max_page_size: u32,
    /// Largest number of ids `nodes(ids:)` accepts.
    pub max_node_ids: usize,
    /// How long, in microseconds, a DataLoader gathers keys before it runs one batched statement.
    pub batch_window_micros: u64,
    /// Most operations one batched request may carry (they share one complexity budget).
    pub max_batch_operations: usize,
    /// Longest document, in bytes (checked before it is parsed; data belongs in variables).
    pub max_document_bytes: usize,
    /// Most tokens a document may have (checked before it is parsed).
    pub max_tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` a document may have (checked before it is parsed).
    pub max_nesting: usize,
    /// Most fragments a document may define.
    pub max_fragments: usize,
    /// Most fields a document may select once its fragment spreads are expanded.
    pub max_fields: u64,
    /// Most aliased fields a document may select once its fragment spreads are expanded.
    pub max_aliases: u64,
    /// Most directives one field may carry.
    pub max_directives: usize,
}

/// Demo data written on first start.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedSettings {
    /// When `serve` finds an empty database, seed it with this many persons (0 turns it off).
    pub persons_on_first_start: u64,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `tracing` filter such as `info` or `gridhub=debug,sqlx=warn`; `RUST_LOG` wins when set.
    pub filter: String,
    /// `text` for people, `json` for log collectors.
    pub format: String,
}

/// Authentication of callers. Authentication is configured when `required` is true or a JWT key
/// is set; until then requests without credentials act as the anonymous development principal.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Every request must carry an API key or a bearer token.
    pub required: bool,
    /// Shared secret of HS256 staff tokens (empty: HS256 tokens are not accepted).
    pub jwt_hs256_secret: String,
    /// PEM file with the RSA public key of RS256 staff tokens (empty: not accepted).
    pub jwt_rs256_public_key_file: String,
    /// Required `iss` claim of tokens (empty: not checked).
    pub jwt_issuer: String,
    /// Required `aud` claim of tokens (empty: not checked).
    pub jwt_audience: String,
    /// Clock skew, in seconds, allowed when checking a token's `exp`, `nbf` and `iat`.
    pub leeway_secs: u64,
    /// Regular expression a case reference (`X-Case-Id`, a token's `case_id`) must match whole.
    pub case_id_pattern: String,
}

/// Access policy.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessSettings {
    /// TOML file with the roles (empty: the built-in policy, see `src/access/policy.toml`).
    pub policy_file: String,
    /// Production mode: introspection only for roles that allow it.
    pub production: bool,
}

/// The tamper-evident audit log.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    /// Secret key of the chain's HMAC (empty: a development key, and a warning at start).
    pub key: String,
    /// Most entries written in one transaction.
    pub batch_size: usize,
    /// How long the writer gathers entries before it writes, in milliseconds.
    pub flush_interval_millis: u64,
    /// Append-only file of signed checkpoints of the chain's head, the anchor outside the
    /// database that `audit verify` holds the log to (empty: next to a SQLite database file,
    /// `gridhub-audit-<database>.checkpoints` in the working directory for PostgreSQL).
    pub checkpoint_file: String,
    /// Least seconds between two checkpoints; one is also taken at every flush and shutdown
    /// (0: after every write).
    pub checkpoint_interval_secs: u64,
    /// Most entries waiting to be written; from this many on the log counts as unhealthy (full
    /// reads are refused) until the writer catches up, so memory stays bounded when the
    /// database is slow or away.
    pub max_backlog: usize,
    /// How long shutdown waits for the last entries to be written, in seconds; entries still
    /// waiting then are reported as lost and gridhub exits with an error.
    pub shutdown_flush_secs: u64,
}

impl AuditSettings {
    /// These settings with the checkpoint file of the database at `database_url` filled in when
    /// none is set; it stays empty for an in-memory database, which has nothing to anchor.
    pub fn for_database(&self, database_url: &str) -> AuditSettings {
        let mut settings = self.clone();
        if settings.checkpoint_file.is_empty() {
            settings.checkpoint_file = default_checkpoint_file(database_url).unwrap_or_default();
        }
        settings
    }
}

/// `<file>.audit-checkpoints` for a SQLite database file, `gridhub-audit-<name>.checkpoints` for
/// a server database called `name`; `None` for an in-memory database.
fn default_checkpoint_file(database_url: &str) -> Option<String> {
    let without_query = database_url.split('?').next().unwrap_or_default();
    if let Some(path) = without_query.strip_prefix("sqlite:") {
        let path = path.trim_start_matches("//");
        let in_memory =
            path.is_empty() || path == ":memory:" || database_url.contains("mode=memory");
        return (!in_memory).then(|| format!("{path}.audit-checkpoints"));
    }
    let name = without_query.rsplit('/').next().filter(|n| !n.is_empty())?;
    Some(format!("gridhub-audit-{name}.checkpoints"))
}

/// The event loop: deadlines and the deadline sweeper.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSettings {
    /// How long each step may take, per priority and grid level.
    pub deadlines: Deadlines,
    /// Seconds between two sweeps for overdue events (0: no sweeper in this process).
    pub sweep_interval_secs: u64,
    /// Priorities whose events the sweeper escalates one level up when the grid level holding
    /// them lets a step's deadline pass.
    pub auto_escalate: Vec<EventPriority>,
}

/// Aggregate statistics for dashboards and command centres.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AggregatesSettings {
    /// Counts above zero and below this are withheld (null) from callers whose role reads no
    /// rows of what is counted (small-count suppression); 0 or 1 turns suppression off.
    pub suppress_below: i64,
}

const DEFAULTS: &str = r#"
[server]
listen = "127.0.0.1:8080"
body_limit_bytes = 1048576
request_timeout_secs = 30

[database]
url = "sqlite://gridhub.db?mode=rwc"
max_connections = 16
min_connections = 1
acquire_timeout_secs = 10

[graphql]
max_depth = 12
max_introspection_depth = 24
max_complexity = 20000
default_page_size = 20
max_page_size = 100
max_node_ids = 100
batch_window_micros = 0
max_batch_operations = 20
max_document_bytes = 131072
max_tokens = 20000
max_nesting = 64
max_fragments = 100
max_fields = 5000
max_aliases = 200
max_directives = 8

[seed]
persons_on_first_start = 5000

[log]
filter = "info"
format = "text"

[auth]
required = false
jwt_hs256_secret = ""
jwt_rs256_public_key_file = ""
jwt_issuer = ""
jwt_audience = ""
leeway_secs = 30
case_id_pattern = "[A-Za-z0-9-]{6,64}"

[access]
policy_file = ""
production = false

[audit]
key = ""
batch_size = 500
flush_interval_millis = 50
checkpoint_file = ""
checkpoint_interval_secs = 60
max_backlog = 100000
shutdown_flush_secs = 30

[events]
sweep_interval_secs = 30
auto_escalate = ["urgent"]

[events.deadlines]
respond_minutes = { urgent = 15, high = 30, normal = 120, low = 1440 }
resolve_minutes = { urgent = 1440, high = 4320, normal = 10080, low = 10080 }
assessment_minutes = { community = 1440, street = 4320, district = 10080 }

[subscriptions]
stats_interval_millis = 1000
recheck_interval_secs = 30

[aggregates]
suppress_below = 5

[ingest]
max_line_bytes = 1048576
max_field_bytes = 65536
"#;

impl Settings {
    /// Loads defaults < `gridhub.toml` in the working directory (if any) < environment.
    pub fn load() -> Result<Settings, config::ConfigError> {
        Self::load_from(Path::new("gridhub.toml"))
    }

    /// Loads defaults < the given TOML file (if it exists) < environment.
    pub fn load_from(file: &Path) -> Result<Settings, config::ConfigError> {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from(file).required(false))
            .add_source(
                config::Environment::with_prefix("GRIDHUB")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()
    }

    /// The built-in defaults alone, as a test or an embedding program starts from.
    pub fn defaults() -> Settings {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(config::Config::try_deserialize)
            .expect("built-in defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_default_to_a_file_beside_the_database() {
        let audit = Settings::defaults().audit;
        let file = |url: &str| audit.for_database(url).checkpoint_file;
        assert_eq!(
            file("sqlite:///var/hub.db?mode=rwc"),
            "/var/hub.db.audit-checkpoints"
        );
        assert_eq!(file("sqlite:hub.db"), "hub.db.audit-checkpoints");
        assert_eq!(file("sqlite::memory:"), "");
        assert_eq!(
            file("postgres://u@db:5432/district"),
            "gridhub-audit-district.checkpoints"
        );
        let mut set = audit.clone();
        set.checkpoint_file = "/audit/anchor".into();
        assert_eq!(
            set.for_database("sqlite:hub.db").checkpoint_file,
            "/audit/anchor"
        );
    }

    #[test]
    fn file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gridhub.toml");
        std::fs::write(&file, "[graphql]\nmax_depth = 7\n").unwrap();
        let settings = Settings::load_from(&file).unwrap();
        assert_eq!(settings.graphql.max_depth, 7);
        assert_eq!(settings.graphql.max_page_size, 100);
    }

    #[test]
    fn default_deadlines_are_those_of_the_domain() {
        let settings = Settings::defaults();
        assert_eq!(settings.events.deadlines, Deadlines::default());
        assert_eq!(settings.events.auto_escalate, [EventPriority::Urgent]);
    }

    #[test]
    fn defaults_use_an_sqlite_file_in_the_working_directory() {
        let settings = Settings::defaults();
        assert_eq!(settings.database.url, "sqlite://gridhub.db?mode=rwc");
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
    }
}
