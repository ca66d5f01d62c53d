//! Counts over a grid's subtree for dashboards: population, households, open and overdue events.
//! Every count a request asks for, over however many grids, is answered by one SQL statement:
//! a `GROUP BY` over the grid closure per kind of count, joined by `UNION ALL`. Population and
//! households sum the per-grid tallies (`crate::tally`), so their cost grows with the number of
//! grids in the subtree, not with the number of persons; open and overdue events are counted
//! live (the loop keeps them few).

use super::error::OrInternal;
use super::event::OPEN;
use super::loader::{DbLoader, Loaders};
use crate::entity::{event, grid_closure, grid_tally};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Error, Object, Result};
use chrono::Utc;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, IntoColumnRef, IntoIden, Query, SelectStatement, UnionType,
};
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

fn ancestor() -> Expr {
    Expr::col((grid_closure::Entity, grid_closure::Column::AncestorId))
}

/// `SELECT stat, ancestor_id, COUNT(*) FROM table JOIN grid_closure … GROUP BY ancestor_id`.
fn grouped(
    stat: Stat,
    table: impl IntoIden,
    grid_column: impl IntoColumnRef,
    grids: &[i64],
) -> SelectStatement {
    aggregated(stat, Expr::cust("COUNT(*)"), table, grid_column, grids)
}

/// Like [`grouped`], summing a tally column of `grid_tallies` instead of counting rows.
fn summed(stat: Stat, column: grid_tally::Column, grids: &[i64]) -> SelectStatement {
    let sum = Expr::col((grid_tally::Entity, column))
        .sum()
        .cast_as(Alias::new("BIGINT"));
    aggregated(
        stat,
        sum,
        grid_tally::Entity,
        (grid_tally::Entity, grid_tally::Column::GridId),
        grids,
    )
}

/// `SELECT stat, ancestor_id, aggregate FROM table JOIN grid_closure … GROUP BY ancestor_id`.
fn aggregated(
    stat: Stat,
    aggregate: Expr,
    table: impl IntoIden,
    grid_column: impl IntoColumnRef,
    grids: &[i64],
) -> SelectStatement {
    let index = ALL.iter().position(|s| *s == stat).unwrap_or_default();
    Query::select()
        .expr_as(
            Expr::cust(format!("CAST({index} AS BIGINT)")),
            Alias::new("stat"),
        )
        .expr_as(ancestor(), Alias::new("grid"))
        .expr_as(aggregate, Alias::new("n"))
        .from(table)
        .inner_join(
            grid_closure::Entity,
            Expr::col((grid_closure::Entity, grid_closure::Column::DescendantId))
                .equals(grid_column),
        )
        .and_where(ancestor().is_in(grids.iter().copied()))
        .group_by_col((grid_closure::Entity, grid_closure::Column::AncestorId))
        .to_owned()
}

fn statement(stat: Stat, grids: &[i64]) -> SelectStatement {
    match stat {
        Stat::Population => summed(stat, grid_tally::Column::Population, grids),
        Stat::Households => summed(stat, grid_tally::Column::Households, grids),
        Stat::OpenEvents => grouped(
            stat,
            event::Entity,
            (event::Entity, event::Column::GridId),
            grids,
        )
        .and_where(event::Column::Status.is_in(OPEN))
        .to_owned(),
        Stat::OverdueEvents => grouped(
            stat,
            event::Entity,
            (event::Entity, event::Column::GridId),
            grids,
        )
        .and_where(event::Column::Status.is_in(OPEN))
        .and_where(event::Column::ResolveBy.lt(Utc::now()))
        .to_owned(),
    }
}

impl Loader<StatKey> for DbLoader {
    type Value = i64;
    type Error = Error;

    async fn load(&self, keys: &[StatKey]) -> Result<HashMap<StatKey, i64>, Error> {
        let mut wanted: HashMap<Stat, Vec<i64>> = HashMap::new();
        for key in keys {
            wanted.entry(key.stat).or_default().push(key.grid_id);
        }
        let mut parts = wanted.iter().map(|(stat, grids)| statement(*stat, grids));
        let mut union = parts.next().expect("a batch has at least one key");
        for part in parts {
            union.union(UnionType::All, part);
        }
        let rows = self.db.query_all(&union).await.or_internal()?;
        let mut counts: HashMap<StatKey, i64> = keys.iter().map(|k| (*k, 0)).collect();
        for row in rows {
            let stat: i64 = row.try_get("", "stat").or_internal()?;
            let grid_id: i64 = row.try_get("", "grid").or_internal()?;
            let n: i64 = row.try_get("", "n").or_internal()?;
            let stat = ALL[usize::try_from(stat).unwrap_or_default().min(ALL.len() - 1)];
            counts.insert(StatKey { stat, grid_id }, n);
        }
        Ok(counts)
    }
}

/// Counts over the subtree of one grid.
pub struct GridStats {
    /// The grid whose subtree is counted.
    pub grid_id: i64,
}

impl GridStats {
    async fn count(&self, ctx: &Context<'_>, stat: Stat) -> Result<i64> {
        let key = StatKey {
            stat,
            grid_id: self.grid_id,
        };
        Ok(ctx.data::<Loaders>()?.load_one(key).await?.unwrap_or(0))
    }
}

/// Counts over a grid's subtree, for dashboards and command-centre screens.
#[Object]
impl GridStats {
    /// Persons living in the subtree.
    async fn population(&self, ctx: &Context<'_>) -> Result<i64> {
        self.count(ctx, Stat::Population).await
    }

    /// Households 户 in the subtree: current household heads of its houses.
    async fn households(&self, ctx: &Context<'_>) -> Result<i64> {
        self.count(ctx, Stat::Households).await
    }

    /// Events in the subtree that still need work.
    async fn open_events(&self, ctx: &Context<'_>) -> Result<i64> {
        self.count(ctx, Stat::OpenEvents).await
    }

    /// Open events in the subtree past their resolution deadline.
    async fn overdue_events(&self, ctx: &Context<'_>) -> Result<i64> {
        self.count(ctx, Stat::OverdueEvents).await
    }
}
