//! Organization 组织: party organisations as their own tree (党工委 → 社区党委 → 党总支 → 党支部 →
//! 党小组), resident units, "two new" organisations, property companies, owners' committees,
//! social organisations and volunteer teams.

use super::connection::{paginate, Order, PageArgs};
use super::department::Department;
use super::grid::Grid;
use super::id::{encode, NodeType};
use super::loader::{many, maybe};
use super::object::ManagedObject;
use super::relations::{DualRegistration, Membership};
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use super::volunteer::VolunteerActivity;
use crate::entity::vocabulary::{ElementType, OrganizationKind};
use crate::entity::{
    department, dual_registration, grid, membership, object, organization, volunteer_activity,
};
use async_graphql::{Context, InputObject, Object, Result, ID};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// An organization 组织.
pub struct Organization(pub organization::Model);

impl From<organization::Model> for Organization {
    fn from(model: organization::Model) -> Self {
        Organization(model)
    }
}

crate::page_type!(
    OrganizationConnection,
    OrganizationEdge,
    Organization,
    "organizations"
);

/// Narrows a list of organizations. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Only organizations attached to a grid in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only organizations of these kinds.
    pub kinds: Option<Vec<OrganizationKind>>,
    /// Only the organization with this unified social credit code 统一社会信用代码.
    pub credit_code: Option<String>,
}

impl OrganizationFilter {
    /// The filter as a condition on `organizations`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(organization::Column::GridId, code));
        }
        if let Some(kinds) = &self.kinds {
            all = all.add(organization::Column::Kind.is_in(kinds.clone()));
        }
        if let Some(credit_code) = &self.credit_code {
            all = all.add(organization::Column::CreditCode.eq(credit_code.trim().to_uppercase()));
        }
        all
    }
}

/// A page of organizations matching `filter` (and inside `extra`), by id.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<OrganizationFilter>,
    args: PageArgs,
) -> Result<OrganizationConnection> {
    let base = organization::Entity::find()
        .filter(extra)
        .filter(filter.unwrap_or_default().condition());
    paginate(ctx, base, &Order::by(organization::Column::Id), args).await
}

/// An organization 组织: a party organisation, resident unit, enterprise, social organisation,
/// property company, owners' committee, government office or volunteer team.
#[Object]
impl Organization {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Organization, self.0.id)
    }

    /// Kind of organization.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Unified social credit code 统一社会信用代码 (GB 32100, 18 characters), when registered.
    async fn credit_code(&self) -> Option<&str> {
        self.0.credit_code.as_deref()
    }

    /// Address, when known.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// The organization above this one (party organisations and their groups).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(
            maybe::<organization::Entity>(ctx, organization::Column::Id, self.0.parent_id)
                .await?
                .map(Organization),
        )
    }

    /// The organizations directly below this one.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let rows =
            many::<organization::Entity>(ctx, organization::Column::ParentId, self.0.id).await?;
        Ok(rows.iter().cloned().map(Organization).collect())
    }

    /// The grid the organization covers or sits in (a party branch's paired grid).
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(maybe::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// The department the organization belongs to, for government offices.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(
            maybe::<department::Entity>(ctx, department::Column::Id, self.0.department_id)
                .await?
                .map(Department),
        )
    }

    /// Members: party members with category and points, employees, committee members.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let rows =
            many::<membership::Entity>(ctx, membership::Column::OrganizationId, self.0.id).await?;
        Ok(rows.iter().cloned().map(Membership).collect())
    }

    /// 双报到: in-service party members of this organization serving where they live.
    async fn dual_registrations(&self, ctx: &Context<'_>) -> Result<Vec<DualRegistration>> {
        let rows = many::<dual_registration::Entity>(
            ctx,
            dual_registration::Column::OrganizationId,
            self.0.id,
        )
        .await?;
        Ok(rows.iter().cloned().map(DualRegistration).collect())
    }

    /// Volunteer activities held by this organization (volunteer teams), newest first.
    async fn volunteer_activities(&self, ctx: &Context<'_>) -> Result<Vec<VolunteerActivity>> {
        let rows = many::<volunteer_activity::Entity>(
            ctx,
            volunteer_activity::Column::OrganizationId,
            self.0.id,
        )
        .await?;
        let mut activities: Vec<_> = rows.iter().cloned().map(VolunteerActivity).collect();
        activities.sort_by_key(|a| std::cmp::Reverse((a.0.held_on, a.0.id)));
        Ok(activities)
    }

    /// Objects the organization owns or maintains.
    async fn objects(&self, ctx: &Context<'_>) -> Result<Vec<ManagedObject>> {
        let rows = many::<object::Entity>(ctx, object::Column::OwnerId, self.0.id).await?;
        Ok(rows.iter().cloned().map(ManagedObject).collect())
    }

    /// The department records this organization was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::Organization, self.0.id).await
    }
}
