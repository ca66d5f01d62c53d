//! The event loop against the database: reports an event, takes a step of the loop on one
//! (the rules are `domain::event_loop`, the deadlines `domain::deadlines`), writes the step to
//! the event's timeline in the same transaction, and publishes the change to the change feed.
//! The GraphQL mutations and the deadline sweeper both come through here.

use crate::db::begin_write;
use crate::domain::deadlines::Deadlines;
use crate::domain::event_loop::{
    check_satisfaction, next_status, taker, Holder, IllegalStep, Taker, OPEN,
};
use crate::entity::vocabulary::{
    EventActionKind as Step, EventCategory, EventChannel, EventPriority, EventStatus,
};
use crate::entity::{department, event, event_action, grid};
use crate::feed::{ChangeFeed, EventChange, SharedRow};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};

/// Why a step was not taken.
#[derive(Debug)]
pub enum StepError {
    /// No such event (or grid, for a report).
    NotFound(String),
    /// The step may not follow the event's status.
    Illegal(IllegalStep),
    /// The event changed since it was read; nothing was written.
    Changed,
    /// The caller may not take this step on this event.
    Forbidden(String),
    /// The request itself is wrong (unknown department, no level above, bad rating).
    Invalid(String),
    /// The database failed.
    Database(DbErr),
}

impl From<DbErr> for StepError {
    fn from(error: DbErr) -> Self {
        StepError::Database(error)
    }
}

/// What the loop needs besides the database.
#[derive(Clone)]
pub struct Loop {
    /// Where changes are published.
    pub feed: ChangeFeed,
    /// How long each step may take.
    pub deadlines: Deadlines,
}

/// A new event.
#[derive(Debug, Clone)]
pub struct Report {
    /// Id of the grid it happened in.
    pub grid_id: i64,
    /// What kind of matter.
    pub category: EventCategory,
    /// How urgent.
    pub priority: EventPriority,
    /// How it was found.
    pub channel: EventChannel,
    /// Short title.
    pub title: String,
    /// What was reported.
    pub description: String,
    /// Spot, when known.
    pub position: Option<(f64, f64)>,
    /// What the timeline records.
    pub record: Record,
}

/// What the timeline records of a step.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Who took the step.
    pub actor: String,
    /// The department acting, if any.
    pub department_id: Option<i64>,
    /// Note written with the step.
    pub note: String,
    /// URLs of photos or documents.
    pub attachments: Vec<String>,
}

/// A step to take on an event.
#[derive(Debug, Clone)]
pub struct StepRequest {
    /// The event.
    pub event_id: i64,
    /// The step.
    pub step: Step,
    /// Department code to dispatch to (dispatch only).
    pub department: Option<String>,
    /// Satisfaction rating 1–5 (close only).
    pub satisfaction: Option<i32>,
    /// What the timeline records.
    pub record: Record,
}

impl Loop {
    /// Writes a reported event and its first timeline step, then publishes it.
    pub async fn report(
        &self,
        db: &DatabaseConnection,
        report: Report,
        now: DateTime<Utc>,
    ) -> Result<event::Model, StepError> {
        let txn = begin_write(db).await?;
        let grid = grid_by_id(&txn, report.grid_id).await?;
        let respond_by = self.deadlines.respond_by(report.priority, now);
        let row = event::ActiveModel {
            grid_id: Set(report.grid_id),
            category: Set(report.category),
            priority: Set(report.priority),
            status: Set(EventStatus::Reported),
            channel: Set(report.channel),
            title: Set(report.title),
            description: Set(report.description),
            latitude: Set(report.position.map(|p| p.0)),
            longitude: Set(report.position.map(|p| p.1)),
            reported_at: Set(now),
            respond_by: Set(respond_by),
            resolve_by: Set(self.deadlines.resolve_by(report.priority, now)),
            step_due_at: Set(Some(respond_by)),
            ..Default::default()
        };
        let saved = row.insert(&txn).await?;
        write_step(&txn, &saved, None, Step::Report, &report.record, now).await?;
        txn.commit().await?;
        self.publish(&saved, &grid.code, Some(Step::Report)).await;
        Ok(saved)
    }

