//! Deadlines of the event loop: how long each step may take, per priority and grid level, and
//! whether an event is overdue. Defaults follow DOMAIN.md: respond within 15 minutes (urgent),
//! 30 minutes (high), 2 hours (normal); assessment by the community the same day, by the street
//! within 3 days, by the district within 7 (the 1-3-7 rule).

use super::event_loop::is_open;
use crate::entity::vocabulary::{EventPriority as Priority, EventStatus as Status, GridLevel};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// Minutes per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerPriority {
    /// Urgent events.
    pub urgent: i64,
    /// High-priority events.
    pub high: i64,
    /// Normal events.
    pub normal: i64,
    /// Routine events.
    pub low: i64,
}

impl PerPriority {
    /// The minutes for `priority`.
    pub fn minutes(&self, priority: Priority) -> i64 {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }

    fn of(&self, priority: Priority) -> Duration {
        Duration::minutes(self.minutes(priority))
    }
}

/// Minutes per level of the grid tree that assesses an escalated event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerLevel {
    /// The community (and grids below it).
    pub community: i64,
    /// The street.
    pub street: i64,
    /// The district.
    pub district: i64,
}

impl PerLevel {
    fn of(&self, level: GridLevel) -> Duration {
        Duration::minutes(match level {
            GridLevel::District => self.district,
            GridLevel::Street => self.street,
            GridLevel::Community | GridLevel::Grid | GridLevel::MicroGrid => self.community,
        })
    }
}

/// How long each step of the loop may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// From the report to the grid's answer (accept, reject or escalate), and from a dispatch
    /// to the department reporting for duty (报到).
    pub respond_minutes: PerPriority,
    /// From the report to the resolution.
    pub resolve_minutes: PerPriority,
    /// From an escalation to the decision of the level it reached (1-3-7).
    pub assessment_minutes: PerLevel,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            respond_minutes: PerPriority {
                urgent: 15,
                high: 30,
                normal: 120,
                low: 24 * 60,
            },
            resolve_minutes: PerPriority {
                urgent: 24 * 60,
                high: 3 * 24 * 60,
                normal: 7 * 24 * 60,
                low: 7 * 24 * 60,
            },
            assessment_minutes: PerLevel {
                community: 24 * 60,
                street: 3 * 24 * 60,
                district: 7 * 24 * 60,
            },
        }
    }
}

impl Deadlines {
    /// When the grid must first answer an event reported at `at`.
    pub fn respond_by(&self, priority: Priority, at: DateTime<Utc>) -> DateTime<Utc> {
        at + self.respond_minutes.of(priority)
    }

    /// When an event reported at `at` must be resolved.
    pub fn resolve_by(&self, priority: Priority, reported_at: DateTime<Utc>) -> DateTime<Utc> {
        reported_at + self.resolve_minutes.of(priority)
    }

    /// When the step after entering `status` at `at` is due, for an event held at `level`;
    /// `None` when only the resolution deadline applies, or nothing does.
    pub fn step_due(
        &self,
        status: Status,
        priority: Priority,
        level: GridLevel,
        at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match status {
            Status::Reported | Status::Dispatched => Some(self.respond_by(priority, at)),
            Status::Escalated => Some(at + self.assessment_minutes.of(level)),
            Status::Accepted
            | Status::Acknowledged
            | Status::Resolved
            | Status::Rejected
            | Status::Closed => None,
        }
    }
}

/// Whether an event is overdue at `now`: open and past its resolution deadline or the deadline
/// of its current step.
pub fn is_overdue(
    status: Status,
    step_due: Option<DateTime<Utc>>,
    resolve_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    is_open(status) && (resolve_by < now || step_due.is_some_and(|due| due < now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
    }

    #[test]
    fn response_deadlines_follow_the_15_30_120_minute_rule() {
        let d = Deadlines::default();
        let minutes = |p| (d.respond_by(p, t0()) - t0()).num_minutes();
        assert_eq!(minutes(Priority::Urgent), 15);
        assert_eq!(minutes(Priority::High), 30);
        assert_eq!(minutes(Priority::Normal), 120);
    }

    #[test]
    fn escalations_are_assessed_on_the_1_3_7_rule() {
        let d = Deadlines::default();
        let days = |level| {
            let due = d.step_due(Status::Escalated, Priority::Normal, level, t0());
            (due.unwrap() - t0()).num_days()
        };
        assert_eq!(days(GridLevel::Community), 1);
        assert_eq!(days(GridLevel::Street), 3);
        assert_eq!(days(GridLevel::District), 7);
    }

    #[test]
    fn departments_report_for_duty_within_the_response_window() {
        let d = Deadlines::default();
        let due = d.step_due(
            Status::Dispatched,
            Priority::Urgent,
            GridLevel::Street,
            t0(),
        );
        assert_eq!(due, Some(t0() + Duration::minutes(15)));
        let due = d.step_due(
            Status::Acknowledged,
            Priority::Urgent,
            GridLevel::Street,
            t0(),
        );
        assert_eq!(due, None);
    }

    #[test]
    fn an_event_is_overdue_only_past_a_deadline_with_work_left() {
        let resolve_by = t0() + Duration::days(1);
        let step_due = Some(t0() + Duration::minutes(15));
        let at = |minutes| t0() + Duration::minutes(minutes);
        assert!(!is_overdue(Status::Reported, step_due, resolve_by, at(14)));
        assert!(is_overdue(Status::Reported, step_due, resolve_by, at(16)));
        assert!(!is_overdue(Status::Accepted, None, resolve_by, at(16)));
        assert!(is_overdue(
            Status::Accepted,
            None,
            resolve_by,
            at(24 * 60 + 1)
        ));
        assert!(!is_overdue(
            Status::Closed,
            None,
            resolve_by,
            at(10 * 24 * 60)
        ));
        assert!(!is_overdue(
            Status::Rejected,
            None,
            resolve_by,
            at(10 * 24 * 60)
        ));
    }

    #[test]
    fn configuration_replaces_the_defaults() {
        let d: Deadlines = toml::from_str(
            "respond_minutes = { urgent = 5, high = 10, normal = 20, low = 30 }\n\
             resolve_minutes = { urgent = 60, high = 120, normal = 240, low = 480 }\n\
             assessment_minutes = { community = 1, street = 2, district = 3 }\n",
        )
        .unwrap();
        assert_eq!(
            (d.respond_by(Priority::Urgent, t0()) - t0()).num_minutes(),
            5
        );
        assert!(toml::from_str::<Deadlines>("bogus = 2").is_err());
    }
}
