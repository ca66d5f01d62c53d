//! The hand-written SQL equivalent of each GraphQL query of the mix: the same rows and columns
//! gridhub needs to answer it, fetched with bind parameters over the same indexes. A grid's
//! persons and events are those whose `grid_id` lies in its subtree (`grid_closure`).

use crate::db::{ids, placeholders, Col, Conn, Param, Row};
use crate::params::Params;
use chrono::Utc;
use clap::ValueEnum;

/// Event statuses that still need work.
const OPEN: &str = "('reported', 'accepted', 'escalated', 'dispatched', 'acknowledged')";

/// One query of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Query {
    /// Person card by ID number.
    A,
    /// Grid dashboard of a community.
    B,
    /// Open events of a street in a time range.
    C,
    /// Persons by name prefix within a community.
    D,
    /// Deep nested query: a grid's persons, houses, housemates and their memberships.
    E,
}

impl Query {
    /// Runs request number `n` (parameters rotate with `n`); returns the rows fetched.
    pub async fn run(self, conn: &mut Conn, params: &Params, n: usize) -> sqlx::Result<usize> {
        match self {
            Query::A => person_card(conn, pick(&params.id_numbers, n)).await,
            Query::B => dashboard(conn, pick(&params.communities, n)).await,
            Query::C => street_events(conn, params, pick(&params.streets, n)).await,
            Query::D => {
                let names = &params.name_prefixes[n % params.name_prefixes.len()];
                names_in(conn, &names.code, &names.prefix).await
            }
            Query::E => nested(conn, pick(&params.nested_grids, n)).await,
        }
    }
}

fn pick(items: &[String], n: usize) -> &str {
    &items[n % items.len()]
}

fn text(value: &str) -> Param {
    Param::Text(value.to_owned())
}

/// a. The person, residences with houses, grid with ancestors, memberships with organizations
/// and the five newest events: one statement each.
async fn person_card(conn: &mut Conn, id_number: &str) -> sqlx::Result<usize> {
    let person = conn
        .rows(
            "SELECT id, name, gender, birth_date, id_number, phone, grid_id \
             FROM persons WHERE id_number = $1",
            &[text(id_number)],
            &[
                Col::Int,
                Col::Text,
                Col::Text,
                Col::Date,
                Col::Text,
                Col::OptText,
                Col::Int,
            ],
        )
        .await?;
    let Some(row) = person.first() else {
        return Ok(0);
    };
    let (id, grid) = (
        Param::Int(row[0].as_i64().unwrap_or(0)),
        row[6].as_i64().unwrap_or(0),
    );
    let residences = conn
        .rows(
            "SELECT r.role, r.since, h.address, h.kind, h.usage \
             FROM residences r JOIN houses h ON h.id = r.house_id WHERE r.person_id = $1",
            std::slice::from_ref(&id),
            &[Col::Text, Col::Date, Col::Text, Col::Text, Col::OptText],
        )
        .await?;
    let grids = conn
        .rows(
            "SELECT g.code, g.name, g.level FROM grid_closure c JOIN grids g ON g.id = c.ancestor_id \
             WHERE c.descendant_id = $1 ORDER BY c.depth DESC",
            &[Param::Int(grid)],
            &[Col::Text, Col::Text, Col::Text],
        )
        .await?;
    let memberships = conn
        .rows(
            "SELECT m.role, m.party_category, m.points, o.name, o.kind \
             FROM memberships m JOIN organizations o ON o.id = m.organization_id \
             WHERE m.person_id = $1",
            std::slice::from_ref(&id),
            &[Col::Text, Col::OptText, Col::OptInt32, Col::Text, Col::Text],
        )
        .await?;
    let events = conn
        .rows(
            "SELECT e.id, e.title, e.status, e.category, e.reported_at \
             FROM events e WHERE e.id IN \
               (SELECT event_id FROM event_involvements WHERE person_id = $1) \
             ORDER BY e.reported_at DESC, e.id DESC LIMIT 5",
            &[id],
            &[Col::Int, Col::Text, Col::Text, Col::Text, Col::Time],
        )
        .await?;
    Ok(1 + residences.len() + grids.len() + memberships.len() + events.len())
}

/// b. A community and its child grids, each with population, households (current household-head
/// residences in the subtree's houses), open and overdue events: one grouped count per measure
/// over the grid and its children.
async fn dashboard(conn: &mut Conn, code: &str) -> sqlx::Result<usize> {
    let grid = conn
        .rows(
            "SELECT id, code, name FROM grids WHERE code = $1",
            &[text(code)],
            &[Col::Int, Col::Text, Col::Text],
        )
        .await?;
    let Some(id) = grid.first().and_then(|row| row[0].as_i64()) else {
        return Ok(0);
    };
    let id = Param::Int(id);
    let children = conn
        .rows(
            "SELECT id, code, name FROM grids WHERE parent_id = $1 ORDER BY code",
            std::slice::from_ref(&id),
            &[Col::Int, Col::Text, Col::Text],
        )
        .await?;
    let counts = dashboard_counts(conn, id).await?;
    Ok(1 + children.len() + counts)
}

/// The grid `$1` and its children, as a subquery of ancestor ids.
const GRID_AND_CHILDREN: &str =
    "SELECT descendant_id FROM grid_closure WHERE ancestor_id = $1 AND depth <= 1";