    /// Takes `request`'s step on its event if the loop allows it and `authorise` agrees that
    /// the caller may (given who takes the step and who holds the event); writes the step to
    /// the timeline and publishes the change.
    pub async fn take(
        &self,
        db: &DatabaseConnection,
        request: StepRequest,
        now: DateTime<Utc>,
        authorise: impl FnOnce(Taker, Holder<'_>) -> Result<(), String>,
    ) -> Result<event::Model, StepError> {
        let txn = begin_write(db).await?;
        let current = event::Entity::find_by_id(request.event_id)
            .one(&txn)
            .await?
            .ok_or_else(|| StepError::NotFound(format!("no event {}", request.event_id)))?;
        let to = next_status(current.status, request.step).map_err(StepError::Illegal)?;
        let held_at = grid_by_id(&txn, current.held_at_grid_id.unwrap_or(current.grid_id)).await?;
        let dispatched_to = department_code(&txn, current.department_id).await?;
        let holder = Holder {
            department: dispatched_to.as_deref(),
            held_at: &held_at.code,
        };
        let taker = taker(current.status, request.step);
        authorise(taker, holder).map_err(StepError::Forbidden)?;
        let mut changed = current.clone().into_active_model();
        changed.status = Set(to);
        changed.overdue_since = Set(None);
        let level = self
            .apply(&txn, &mut changed, &current, &request, &held_at, now)
            .await?;
        changed.step_due_at = Set(self.deadlines.step_due(to, current.priority, level, now));
        let saved = save_if_unchanged(&txn, changed, &current).await?;
        let record = Record {
            department_id: acting_department(taker, request.step, &saved),
            ..request.record
        };
        write_step(
            &txn,
            &saved,
            Some(current.status),
            request.step,
            &record,
            now,
        )
        .await?;
        let happened_in = grid_by_id(&txn, saved.grid_id).await?;
        txn.commit().await?;
        self.publish(&saved, &happened_in.code, Some(request.step))
            .await;
        Ok(saved)
    }

    /// The changes particular to the step; returns the level of the grid holding the event
    /// afterwards.
    async fn apply(
        &self,
        txn: &impl ConnectionTrait,
        changed: &mut event::ActiveModel,
        current: &event::Model,
        request: &StepRequest,
        held_at: &grid::Model,
        now: DateTime<Utc>,
    ) -> Result<crate::entity::vocabulary::GridLevel, StepError> {
        match request.step {
            Step::Escalate => {
                let parent = match held_at.parent_id {
                    Some(parent) => grid_by_id(txn, parent).await?,
                    None => {
                        return Err(StepError::Invalid(format!(
                            "the event is held at {} ({}), the top of the grid tree: there is no level to escalate to",
                            held_at.name, held_at.code
                        )))
                    }
                };
                changed.held_at_grid_id = Set(Some(parent.id));
                return Ok(parent.level);
            }
            Step::Dispatch => {
                let code = request.department.as_deref().unwrap_or_default();
                changed.department_id = Set(Some(department_id(txn, code).await?));
            }
            Step::Resolve => changed.resolved_at = Set(Some(now)),
            Step::Close => {
                let rating = request.satisfaction.unwrap_or_default();
                let rating = check_satisfaction(rating).map_err(StepError::Invalid)?;
                changed.satisfaction = Set(Some(rating));
                changed.closed_at = Set(Some(now));
            }
            Step::Reopen => {
                changed.resolved_at = Set(None);
                changed.closed_at = Set(None);
                changed.satisfaction = Set(None);
                changed.resolve_by = Set(self.deadlines.resolve_by(current.priority, now));
            }
            Step::Report | Step::Accept | Step::Reject | Step::Acknowledge => {}
        }
        Ok(held_at.level)
    }

    async fn publish(&self, event: &event::Model, grid_code: &str, action: Option<Step>) {
        self.feed
            .publish(EventChange {
                event_id: event.id,
                grid_code: grid_code.to_string(),
                status: event.status,
                action,
                row: SharedRow::default(),
            })
            .await;
    }
}

/// The department a step is taken by or for: the one reporting for duty and resolving, or the
/// one a dispatch whistles.
fn acting_department(taker: Taker, step: Step, event: &event::Model) -> Option<i64> {
    (taker == Taker::Department || step == Step::Dispatch)
        .then_some(event.department_id)
        .flatten()
}

/// Open events past their resolution deadline or the deadline of their current step at `now`
/// (`domain::deadlines::is_overdue` in SQL).
pub fn overdue_at(now: DateTime<Utc>) -> Condition {
    Condition::all().add(event::Column::Status.is_in(OPEN)).add(
        Condition::any()
            .add(event::Column::ResolveBy.lt(now))
            .add(event::Column::StepDueAt.lt(now)),
    )
}

/// The code of grid `id` (empty when there is none).
pub async fn grid_code(db: &impl ConnectionTrait, id: i64) -> Result<String, DbErr> {
    Ok(grid::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|g| g.code)
        .unwrap_or_default())
}

/// Saves `changed` only if the event is still in `status`: of two steps taken at once, the
/// second finds the event changed and writes nothing.
async fn save_if_unchanged(
    txn: &impl ConnectionTrait,
    changed: event::ActiveModel,
    current: &event::Model,
) -> Result<event::Model, StepError> {
    let id = current.id;
    let updated = event::Entity::update_many()
        .set(changed)
        .filter(event::Column::Id.eq(id))
        .filter(event::Column::Status.eq(current.status))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(StepError::Changed);
    }
    event::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(StepError::Changed)
}

async fn write_step(
    txn: &impl ConnectionTrait,
    event: &event::Model,
    from: Option<EventStatus>,
    step: Step,
    record: &Record,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let attachments = serde_json::to_string(&record.attachments).unwrap_or_else(|_| "[]".into());
    event_action::ActiveModel {
        event_id: Set(event.id),
        department_id: Set(record.department_id),
        action: Set(step),
        from_status: Set(from),
        to_status: Set(event.status),
        actor: Set(record.actor.clone()),
        note: Set(record.note.clone()),
        attachments: Set(attachments),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn grid_by_id(txn: &impl ConnectionTrait, id: i64) -> Result<grid::Model, StepError> {
    grid::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| StepError::NotFound(format!("no grid {id}")))
}

async fn department_code(
    txn: &impl ConnectionTrait,
    id: Option<i64>,
) -> Result<Option<String>, DbErr> {
    let Some(id) = id else { return Ok(None) };
    Ok(department::Entity::find_by_id(id)
        .one(txn)
        .await?
        .map(|d| d.code))
}

async fn department_id(txn: &impl ConnectionTrait, code: &str) -> Result<i64, StepError> {
    if let Some(found) = department::Entity::find()
        .filter(department::Column::Code.eq(code))
        .one(txn)
        .await?
    {
        return Ok(found.id);
    }
    let known: Vec<String> = department::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    Err(StepError::Invalid(format!(
        "no department has the code `{code}` (known: {})",
        known.join(", ")
    )))
}
