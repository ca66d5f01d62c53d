//! Grid 网格: a node of the territorial tree (district → street → community → grid →
//! micro-grid). Every element hangs on a grid, and every list of a grid covers its subtree.

use super::connection::{page_complexity, PageArgs};
use super::error::OrInternal;
use super::event::{self, EventConnection, EventFilter, EventOrder};
use super::house::{self, HouseConnection, HouseFilter};
use super::id::{encode, NodeType};
use super::loader::{many, maybe};
use super::loader::{DbLoader, Loaders};
use super::object::{self, ManagedObjectConnection, ObjectFilter};
use super::organization::{self, Organization, OrganizationConnection, OrganizationFilter};
use super::person::{self, PersonConnection, PersonFilter};
use super::place::{self, PlaceConnection, PlaceFilter};
use super::relations::{DualRegistration, GridStaff};
use super::scope::{closure_with_ancestors, within_grid};
use super::stats::GridStats;
use super::volunteer::{self, VolunteerActivityConnection, VolunteerActivityFilter};
use crate::access::scope::Scoped;
use crate::entity::vocabulary::{GridKind, GridLevel, OrganizationKind};
use crate::entity::{
    dual_registration, event as event_entity, grid, grid_closure, grid_staff,
    house as house_entity, object as object_entity, organization as organization_entity,
    person as person_entity, place as place_entity, volunteer_activity,
};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Error, InputObject, Object, Result, ID};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Order};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, QueryFilter};
use std::collections::HashMap;
use std::sync::Arc;

/// A grid 网格.
pub struct Grid(pub grid::Model);

impl From<grid::Model> for Grid {
    fn from(model: grid::Model) -> Self {
        Grid(model)
    }
}

crate::page_type!(GridConnection, GridEdge, Grid, "grids");

/// The ancestors of a grid, root first; the ancestors of every grid a request asks about come
/// from one statement joining the closure to the grids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AncestorsOf(pub i64);

impl Loader<AncestorsOf> for DbLoader {
    type Value = Arc<Vec<grid::Model>>;
    type Error = Error;

    async fn load(
        &self,
        keys: &[AncestorsOf],
    ) -> Result<HashMap<AncestorsOf, Self::Value>, Self::Error> {
        let link = |column| Expr::col((grid_closure::Entity, column));
        let select = closure_with_ancestors()
            .columns(grid::Column::iter().map(|c| (grid::Entity, c)))
            .column((grid_closure::Entity, grid_closure::Column::DescendantId))
            .and_where(link(grid_closure::Column::DescendantId).is_in(keys.iter().map(|k| k.0)))
            .and_where(link(grid_closure::Column::Depth).gt(0))
            .and_where(grid::Entity::visible_in(&self.scope).unwrap_or(Expr::value(true)))
            .order_by(
                (grid_closure::Entity, grid_closure::Column::Depth),
                Order::Desc,
            )
            .to_owned();
        let rows = self.db.query_all(&select).await.or_internal()?;
        let mut found: HashMap<AncestorsOf, Vec<grid::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            let descendant: i64 = row.try_get("", "descendant_id").or_internal()?;
            let model = grid::Model::from_query_result(&row, "").or_internal()?;
            found
                .entry(AncestorsOf(descendant))
                .or_default()
                .push(model);
        }
        Ok(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// Narrows a list of grids. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct GridFilter {
    /// Only grids in the subtree of this grid code (the grid itself included).
    pub within_code: Option<String>,
    /// Only grids of these levels.
    pub levels: Option<Vec<GridLevel>>,
    /// Only grids of these kinds.
    pub kinds: Option<Vec<GridKind>>,
}

impl GridFilter {
    /// The filter as a condition on `grids`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.within_code {
            all = all.add(super::scope::within_code(grid::Column::Id, code));
        }
        if let Some(levels) = &self.levels {
            all = all.add(grid::Column::Level.is_in(levels.clone()));
        }
        if let Some(kinds) = &self.kinds {
            all = all.add(grid::Column::Kind.is_in(kinds.clone()));
        }
        all
    }
}

