//! Database connections: one pool for SQLite or PostgreSQL, migrations, and a counter of executed
//! SQL statements (read by tests and metrics to prove that nested queries stay bounded).

pub mod nodelay;

use crate::config::DatabaseSettings;
use crate::metrics;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A pooled connection idle for this long is pinged before use; busier ones are handed out
/// without the extra round trip (on SQLite, a hop to the connection's worker thread and back).
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Statements running at least this long are logged with their text (not their values).
const SLOW_STATEMENT: Duration = Duration::from_millis(100);

/// A connection pool and the number of statements it has executed.
#[derive(Clone)]
pub struct Database {
    /// The pool.
    pub conn: DatabaseConnection,
    statements: Arc<AtomicU64>,
}

impl Database {
    /// How many SQL statements this pool has executed since it was opened.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Size of the connection pool and how many of its connections are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        match self.conn.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn is_reachable(&self) -> bool {
        self.conn.execute_unprepared("SELECT 1").await.is_ok()
    }
}

/// Opens a pool for `settings.url` (SQLite files are created when missing).
pub async fn connect(settings: &DatabaseSettings) -> Result<Database, DbErr> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        })
        .map_sqlx_postgres_pool_opts(|o| o.after_connect(|conn, _| Box::pin(nodelay::apply(conn))));
    let mut conn = sea_orm::Database::connect(options).await?;
    let statements = Arc::new(AtomicU64::new(0));
    let counter = statements.clone();
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::sql_statement(info.elapsed.as_secs_f64(), info.failed);
        if info.elapsed >= SLOW_STATEMENT {
            tracing::warn!(elapsed = ?info.elapsed, sql = %info.statement.sql, "slow SQL statement");
        }
    });
    Ok(Database { conn, statements })
}

/// A transaction that writes: on SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
/// waiting for other writers such as the audit log, instead of failing with "database is
/// locked" when it first reads and then finds another writer committed meanwhile.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration.
pub async fn migrate(conn: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(conn, None).await
}
