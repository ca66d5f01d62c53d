//! Sensitive lookups: finding an element by a sensitive value (a person by ID number) discloses
//! that value as surely as reading it, so a lookup is governed like a full read of the field
//! (policy, purpose, case reference, audit) and is budgeted, so that no one can guess values in
//! bulk: a request may make at most `lookups_per_request` of them (aliases and batched
//! operations each count) and a principal at most `lookups_per_hour`.

use super::policy::{Limits, Policy};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Sensitive lookups one request may make when its role sets no limit.
pub const DEFAULT_PER_REQUEST: u32 = 10;
/// Sensitive lookups one principal may make in an hour when its role sets no limit.
pub const DEFAULT_PER_HOUR: u32 = 300;

/// Why a lookup is not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    /// The request made as many lookups as one request may.
    #[error("at most {0} lookups by a sensitive value per request (aliases and batched operations count)")]
    Request(u32),
    /// The principal made as many lookups as it may in an hour.
    #[error(
        "at most {0} lookups by a sensitive value per hour for this principal: try again later"
    )]
    Principal(u32),
}

/// The per-principal lookup allowance of every role, shared by all requests of a process.
pub struct LookupLimiters {
    by_role: HashMap<String, Arc<Allowance>>,
}

/// One role's hourly allowance per principal.
pub struct Allowance {
    per_hour: u32,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LookupLimiters {
    /// The allowances of `policy`'s roles.
    pub fn new(policy: &Policy) -> LookupLimiters {
        let by_role = policy
            .roles()
            .filter_map(|(name, role)| {
                let per_hour = role.limits.lookups_per_hour.unwrap_or(DEFAULT_PER_HOUR);
                let quota = Quota::per_hour(NonZeroU32::new(per_hour)?);
                let limiter = RateLimiter::keyed(quota);
                Some((name.clone(), Arc::new(Allowance { per_hour, limiter })))
            })
            .collect();
        LookupLimiters { by_role }
    }

    /// The allowance of `role`; `None` when the role may make no lookups (a limit of 0).
    pub fn of(&self, role: &str) -> Option<Arc<Allowance>> {
        self.by_role.get(role).cloned()
    }
}

/// The lookups one request may still make.
pub struct LookupBudget {
    per_request: u32,
    used: AtomicU32,
    subject: String,
    allowance: Option<Arc<Allowance>>,
}

impl LookupBudget {
    /// A budget for a request of `subject` under `limits`, drawing on `allowance` (none: the
    /// role may make no lookups).
    pub fn new(limits: &Limits, subject: &str, allowance: Option<Arc<Allowance>>) -> LookupBudget {
        LookupBudget {
            per_request: limits.lookups_per_request.unwrap_or(DEFAULT_PER_REQUEST),
            used: AtomicU32::new(0),
            subject: subject.to_string(),
            allowance,
        }
    }

    /// Takes one lookup from the request's and the principal's budget.
    pub fn charge(&self) -> Result<(), OverBudget> {
        let used = self.used.fetch_add(1, Ordering::SeqCst);
        if used >= self.per_request {
            return Err(OverBudget::Request(self.per_request));
        }
        let Some(allowance) = &self.allowance else {
            return Err(OverBudget::Principal(0));
        };
        allowance
            .limiter
            .check_key(&self.subject)
            .map_err(|_| OverBudget::Principal(allowance.per_hour))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_request: u32, per_hour: u32) -> (Limits, LookupLimiters) {
        let text = format!(
            "[roles.r]\ndescription = \"r\"\nread = []\ndefault_field = \"full\"\nsource_records = \"none\"\n\
             limits = {{ lookups_per_request = {per_request}, lookups_per_hour = {per_hour} }}\n"
        );
        let policy = Policy::parse(&text).expect("policy");
        let limits = policy.role("r").expect("role").limits;
        (limits, LookupLimiters::new(&policy))
    }

    #[test]
    fn a_request_makes_at_most_its_share() {
        let (limits, limiters) = limits(3, 100);
        let budget = LookupBudget::new(&limits, "wang", limiters.of("r"));
        for _ in 0..3 {
            assert_eq!(budget.charge(), Ok(()));
        }
        assert_eq!(budget.charge(), Err(OverBudget::Request(3)));
    }

    #[test]
    fn a_principal_makes_at_most_its_hourly_allowance_across_requests() {
        let (limits, limiters) = limits(10, 4);
        let mut made = 0;
        for _ in 0..3 {
            let budget = LookupBudget::new(&limits, "wang", limiters.of("r"));
            while budget.charge().is_ok() {
                made += 1;
            }
        }
        assert_eq!(made, 4);
        let other = LookupBudget::new(&limits, "li", limiters.of("r"));
        assert_eq!(
            other.charge(),
            Ok(()),
            "another principal has its own allowance"
        );
    }

    #[test]
    fn a_zero_allowance_allows_nothing() {
        let (limits, limiters) = limits(10, 0);
        assert!(limiters.of("r").is_none());
        let budget = LookupBudget::new(&limits, "wang", limiters.of("r"));
        assert_eq!(budget.charge(), Err(OverBudget::Principal(0)));
    }
}
