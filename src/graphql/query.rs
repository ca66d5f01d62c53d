//! The root query: one entry per element type with filters and Relay paging, plus `node`,
//! `nodes` and direct lookups by grid code and ID number.

use super::connection::{page_complexity, PageArgs};
use super::department::Department;
use super::error::{bad_input, OrInternal};
use super::event::{self, EventConnection, EventFilter, EventOrder};
use super::grid::{self, Grid, GridConnection, GridFilter};
use super::guard;
use super::house::{self, HouseConnection, HouseFilter};
use super::id::decode;
use super::node::{load_node, load_nodes, Node};
use super::object::{self, ManagedObjectConnection, ObjectFilter};
use super::organization::{self, OrganizationConnection, OrganizationFilter};
use super::person::{self, Person, PersonConnection, PersonFilter};
use super::place::{self, PlaceConnection, PlaceFilter};
use super::scope::grid_id_of;
use super::volunteer::{self, VolunteerActivityConnection, VolunteerActivityFilter};
use super::NodeIdLimit;
use crate::access::field_policy::SensitiveField;
use crate::access::policy::Kind;
use crate::access::scope::Scoped;
use crate::db::Database;
use crate::domain::id_number::IdNumber;
use crate::entity::{department, grid as grid_entity, person as person_entity};
use async_graphql::{Context, Object, Result, ID};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// The entry points of the gridhub graph.
#[derive(Default)]
pub struct ElementQuery;

async fn check_code(ctx: &Context<'_>, code: Option<&String>) -> Result<()> {
    if let Some(code) = code {
        grid_id_of(ctx, code).await?;
    }
    Ok(())
}

/// The entry points of the gridhub graph: the six elements 人 房 地 事 物 组织 on the grid tree.
#[Object]
impl ElementQuery {
    /// Fetches any element by its global id; null when there is no such element.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        let (node_type, row) = decode(&id)?;
        load_node(ctx, node_type, row).await
    }

    /// Fetches elements by global id, in the order given; null for ids with no element.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids (at most the configured limit, 100 by default).")] ids: Vec<
            ID,
        >,
    ) -> Result<Vec<Option<Node>>> {
        let max = ctx.data::<NodeIdLimit>()?.0;
        load_nodes(ctx, &ids, max).await
    }

    /// The grid with this code; a NOT_FOUND error when there is none.
    async fn grid(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Grid code, e.g. `650203001001`.")] code: String,
    ) -> Result<Option<Grid>> {
        let id = grid_id_of(ctx, &code).await?;
        let db = &ctx.data::<Database>()?.conn;
        let model = grid_entity::Entity::find_by_id(id)
            .one(db)
            .await
            .or_internal()?;
        Ok(model.map(Grid))
    }

    /// Grids, by code.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn grids(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the grids must meet.")] filter: Option<GridFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<GridConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.within_code.as_ref())).await?;
        grid::list(ctx, filter, PageArgs::new(after, before, first, last)).await
    }

    /// Persons 人, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn persons(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the persons must meet.")] filter: Option<PersonFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<PersonConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        person::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// The person with this resident ID number (18 digits, or an old 15-digit number); null when
    /// there is none or it lies outside the caller's scope. A malformed number is a
    /// BAD_USER_INPUT error saying what is wrong. A lookup discloses the number as reading it
    /// does: it needs the right to read `person.idNumber` in full (with a purpose and a case
    /// reference; FORBIDDEN otherwise), the person found is written to the audit log, and a
    /// request (however many aliases) and a principal (per hour) may make only a few lookups
    /// (TOO_MANY_REQUESTS past the role's `lookups_per_request` / `lookups_per_hour`).
    async fn person_by_id_number(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resident ID number 公民身份号码.")] id_number: String,
    ) -> Result<Option<Person>> {
        let number = IdNumber::parse(&id_number).map_err(|e| bad_input(e.to_string()))?;
        guard::sensitive_lookup(ctx, SensitiveField::IdNumber)?;
        let access = guard::access(ctx)?;
        let db = &ctx.data::<Database>()?.conn;
        let mut select = person_entity::Entity::find()
            .filter(person_entity::Column::IdNumber.eq(number.as_str()));
        if let Some(visible) = person_entity::Entity::visible_in(&access.scope) {
            select = select.filter(visible);
        }
        let model = select.one(db).await.or_internal()?;
        if let Some(found) = &model {
            access.note_read(SensitiveField::IdNumber, ("person", found.id));
        }
        Ok(model.map(Person))
    }

    /// Houses 房 (compounds, buildings, units, rooms), by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn houses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the houses must meet.")] filter: Option<HouseFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<HouseConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        house::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Places 地, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn places(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the places must meet.")] filter: Option<PlaceFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<PlaceConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        place::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Events 事, newest first unless `orderBy` says otherwise.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the events must meet.")] filter: Option<EventFilter>,
        #[graphql(desc = "Sort order; newest first by default.")] order_by: Option<EventOrder>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<EventConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        let args = PageArgs::new(after, before, first, last);
        event::list(ctx, Condition::all(), filter, order_by, args).await
    }

    /// Managed objects 物 (部件), by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn objects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the objects must meet.")] filter: Option<ObjectFilter>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<ManagedObjectConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        object::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Organizations 组织, by id.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the organizations must meet.")] filter: Option<
            OrganizationFilter,
        >,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<OrganizationConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        organization::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// Volunteer activities 志愿服务, newest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn volunteer_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the activities must meet.")] filter: Option<
            VolunteerActivityFilter,
        >,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<VolunteerActivityConnection> {
        check_code(ctx, filter.as_ref().and_then(|f| f.grid_code.as_ref())).await?;
        volunteer::list(
            ctx,
            Condition::all(),
            filter,
            PageArgs::new(after, before, first, last),
        )
        .await
    }

    /// The departments that bring data into the hub.
    async fn departments(&self, ctx: &Context<'_>) -> Result<Vec<Department>> {
        guard::require_reads(ctx, Kind::Department)?;
        let db = &ctx.data::<Database>()?.conn;
        let rows = department::Entity::find()
            .order_by_asc(department::Column::Id)
            .all(db)
            .await
            .or_internal()?;
        Ok(rows.into_iter().map(Department).collect())
    }
}
