//! The event loop 发现 → 上报 → 吹哨 → 报到 → 处置 → 反馈 → 评价 as a state machine: which step
//! may follow which status, and who may take it.
//!
//! ```text
//! reported ──accept──> accepted ──resolve──> resolved ──close──> closed
//!    │  └─reject─> rejected   │                 ▲  │                 │
//!    │                        escalate          │  └─reopen─> accepted <─reopen┘
//!    └──escalate──> escalated ─┤─resolve────────┘
//!                   (again, one level up)
//!                              └─dispatch─> dispatched ─acknowledge─> acknowledged ─resolve─┘
//! rejected ──reopen──> reported
//! ```

use super::grid_code::is_within;
use crate::entity::vocabulary::{EventActionKind as Step, EventStatus as Status};
use std::fmt;

/// A step that may not follow the event's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalStep {
    /// The event's status.
    pub from: Status,
    /// The step asked for.
    pub step: Step,
}

impl fmt::Display for IllegalStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed = steps_from(self.from);
        let allowed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed
                .iter()
                .map(|s| step_name(*s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "cannot {} an event that is {} (steps allowed now: {allowed})",
            step_name(self.step),
            status_name(self.from),
        )
    }
}

impl std::error::Error for IllegalStep {}

/// The status an event reaches when `step` is taken from `from`.
pub fn next_status(from: Status, step: Step) -> Result<Status, IllegalStep> {
    use Status::*;
    let to = match (from, step) {
        (Reported, Step::Accept) => Accepted,
        (Reported, Step::Reject) => Rejected,
        (Reported | Accepted | Escalated, Step::Escalate) => Escalated,
        (Escalated, Step::Dispatch) => Dispatched,
        (Dispatched, Step::Acknowledge) => Acknowledged,
        (Accepted | Escalated | Acknowledged, Step::Resolve) => Resolved,
        (Resolved, Step::Close) => Closed,
        (Resolved | Closed, Step::Reopen) => Accepted,
        (Rejected, Step::Reopen) => Reported,
        _ => return Err(IllegalStep { from, step }),
    };
    Ok(to)
}

/// Every step that may follow `from`.
pub fn steps_from(from: Status) -> Vec<Step> {
    use sea_orm::Iterable;
    Step::iter()
        .filter(|step| next_status(from, *step).is_ok())
        .collect()
}

/// Statuses in which an event still needs work.
pub const OPEN: [Status; 5] = [
    Status::Reported,
    Status::Accepted,
    Status::Escalated,
    Status::Dispatched,
    Status::Acknowledged,
];

/// Whether the event still needs work.
pub fn is_open(status: Status) -> bool {
    OPEN.contains(&status)
}

/// Who takes a step: the department that must report for duty (报到) and work on a dispatched
/// event, or the grid level that holds the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taker {
    /// The department the event was dispatched to.
    Department,
    /// Whoever holds the grid level the event is at (the grid it was reported in, or the level
    /// it was escalated to), or a level above it.
    Grid,
}

/// Who takes `step` on an event in `status`.
pub fn taker(status: Status, step: Step) -> Taker {
    match (status, step) {
        (_, Step::Acknowledge) | (Status::Acknowledged, Step::Resolve) => Taker::Department,
        _ => Taker::Grid,
    }
}

/// Who asks to take a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a> {
    /// The department the actor acts for, if any.
    pub department: Option<&'a str>,
    /// Code of the grid whose subtree the actor holds; `None` for the whole hub.
    pub grid_scope: Option<&'a str>,
}

/// What decides who may act on an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder<'a> {
    /// Code of the department the event was dispatched to, if any.
    pub department: Option<&'a str>,
    /// Code of the grid level that holds the event.
    pub held_at: &'a str,
}

/// Whether `actor` may take a step that `taker` takes on an event held as `holder` says: a
/// department step only by the department the event was dispatched to (no one acts for a
/// department it does not name, whatever its grid scope); a grid step only by an actor acting
/// for no department, on events held inside its grid scope (a grid worker on its grid, a
/// street's command centre on everything of its street).
pub fn may_take(taker: Taker, actor: Actor<'_>, holder: Holder<'_>) -> bool {
    match (taker, actor.department) {
        (Taker::Department, Some(department)) => holder.department == Some(department),
        (Taker::Department, None) | (Taker::Grid, Some(_)) => false,
        (Taker::Grid, None) => actor
            .grid_scope
            .is_none_or(|scope| is_within(holder.held_at, scope)),
    }
}

