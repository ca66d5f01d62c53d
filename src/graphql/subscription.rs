//! Live feeds for command-centre screens over WebSocket: changes of events, the overdue list and
//! a grid's statistics, each bounded by the subscriber's grid scope and role.

use super::error::OrInternal;
use super::event::Event;
use super::guard;
use super::id::{encode, NodeType};
use super::scope::{grid_id_of, within_code};
use super::stats::GridStats;
use crate::access::policy::Kind;
use crate::access::scope::{RowScope, Scoped};
use crate::access::Access;
use crate::db::Database;
use crate::domain::grid_code::is_within;
use crate::entity::event;
use crate::entity::vocabulary::{EventActionKind, EventStatus};
use crate::event_loop::overdue_at;
use crate::feed::{self, ChangeFeed};
use async_graphql::{Context, Object, Result, Subscription as SubscriptionObject, ID};
use chrono::Utc;
use futures_util::stream::{self, Stream, StreamExt};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant;

/// Most events one `overdueEvents` snapshot lists.
const OVERDUE_LIMIT: u64 = 100;

/// Shortest time between two snapshots of `stats(gridCode)`.
#[derive(Debug, Clone, Copy)]
pub struct StatsInterval(pub Duration);

/// The live feeds of gridhub.
#[derive(Default)]
pub struct Subscription;

/// A change to one event, as a subscriber sees it. Only changes inside the subscriber's grid
/// scope reach it, and only when its role reads events (see [`Watch`]), so the event's row is
/// read once per change for all subscribers, not through each one's scoped DataLoader.
pub struct EventChange(feed::EventChange);

/// A change to an event: a step of the loop, or the event becoming overdue.
#[Object]
impl EventChange {
    /// Opaque global id of the event.
    async fn event_id(&self) -> ID {
        encode(NodeType::Event, self.0.event_id)
    }

    /// Status of the event after the change.
    async fn status(&self) -> EventStatus {
        self.0.status
    }

    /// The step taken; null when the change is the event becoming overdue (超期).
    async fn action(&self) -> Option<EventActionKind> {
        self.0.action
    }

    /// The event as it is now; null when it no longer exists.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        let db = &ctx.data::<Database>()?.conn;
        let row = self.0.row.get(db, self.0.event_id).await.or_internal()?;
        Ok(row.cloned().map(Event))
    }
}

/// The grid subtrees a change must lie in to reach a subscriber: its own grid scope and the
/// grid it asked for.
#[derive(Clone)]
struct Watch {
    codes: Vec<String>,
}

impl Watch {
    /// Whether a change in grid `code` lies in every watched subtree.
    fn sees(&self, code: &str) -> bool {
        self.codes.iter().all(|ancestor| is_within(code, ancestor))
    }
}

/// Checks that the subscriber may read events and that `grid_code`, when given, names a grid
/// inside its scope; returns what it watches.
async fn watch(ctx: &Context<'_>, grid_code: Option<String>) -> Result<Watch> {
    guard::require_reads(ctx, Kind::Event)?;
    let mut codes: Vec<String> = guard::access(ctx)?
        .principal
        .grid_scope
        .iter()
        .cloned()
        .collect();
    if let Some(code) = grid_code {
        grid_id_of(ctx, &code).await?;
        codes.push(code);
    }
    Ok(Watch { codes })
}

/// What a subscriber heard from the feed.
enum Heard {
    /// A change, in order.
    Change(feed::EventChange),
    /// The subscriber fell behind and missed changes.
    Missed,
}

/// The feed as a stream, ending when the feed closes.
fn heard(receiver: Receiver<feed::EventChange>) -> impl Stream<Item = Heard> {
    stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(change) => Some((Heard::Change(change), receiver)),
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "a subscriber fell behind the event feed");
                Some((Heard::Missed, receiver))
            }
            Err(RecvError::Closed) => None,
        }
    })
}

/// Waits for a change that `watch` sees, or for missed changes (which may have been seen);
/// then takes every change already queued, so that one snapshot answers them all. `None` when
/// the feed closed.
async fn next_change(receiver: &mut Receiver<feed::EventChange>, watch: &Watch) -> Option<()> {
    loop {
        match receiver.recv().await {
            Ok(change) if watch.sees(&change.grid_code) => break,
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => return None,
        }
    }
    next_queued(receiver)
}

