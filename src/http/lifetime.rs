//! The lifetime of a WebSocket connection after `connection_init` admitted it: it ends when the
//! credential's expiry passes (close code 4401) or when a periodic check finds its API key
//! revoked (4403). Once it has ended no operation starts and the connection is closed.

use super::close_reason;
use crate::access::credentials::Authenticator;
use crate::access::gate::Refusal;
use crate::access::Principal;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Close code of a connection whose credential expired.
pub const EXPIRED: u16 = 4401;
/// Close code of a connection whose credential was withdrawn.
pub const WITHDRAWN: u16 = 4403;

/// Why a connection's lifetime ended: its close code and a reason for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// WebSocket close code.
    pub code: u16,
    /// Close reason.
    pub reason: String,
}

/// Whether a connection's lifetime has ended, shared by the connection's operations.
#[derive(Clone)]
pub struct Lifetime {
    ended: watch::Receiver<Option<End>>,
}

impl Lifetime {
    /// Why the lifetime ended, if it has.
    pub fn end(&self) -> Option<End> {
        self.ended.borrow().clone()
    }
}

/// Ends a connection's lifetime: gets the admitted principal from `connection_init`, then
/// watches its credential.
pub struct Warden {
    ended: watch::Sender<Option<End>>,
    admitted: oneshot::Receiver<Principal>,
}

/// A warden, the lifetime it ends, and where `connection_init` sends the admitted principal.
pub fn warden() -> (Warden, Lifetime, oneshot::Sender<Principal>) {
    let (ended, watched) = watch::channel(None);
    let (admit, admitted) = oneshot::channel();
    (
        Warden { ended, admitted },
        Lifetime { ended: watched },
        admit,
    )
}

impl Warden {
    /// Resolves when the admitted principal's credential expires, or when a check every
    /// `recheck` finds it no longer in force; never resolves for a connection never admitted.
    pub async fn watch(self, authenticator: Authenticator, recheck: Duration) -> End {
        let Ok(principal) = self.admitted.await else {
            return std::future::pending().await;
        };
        let end = loop {
            let until_expiry = principal.expires_at.map(seconds_until);
            let wait = until_expiry.map_or(recheck, |expiry| expiry.min(recheck));
            tokio::time::sleep(wait).await;
            if principal.expired() {
                break End {
                    code: EXPIRED,
                    reason: expired_reason(),
                };
            }
            match authenticator.still_valid(&principal).await {
                Err(error) if !error.is_internal() => {
                    break End {
                        code: WITHDRAWN,
                        reason: close_reason(Refusal::Forbidden(error.message().to_string())),
                    }
                }
                _ => {}
            }
        };
        self.ended.send_replace(Some(end.clone()));
        end
    }
}

/// The close reason of a connection whose token expired.
pub fn expired_reason() -> String {
    close_reason(Refusal::Unauthenticated("the token has expired".into()))
}

/// Time from now until `at` (seconds since the Unix epoch), zero when it has passed.
fn seconds_until(at: u64) -> Duration {
    let now = jsonwebtoken::get_current_timestamp();
    Duration::from_secs(at.saturating_sub(now))
}
