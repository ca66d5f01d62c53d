//! Volunteer activities 志愿服务: a team's activity in a grid (traffic guidance, student aid,
//! sanitation, legal aid …) and who took part for how many hours.

use super::connection::{paginate, Order, PageArgs};
use super::grid::Grid;
use super::id::{encode, NodeType};
use super::loader::{many, one};
use super::organization::Organization;
use super::person::Person;
use super::scope::within_code;
use crate::entity::vocabulary::VolunteerCategory;
use crate::entity::{grid, organization, person, volunteer_activity, volunteer_participation};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A volunteer activity 志愿服务.
pub struct VolunteerActivity(pub volunteer_activity::Model);

impl From<volunteer_activity::Model> for VolunteerActivity {
    fn from(model: volunteer_activity::Model) -> Self {
        VolunteerActivity(model)
    }
}

crate::page_type!(
    VolunteerActivityConnection,
    VolunteerActivityEdge,
    VolunteerActivity,
    "volunteer activities"
);

/// Narrows a list of volunteer activities. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct VolunteerActivityFilter {
    /// Only activities held in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only activities of these categories.
    pub categories: Option<Vec<VolunteerCategory>>,
    /// Only activities held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Only activities held on or before this day.
    pub held_to: Option<NaiveDate>,
}

impl VolunteerActivityFilter {
    /// The filter as a condition on `volunteer_activities`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(volunteer_activity::Column::GridId, code));
        }
        if let Some(categories) = &self.categories {
            all = all.add(volunteer_activity::Column::Category.is_in(categories.clone()));
        }
        if let Some(from) = self.held_from {
            all = all.add(volunteer_activity::Column::HeldOn.gte(from));
        }
        if let Some(to) = self.held_to {
            all = all.add(volunteer_activity::Column::HeldOn.lte(to));
        }
        all
    }
}

/// A page of activities matching `filter` (and inside `extra`), newest first.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<VolunteerActivityFilter>,
    args: PageArgs,
) -> Result<VolunteerActivityConnection> {
    let base = volunteer_activity::Entity::find()
        .filter(extra)
        .filter(filter.unwrap_or_default().condition());
    let order = Order::new(vec![volunteer_activity::Column::Id], true);
    paginate(ctx, base, &order, args).await
}

/// A volunteer activity 志愿服务 held by a team in a grid.
#[Object]
impl VolunteerActivity {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::VolunteerActivity, self.0.id)
    }

    /// Category of service.
    async fn category(&self) -> VolunteerCategory {
        self.0.category
    }

    /// Title, e.g. 上学路口交通引导.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Day it was held.
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }

    /// Length of the activity in hours.
    async fn hours(&self) -> f64 {
        self.0.hours
    }

    /// The team that held it.
    async fn team(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(
            one::<organization::Entity>(ctx, organization::Column::Id, self.0.organization_id)
                .await?
                .map(Organization),
        )
    }

    /// The grid where it was held.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// Who took part, for how many hours.
    async fn participations(&self, ctx: &Context<'_>) -> Result<Vec<VolunteerParticipation>> {
        let rows = many::<volunteer_participation::Entity>(
            ctx,
            volunteer_participation::Column::ActivityId,
            self.0.id,
        )
        .await?;
        Ok(rows.iter().cloned().map(VolunteerParticipation).collect())
    }
}

/// A person's part in a volunteer activity.
pub struct VolunteerParticipation(pub volunteer_participation::Model);

/// A person's part in a volunteer activity, with the hours served.
#[Object]
impl VolunteerParticipation {
    /// Hours served.
    async fn hours(&self) -> f64 {
        self.0.hours
    }

    /// The volunteer.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(
            one::<person::Entity>(ctx, person::Column::Id, self.0.person_id)
                .await?
                .map(Person),
        )
    }

    /// The activity.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<VolunteerActivity>> {
        Ok(one::<volunteer_activity::Entity>(
            ctx,
            volunteer_activity::Column::Id,
            self.0.activity_id,
        )
        .await?
        .map(VolunteerActivity))
    }
}
