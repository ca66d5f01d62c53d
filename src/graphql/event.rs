//! Event 事: something that must be handled, its place in the loop (status, deadlines), its
//! timeline and the persons involved.

use super::connection::{paginate, Order, PageArgs};
use super::department::Department;
use super::grid::Grid;
use super::house::House;
use super::id::{encode, NodeType};
use super::loader::{many, maybe, one};
use super::person::Person;
use super::place::Place;
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use crate::domain::deadlines::is_overdue;
use crate::entity::vocabulary::{
    ElementType, EventActionKind, EventCategory, EventChannel, EventPriority, EventStatus,
    InvolvementRole,
};
use crate::entity::{
    department, event, event_action, event_involvement, grid, house, person, place,
};
use crate::event_loop::overdue_at;
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub use crate::domain::event_loop::OPEN;

/// An event 事.
pub struct Event(pub event::Model);

impl From<event::Model> for Event {
    fn from(model: event::Model) -> Self {
        Event(model)
    }
}

crate::page_type!(EventConnection, EventEdge, Event, "events");

/// Narrows a list of events. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Only events in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only events in one of these statuses.
    pub statuses: Option<Vec<EventStatus>>,
    /// Only events of one of these categories.
    pub categories: Option<Vec<EventCategory>>,
    /// Only events of one of these priorities.
    pub priorities: Option<Vec<EventPriority>>,
    /// Only events reported at or after this time (RFC 3339).
    pub reported_from: Option<DateTime<Utc>>,
    /// Only events reported before this time (RFC 3339).
    pub reported_to: Option<DateTime<Utc>>,
    /// Only open events past their resolution deadline or the deadline of their current step
    /// (`true`), or only the others (`false`).
    pub overdue: Option<bool>,
}

impl EventFilter {
    /// The filter as a condition on `events`.
    pub fn condition(&self, now: DateTime<Utc>) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(event::Column::GridId, code));
        }
        if let Some(statuses) = &self.statuses {
            all = all.add(event::Column::Status.is_in(statuses.clone()));
        }
        if let Some(categories) = &self.categories {
            all = all.add(event::Column::Category.is_in(categories.clone()));
        }
        if let Some(priorities) = &self.priorities {
            all = all.add(event::Column::Priority.is_in(priorities.clone()));
        }
        if let Some(from) = self.reported_from {
            all = all.add(event::Column::ReportedAt.gte(from));
        }
        if let Some(to) = self.reported_to {
            all = all.add(event::Column::ReportedAt.lt(to));
        }
        match self.overdue {
            Some(true) => all = all.add(overdue_at(now)),
            Some(false) => all = all.add(overdue_at(now).not()),
            None => {}
        }
        all
    }
}

/// Order of an event list.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventOrder {
    /// Newest report first.
    #[default]
    ReportedAtDesc,
    /// Oldest report first.
    ReportedAtAsc,
}

/// A page of events matching `filter` (and inside `extra`).
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<EventFilter>,
    order: Option<EventOrder>,
    args: PageArgs,
) -> Result<EventConnection> {
    let filter = filter.unwrap_or_default();
    let base = event::Entity::find()
        .filter(extra)
        .filter(filter.condition(Utc::now()));
    let columns = vec![event::Column::ReportedAt, event::Column::Id];
    let order = Order::new(
        columns,
        order.unwrap_or_default() == EventOrder::ReportedAtDesc,
    );
    paginate(ctx, base, &order, args).await
}

