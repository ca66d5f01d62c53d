//! Mutations of the event loop 吹哨报到: report an event, then accept, reject, escalate,
//! dispatch, acknowledge, resolve, close or reopen it. Each is authorised twice: the role must
//! list the step in its `event_steps`, and the caller must hold the event (its grid scope holds
//! the level the event is at, or its department is the one the event was dispatched to).

use super::error::{bad_input, coded, forbidden, internal, not_found, Code};
use super::event::Event;
use super::guard;
use super::id::{decode_as, NodeType};
use super::loader::one;
use super::scope::grid_id_of;
use crate::access::context::Action;
use crate::access::policy::Kind;
use crate::access::Access;
use crate::db::Database;
use crate::domain::event_loop::{
    check_record, check_report, may_take, step_name, Actor, Holder, Taker,
};
use crate::entity::event;
use crate::entity::vocabulary::{
    EventActionKind as Step, EventCategory, EventChannel, EventPriority,
};
use crate::event_loop::{Loop, Record, Report, StepError, StepRequest};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::Utc;

/// A new event, as found by a patrol, a resident, a hotline or a camera.
#[derive(InputObject)]
pub struct ReportEventInput {
    /// Code of the grid where it happened (usually a grid or micro-grid).
    pub grid_code: String,
    /// What kind of matter it is.
    pub category: EventCategory,
    /// How urgent it is; the deadlines follow from it.
    pub priority: EventPriority,
    /// How it was found.
    #[graphql(default_with = "EventChannel::Resident")]
    pub channel: EventChannel,
    /// Short title, 1 to 200 characters.
    pub title: String,
    /// What was reported, at most 5000 characters.
    pub description: String,
    /// Latitude of the spot (WGS 84), when known.
    pub latitude: Option<f64>,
    /// Longitude of the spot (WGS 84), when known.
    pub longitude: Option<f64>,
    /// Note for the timeline.
    pub note: Option<String>,
    /// URLs (http or https) of photos or documents, at most 20.
    pub attachments: Option<Vec<String>>,
}

/// A step on an event that needs nothing but a note.
#[derive(InputObject)]
pub struct EventStepInput {
    /// Id of the event.
    pub event_id: ID,
    /// Note for the timeline: why, what was done, the result.
    pub note: Option<String>,
    /// URLs (http or https) of photos or documents, at most 20.
    pub attachments: Option<Vec<String>>,
}

/// Dispatching an event to a department ("whistle" 吹哨).
#[derive(InputObject)]
pub struct DispatchEventInput {
    /// Id of the event.
    pub event_id: ID,
    /// Code of the department that must report for duty: police, civil_affairs, property or
    /// party.
    pub department: String,
    /// Note for the timeline: what the department is asked to do.
    pub note: Option<String>,
    /// URLs (http or https) of photos or documents, at most 20.
    pub attachments: Option<Vec<String>>,
}

/// Closing a resolved event after verification, with the reporter's rating 评价.
#[derive(InputObject)]
pub struct CloseEventInput {
    /// Id of the event.
    pub event_id: ID,
    /// Satisfaction rating from 1 (very dissatisfied) to 5 (very satisfied).
    pub satisfaction: i32,
    /// Note for the timeline: how it was verified.
    pub note: Option<String>,
    /// URLs (http or https) of photos or documents, at most 20.
    pub attachments: Option<Vec<String>>,
}

/// Mutations of the event loop.
#[derive(Default)]
pub struct EventLoopMutation;

/// FORBIDDEN unless the caller's role may take `step` at all.
fn require_step(access: &Access, step: Step) -> Result<()> {
    guard::require(
        access.scope.reads(Kind::Event) && access.role.event_steps.contains(&step),
        &format!(
            "the role `{}` may not {} events",
            access.principal.role,
            step_name(step)
        ),
    )
}

/// What the timeline records of the caller's step.
fn record_of(
    access: &Access,
    note: Option<String>,
    attachments: Option<Vec<String>>,
) -> Result<Record> {
    let note = note.unwrap_or_default();
    let attachments = attachments.unwrap_or_default();
    check_record(&note, &attachments).map_err(bad_input)?;
    let principal = &access.principal;
    Ok(Record {
        actor: format!("{} ({})", principal.subject, principal.role),
        department_id: None,
        note,
        attachments,
    })
}

/// Whether the caller holds the event for a step `taker` takes; the message says why not.
fn authorise(access: &Access, step: Step, taker: Taker, holder: Holder<'_>) -> Result<(), String> {
    let principal = &access.principal;
    let actor = Actor {
        department: principal.department.as_deref(),
        grid_scope: principal.grid_scope.as_deref(),
    };
    if may_take(taker, actor, holder) {
        return Ok(());
    }
    Err(match taker {
        Taker::Department => format!(
            "only the department the event was dispatched to ({}) may {} it",
            holder.department.unwrap_or("none yet"),
            step_name(step)
        ),
        Taker::Grid => format!(
            "the event is held at grid {}, outside what `{}` holds; only that level or one above it may {} it",
            holder.held_at,
            principal.subject,
            step_name(step)
        ),
    })
}

/// The error a client sees when a step was not taken.
fn refused(error: StepError) -> async_graphql::Error {
    match error {
        StepError::NotFound(message) => not_found(message),
        StepError::Illegal(illegal) => coded(Code::Conflict, illegal.to_string()),
        StepError::Changed => coded(
            Code::Conflict,
            "the event changed while the step was taken; read it again and retry",
        ),
        StepError::Forbidden(message) => forbidden(message),
        StepError::Invalid(message) => bad_input(message),
        StepError::Database(error) => internal(error),
    }
}

