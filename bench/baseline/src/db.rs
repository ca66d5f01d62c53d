//! One small interface over SQLite and PostgreSQL: run a statement with bind parameters and
//! decode its columns by declared type, so that every hand-written query is written once and
//! runs on both. Statements use `$1`, `$2` … placeholders, which both drivers accept.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _};
use std::str::FromStr;
use std::time::Duration;

/// A bind parameter.
#[derive(Debug, Clone)]
pub enum Param {
    /// A 64-bit integer (ids).
    Int(i64),
    /// Text.
    Text(String),
    /// An instant, bound as the driver binds `DateTime<Utc>` (as gridhub does).
    Time(DateTime<Utc>),
}

/// The type of a result column, as stored by gridhub's migrations.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    /// `BIGINT` (ids, counts).
    Int,
    /// Nullable `INTEGER`.
    OptInt32,
    /// Text.
    Text,
    /// Nullable text.
    OptText,
    /// A calendar day.
    Date,
    /// An instant with time zone.
    Time,
}

/// One decoded result row.
pub type Row = Vec<Value>;

/// A connection pool to either database.
pub enum Pool {
    /// SQLite file.
    Sqlite(SqlitePool),
    /// PostgreSQL server.
    Postgres(PgPool),
}

/// One connection taken from a [`Pool`] and kept for a worker's whole run.
pub enum Conn {
    /// SQLite connection.
    Sqlite(PoolConnection<Sqlite>),
    /// PostgreSQL connection.
    Postgres(PoolConnection<Postgres>),
}

impl Pool {
    /// Opens a pool of `size` connections to `url` (`sqlite://…` or `postgres://…`); connections
    /// get the same settings as gridhub's (SQLite pragmas, `TCP_NODELAY` on PostgreSQL).
    pub async fn connect(url: &str, size: u32) -> sqlx::Result<Pool> {
        if url.starts_with("postgres") {
            let pool = PgPoolOptions::new()
                .max_connections(size)
                .after_connect(|conn, _| Box::pin(gridhub::db::nodelay::apply(conn)))
                .connect(url)
                .await?;
            return Ok(Pool::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(size)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    }

    /// Takes a connection out of the pool.
    pub async fn acquire(&self) -> sqlx::Result<Conn> {
        Ok(match self {
            Pool::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }
}

/// Binds `$params` to `$sql`, runs it on `$conn` and decodes every row by `$cols`.
macro_rules! fetch {
    ($conn:expr, $sql:expr, $params:expr, $cols:expr) => {{
        let mut query = sqlx::query(AssertSqlSafe($sql));
        for param in $params {
            query = match param {
                Param::Int(v) => query.bind(*v),
                Param::Text(v) => query.bind(v.clone()),
                Param::Time(v) => query.bind(*v),
            };
        }
        let rows = query.fetch_all(&mut **$conn).await?;
        rows.iter()
            .map(|row| {
                $cols
                    .iter()
                    .enumerate()
                    .map(|(i, col)| {
                        Ok(match col {
                            Col::Int => Value::from(row.try_get::<i64, _>(i)?),
                            Col::OptInt32 => Value::from(row.try_get::<Option<i32>, _>(i)?),
                            Col::Text => Value::from(row.try_get::<String, _>(i)?),
                            Col::OptText => Value::from(row.try_get::<Option<String>, _>(i)?),
                            Col::Date => Value::from(row.try_get::<NaiveDate, _>(i)?.to_string()),
                            Col::Time => {
                                Value::from(row.try_get::<DateTime<Utc>, _>(i)?.to_rfc3339())
                            }
                        })
                    })
                    .collect::<sqlx::Result<Row>>()
            })
            .collect()
    }};
}

impl Conn {
    /// Runs `sql` with `params` and decodes the columns `cols` of every row.
    pub async fn rows(
        &mut self,
        sql: &str,
        params: &[Param],
        cols: &[Col],
    ) -> sqlx::Result<Vec<Row>> {
        match self {
            Conn::Sqlite(conn) => fetch!(conn, sql, params, cols),
            Conn::Postgres(conn) => fetch!(conn, sql, params, cols),
        }
    }
}

/// `$1, $2, …, $count`: the body of an `IN (…)` list.
pub fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct values of integer column `index` over `rows`, as bind parameters.
pub fn ids(rows: &[Row], index: usize) -> Vec<Param> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|row| row[index].as_i64()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().map(Param::Int).collect()
}
