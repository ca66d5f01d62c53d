//! Counts over a grid's subtree for dashboards and command centres: population, households,
//! open and overdue events, and (in [`breakdown`]) events by status, category, priority and day,
//! deadline compliance, party members, volunteers and volunteer hours; the most overdue events.
//! Every count a request asks for, over however many grids, is answered by one SQL statement:
//! per kind of count and per few grids a `GROUP BY` over the grid closure, the parts joined by
//! `UNION ALL`. Population and households sum the per-grid tallies (`crate::tally`), so their
//! cost grows with the number of grids in the subtree, not with the number of persons; open and
//! overdue events are counted live (the loop keeps them few).
//!
//! Small-count suppression (`crate::domain::suppression`): a count made of rows the caller's
//! role may not read — persons for a command-centre screen — is withheld (null, flagged
//! `suppressed`) when it is above zero and below `aggregates.suppress_below`, and rounded to
//! the nearest multiple of it otherwise (against differencing). Person-derived
//! counts (population, households, party members, volunteers and their hours) fall under
//! `person`; event counts under `event` (so a role that lists events sees their counts exactly);
//! volunteer activity counts under `volunteer_activity`.

mod breakdown;
mod figures;

pub use figures::GridStats;

use super::error::OrInternal;
use super::event::OPEN;
use super::loader::{union_all, DbLoader, UNION_CHUNK};
use crate::entity::{event, grid_closure, grid_tally};
use crate::event_loop::overdue_at;
use async_graphql::dataloader::Loader;
use async_graphql::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoColumnRef, IntoIden, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait};
use std::collections::HashMap;

/// The kinds of count a grid dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    /// Persons living in the subtree.
    Population,
    /// Current household heads of the subtree's houses.
    Households,
    /// Events that still need work.
    OpenEvents,
    /// Open events past their resolution deadline.
    OverdueEvents,
}

const ALL: [Stat; 4] = [
    Stat::Population,
    Stat::Households,
    Stat::OpenEvents,
    Stat::OverdueEvents,
];

/// One count over the subtree of one grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatKey {
    /// What to count.
    pub stat: Stat,
    /// The grid whose subtree is counted.
    pub grid_id: i64,
}

/// Most grids one part of the batch counts. Few grids per part keep both databases' planners
/// walking from the closure (SQLite, without statistics, turns to scanning the events once an
/// `IN` list of ancestors grows past about 25), while few parts keep PostgreSQL's planning short.
const GRIDS_PER_PART: usize = 16;

/// `FROM grid_closure JOIN table ON column = descendant_id WHERE ancestor_id IN (grids)
/// … GROUP BY ancestor_id`: the rows of `table` in the subtrees of `grids`, walked from the
/// closure, one group per grid.
fn from_subtrees(
    select: &mut SelectStatement,
    table: impl IntoIden,
    column: impl IntoColumnRef,
    grids: &[i64],
) {
    let ancestor = (grid_closure::Entity, grid_closure::Column::AncestorId);
    select
        .expr_as(Expr::col(ancestor), Alias::new("grid"))
        .from(grid_closure::Entity)
        .inner_join(
            table,
            Expr::col(column).equals((grid_closure::Entity, grid_closure::Column::DescendantId)),
        )
        .and_where(Expr::col(ancestor).is_in(grids.iter().copied()))
        .group_by_col(ancestor);
}

/// The sum of a tally column over each subtree.
fn tallied(select: &mut SelectStatement, column: grid_tally::Column, grids: &[i64]) {
    let sum = Expr::col((grid_tally::Entity, column)).sum();
    select.expr_as(sum.cast_as(Alias::new("BIGINT")), Alias::new("n"));
    from_subtrees(
        select,
        grid_tally::Entity,
        (grid_tally::Entity, grid_tally::Column::GridId),
        grids,
    );
}

/// The open events of each subtree, counted.
fn open_events(select: &mut SelectStatement, grids: &[i64]) {
    select.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
    from_subtrees(
        select,
        event::Entity,
        (event::Entity, event::Column::GridId),
        grids,
    );
    select.and_where(event::Column::Status.is_in(OPEN));
}

/// `SELECT stat, grid, n FROM … GROUP BY grid`: one kind of count over a few grids, as one part
/// of the batch's `UNION ALL`.
fn statement(stat: Stat, grids: &[i64]) -> SelectStatement {
    let index = ALL.iter().position(|s| *s == stat).unwrap_or_default();
    let mut select = Query::select();
    select.expr_as(
        Expr::cust(format!("CAST({index} AS BIGINT)")),
        Alias::new("stat"),
    );
    match stat {
        Stat::Population => tallied(&mut select, grid_tally::Column::Population, grids),
        Stat::Households => tallied(&mut select, grid_tally::Column::Households, grids),
        Stat::OpenEvents => open_events(&mut select, grids),
        Stat::OverdueEvents => {
            open_events(&mut select, grids);
            select.cond_where(overdue_at(Utc::now()));
        }
    }
    select
}

impl Loader<StatKey> for DbLoader {
    type Value = i64;
    type Error = Error;

    async fn load(&self, keys: &[StatKey]) -> Result<HashMap<StatKey, i64>, Error> {
        let mut wanted: HashMap<Stat, Vec<i64>> = HashMap::new();
        for key in keys {
            wanted.entry(key.stat).or_default().push(key.grid_id);
        }
        let parts: Vec<SelectStatement> = wanted
            .iter()
            .flat_map(|(stat, grids)| {
                grids
                    .chunks(GRIDS_PER_PART)
                    .map(|chunk| statement(*stat, chunk))
            })
            .collect();
        let mut counts: HashMap<StatKey, i64> = keys.iter().map(|k| (*k, 0)).collect();
        for chunk in parts.chunks(UNION_CHUNK) {
            let union = union_all(chunk.iter().cloned());
            for row in self.db.query_all(&union).await.or_internal()? {
                let stat: i64 = row.try_get("", "stat").or_internal()?;
                let grid_id: i64 = row.try_get("", "grid").or_internal()?;
                let n: i64 = row.try_get("", "n").or_internal()?;
                let stat = ALL[usize::try_from(stat).unwrap_or_default().min(ALL.len() - 1)];
                counts.insert(StatKey { stat, grid_id }, n);
            }
        }
        Ok(counts)
    }
}
