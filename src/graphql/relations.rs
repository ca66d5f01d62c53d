//! The relations people query between elements: residence (person ↔ house), membership
//! (person ↔ organization), grid staff (person ↔ grid) and 双报到 (person ↔ grid via a unit).
//! Each side is navigable through a DataLoader.

use super::grid::Grid;
use super::guard::in_full;
use super::house::House;
use super::loader::one;
use super::organization::Organization;
use super::person::Person;
use crate::access::field_policy::SensitiveField;
use crate::entity::vocabulary::{MembershipRole, PartyCategory, ResidenceRole, StaffRole};
use crate::entity::{
    dual_registration, grid, grid_staff, house, membership, organization, person, residence,
};
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;

async fn person_of(ctx: &Context<'_>, id: i64) -> Result<Option<Person>> {
    Ok(one::<person::Entity>(ctx, person::Column::Id, id)
        .await?
        .map(Person))
}

async fn organization_of(ctx: &Context<'_>, id: i64) -> Result<Option<Organization>> {
    Ok(
        one::<organization::Entity>(ctx, organization::Column::Id, id)
            .await?
            .map(Organization),
    )
}

async fn grid_of(ctx: &Context<'_>, id: i64) -> Result<Option<Grid>> {
    Ok(one::<grid::Entity>(ctx, grid::Column::Id, id)
        .await?
        .map(Grid))
}

/// A person's tie to a house: owner 产权人, tenant 租户, resident 居住人 or household head 户主.
pub struct Residence(pub residence::Model);

/// A person's tie to a house, from when to when.
#[Object]
impl Residence {
    /// How the person relates to the house.
    async fn role(&self) -> ResidenceRole {
        self.0.role
    }

    /// First day of the tie.
    async fn since(&self) -> NaiveDate {
        self.0.since
    }

    /// Last day of the tie; null while it lasts.
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }

    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_of(ctx, self.0.person_id).await
    }

    /// The house (usually a room).
    async fn house(&self, ctx: &Context<'_>) -> Result<Option<House>> {
        Ok(
            one::<house::Entity>(ctx, house::Column::Id, self.0.house_id)
                .await?
                .map(House),
        )
    }
}

/// A person's membership of an organization.
pub struct Membership(pub membership::Model);

/// A person's membership of an organization: party membership with category and points,
/// employment, a committee seat or a volunteer team.
#[Object]
impl Membership {
    /// How the person belongs to the organization.
    async fn role(&self) -> MembershipRole {
        self.0.role
    }

    /// Party-member category A–D (party members only).
    async fn party_category(&self) -> Option<PartyCategory> {
        self.0.party_category
    }

    /// Party-member points balance 积分 (party members only); null unless the caller may see
    /// party points in full. A full read is audited as a read of the member.
    async fn points(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        let Some(points) = self.0.points else {
            return Ok(None);
        };
        let element = ("person", self.0.person_id);
        Ok(in_full(ctx, SensitiveField::PartyPoints, element)?.then_some(points))
    }

    /// First day of the membership.
    async fn since(&self) -> NaiveDate {
        self.0.since
    }

    /// Last day of the membership; null while it lasts.
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }

    /// The member.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_of(ctx, self.0.person_id).await
    }

    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        organization_of(ctx, self.0.organization_id).await
    }
}

/// A person's role in the staff of a grid 网格力量.
pub struct GridStaff(pub grid_staff::Model);

/// A person's role in the staff of a grid 网格力量: leader, worker, grid police, building leader.
#[Object]
impl GridStaff {
    /// The role.
    async fn role(&self) -> StaffRole {
        self.0.role
    }

    /// First day in the role.
    async fn since(&self) -> NaiveDate {
        self.0.since
    }

    /// Last day in the role; null while it lasts.
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }

    /// The grid served.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        grid_of(ctx, self.0.grid_id).await
    }

    /// The staff member.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_of(ctx, self.0.person_id).await
    }
}

/// 双报到: an in-service party member of one organization serving in the grid where they live.
pub struct DualRegistration(pub dual_registration::Model);

/// 双报到: an in-service party member of one organization (e.g. a county office) registered to
/// serve in the grid where they live.
#[Object]
impl DualRegistration {
    /// Day of registration with the community.
    async fn registered_on(&self) -> NaiveDate {
        self.0.registered_on
    }

    /// Hours of service given so far.
    async fn service_hours(&self) -> f64 {
        self.0.service_hours
    }

    /// The party member.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_of(ctx, self.0.person_id).await
    }

    /// The party organization or unit the member belongs to at work.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        organization_of(ctx, self.0.organization_id).await
    }

    /// The grid where the member serves.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        grid_of(ctx, self.0.grid_id).await
    }
}
