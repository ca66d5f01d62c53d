//! SQLite side of the seed sink: multi-row `INSERT`s with one bind parameter per value, bound
//! exactly as sea-orm binds them, with the statement of a full chunk prepared once per table.

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::sqlite::SqliteArguments;
use sea_orm::sqlx::{self, Arguments, AssertSqlSafe, Sqlite};
use sea_orm::Value;
use std::fmt::Write;
use std::sync::Arc;

/// Page cache of the seed's connection, in KiB (SQLite's default is 2 MiB): random-order
/// indexes such as the persons' names stay in memory instead of being re-read from the file.
const CACHE_KIB: u32 = 128 * 1024;

/// Sets the seed connection's page cache and defers foreign-key enforcement to [`verify`] (the
/// connection is closed after the seed, so the app's own connections keep their settings).
pub async fn tune(conn: &mut PoolConnection<Sqlite>) -> anyhow::Result<()> {
    let sql = format!("PRAGMA cache_size = -{CACHE_KIB}; PRAGMA foreign_keys = OFF");
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut **conn)
        .await?;
    Ok(())
}

/// Name and `CREATE INDEX` statement of every index declared by the migrations (SQLite's own
/// indexes behind primary keys and unique constraints have no statement and stay).
pub async fn secondary_indexes(
    conn: &mut PoolConnection<Sqlite>,
) -> anyhow::Result<Vec<(String, String)>> {
    let indexes = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(&mut **conn)
    .await?;
    Ok(indexes)
}

/// Checks every foreign key of the written rows at once (cheaper than row by row while
/// loading); fails naming the first table with a dangling reference.
pub async fn verify(conn: &mut PoolConnection<Sqlite>) -> anyhow::Result<()> {
    let dangling: Option<(String, Option<i64>, String, i64)> =
        sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_optional(&mut **conn)
            .await?;
    match dangling {
        Some((table, row, parent, _)) => {
            anyhow::bail!("row {row:?} of {table} refers to a missing row of {parent}")
        }
        None => Ok(()),
    }
}

/// `INSERT INTO "table" ("a", "b") VALUES (?, ?), …` for `rows` rows.
pub fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO \"{table}\" (");
    for (i, column) in columns.iter().enumerate() {
        let comma = if i == 0 { "" } else { ", " };
        write!(sql, "{comma}\"{column}\"").expect("writing to a string");
    }
    sql.push_str(") VALUES ");
    let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
    sql.reserve(rows * (tuple.len() + 2));
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&tuple);
    }
    sql
}

/// Values of a chunk being bound.
pub struct InsertRows {
    args: SqliteArguments,
    rows: u64,
}

impl InsertRows {
    /// Room for `values` values.
    pub fn new(values: usize) -> Self {
        let mut args = SqliteArguments::default();
        args.reserve(values, 0);
        InsertRows { args, rows: 0 }
    }

    /// Binds the next value.
    pub fn push(&mut self, value: Value) -> anyhow::Result<()> {
        let added = match value {
            Value::Bool(v) => self.args.add(v),
            Value::Int(v) => self.args.add(v),
            Value::BigInt(v) => self.args.add(v),
            Value::Double(v) => self.args.add(v),
            Value::String(v) => self.args.add(v),
            Value::ChronoDate(v) => self.args.add(v),
            Value::ChronoDateTimeUtc(v) => self.args.add(v),
            other => anyhow::bail!("no SQLite binding for {other:?}"),
        };
        added.map_err(|error| anyhow::anyhow!(error))
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.rows += 1;
    }

    /// The chunk as the statement `sql`, kept prepared if `reuse` (full chunks share one shape).
    pub fn finish(self, sql: Arc<str>, reuse: bool) -> Insert {
        Insert {
            sql,
            args: self.args,
            reuse,
            rows: self.rows,
        }
    }
}

/// A multi-row `INSERT` ready to run.
pub struct Insert {
    sql: Arc<str>,
    args: SqliteArguments,
    reuse: bool,
    /// Rows it inserts.
    pub rows: u64,
}

impl Insert {
    /// Runs the statement on `conn`.
    pub async fn execute(self, conn: &mut PoolConnection<Sqlite>) -> anyhow::Result<()> {
        sqlx::query_with(AssertSqlSafe(self.sql), self.args)
            .persistent(self.reuse)
            .execute(&mut **conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_has_a_tuple_per_row() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn unsupported_values_are_refused() {
        let mut rows = InsertRows::new(1);
        assert!(rows.push(Value::Char(Some('x'))).is_err());
        assert!(rows.push(Value::String(None)).is_ok());
    }
}