/// An event 事: anything that must be handled — a safety hazard, a dispute, a complaint — and
/// where it stands in the loop 发现 → 上报 → 吹哨 → 报到 → 处置 → 反馈 → 评价.
#[Object]
impl Event {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Event, self.0.id)
    }

    /// What kind of matter it is.
    async fn category(&self) -> EventCategory {
        self.0.category
    }

    /// How urgent it is; deadlines follow from it.
    async fn priority(&self) -> EventPriority {
        self.0.priority
    }

    /// Where it stands in the loop.
    async fn status(&self) -> EventStatus {
        self.0.status
    }

    /// How it was found.
    async fn channel(&self) -> EventChannel {
        self.0.channel
    }

    /// Short title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What was reported.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Latitude of the spot (WGS 84), when known.
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }

    /// Longitude of the spot (WGS 84), when known.
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }

    /// When it was reported.
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.reported_at
    }

    /// Deadline for the first response, from the priority.
    async fn respond_by(&self) -> DateTime<Utc> {
        self.0.respond_by
    }

    /// Deadline for resolution, from the priority (the 1-3-7 rule).
    async fn resolve_by(&self) -> DateTime<Utc> {
        self.0.resolve_by
    }

    /// When it was resolved.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }

    /// When it was closed after verification.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// Satisfaction rating 1–5 given at closing.
    async fn satisfaction(&self) -> Option<i32> {
        self.0.satisfaction
    }

    /// Whether it is still open past its resolution deadline or the deadline of its current
    /// step, as of now.
    async fn overdue(&self) -> bool {
        is_overdue(
            self.0.status,
            self.0.step_due_at,
            self.0.resolve_by,
            Utc::now(),
        )
    }

    /// Deadline of the step the event waits for: the grid's answer after a report, the
    /// department's report for duty (报到) after a dispatch, the decision of the level above
    /// after an escalation (1-3-7). Null when only the resolution deadline applies.
    async fn step_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.step_due_at
    }

    /// When the deadline sweeper found it overdue; null while it is on time, and again after
    /// each step taken.
    async fn overdue_since(&self) -> Option<DateTime<Utc>> {
        self.0.overdue_since
    }

    /// The grid level that holds the event now: the grid it was reported in, or the level it
    /// was escalated to (community, street, district).
    async fn held_at(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        let id = self.0.held_at_grid_id.unwrap_or(self.0.grid_id);
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, id)
            .await?
            .map(Grid))
    }

    /// The grid where it happened.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// The place where it happened, if any.
    async fn place(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        Ok(
            maybe::<place::Entity>(ctx, place::Column::Id, self.0.place_id)
                .await?
                .map(Place),
        )
    }

    /// The house concerned, if any.
    async fn house(&self, ctx: &Context<'_>) -> Result<Option<House>> {
        Ok(
            maybe::<house::Entity>(ctx, house::Column::Id, self.0.house_id)
                .await?
                .map(House),
        )
    }

    /// The department it was dispatched to ("whistle" 吹哨), if any.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(
            maybe::<department::Entity>(ctx, department::Column::Id, self.0.department_id)
                .await?
                .map(Department),
        )
    }

    /// Persons involved and how.
    async fn involvements(&self, ctx: &Context<'_>) -> Result<Vec<EventInvolvement>> {
        let rows =
            many::<event_involvement::Entity>(ctx, event_involvement::Column::EventId, self.0.id)
                .await?;
        Ok(rows.iter().cloned().map(EventInvolvement).collect())
    }

    /// Every step taken, oldest first.
    async fn timeline(&self, ctx: &Context<'_>) -> Result<Vec<EventAction>> {
        let rows =
            many::<event_action::Entity>(ctx, event_action::Column::EventId, self.0.id).await?;
        let mut steps: Vec<_> = rows.iter().cloned().map(EventAction).collect();
        steps.sort_by_key(|s| (s.0.at, s.0.id));
        Ok(steps)
    }

    /// The department records this event was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::Event, self.0.id).await
    }
}

/// One step in an event's timeline.
pub struct EventAction(pub event_action::Model);

/// One step in an event's timeline: who did what, when, and the status it led to.
#[Object]
impl EventAction {
    /// The step taken.
    async fn action(&self) -> EventActionKind {
        self.0.action
    }

    /// Status before the step (null for the report).
    async fn from_status(&self) -> Option<EventStatus> {
        self.0.from_status
    }

    /// Status after the step.
    async fn to_status(&self) -> EventStatus {
        self.0.to_status
    }

    /// Who took the step (name and role as recorded).
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// Note written with the step.
    async fn note(&self) -> &str {
        &self.0.note
    }

    /// URLs of photos or documents attached to the step.
    async fn attachments(&self) -> Vec<String> {
        serde_json::from_str(&self.0.attachments).unwrap_or_default()
    }

    /// When the step was taken.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The department that took the step, if any.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(
            maybe::<department::Entity>(ctx, department::Column::Id, self.0.department_id)
                .await?
                .map(Department),
        )
    }
}

/// A person's involvement in an event.
pub struct EventInvolvement(pub event_involvement::Model);

/// A person's involvement in an event: reporter, party, witness or handler.
#[Object]
impl EventInvolvement {
    /// How the person is involved.
    async fn role(&self) -> InvolvementRole {
        self.0.role
    }

    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(
            one::<person::Entity>(ctx, person::Column::Id, self.0.person_id)
                .await?
                .map(Person),
        )
    }

    /// The event.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        Ok(
            one::<event::Entity>(ctx, event::Column::Id, self.0.event_id)
                .await?
                .map(Event),
        )
    }
}
