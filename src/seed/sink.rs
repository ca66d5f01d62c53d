//! Bulk writing: rows are buffered per table, encoded a chunk at a time for the database at hand
//! (multi-row `INSERT`s with bind parameters on SQLite, `COPY … FROM STDIN` on PostgreSQL) and
//! sent as one batch per flush over a dedicated connection, in large transactions. The database
//! works on one batch while the next is generated, and no table is ever held in memory whole.

mod postgres;
mod sqlite;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, AssertSqlSafe, Postgres, Sqlite};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbBackend, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, Value,
};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinHandle;

use postgres::{Copy, CopyRows};
use sqlite::{Insert, InsertRows};

/// Most bind parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_BINDS: usize = 32_766;
/// Rows after which the open transaction is committed (and SQLite's WAL checkpointed).
const COMMIT_ROWS: u64 = 500_000;

/// Rows of one table waiting to be written.
pub struct Buffer<E: EntityTrait> {
    rows: Vec<E::Model>,
    capacity: usize,
}

impl<E: EntityTrait> Buffer<E> {
    /// Adds a row.
    pub fn push(&mut self, row: E::Model) {
        self.rows.push(row);
    }

    /// The row added last, while it is still buffered.
    pub fn last_mut(&mut self) -> Option<&mut E::Model> {
        self.rows.last_mut()
    }

    /// Whether the buffer holds at least one statement's worth of rows.
    pub fn is_full(&self) -> bool {
        self.rows.len() >= self.capacity
    }
}

impl<E: EntityTrait> Default for Buffer<E> {
    /// An empty buffer holding as many rows as fit in one statement.
    fn default() -> Self {
        let capacity = MAX_BINDS / E::Column::iter().count();
        Buffer {
            rows: Vec::with_capacity(capacity),
            capacity,
        }
    }
}

/// A table's name and columns, in the order values are encoded.
struct Table {
    name: &'static str,
    columns: Vec<&'static str>,
}

impl Table {
    fn of<E: EntityTrait>() -> Table {
        Table {
            name: E::default().table_name(),
            columns: E::Column::iter().map(|c| c.as_str()).collect(),
        }
    }
}

/// One encoded statement's worth of rows.
enum Chunk {
    Insert(Insert),
    Copy(Copy),
}

impl Chunk {
    fn rows(&self) -> u64 {
        match self {
            Chunk::Insert(insert) => insert.rows,
            Chunk::Copy(copy) => copy.rows,
        }
    }
}

/// Rows of a chunk being encoded.
enum Rows {
    Sqlite(InsertRows),
    Postgres(CopyRows),
}

impl Rows {
    fn push(&mut self, value: Value) -> anyhow::Result<()> {
        match self {
            Rows::Sqlite(rows) => rows.push(value),
            Rows::Postgres(rows) => rows.push(value),
        }
    }

    fn end_row(&mut self) {
        match self {
            Rows::Sqlite(rows) => rows.end_row(),
            Rows::Postgres(rows) => rows.end_row(),
        }
    }
}