/// Satisfaction ratings run from 1 (very dissatisfied) to 5 (very satisfied).
pub fn check_satisfaction(rating: i32) -> Result<i32, String> {
    if (1..=5).contains(&rating) {
        Ok(rating)
    } else {
        Err(format!("satisfaction must be 1 to 5, got {rating}"))
    }
}

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description or note, in characters.
pub const MAX_TEXT: usize = 5000;
/// Most attachments on one step.
pub const MAX_ATTACHMENTS: usize = 20;
/// Longest attachment URL, in characters.
pub const MAX_URL: usize = 2000;

/// Checks the text of a report: a title of 1 to 200 characters, a description of at most 5000,
/// a position on the globe.
pub fn check_report(
    title: &str,
    description: &str,
    position: Option<(f64, f64)>,
) -> Result<(), String> {
    let title_len = title.trim().chars().count();
    if title_len == 0 || title_len > MAX_TITLE {
        return Err(format!(
            "title must have 1 to {MAX_TITLE} characters, it has {title_len}"
        ));
    }
    if description.chars().count() > MAX_TEXT {
        return Err(format!(
            "description must have at most {MAX_TEXT} characters"
        ));
    }
    match position {
        Some((lat, lng)) if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) => {
            Err(format!("position ({lat}, {lng}) is not on the globe"))
        }
        _ => Ok(()),
    }
}

/// Checks what a step records: a note of at most 5000 characters and up to 20 attachment URLs
/// (http or https).
pub fn check_record(note: &str, attachments: &[String]) -> Result<(), String> {
    if note.chars().count() > MAX_TEXT {
        return Err(format!("note must have at most {MAX_TEXT} characters"));
    }
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(format!(
            "at most {MAX_ATTACHMENTS} attachments, got {}",
            attachments.len()
        ));
    }
    match attachments.iter().find(|url| !is_attachment_url(url)) {
        Some(url) => Err(format!(
            "attachment `{url}` is not an http(s) URL of at most {MAX_URL} characters"
        )),
        None => Ok(()),
    }
}

fn is_attachment_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.chars().count() <= MAX_URL
        && !url.chars().any(char::is_whitespace)
}

/// The step's name as the API spells it.
pub fn step_name(step: Step) -> &'static str {
    match step {
        Step::Report => "report",
        Step::Accept => "accept",
        Step::Reject => "reject",
        Step::Escalate => "escalate",
        Step::Dispatch => "dispatch",
        Step::Acknowledge => "acknowledge",
        Step::Resolve => "resolve",
        Step::Close => "close",
        Step::Reopen => "reopen",
    }
}

