//! The change feed: every change to an event (a step of the loop, or the sweeper marking it
//! overdue) is published here, and subscriptions listen to it.

use crate::entity::vocabulary::{EventActionKind, EventStatus};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many changes a slow subscriber may fall behind before it misses some.
const BACKLOG: usize = 4096;

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
}

/// Publishes and delivers event changes.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<EventChange>,
}

impl ChangeFeed {
    /// A feed delivering within this process.
    pub fn in_process() -> ChangeFeed {
        let (sender, _) = broadcast::channel(BACKLOG);
        ChangeFeed { sender }
    }

    /// Publishes `change` to every subscriber.
    pub async fn publish(&self, change: EventChange) {
        let _ = self.sender.send(change);
    }

    /// A receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EventChange> {
        self.sender.subscribe()
    }
}
