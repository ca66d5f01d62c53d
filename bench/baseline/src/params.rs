//! The request parameters of the benchmark, drawn deterministically from a seeded dataset: ID
//! numbers for the person card, community and street codes, name prefixes that exist within a
//! community, grid codes for the nested query, and the time range of the street-events query.
//! The same file feeds the HTTP load generator and the SQL baseline.

use crate::db::{Col, Conn, Param, Row};
use anyhow::{ensure, Context, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Person ID numbers to sample.
const ID_NUMBERS: i64 = 1_000;
/// (community, prefix) pairs to sample.
const NAME_PREFIXES: i64 = 200;
/// Grid codes to sample for the nested query.
const NESTED_GRIDS: usize = 200;
/// Days before the end of the range that the street-events query covers.
const RANGE_DAYS: i64 = 90;

/// A two-character name prefix that occurs among the persons of a community.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamePrefix {
    /// Community grid code.
    pub code: String,
    /// First two characters of a name.
    pub prefix: String,
}

/// Everything the requests of the query mix are built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    /// Persons in the dataset when sampled.
    pub persons: i64,
    /// ID numbers of persons spread evenly over the id range (person card).
    pub id_numbers: Vec<String>,
    /// Codes of all communities (dashboard).
    pub communities: Vec<String>,
    /// Codes of all streets (street events).
    pub streets: Vec<String>,
    /// Name prefixes with their communities (names in a community).
    pub name_prefixes: Vec<NamePrefix>,
    /// Codes of grids (level `grid`) spread over the district (nested query).
    pub nested_grids: Vec<String>,
    /// Start of the street-events time range (inclusive).
    pub reported_from: DateTime<Utc>,
    /// End of the street-events time range (exclusive).
    pub reported_to: DateTime<Utc>,
}

impl Params {
    /// Reads a parameter file written by [`sample`].
    pub fn load(path: &Path) -> Result<Params> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Writes the parameters as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }
}

fn texts(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|row| row[0].as_str().map(str::to_owned))
        .collect()
}

async fn codes_at(conn: &mut Conn, level: &str) -> Result<Vec<String>> {
    let sql = "SELECT code FROM grids WHERE level = $1 ORDER BY code";
    let rows = conn
        .rows(sql, &[Param::Text(level.into())], &[Col::Text])
        .await?;
    Ok(texts(&rows))
}

async fn person_count(conn: &mut Conn) -> Result<i64> {
    let rows = conn
        .rows("SELECT COUNT(*) FROM persons", &[], &[Col::Int])
        .await?;
    Ok(rows[0][0].as_i64().unwrap_or(0))
}

async fn id_numbers(conn: &mut Conn, persons: i64) -> Result<Vec<String>> {
    let sql = "SELECT id_number FROM persons WHERE id % $1 = 0 ORDER BY id LIMIT $2";
    let step = (persons / ID_NUMBERS).max(1);
    let params = [Param::Int(step), Param::Int(ID_NUMBERS)];
    Ok(texts(&conn.rows(sql, &params, &[Col::Text]).await?))
}

/// The most common prefixes of each community first, then the second most common, and so on.
async fn name_prefixes(conn: &mut Conn) -> Result<Vec<NamePrefix>> {
    let sql = "SELECT code, prefix FROM ( \
           SELECT g.code AS code, substr(p.name, 1, 2) AS prefix, \
                  ROW_NUMBER() OVER (PARTITION BY g.code \
                                     ORDER BY COUNT(*) DESC, substr(p.name, 1, 2)) AS pos \
           FROM grids g \
           JOIN grid_closure c ON c.ancestor_id = g.id \
           JOIN persons p ON p.grid_id = c.descendant_id \
           WHERE g.level = 'community' \
           GROUP BY g.code, substr(p.name, 1, 2) \
         ) ranked ORDER BY pos, code LIMIT $1";
    let rows = conn
        .rows(sql, &[Param::Int(NAME_PREFIXES)], &[Col::Text, Col::Text])
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(NamePrefix {
                code: row[0].as_str()?.to_owned(),
                prefix: row[1].as_str()?.to_owned(),
            })
        })
        .collect())
}

fn spread(items: Vec<String>, count: usize) -> Vec<String> {
    let step = items.len().div_ceil(count).max(1);
    items.into_iter().step_by(step).collect()
}

/// Draws the parameters from the dataset behind `conn`.
pub async fn sample(conn: &mut Conn) -> Result<Params> {
    let persons = person_count(conn).await?;
    ensure!(persons > 0, "the dataset has no persons: seed it first");
    let reported_to = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .context("a valid fixed instant")?;
    Ok(Params {
        persons,
        id_numbers: id_numbers(conn, persons).await?,
        communities: codes_at(conn, "community").await?,
        streets: codes_at(conn, "street").await?,
        name_prefixes: name_prefixes(conn).await?,
        nested_grids: spread(codes_at(conn, "grid").await?, NESTED_GRIDS),
        reported_from: reported_to - Duration::days(RANGE_DAYS),
        reported_to,
    })
}