/// The status's name as the API spells it.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Reported => "REPORTED",
        Status::Accepted => "ACCEPTED",
        Status::Rejected => "REJECTED",
        Status::Escalated => "ESCALATED",
        Status::Dispatched => "DISPATCHED",
        Status::Acknowledged => "ACKNOWLEDGED",
        Status::Resolved => "RESOLVED",
        Status::Closed => "CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;
    use Status::*;

    /// Every legal (status, step) pair and where it leads; everything else is illegal.
    const LEGAL: [(Status, Step, Status); 14] = [
        (Reported, Step::Accept, Accepted),
        (Reported, Step::Reject, Rejected),
        (Reported, Step::Escalate, Escalated),
        (Accepted, Step::Escalate, Escalated),
        (Escalated, Step::Escalate, Escalated),
        (Escalated, Step::Dispatch, Dispatched),
        (Dispatched, Step::Acknowledge, Acknowledged),
        (Accepted, Step::Resolve, Resolved),
        (Escalated, Step::Resolve, Resolved),
        (Acknowledged, Step::Resolve, Resolved),
        (Resolved, Step::Close, Closed),
        (Resolved, Step::Reopen, Accepted),
        (Closed, Step::Reopen, Accepted),
        (Rejected, Step::Reopen, Reported),
    ];

    #[test]
    fn every_legal_transition_leads_where_the_loop_says() {
        for (from, step, to) in LEGAL {
            assert_eq!(next_status(from, step), Ok(to), "{from:?} --{step:?}-->");
        }
    }

    #[test]
    fn every_other_transition_is_refused() {
        let mut refused = 0;
        for from in Status::iter() {
            for step in Step::iter() {
                if LEGAL.iter().any(|(f, s, _)| (*f, *s) == (from, step)) {
                    continue;
                }
                assert_eq!(
                    next_status(from, step),
                    Err(IllegalStep { from, step }),
                    "{from:?} --{step:?}--> should be refused"
                );
                refused += 1;
            }
        }
        assert_eq!(refused, 8 * 9 - LEGAL.len());
    }

    #[test]
    fn a_report_is_never_a_transition() {
        for from in Status::iter() {
            assert!(next_status(from, Step::Report).is_err());
        }
    }

    #[test]
    fn refusal_names_the_status_and_the_steps_allowed() {
        let error = next_status(Closed, Step::Dispatch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot dispatch an event that is CLOSED (steps allowed now: reopen)"
        );
        let error = next_status(Reported, Step::Close).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot close an event that is REPORTED (steps allowed now: accept, reject, escalate)"
        );
    }

    #[test]
    fn open_statuses_are_those_still_needing_work() {
        let open: Vec<_> = Status::iter().filter(|s| is_open(*s)).collect();
        assert_eq!(
            open,
            [Reported, Accepted, Escalated, Dispatched, Acknowledged]
        );
    }

    #[test]
    fn departments_acknowledge_and_resolve_what_they_acknowledged() {
        assert_eq!(taker(Dispatched, Step::Acknowledge), Taker::Department);
        assert_eq!(taker(Acknowledged, Step::Resolve), Taker::Department);
        assert_eq!(taker(Accepted, Step::Resolve), Taker::Grid);
        assert_eq!(taker(Escalated, Step::Dispatch), Taker::Grid);
        assert_eq!(taker(Resolved, Step::Close), Taker::Grid);
    }

    const STREET: &str = "650203001";
    const GRID: &str = "650203001001007";

    fn holder(department: Option<&'static str>, held_at: &'static str) -> Holder<'static> {
        Holder {
            department,
            held_at,
        }
    }

    #[test]
    fn grid_steps_belong_to_whoever_holds_the_grid_level() {
        let worker = Actor {
            department: None,
            grid_scope: Some(GRID),
        };
        let street = Actor {
            department: None,
            grid_scope: Some(STREET),
        };
        let district = Actor {
            department: None,
            grid_scope: None,
        };
        assert!(may_take(Taker::Grid, worker, holder(None, GRID)));
        assert!(!may_take(Taker::Grid, worker, holder(None, STREET)));
        assert!(may_take(Taker::Grid, street, holder(None, GRID)));
        assert!(may_take(Taker::Grid, street, holder(None, STREET)));
        assert!(!may_take(Taker::Grid, street, holder(None, "650203002")));
        assert!(may_take(Taker::Grid, district, holder(None, STREET)));
    }

    #[test]
    fn departments_act_only_on_what_was_dispatched_to_them() {
        let police = Actor {
            department: Some("police"),
            grid_scope: None,
        };
        assert!(may_take(
            Taker::Department,
            police,
            holder(Some("police"), STREET)
        ));
        assert!(!may_take(
            Taker::Department,
            police,
            holder(Some("property"), STREET)
        ));
        assert!(!may_take(Taker::Department, police, holder(None, STREET)));
        for nobody in [None, Some(STREET)] {
            let no_department = Actor {
                department: None,
                grid_scope: nobody,
            };
            assert!(
                !may_take(
                    Taker::Department,
                    no_department,
                    holder(Some("police"), STREET)
                ),
                "an actor of no department takes no department step"
            );
        }
        assert!(!may_take(
            Taker::Grid,
            police,
            holder(Some("police"), STREET)
        ));
    }

    #[test]
    fn reports_need_a_title_and_a_place_on_the_globe() {
        assert!(check_report("楼道堆物", "", Some((45.6, 84.9))).is_ok());
        assert!(check_report("  ", "", None).is_err());
        assert!(check_report(&"长".repeat(201), "", None).is_err());
        assert!(check_report(&"长".repeat(200), "", None).is_ok());
        assert!(check_report("t", "", Some((91.0, 0.0))).is_err());
    }

    #[test]
    fn attachments_are_a_few_web_links() {
        let photo = "https://files.example/evt1.jpg".to_string();
        assert!(check_record("已处置", std::slice::from_ref(&photo)).is_ok());
        assert!(check_record("", &["file:///etc/passwd".to_string()]).is_err());
        assert!(check_record("", &["https://a b".to_string()]).is_err());
        assert!(check_record("", &vec![photo; 21]).is_err());
        assert!(check_record(&"字".repeat(5001), &[]).is_err());
    }

    #[test]
    fn satisfaction_is_one_to_five() {
        assert_eq!(check_satisfaction(1), Ok(1));
        assert_eq!(check_satisfaction(5), Ok(5));
        assert!(check_satisfaction(0).is_err());
        assert!(check_satisfaction(6).is_err());
    }
}