async fn dashboard_counts(conn: &mut Conn, id: Param) -> sqlx::Result<usize> {
    let population = format!(
        "SELECT c.ancestor_id, COUNT(*) FROM grid_closure c \
         JOIN persons p ON p.grid_id = c.descendant_id \
         WHERE c.ancestor_id IN ({GRID_AND_CHILDREN}) GROUP BY c.ancestor_id"
    );
    let households = format!(
        "SELECT c.ancestor_id, COUNT(*) FROM grid_closure c \
         JOIN houses h ON h.grid_id = c.descendant_id \
         JOIN residences r ON r.house_id = h.id \
         WHERE c.ancestor_id IN ({GRID_AND_CHILDREN}) \
           AND r.role = 'household_head' AND r.until IS NULL \
         GROUP BY c.ancestor_id"
    );
    let events = format!(
        "SELECT c.ancestor_id, COUNT(*), SUM(CASE WHEN e.resolve_by < $2 THEN 1 ELSE 0 END) \
         FROM grid_closure c JOIN events e ON e.grid_id = c.descendant_id \
         WHERE c.ancestor_id IN ({GRID_AND_CHILDREN}) AND e.status IN {OPEN} \
         GROUP BY c.ancestor_id"
    );
    let pair = [Col::Int, Col::Int];
    let one = std::slice::from_ref(&id);
    let mut rows = conn.rows(&population, one, &pair).await?.len();
    rows += conn.rows(&households, one, &pair).await?.len();
    let now = Param::Time(Utc::now());
    rows += conn
        .rows(&events, &[id, now], &[Col::Int, Col::Int, Col::Int])
        .await?
        .len();
    Ok(rows)
}

/// c. The newest 50 open events of a street's subtree reported in the time range, with their grid.
async fn street_events(conn: &mut Conn, params: &Params, code: &str) -> sqlx::Result<usize> {
    let sql = format!(
        "SELECT e.id, e.title, e.status, e.priority, e.reported_at, g.code, g.name \
         FROM events e JOIN grids g ON g.id = e.grid_id \
         WHERE e.grid_id IN (SELECT c.descendant_id FROM grid_closure c \
                             JOIN grids a ON a.id = c.ancestor_id WHERE a.code = $1) \
           AND e.status IN {OPEN} AND e.reported_at >= $2 AND e.reported_at < $3 \
         ORDER BY e.reported_at DESC, e.id DESC LIMIT 50"
    );
    let binds = [
        text(code),
        Param::Time(params.reported_from),
        Param::Time(params.reported_to),
    ];
    let cols = [
        Col::Int,
        Col::Text,
        Col::Text,
        Col::Text,
        Col::Time,
        Col::Text,
        Col::Text,
    ];
    Ok(conn.rows(&sql, &binds, &cols).await?.len())
}

/// `LIKE` pattern for names starting with `prefix` (escape character `\`).
fn prefix_pattern(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// d. The first 20 persons (by id) of a community whose name starts with a prefix.
async fn names_in(conn: &mut Conn, code: &str, prefix: &str) -> sqlx::Result<usize> {
    let rows = conn
        .rows(
            "SELECT p.id, p.name, p.gender, p.birth_date FROM persons p \
             WHERE p.grid_id IN (SELECT c.descendant_id FROM grid_closure c \
                                 JOIN grids a ON a.id = c.ancestor_id WHERE a.code = $1) \
               AND p.name LIKE $2 ESCAPE '\\' \
             ORDER BY p.id LIMIT 20",
            &[text(code), Param::Text(prefix_pattern(prefix))],
            &[Col::Int, Col::Text, Col::Text, Col::Date],
        )
        .await?;
    Ok(rows.len())
}

/// e. A grid and its first 20 persons, their residences and houses, every resident of those houses and
/// those residents' memberships with organizations: one statement per level, `IN` lists of ids.
async fn nested(conn: &mut Conn, code: &str) -> sqlx::Result<usize> {
    let grid = conn
        .rows(
            "SELECT id, name FROM grids WHERE code = $1",
            &[text(code)],
            &[Col::Int, Col::Text],
        )
        .await?;
    let Some(id) = grid.first().and_then(|row| row[0].as_i64()) else {
        return Ok(0);
    };
    let persons = conn
        .rows(
            "SELECT p.id, p.name, p.id_number FROM persons p \
             WHERE p.grid_id IN (SELECT descendant_id FROM grid_closure WHERE ancestor_id = $1) \
             ORDER BY p.id LIMIT 20",
            &[Param::Int(id)],
            &[Col::Int, Col::Text, Col::Text],
        )
        .await?;
    let residences = by_ids(
        conn,
        "SELECT r.person_id, r.role, r.house_id, h.address \
         FROM residences r JOIN houses h ON h.id = r.house_id WHERE r.person_id IN",
        &ids(&persons, 0),
        &[Col::Int, Col::Text, Col::Int, Col::Text],
    )
    .await?;
    let housemates = by_ids(
        conn,
        "SELECT r.house_id, r.role, p.id, p.name \
         FROM residences r JOIN persons p ON p.id = r.person_id WHERE r.house_id IN",
        &ids(&residences, 2),
        &[Col::Int, Col::Text, Col::Int, Col::Text],
    )
    .await?;
    let memberships = by_ids(
        conn,
        "SELECT m.person_id, m.role, o.name, o.kind \
         FROM memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.person_id IN",
        &ids(&housemates, 2),
        &[Col::Int, Col::Text, Col::Text, Col::Text],
    )
    .await?;
    Ok(1 + persons.len() + residences.len() + housemates.len() + memberships.len())
}

/// Runs `head (…ids…)`, skipping the statement when there are no ids.
async fn by_ids(
    conn: &mut Conn,
    head: &str,
    ids: &[Param],
    cols: &[Col],
) -> sqlx::Result<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{head} ({})", placeholders(ids.len()));
    conn.rows(&sql, ids, cols).await
}
