//! Grid scope of a query: "everything in this grid's subtree" as one indexed condition over the
//! grid closure table, by grid id or by grid code.

use super::error::{bad_input, not_found, OrInternal};
use super::guard;
pub use crate::access::scope::within_grid;
use crate::access::scope::Scoped;
use crate::db::Database;
use crate::domain::grid_code;
use crate::entity::{grid, grid_closure};
use async_graphql::{Context, Result};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

/// `FROM grid_closure JOIN grids ON grids.id = grid_closure.ancestor_id`: closure links with
/// their ancestor grid, to select from.
pub fn closure_with_ancestors() -> SelectStatement {
    Query::select()
        .from(grid_closure::Entity)
        .inner_join(
            grid::Entity,
            Expr::col((grid::Entity, grid::Column::Id))
                .equals((grid_closure::Entity, grid_closure::Column::AncestorId)),
        )
        .to_owned()
}

fn descendants_of_code(code: &str) -> SelectStatement {
    closure_with_ancestors()
        .column((grid_closure::Entity, grid_closure::Column::DescendantId))
        .and_where(Expr::col((grid::Entity, grid::Column::Code)).eq(code))
        .to_owned()
}

/// `column` names a grid inside the subtree of the grid with `code`.
pub fn within_code(column: impl ColumnTrait, code: &str) -> SimpleExpr {
    column.in_subquery(descendants_of_code(code))
}

/// Checks that `code` is a well-formed grid code of an existing grid inside the caller's scope
/// (a grid outside looks exactly like a missing one) and returns the grid's id.
pub async fn grid_id_of(ctx: &Context<'_>, code: &str) -> Result<i64> {
    grid_code::level_of(code).map_err(|e| bad_input(format!("grid code `{code}`: {e}")))?;
    let db = &ctx.data::<Database>()?.conn;
    let mut select = grid::Entity::find()
        .select_only()
        .column(grid::Column::Id)
        .filter(grid::Column::Code.eq(code));
    if let Some(visible) = grid::Entity::visible_in(&guard::access(ctx)?.scope) {
        select = select.filter(visible);
    }
    select
        .into_tuple::<i64>()
        .one(db)
        .await
        .or_internal()?
        .ok_or_else(|| not_found(format!("no grid has the code `{code}`")))
}
