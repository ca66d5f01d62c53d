//! PostgreSQL side of the seed sink: chunks of rows as `COPY … FROM STDIN` text-format data
//! (tab-separated, `\N` for NULL, backslash escapes for backslashes, tabs and line breaks).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Postgres};
use sea_orm::Value;
use std::io::Write;

/// Makes the seed's connection commit without waiting for the WAL flush (a crash may lose the
/// last commits of the seed but never corrupts the database) and gives its index builds more
/// memory; the connection is closed after the seed.
pub async fn tune(conn: &mut PoolConnection<Postgres>) -> anyhow::Result<()> {
    sqlx::raw_sql("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
        .execute(&mut **conn)
        .await?;
    Ok(())
}

/// Name and `CREATE INDEX` statement of every index of the current schema that backs no
/// constraint (primary keys, unique constraints and the foreign keys that rely on them stay).
pub async fn secondary_indexes(
    conn: &mut PoolConnection<Postgres>,
) -> anyhow::Result<Vec<(String, String)>> {
    let indexes = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(i.oid) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .fetch_all(&mut **conn)
    .await?;
    Ok(indexes)
}

/// Text-format `COPY` data of a chunk being encoded.
pub struct CopyRows {
    data: Vec<u8>,
    row_started: bool,
    rows: u64,
}

impl CopyRows {
    /// Room for about `rows` rows of `columns` columns.
    pub fn new(rows: usize, columns: usize) -> Self {
        CopyRows {
            data: Vec::with_capacity(rows * columns * 16),
            row_started: false,
            rows: 0,
        }
    }

    /// Appends the next value of the current row.
    pub fn push(&mut self, value: Value) -> anyhow::Result<()> {
        if self.row_started {
            self.data.push(b'\t');
        }
        self.row_started = true;
        write_value(&mut self.data, value)
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.data.push(b'\n');
        self.row_started = false;
        self.rows += 1;
    }

    /// The chunk as a `COPY` into `columns` of `table`.
    pub fn finish(self, table: &str, columns: &[&str]) -> Copy {
        let columns: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        Copy {
            statement: format!(
                "COPY \"{table}\" ({}) FROM STDIN (FORMAT text)",
                columns.join(", ")
            ),
            data: self.data,
            rows: self.rows,
        }
    }
}

/// A `COPY` ready to run.
pub struct Copy {
    statement: String,
    data: Vec<u8>,
    /// Rows it copies.
    pub rows: u64,
}

impl Copy {
    /// Streams the data through `conn`.
    pub async fn execute(self, conn: &mut PoolConnection<Postgres>) -> anyhow::Result<()> {
        let mut copy = conn.copy_in_raw(&self.statement).await?;
        copy.send(self.data).await?;
        copy.finish().await?;
        Ok(())
    }
}

/// Writes `value` as a text-format field.
fn write_value(out: &mut Vec<u8>, value: Value) -> anyhow::Result<()> {
    match value {
        Value::Bool(v) => field(out, v, |out, b| {
            out.push(if b { b't' } else { b'f' });
            Ok(())
        }),
        Value::Int(v) => field(out, v, |out, n| Ok(write!(out, "{n}")?)),
        Value::BigInt(v) => field(out, v, |out, n| Ok(write!(out, "{n}")?)),
        Value::Double(v) => field(out, v, |out, x| Ok(write!(out, "{x}")?)),
        Value::String(v) => field(out, v, |out, text| {
            escape(out, &text);
            Ok(())
        }),
        Value::ChronoDate(v) => field(out, v, write_date),
        Value::ChronoDateTimeUtc(v) => field(out, v, write_timestamp),
        other => anyhow::bail!("no COPY text form for {other:?}"),
    }
}

/// Writes `\N` for `None`, or the value with `write`.
fn field<T>(
    out: &mut Vec<u8>,
    value: Option<T>,
    write: impl FnOnce(&mut Vec<u8>, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match value {
        Some(value) => write(out, value),
        None => {
            out.extend_from_slice(b"\\N");
            Ok(())
        }
    }
}

/// Appends `text` with backslashes, tabs, newlines and carriage returns escaped.
fn escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// `YYYY-MM-DD`.
fn write_date(out: &mut Vec<u8>, date: NaiveDate) -> anyhow::Result<()> {
    write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month(),
        date.day()
    )?;
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS[.fffffffff]+00`.
fn write_timestamp(out: &mut Vec<u8>, at: DateTime<Utc>) -> anyhow::Result<()> {
    write_date(out, at.date_naive())?;
    write!(
        out,
        " {:02}:{:02}:{:02}",
        at.hour(),
        at.minute(),
        at.second()
    )?;
    if at.nanosecond() > 0 {
        write!(out, ".{:09}", at.nanosecond())?;
    }
    out.extend_from_slice(b"+00");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn text(values: Vec<Value>) -> String {
        let mut rows = CopyRows::new(1, values.len());
        for value in values {
            rows.push(value).unwrap();
        }
        rows.end_row();
        String::from_utf8(rows.finish("t", &["a"]).data).unwrap()
    }

    #[test]
    fn special_characters_are_escaped() {
        let mut out = Vec::new();
        escape(&mut out, "a\\b\tc\nd\re 网格");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re 网格".as_bytes());
    }

    #[test]
    fn rows_are_tab_separated_with_null_markers() {
        let row = text(vec![
            Value::BigInt(Some(7)),
            Value::String(None),
            Value::Bool(Some(true)),
            Value::Double(Some(45.5)),
            Value::Int(Some(-3)),
            Value::String(Some("两\t行".into())),
        ]);
        assert_eq!(row, "7\t\\N\tt\t45.5\t-3\t两\\t行\n");
    }

    #[test]
    fn dates_and_instants_are_iso() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 7, 5, 3).unwrap();
        let row = text(vec![
            Value::ChronoDate(Some(day)),
            Value::ChronoDateTimeUtc(Some(at)),
            Value::ChronoDateTimeUtc(Some(at + chrono::Duration::milliseconds(250))),
        ]);
        assert_eq!(
            row,
            "2026-03-09\t2026-11-01 07:05:03+00\t2026-11-01 07:05:03.250000000+00\n"
        );
    }

    #[test]
    fn statement_names_every_column() {
        let copy = CopyRows::new(0, 2).finish("persons", &["id", "name"]);
        assert_eq!(
            copy.statement,
            "COPY \"persons\" (\"id\", \"name\") FROM STDIN (FORMAT text)"
        );
        assert_eq!(copy.rows, 0);
    }

    #[test]
    fn unsupported_values_are_refused() {
        assert!(write_value(&mut Vec::new(), Value::Char(Some('x'))).is_err());
    }
}
