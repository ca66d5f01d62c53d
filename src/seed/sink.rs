//! Chunked multi-row inserts: rows are buffered per table, a few thousand at a time, and written
//! with multi-row `INSERT`s inside transactions, so no table is ever held in memory whole.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    IntoActiveModel, Iterable, TransactionTrait,
};

/// Most bind parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_BINDS: usize = 30_000;

/// Rows of one table waiting to be written.
pub struct Buffer<E: EntityTrait> {
    rows: Vec<E::Model>,
    capacity: usize,
}

impl<E> Buffer<E>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
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

impl<E> Default for Buffer<E>
where
    E: EntityTrait,
{
    /// An empty buffer holding as many rows as fit in one statement.
    fn default() -> Self {
        let capacity = MAX_BINDS / E::Column::iter().count();
        Buffer {
            rows: Vec::with_capacity(capacity),
            capacity,
        }
    }
}

/// Writes buffers to the database, counts the rows and drives the progress bar.
pub struct Writer<'a> {
    db: &'a DatabaseConnection,
    progress: ProgressBar,
    rows: u64,
}

impl<'a> Writer<'a> {
    /// A writer for `db`; the bar (of `expected_rows`) is drawn only when `show_progress`.
    pub fn new(db: &'a DatabaseConnection, expected_rows: u64, show_progress: bool) -> Self {
        let progress = ProgressBar::with_draw_target(
            Some(expected_rows),
            if show_progress {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        progress.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<24} [{bar:40}] {human_pos}/~{human_len} rows ({per_sec}, {elapsed})",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        Writer {
            db,
            progress,
            rows: 0,
        }
    }

    /// Shows what is being generated.
    pub fn phase(&self, name: &'static str) {
        self.progress.set_message(name);
    }

    /// Starts a transaction for a group of buffers.
    pub async fn begin(&self) -> anyhow::Result<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Writes and empties `buffer` through `conn`, one multi-row statement per chunk.
    pub async fn write<E, C>(&mut self, conn: &C, buffer: &mut Buffer<E>) -> anyhow::Result<()>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel>,
        C: ConnectionTrait,
    {
        let mut rows = std::mem::take(&mut buffer.rows);
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(buffer.capacity));
            let count = rows.len() as u64;
            E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
                .exec_without_returning(conn)
                .await?;
            self.rows += count;
            self.progress.inc(count);
            rows = rest;
        }
        buffer.rows = Vec::with_capacity(buffer.capacity);
        Ok(())
    }

    /// Writes `buffer` in its own transaction.
    pub async fn write_alone<E>(&mut self, buffer: &mut Buffer<E>) -> anyhow::Result<()>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        let txn = self.begin().await?;
        self.write(&txn, buffer).await?;
        txn.commit().await?;
        Ok(())
    }

    /// On PostgreSQL, moves the `id` sequence of each table past the ids written explicitly.
    pub async fn reset_sequences(&self, tables: &[&str]) -> anyhow::Result<()> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for name in tables {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{name}', 'id'), \
                 (SELECT MAX(id) FROM \"{name}\"))"
            );
            self.db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    /// Rows written so far; clears the bar.
    pub fn finish(self) -> u64 {
        self.progress.finish_and_clear();
        self.rows
    }
}