/// A grid 网格: a node of the territorial tree. Its lists (persons, houses, events …) cover its
/// whole subtree, so a community's lists include all its grids and micro-grids.
#[Object]
impl Grid {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Grid, self.0.id)
    }

    /// Hierarchical code on the administrative code 行政区划代码: 6 digits for the district,
    /// then 3 more per level; a code's prefix selects its subtree.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name, e.g. 银河社区 or 第3网格.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Level in the tree.
    async fn level(&self) -> GridLevel {
        self.0.level
    }

    /// What the grid mostly covers.
    async fn kind(&self) -> GridKind {
        self.0.kind
    }

    /// The grid one level up; null for the root.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(
            maybe::<grid::Entity>(ctx, grid::Column::Id, self.0.parent_id)
                .await?
                .map(Grid),
        )
    }

    /// The grids one level down, by code.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Grid>> {
        let rows = many::<grid::Entity>(ctx, grid::Column::ParentId, self.0.id).await?;
        let mut children: Vec<_> = rows.iter().cloned().map(Grid).collect();
        children.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        Ok(children)
    }

    /// Every grid above this one, from the root down to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Grid>> {
        let rows = ctx
            .data::<Loaders>()?
            .load_one(AncestorsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(Grid).collect())
    }

    /// Counts over this grid's subtree: population, households, open and overdue events.
    /// FORBIDDEN for roles without aggregates.
    async fn stats(&self, ctx: &Context<'_>) -> Result<GridStats> {
        let access = super::guard::access(ctx)?;
        super::guard::require(
            access.role.aggregates,
            "this role may not read dashboard statistics",
        )?;
        Ok(GridStats { grid_id: self.0.id })
    }

    /// Grid staff 网格力量 serving this grid: leader, workers, grid police, building leaders.
    async fn staff(&self, ctx: &Context<'_>) -> Result<Vec<GridStaff>> {
        let rows = many::<grid_staff::Entity>(ctx, grid_staff::Column::GridId, self.0.id).await?;
        Ok(rows.iter().cloned().map(GridStaff).collect())
    }

    /// 双报到: in-service party members registered to serve in this grid.
    async fn dual_registrations(&self, ctx: &Context<'_>) -> Result<Vec<DualRegistration>> {
        let rows =
            many::<dual_registration::Entity>(ctx, dual_registration::Column::GridId, self.0.id)
                .await?;
        Ok(rows.iter().cloned().map(DualRegistration).collect())
    }

    /// The party branch paired with this grid 网格党支部, if any.
    async fn party_branch(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let rows = many::<organization_entity::Entity>(
            ctx,
            organization_entity::Column::GridId,
            self.0.id,
        )
        .await?;
        Ok(rows
            .iter()
            .find(|o| o.kind == OrganizationKind::PartyBranch)
            .cloned()
            .map(Organization))
    }

    /// Persons living in this grid's subtree, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn persons(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<PersonFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<PersonConnection> {
        let scope = Condition::all().add(within_grid(person_entity::Column::GridId, self.0.id));
        person::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Houses (compounds, buildings, units, rooms) in this grid's subtree, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn houses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<HouseFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<HouseConnection> {
        let scope = Condition::all().add(within_grid(house_entity::Column::GridId, self.0.id));
        house::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Places in this grid's subtree, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn places(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<PlaceFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<PlaceConnection> {
        let scope = Condition::all().add(within_grid(place_entity::Column::GridId, self.0.id));
        place::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Events in this grid's subtree, newest first unless `orderBy` says otherwise.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<EventFilter>,
        #[graphql(desc = "Sort order; newest first by default.")] order_by: Option<EventOrder>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<EventConnection> {
        let scope = Condition::all().add(within_grid(event_entity::Column::GridId, self.0.id));
        event::list(
            ctx,
            scope,
            filter,
            order_by,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Managed objects 部件 in this grid's subtree, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn objects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<ObjectFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<ManagedObjectConnection> {
        let scope = Condition::all().add(within_grid(object_entity::Column::GridId, self.0.id));
        object::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Organizations attached to grids of this subtree (party branches, resident units …), by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<OrganizationConnection> {
        let scope =
            Condition::all().add(within_grid(organization_entity::Column::GridId, self.0.id));
        organization::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Volunteer activities 志愿服务 held in this grid's subtree, newest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn volunteer_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Further conditions.")] filter: Option<VolunteerActivityFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<VolunteerActivityConnection> {
        let scope =
            Condition::all().add(within_grid(volunteer_activity::Column::GridId, self.0.id));
        volunteer::list(
            ctx,
            scope,
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }
}

/// A page of grids matching `filter`, by code.
pub async fn list(
    ctx: &Context<'_>,
    filter: Option<GridFilter>,
    args: PageArgs,
) -> Result<GridConnection> {
    let base = grid::Entity::find().filter(filter.unwrap_or_default().condition());
    let order = super::connection::Order::new(vec![grid::Column::Code], false);
    super::connection::paginate(ctx, base, &order, args).await
}
