//! Per-grid tallies of population and households. Counting the persons of a street or a district
//! on every dashboard request costs time in proportion to its size; instead each grid's own
//! counts are kept in `grid_tallies`, and a subtree's count sums the tallies of its grids.
//!
//! The tallies are recomputed in one statement after every bulk write that changes who lives
//! where (the seed; department imports must call [`refresh`] too), inside a transaction, so that
//! readers see either the old or the new tallies, never a mix.

use crate::entity::vocabulary::ResidenceRole;
use crate::entity::{grid, grid_tally, house, person, residence};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};

/// `SELECT grid_id, COUNT(*) AS n FROM … GROUP BY grid_id` for one kind of tally.
fn count_by_grid(mut select: SelectStatement, grid_column: Expr) -> SelectStatement {
    select
        .expr_as(grid_column.clone(), Alias::new("grid_id"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .add_group_by([grid_column]);
    select
}

/// Each grid with its own population and households: one grouped pass over persons and one
/// over residences, joined to the grids (a grid with neither gets zeros).
fn tallies() -> SelectStatement {
    let persons = count_by_grid(
        Query::select().from(person::Entity).to_owned(),
        Expr::col((person::Entity, person::Column::GridId)),
    );
    let households = count_by_grid(
        Query::select()
            .from(residence::Entity)
            .inner_join(
                house::Entity,
                Expr::col((house::Entity, house::Column::Id))
                    .equals((residence::Entity, residence::Column::HouseId)),
            )
            .and_where(residence::Column::Role.eq(ResidenceRole::HouseholdHead))
            .and_where(residence::Column::Until.is_null())
            .to_owned(),
        Expr::col((house::Entity, house::Column::GridId)),
    );
    let mut select = Query::select();
    select
        .column((grid::Entity, grid::Column::Id))
        .from(grid::Entity);
    for (name, counts) in [("p", persons), ("h", households)] {
        let alias = Alias::new(name);
        select
            .expr(Expr::col((alias.clone(), Alias::new("n"))).if_null(0))
            .join_subquery(
                JoinType::LeftJoin,
                counts,
                alias.clone(),
                Expr::col((alias, Alias::new("grid_id"))).equals((grid::Entity, grid::Column::Id)),
            );
    }
    select
}

/// Recomputes every grid's tallies from the persons and residences now stored.
pub async fn refresh(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = crate::db::begin_write(db).await?;
    grid_tally::Entity::delete_many().exec(&txn).await?;
    let insert = Query::insert()
        .into_table(grid_tally::Entity)
        .columns([
            grid_tally::Column::GridId,
            grid_tally::Column::Population,
            grid_tally::Column::Households,
        ])
        .select_from(tallies())
        .map_err(|error| DbErr::Custom(error.to_string()))?
        .to_owned();
    txn.execute(&insert).await?;
    txn.commit().await
}

/// Fills the tallies of a database whose grids have none yet (one filled before the tallies
/// existed); does nothing otherwise.
pub async fn ensure(db: &DatabaseConnection) -> Result<(), DbErr> {
    let has_grids = grid::Entity::find().one(db).await?.is_some();
    let has_tallies = grid_tally::Entity::find().one(db).await?.is_some();
    if has_grids && !has_tallies {
        tracing::info!("computing grid tallies");
        refresh(db).await?;
    }
    Ok(())
}