/// The pooled connection the seed writes through; it is closed, not returned to the pool, when
/// dropped, so that an unfinished transaction is rolled back and seed-only settings go with it.
enum Connection {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// The connection with its transaction state.
struct Session {
    connection: Connection,
    in_transaction: bool,
    uncommitted: u64,
    /// `CREATE INDEX` statements of the secondary indexes dropped for the load.
    deferred_indexes: Vec<String>,
}

impl Session {
    /// A dedicated connection of `db`, tuned for bulk loading.
    async fn open(db: &DatabaseConnection) -> anyhow::Result<Session> {
        let connection = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let mut conn = db.get_sqlite_connection_pool().acquire().await?;
                conn.close_on_drop();
                sqlite::tune(&mut conn).await?;
                Connection::Sqlite(conn)
            }
            DbBackend::Postgres => {
                let mut conn = db.get_postgres_connection_pool().acquire().await?;
                conn.close_on_drop();
                postgres::tune(&mut conn).await?;
                Connection::Postgres(conn)
            }
            other => anyhow::bail!("seeding {other:?} databases is not supported"),
        };
        let mut session = Session {
            connection,
            in_transaction: false,
            uncommitted: 0,
            deferred_indexes: Vec::new(),
        };
        session.defer_indexes().await?;
        Ok(session)
    }

    /// Runs a statement without arguments.
    async fn run(&mut self, sql: impl Into<String>) -> anyhow::Result<()> {
        let sql = AssertSqlSafe(sql.into());
        match &mut self.connection {
            Connection::Sqlite(conn) => {
                sqlx::raw_sql(sql).execute(&mut **conn).await?;
            }
            Connection::Postgres(conn) => {
                sqlx::raw_sql(sql).execute(&mut **conn).await?;
            }
        }
        Ok(())
    }

    /// Drops the secondary indexes (those no constraint depends on), remembering how to build
    /// them again: one sorted build per index after the load is much cheaper than keeping
    /// large indexes in random order up to date row by row.
    async fn defer_indexes(&mut self) -> anyhow::Result<()> {
        let indexes = match &mut self.connection {
            Connection::Sqlite(conn) => sqlite::secondary_indexes(conn).await?,
            Connection::Postgres(conn) => postgres::secondary_indexes(conn).await?,
        };
        for (name, definition) in indexes {
            self.run(format!("DROP INDEX \"{name}\"")).await?;
            self.deferred_indexes.push(definition);
        }
        Ok(())
    }

    /// Builds the indexes dropped by [`Session::defer_indexes`] again.
    async fn restore_indexes(&mut self) -> anyhow::Result<()> {
        for definition in std::mem::take(&mut self.deferred_indexes) {
            self.run(definition).await?;
        }
        Ok(())
    }

    /// Writes `chunk`, opening a transaction first if none is open.
    async fn write(&mut self, chunk: Chunk) -> anyhow::Result<()> {
        if !self.in_transaction {
            self.run("BEGIN").await?;
            self.in_transaction = true;
        }
        self.uncommitted += chunk.rows();
        match (&mut self.connection, chunk) {
            (Connection::Sqlite(conn), Chunk::Insert(insert)) => insert.execute(conn).await,
            (Connection::Postgres(conn), Chunk::Copy(copy)) => copy.execute(conn).await,
            _ => anyhow::bail!("a chunk was encoded for another database"),
        }
    }

    /// Commits the open transaction, if any.
    async fn commit(&mut self) -> anyhow::Result<()> {
        if self.in_transaction {
            self.run("COMMIT").await?;
            self.in_transaction = false;
            self.uncommitted = 0;
        }
        Ok(())
    }

    /// Gathers PostgreSQL's planner statistics for the loaded tables (its autovacuum may be
    /// off, or not yet have run, and without them the first queries are planned for empty
    /// tables).
    async fn analyze(&mut self) -> anyhow::Result<()> {
        match self.connection {
            Connection::Sqlite(_) => Ok(()),
            Connection::Postgres(_) => self.run("ANALYZE").await,
        }
    }

    /// Checks what the database did not check while loading (SQLite's foreign keys).
    async fn verify(&mut self) -> anyhow::Result<()> {
        match &mut self.connection {
            Connection::Sqlite(conn) => sqlite::verify(conn).await,
            Connection::Postgres(_) => Ok(()),
        }
    }

    /// Writes a batch of chunks in order, counting them on `progress`; commits once the
    /// transaction has grown large.
    async fn write_batch(
        mut self,
        batch: Vec<Chunk>,
        progress: ProgressBar,
    ) -> anyhow::Result<Session> {
        for chunk in batch {
            let rows = chunk.rows();
            self.write(chunk).await?;
            progress.inc(rows);
        }
        if self.uncommitted >= COMMIT_ROWS {
            self.commit().await?;
        }
        Ok(self)
    }
}

/// Where the session is: free, busy writing the previous batch, or lost to an error.
enum Link {
    Idle(Session),
    Busy(JoinHandle<anyhow::Result<Session>>),
    Broken,
}

/// Encodes buffers, sends them to the database in batches, counts the rows and drives the
/// progress bar.
pub struct Writer {
    backend: DbBackend,
    link: Link,
    batch: Vec<Chunk>,
    insert_shapes: HashMap<&'static str, Arc<str>>,
    progress: ProgressBar,
    rows: u64,
}