impl EventLoopMutation {
    /// Takes `step` on the event `id` for the caller.
    async fn take(
        &self,
        ctx: &Context<'_>,
        id: &ID,
        step: Step,
        record: Record,
        details: (Option<String>, Option<i32>),
    ) -> Result<Event> {
        let access = guard::access(ctx)?;
        require_step(access, step)?;
        let event_id = decode_as(id, NodeType::Event)?;
        if one::<event::Entity>(ctx, event::Column::Id, event_id)
            .await?
            .is_none()
        {
            return Err(not_found(format!("no event has the id `{}`", id.as_str())));
        }
        let request = StepRequest {
            event_id,
            step,
            department: details.0,
            satisfaction: details.1,
            record,
        };
        let db = &ctx.data::<Database>()?.conn;
        let taken = ctx
            .data::<Loop>()?
            .take(db, request, Utc::now(), |taker, holder| {
                authorise(access, step, taker, holder)
            })
            .await
            .map_err(refused)?;
        note(access, step, &taken);
        Ok(Event(taken))
    }

    async fn simple(&self, ctx: &Context<'_>, input: EventStepInput, step: Step) -> Result<Event> {
        let record = record_of(guard::access(ctx)?, input.note, input.attachments)?;
        self.take(ctx, &input.event_id, step, record, (None, None))
            .await
    }
}

/// Writes the step to the audit log.
fn note(access: &Access, step: Step, event: &event::Model) {
    access.note_action(Action {
        break_glass: false,
        element: Some(("event", event.id)),
        fields: Vec::new(),
        detail: format!(
            "{} event {} → {:?}",
            step_name(step),
            event.id,
            event.status
        ),
    });
}

/// Mutations of the event loop 发现 → 上报 → 吹哨 → 报到 → 处置 → 反馈 → 评价.
#[Object]
impl EventLoopMutation {
    /// Reports a new event 上报 in a grid. Its deadlines are computed from its priority: the grid
    /// must answer within the response window (15 minutes when urgent, 30 when high, 2 hours
    /// when normal) and the event must be resolved by its resolution deadline.
    async fn report_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What was found, where and how urgent it is.")] input: ReportEventInput,
    ) -> Result<Event> {
        let access = guard::access(ctx)?;
        require_step(access, Step::Report)?;
        let position = match (input.latitude, input.longitude) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            (None, None) => None,
            _ => return Err(bad_input("give both latitude and longitude, or neither")),
        };
        check_report(&input.title, &input.description, position).map_err(bad_input)?;
        let grid_id = grid_id_of(ctx, &input.grid_code).await?;
        let report = Report {
            grid_id,
            category: input.category,
            priority: input.priority,
            channel: input.channel,
            title: input.title.trim().to_string(),
            description: input.description,
            position,
            record: record_of(access, input.note, input.attachments)?,
        };
        let db = &ctx.data::<Database>()?.conn;
        let saved = ctx
            .data::<Loop>()?
            .report(db, report, Utc::now())
            .await
            .map_err(refused)?;
        note(access, Step::Report, &saved);
        Ok(Event(saved))
    }

    /// The grid accepts the event and starts handling it (受理).
    async fn accept_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Accept).await
    }

    /// The grid rejects the event: not a matter for the grid, a duplicate, out of its area. Say
    /// why in the note.
    async fn reject_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Reject).await
    }

    /// Passes the event one level up the grid tree (grid → community → street → district):
    /// what the grid cannot solve goes up. The level above must decide within its assessment
    /// window (the 1-3-7 rule: 1 day community, 3 days street, 7 days district).
    async fn escalate_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Escalate).await
    }

    /// Dispatches an escalated event to a department ("the street blows the whistle" 街道吹哨),
    /// which must report for duty within the response window.
    async fn dispatch_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event, the department to dispatch it to, and the note.")]
        input: DispatchEventInput,
    ) -> Result<Event> {
        let record = record_of(guard::access(ctx)?, input.note, input.attachments)?;
        let department = Some(input.department.trim().to_string());
        self.take(
            ctx,
            &input.event_id,
            Step::Dispatch,
            record,
            (department, None),
        )
        .await
    }

    /// The department the event was dispatched to reports for duty and takes it on (部门报到).
    async fn acknowledge_dispatch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Acknowledge).await
    }

    /// Marks the event handled (处置), with the result in the note; the reporter is told.
    async fn resolve_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Resolve).await
    }

    /// Closes a resolved event after verification, with the satisfaction rating (评价).
    async fn close_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event, the reporter's satisfaction rating 1–5, and the note.")] input: CloseEventInput,
    ) -> Result<Event> {
        let record = record_of(guard::access(ctx)?, input.note, input.attachments)?;
        let rating = Some(input.satisfaction);
        self.take(ctx, &input.event_id, Step::Close, record, (None, rating))
            .await
    }

    /// Reopens a resolved or closed event (back to the grid, with a fresh resolution deadline)
    /// or a rejected one (back to reported). Say why in the note.
    async fn reopen_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event (its global id) and the note for its timeline.")]
        input: EventStepInput,
    ) -> Result<Event> {
        self.simple(ctx, input, Step::Reopen).await
    }
}
