//! The deadline sweeper: finds open events past a deadline, escalates those whose priority the
//! configuration lists (one level up, when the level holding them let a step's deadline pass)
//! and marks the others overdue, publishing each change. Safe with several gridhub processes on
//! one database: every change is conditional on the row as read, so only one process makes it.

use crate::config::EventSettings;
use crate::domain::event_loop::next_status;
use crate::entity::event;
use crate::entity::vocabulary::EventActionKind as Step;
use crate::event_loop::{overdue_at, Loop, Record, StepError, StepRequest};
use crate::feed::{EventChange, SharedRow};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::Duration;

/// Most events one round of a sweep handles.
const ROUND: u64 = 500;

/// Who the timeline names for the sweeper's steps.
pub const SWEEPER: &str = "deadline sweeper (system)";

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Events marked overdue.
    pub marked: u64,
    /// Events escalated one level up.
    pub escalated: u64,
}

/// Sweeps once as of `now`: every open event past a deadline and not yet marked is escalated
/// or marked overdue.
pub async fn sweep(
    db: &DatabaseConnection,
    event_loop: &Loop,
    settings: &EventSettings,
    now: DateTime<Utc>,
) -> Result<Sweep, DbErr> {
    let mut done = Sweep::default();
    loop {
        let due = event::Entity::find()
            .filter(overdue_at(now))
            .filter(event::Column::OverdueSince.is_null())
            .order_by_asc(event::Column::Id)
            .limit(ROUND)
            .all(db)
            .await?;
        if due.is_empty() {
            return Ok(done);
        }
        for overdue in due {
            if escalates(settings, &overdue, now) && escalate(db, event_loop, &overdue, now).await?
            {
                done.escalated += 1;
            } else if mark(db, event_loop, &overdue, now).await? {
                done.marked += 1;
            }
        }
    }
}

/// Whether the configuration wants `event` escalated: its priority is listed and the level
/// holding it let the deadline of a step that escalation answers pass.
fn escalates(settings: &EventSettings, event: &event::Model, now: DateTime<Utc>) -> bool {
    settings.auto_escalate.contains(&event.priority)
        && event.step_due_at.is_some_and(|due| due < now)
        && next_status(event.status, Step::Escalate).is_ok()
}

/// Escalates `event` for the sweeper; `false` when it cannot go higher or changed meanwhile.
async fn escalate(
    db: &DatabaseConnection,
    event_loop: &Loop,
    event: &event::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let request = StepRequest {
        event_id: event.id,
        step: Step::Escalate,
        department: None,
        satisfaction: None,
        record: Record {
            actor: SWEEPER.to_string(),
            note: "deadline passed: escalated automatically".to_string(),
            ..Record::default()
        },
    };
    match event_loop.take(db, request, now, |_, _| Ok(())).await {
        Ok(_) => Ok(true),
        Err(StepError::Database(error)) => Err(error),
        Err(_) => Ok(false),
    }
}

/// Marks `event` overdue unless someone did or it changed; publishes the change when it did.
async fn mark(
    db: &DatabaseConnection,
    event_loop: &Loop,
    event: &event::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let marked = event::Entity::update_many()
        .col_expr(event::Column::OverdueSince, Expr::value(now))
        .filter(event::Column::Id.eq(event.id))
        .filter(event::Column::Status.eq(event.status))
        .filter(event::Column::OverdueSince.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if marked {
        let grid_code = crate::event_loop::grid_code(db, event.grid_id).await?;
        event_loop
            .feed
            .publish(EventChange {
                event_id: event.id,
                grid_code,
                status: event.status,
                action: None,
                row: SharedRow::default(),
            })
            .await;
    }
    Ok(marked)
}

/// Sweeps every `settings.sweep_interval_secs` in the background (not at all when it is 0).
pub fn spawn(db: DatabaseConnection, event_loop: Loop, settings: EventSettings) {
    if settings.sweep_interval_secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(settings.sweep_interval_secs));
        loop {
            ticks.tick().await;
            match sweep(&db, &event_loop, &settings, Utc::now()).await {
                Ok(done) if done != Sweep::default() => {
                    tracing::info!(
                        marked = done.marked,
                        escalated = done.escalated,
                        "deadline sweep"
                    )
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "deadline sweep failed; retrying at the next tick")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::entity::vocabulary::{EventPriority, EventStatus};

    fn event(priority: EventPriority, status: EventStatus, step_due_in: i64) -> event::Model {
        let now = Utc::now();
        event::Model {
            id: 1,
            grid_id: 1,
            place_id: None,
            house_id: None,
            department_id: None,
            category: crate::entity::vocabulary::EventCategory::Dispute,
            priority,
            status,
            channel: crate::entity::vocabulary::EventChannel::Patrol,
            title: String::new(),
            description: String::new(),
            latitude: None,
            longitude: None,
            reported_at: now,
            respond_by: now,
            resolve_by: now + chrono::Duration::days(1),
            resolved_at: None,
            closed_at: None,
            satisfaction: None,
            held_at_grid_id: None,
            step_due_at: Some(now + chrono::Duration::minutes(step_due_in)),
            overdue_since: None,
        }
    }

    #[test]
    fn only_listed_priorities_late_on_a_step_escalate() {
        let settings = Settings::defaults().events;
        let now = Utc::now();
        let late = |p, s| escalates(&settings, &event(p, s, -1), now);
        assert!(late(EventPriority::Urgent, EventStatus::Reported));
        assert!(late(EventPriority::Urgent, EventStatus::Escalated));
        assert!(!late(EventPriority::Normal, EventStatus::Reported));
        assert!(!late(EventPriority::Urgent, EventStatus::Dispatched));
        assert!(!escalates(
            &settings,
            &event(EventPriority::Urgent, EventStatus::Reported, 5),
            now
        ));
    }
}