impl Writer {
    /// A writer on a dedicated connection of `db`; the bar (of `expected_rows`) is drawn only
    /// when `show_progress`.
    pub async fn open(
        db: &DatabaseConnection,
        expected_rows: u64,
        show_progress: bool,
    ) -> anyhow::Result<Writer> {
        let session = Session::open(db).await?;
        Ok(Writer {
            backend: db.get_database_backend(),
            link: Link::Idle(session),
            batch: Vec::new(),
            insert_shapes: HashMap::new(),
            progress: progress_bar(expected_rows, show_progress),
            rows: 0,
        })
    }

    /// Shows what is being generated.
    pub fn phase(&self, name: &'static str) {
        self.progress.set_message(name);
    }

    /// Encodes and empties `buffer` into the next batch, one statement per chunk of rows.
    pub fn write<E>(&mut self, buffer: &mut Buffer<E>) -> anyhow::Result<()>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        let table = Table::of::<E>();
        let mut rows = std::mem::replace(&mut buffer.rows, Vec::with_capacity(buffer.capacity));
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(buffer.capacity));
            let full = rows.len() == buffer.capacity;
            let chunk = self.encode::<E>(&table, rows, full)?;
            self.rows += chunk.rows();
            self.batch.push(chunk);
            rows = rest;
        }
        Ok(())
    }

    /// Sends the batch written so far: waits until the database has taken the previous one, then
    /// lets it write this one while the caller generates the next.
    pub async fn send(&mut self) -> anyhow::Result<()> {
        let session = self.session().await?;
        let batch = std::mem::take(&mut self.batch);
        let progress = self.progress.clone();
        self.link = Link::Busy(tokio::spawn(session.write_batch(batch, progress)));
        Ok(())
    }

    /// Sends what is left, commits, verifies, clears the bar and returns the number of rows
    /// written.
    pub async fn finish(mut self) -> anyhow::Result<u64> {
        self.send().await?;
        let mut session = self.session().await?;
        session.commit().await?;
        self.progress.set_message("indexes");
        session.restore_indexes().await?;
        session.analyze().await?;
        session.verify().await?;
        self.progress.finish_and_clear();
        Ok(self.rows)
    }

    /// The session, once it has written the batch it was busy with.
    async fn session(&mut self) -> anyhow::Result<Session> {
        match std::mem::replace(&mut self.link, Link::Broken) {
            Link::Idle(session) => Ok(session),
            Link::Busy(task) => task.await?,
            Link::Broken => anyhow::bail!("an earlier write failed"),
        }
    }

    /// Encodes `rows` of `table` for the backend; `full` chunks share one statement shape.
    fn encode<E>(&mut self, table: &Table, rows: Vec<E::Model>, full: bool) -> anyhow::Result<Chunk>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        let count = rows.len();
        let mut encoded = match self.backend {
            DbBackend::Postgres => Rows::Postgres(CopyRows::new(count, table.columns.len())),
            _ => Rows::Sqlite(InsertRows::new(count * table.columns.len())),
        };
        for row in rows {
            let mut active = row.into_active_model();
            for column in E::Column::iter() {
                let value = active.take(column).into_value().ok_or_else(|| {
                    anyhow::anyhow!("{}.{} was not set", table.name, column.as_str())
                })?;
                encoded.push(value)?;
            }
            encoded.end_row();
        }
        Ok(match encoded {
            Rows::Postgres(rows) => Chunk::Copy(rows.finish(table.name, &table.columns)),
            Rows::Sqlite(rows) => {
                let sql = if full {
                    self.insert_shapes
                        .entry(table.name)
                        .or_insert_with(|| {
                            sqlite::insert_sql(table.name, &table.columns, count).into()
                        })
                        .clone()
                } else {
                    sqlite::insert_sql(table.name, &table.columns, count).into()
                };
                Chunk::Insert(rows.finish(sql, full))
            }
        })
    }
}

/// A bar of `expected_rows` on stderr, or a hidden one.
fn progress_bar(expected_rows: u64, show: bool) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let progress = ProgressBar::with_draw_target(Some(expected_rows), target);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:<24} [{bar:40}] {human_pos}/~{human_len} rows ({per_sec}, {elapsed})",
        )
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    progress
}

/// On PostgreSQL, moves the `id` sequence of each table past the ids written explicitly.
pub async fn reset_sequences(db: &DatabaseConnection, tables: &[&str]) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for name in tables {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{name}', 'id'), \
             (SELECT MAX(id) FROM \"{name}\"))"
        );
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
