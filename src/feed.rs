//! The change feed: every change to an event (a step of the loop, or the sweeper marking it
//! overdue) is published here, and subscriptions listen to it.
//!
//! On SQLite the feed stays inside the process. On PostgreSQL a change is published with
//! `pg_notify` on [`CHANNEL`], and a listener task of every process rebroadcasts each
//! notification to its own subscribers: a change made through one process reaches the
//! subscribers of all of them, each exactly once (a process hears its own changes back through
//! PostgreSQL too).

use crate::db::Database;
use crate::entity::event;
use crate::entity::vocabulary::{EventActionKind, EventStatus};
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, EntityTrait};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, OnceCell};

/// How many changes a slow subscriber may fall behind before it misses some.
const BACKLOG: usize = 4096;

/// The PostgreSQL notification channel of event changes.
pub const CHANNEL: &str = "gridhub_event_changes";

/// Longest pause between two attempts to listen again after the listener failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One change to one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventChange {
    /// Id of the event.
    pub event_id: i64,
    /// Code of the grid where the event happened.
    pub grid_code: String,
    /// Status after the change.
    pub status: EventStatus,
    /// The step taken; `None` when the sweeper found the event overdue.
    pub action: Option<EventActionKind>,
    /// The event's row after the change, read once for all the subscribers of this process.
    #[serde(skip)]
    pub row: SharedRow,
}

/// The row of a changed event, read at most once however many subscribers of a process ask
/// for it: every copy of a delivered change shares it.
#[derive(Clone, Default)]
pub struct SharedRow(Arc<OnceCell<Option<event::Model>>>);

impl SharedRow {
    /// The row, read from `db` by the first caller.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        id: i64,
    ) -> Result<Option<&event::Model>, DbErr> {
        let row = self
            .0
            .get_or_try_init(|| event::Entity::find_by_id(id).one(db))
            .await?;
        Ok(row.as_ref())
    }
}

impl PartialEq for SharedRow {
    /// Two copies of a change are equal whether or not their row was read yet.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for SharedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.initialized() {
            "SharedRow(read)"
        } else {
            "SharedRow(unread)"
        })
    }
}

/// Publishes and delivers event changes.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<EventChange>,
    notify: Option<PgPool>,
}

impl ChangeFeed {
    /// A feed delivering within this process.
    pub fn in_process() -> ChangeFeed {
        let (sender, _) = broadcast::channel(BACKLOG);
        ChangeFeed {
            sender,
            notify: None,
        }
    }

    /// The feed of a running hub on `db`: within the process on SQLite; through PostgreSQL's
    /// LISTEN/NOTIFY on PostgreSQL, listening before it returns.
    pub async fn start(db: &Database) -> anyhow::Result<ChangeFeed> {
        if db.conn.get_database_backend() != DbBackend::Postgres {
            return Ok(ChangeFeed::in_process());
        }
        let pool = db.conn.get_postgres_connection_pool().clone();
        let listener = listen(&pool).await?;
        let feed = ChangeFeed {
            notify: Some(pool.clone()),
            ..ChangeFeed::in_process()
        };
        tokio::spawn(rebroadcast(listener, pool, feed.sender.downgrade()));
        Ok(feed)
    }

    /// Publishes `change` to every subscriber (of every process, on PostgreSQL).
    pub async fn publish(&self, change: EventChange) {
        if let Some(pool) = &self.notify {
            match notify(pool, &change).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "cannot notify other processes of an event change");
                }
            }
        }
        let _ = self.sender.send(change);
    }

    /// A receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EventChange> {
        self.sender.subscribe()
    }
}

/// Sends `change` as JSON on [`CHANNEL`].
async fn notify(pool: &PgPool, change: &EventChange) -> anyhow::Result<()> {
    let payload = serde_json::to_string(change)?;
    sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}

/// A listener on [`CHANNEL`] holding one connection of `pool`.
async fn listen(pool: &PgPool) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Delivers every notification to the local subscribers until the feed is gone, listening
/// again (with a growing pause) whenever the listener fails.
async fn rebroadcast(
    mut listener: PgListener,
    pool: PgPool,
    sender: broadcast::WeakSender<EventChange>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listener.recv().await {
            Ok(notification) => {
                let Some(sender) = sender.upgrade() else {
                    return;
                };
                deliver(&sender, notification.payload());
                backoff = Duration::from_millis(100);
            }
            Err(error) => {
                if sender.upgrade().is_none() {
                    return;
                }
                tracing::warn!(%error, "event change listener failed; listening again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                match listen(&pool).await {
                    Ok(fresh) => listener = fresh,
                    Err(error) => tracing::warn!(%error, "cannot listen for event changes"),
                }
            }
        }
    }
}

/// Parses a notification's payload and broadcasts it.
fn deliver(sender: &broadcast::Sender<EventChange>, payload: &str) {
    match serde_json::from_str::<EventChange>(payload) {
        Ok(change) => {
            let _ = sender.send(change);
        }
        Err(error) => tracing::warn!(%error, payload, "ignoring a malformed event change"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> EventChange {
        EventChange {
            event_id: 7,
            grid_code: "110101001001001".to_string(),
            status: EventStatus::Reported,
            action: Some(EventActionKind::Report),
            row: SharedRow::default(),
        }
    }

    #[tokio::test]
    async fn in_process_feed_delivers_each_change_once() {
        let feed = ChangeFeed::in_process();
        let mut receiver = feed.subscribe();
        feed.publish(change()).await;
        assert_eq!(receiver.recv().await.unwrap(), change());
        assert!(receiver.try_recv().is_err());
    }

    #[test]
    fn a_notification_payload_becomes_a_change() {
        let (sender, mut receiver) = broadcast::channel(4);
        deliver(&sender, &serde_json::to_string(&change()).unwrap());
        deliver(&sender, "not json");
        assert_eq!(receiver.try_recv().unwrap(), change());
        assert!(receiver.try_recv().is_err());
    }
}