/// Open events past their resolution deadline or the deadline of their current step, in every
/// watched subtree and in `scope`, the longest overdue on resolution first.
async fn overdue(db: &DatabaseConnection, scope: &RowScope, watch: &Watch) -> Result<Vec<Event>> {
    let mut select = event::Entity::find().filter(overdue_at(Utc::now()));
    for code in &watch.codes {
        select = select.filter(within_code(event::Column::GridId, code));
    }
    if let Some(visible) = event::Entity::visible_in(scope) {
        select = select.filter(visible);
    }
    let rows = select
        .order_by_asc(event::Column::ResolveBy)
        .order_by_asc(event::Column::Id)
        .limit(OVERDUE_LIMIT)
        .all(db)
        .await
        .or_internal()?;
    Ok(rows.into_iter().map(Event).collect())
}

/// Live feeds for command-centre screens (指挥中心大屏). Each sees only what the subscriber's
/// grid scope and role let it see. Each listens to the feed before its first wait, so a change
/// made after the subscription's first message (or its error) is never missed.
#[SubscriptionObject]
impl Subscription {
    /// Every change to an event from now on: a step of the loop or the event becoming overdue.
    async fn event_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes of events in the subtree of this grid code.")]
        grid_code: Option<String>,
        #[graphql(desc = "Only changes leaving the event in one of these statuses.")]
        statuses: Option<Vec<EventStatus>>,
    ) -> Result<impl Stream<Item = EventChange>> {
        let receiver = ctx.data::<ChangeFeed>()?.subscribe();
        let watch = watch(ctx, grid_code).await?;
        Ok(heard(receiver).filter_map(move |heard| {
            let wanted = match heard {
                Heard::Change(change) => (watch.sees(&change.grid_code)
                    && statuses.as_ref().is_none_or(|s| s.contains(&change.status)))
                .then_some(EventChange(change)),
                Heard::Missed => None,
            };
            std::future::ready(wanted)
        }))
    }

    /// The open events past their resolution deadline or the deadline of their current step
    /// (超期事件) in the subtree of a grid, the longest overdue on resolution first, at most 100: at once, then again whenever an event of the subtree changes.
    async fn overdue_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Grid code whose subtree is watched; the subscriber's scope when absent."
        )]
        grid_code: Option<String>,
    ) -> Result<impl Stream<Item = Result<Vec<Event>>>> {
        let receiver = ctx.data::<ChangeFeed>()?.subscribe();
        let watch = watch(ctx, grid_code).await?;
        let db = ctx.data::<Database>()?.conn.clone();
        let access = ctx.data::<Arc<Access>>()?.clone();
        let state = (receiver, true);
        Ok(stream::unfold(state, move |(mut receiver, first)| {
            let (db, access, watch) = (db.clone(), access.clone(), watch.clone());
            async move {
                if !first {
                    next_change(&mut receiver, &watch).await?;
                }
                let events = overdue(&db, &access.scope, &watch).await;
                Some((events, (receiver, false)))
            }
        }))
    }

    /// Counts over the subtree of a grid (as `grid(code:) { stats }` gives them): at once, then
    /// a fresh snapshot after changes of its events, at most one per configured interval.
    /// FORBIDDEN for roles without aggregates.
    async fn stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Grid code whose subtree is counted.")] grid_code: String,
    ) -> Result<impl Stream<Item = GridStats>> {
        let receiver = ctx.data::<ChangeFeed>()?.subscribe();
        let access = guard::access(ctx)?;
        guard::require(
            access.role.aggregates,
            "this role may not read dashboard statistics",
        )?;
        let grid_id = grid_id_of(ctx, &grid_code).await?;
        let watch = Watch {
            codes: vec![grid_code],
        };
        let interval = ctx.data::<StatsInterval>()?.0;
        let state = (receiver, None::<Instant>);
        Ok(stream::unfold(state, move |(mut receiver, last)| {
            let watch = watch.clone();
            async move {
                if let Some(last) = last {
                    next_change(&mut receiver, &watch).await?;
                    tokio::time::sleep_until(last + interval).await;
                    next_queued(&mut receiver)?;
                }
                Some((GridStats { grid_id }, (receiver, Some(Instant::now()))))
            }
        }))
    }
}

/// Takes every change already queued; `None` when the feed closed.
fn next_queued(receiver: &mut Receiver<feed::EventChange>) -> Option<()> {
    loop {
        match receiver.try_recv() {
            Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty) => return Some(()),
            Err(TryRecvError::Closed) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_sees_changes_inside_every_watched_subtree() {
        let watch = Watch {
            codes: vec!["110101001".to_string(), "110101001001".to_string()],
        };
        assert!(watch.sees("110101001001"));
        assert!(watch.sees("110101001001002"));
        assert!(!watch.sees("110101001002001"));
        assert!(!watch.sees("110101002001"));
    }

    #[test]
    fn an_empty_watch_sees_everything() {
        assert!(Watch { codes: vec![] }.sees("110101001001001"));
    }
}
