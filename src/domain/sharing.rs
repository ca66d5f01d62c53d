//! The lifecycle of a data-sharing request 数据共享申请: requested → approved or rejected; an
//! approved request is a grant until its end date passes (expired) or it is revoked.

use chrono::{DateTime, Utc};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharingStatus {
    /// Waiting for the providing department (or an admin).
    Requested,
    /// Approved: a grant in force until its end date.
    Approved,
    /// Rejected by the provider.
    Rejected,
    /// Approved, then revoked.
    Revoked,
    /// Approved, and its end date has passed.
    Expired,
}

/// What someone does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharingAction {
    /// The provider approves it.
    Approve,
    /// The provider rejects it.
    Reject,
    /// The provider or an admin ends a grant early.
    Revoke,
}

impl SharingStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SharingStatus::Requested => "requested",
            SharingStatus::Approved => "approved",
            SharingStatus::Rejected => "rejected",
            SharingStatus::Revoked => "revoked",
            SharingStatus::Expired => "expired",
        }
    }

    /// The status stored as `name` (never `expired`, which is computed).
    pub fn parse(name: &str) -> Option<SharingStatus> {
        [
            SharingStatus::Requested,
            SharingStatus::Approved,
            SharingStatus::Rejected,
            SharingStatus::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The status as it stands at `now`: an approved request past its end has expired.
    pub fn at(self, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> SharingStatus {
        if self == SharingStatus::Approved && ends_at <= now {
            SharingStatus::Expired
        } else {
            self
        }
    }
}

/// The status after `action`, or why the action is not possible now.
pub fn transition(current: SharingStatus, action: SharingAction) -> Result<SharingStatus, String> {
    use SharingAction::*;
    use SharingStatus::*;
    match (current, action) {
        (Requested, Approve) => Ok(Approved),
        (Requested, Reject) => Ok(Rejected),
        (Approved, Revoke) => Ok(Revoked),
        (status, action) => Err(format!(
            "a {} request cannot be {}",
            status.as_str(),
            match action {
                Approve => "approved",
                Reject => "rejected",
                Revoke => "revoked",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn legal_transitions() {
        use SharingAction::*;
        use SharingStatus::*;
        assert_eq!(transition(Requested, Approve), Ok(Approved));
        assert_eq!(transition(Requested, Reject), Ok(Rejected));
        assert_eq!(transition(Approved, Revoke), Ok(Revoked));
    }

    #[test]
    fn every_other_transition_is_refused() {
        use SharingAction::*;
        use SharingStatus::*;
        let legal = [
            (Requested, Approve),
            (Requested, Reject),
            (Approved, Revoke),
        ];
        for status in [Requested, Approved, Rejected, Revoked, Expired] {
            for action in [Approve, Reject, Revoke] {
                if !legal.contains(&(status, action)) {
                    let refused = transition(status, action).unwrap_err();
                    assert!(refused.contains(status.as_str()), "{refused}");
                }
            }
        }
    }

    #[test]
    fn approved_requests_expire_at_their_end() {
        let now = Utc::now();
        let approved = SharingStatus::Approved;
        assert_eq!(
            approved.at(now + Duration::hours(1), now),
            SharingStatus::Approved
        );
        assert_eq!(approved.at(now, now), SharingStatus::Expired);
        assert_eq!(
            SharingStatus::Revoked.at(now - Duration::hours(1), now),
            SharingStatus::Revoked
        );
        assert_eq!(SharingStatus::parse("expired"), None);
    }
}
