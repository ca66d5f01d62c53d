//! Counts over a grid's subtree for dashboards: population, households, open and overdue events.
//! Every count is a batched `COUNT(*)`, so a dashboard of a community and all its grids costs one
//! SQL statement.

use super::connection::TotalCount;
use super::event::open_or_overdue;
use super::scope::within_grid;
use crate::entity::vocabulary::ResidenceRole;
use crate::entity::{event, house, person, residence};
use async_graphql::{Context, Object, Result};
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

/// Counts over the subtree of one grid.
pub struct GridStats {
    /// The grid whose subtree is counted.
    pub grid_id: i64,
}

fn counted<E: EntityTrait>(select: sea_orm::Select<E>) -> TotalCount {
    TotalCount::new(
        select
            .select_only()
            .expr(sea_orm::sea_query::Expr::val(1))
            .into_query(),
    )
}

/// Counts over a grid's subtree, for dashboards and command-centre screens.
#[Object]
impl GridStats {
    /// Persons living in the subtree.
    async fn population(&self, ctx: &Context<'_>) -> Result<i64> {
        let select =
            person::Entity::find().filter(within_grid(person::Column::GridId, self.grid_id));
        counted(select).count(ctx).await
    }

    /// Households 户 in the subtree: current household heads of its houses.
    async fn households(&self, ctx: &Context<'_>) -> Result<i64> {
        let houses = house::Entity::find()
            .select_only()
            .column(house::Column::Id)
            .filter(within_grid(house::Column::GridId, self.grid_id))
            .into_query();
        let select = residence::Entity::find()
            .filter(residence::Column::Role.eq(ResidenceRole::HouseholdHead))
            .filter(residence::Column::Until.is_null())
            .filter(residence::Column::HouseId.in_subquery(houses));
        counted(select).count(ctx).await
    }

    /// Events in the subtree that still need work.
    async fn open_events(&self, ctx: &Context<'_>) -> Result<i64> {
        let select = event::Entity::find()
            .filter(within_grid(event::Column::GridId, self.grid_id))
            .filter(open_or_overdue(None));
        counted(select).count(ctx).await
    }

    /// Open events in the subtree past their resolution deadline.
    async fn overdue_events(&self, ctx: &Context<'_>) -> Result<i64> {
        let select = event::Entity::find()
            .filter(within_grid(event::Column::GridId, self.grid_id))
            .filter(open_or_overdue(Some(Utc::now())));
        counted(select).count(ctx).await
    }
}
