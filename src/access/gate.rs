//! The gate every request passes after authentication: the principal's role must exist and be
//! one a credential may name (not development-only; with a department when the role acts for
//! one), its stated purpose one of the policy's, its rate within the role's limit, its grid
//! scope must name a grid; then the request gets its row scope and the grants its department
//! holds.

use super::audit::AuditHealth;
use super::credentials;
use super::grant::{self, Grant};
use super::lookup::{LookupBudget, LookupLimiters};
use super::policy::{Policy, Role};
use super::scope::RowScope;
use super::{Access, Principal};
use crate::entity::{department, grid};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

/// Why a request is turned away before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's credentials do not name a usable principal (HTTP 401).
    Unauthenticated(String),
    /// The principal may not use the hub this way (HTTP 403).
    Forbidden(String),
    /// Over the role's request rate; retry after this many seconds (HTTP 429).
    TooManyRequests(u64),
    /// The database failed; details are logged (HTTP 500).
    Internal,
}

/// A principal let in, with what every request of its HTTP call shares.
pub struct Admission {
    /// Who calls.
    pub principal: Principal,
    /// Its role.
    pub role: Arc<Role>,
    scope: RowScope,
    grants: Vec<Grant>,
    lookups: Arc<LookupLimiters>,
    audit: AuditHealth,
}

impl Admission {
    /// The access of one GraphQL request of the call, running `query`.
    pub fn access_for(&self, query: &str) -> Access {
        let allowance = self.lookups.of(&self.principal.role);
        let lookups = LookupBudget::new(&self.role.limits, &self.principal.subject, allowance);
        Access::new(
            self.principal.clone(),
            self.role.clone(),
            self.scope.clone(),
            &self.grants,
            operation_hash(query),
        )
        .with_lookups(lookups)
        .audited_by(self.audit.clone())
    }
}

/// Hex SHA-256 of a query's text: the operation hash of the audit log and of registered
/// operations.
pub fn operation_hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// The window of the per-minute request rates, in seconds: the retry delay of a batch larger
/// than a whole minute's allowance.
const RATE_WINDOW_SECS: u64 = 60;

/// The gate of one gridhub process.
pub struct Gate {
    db: DatabaseConnection,
    policy: Policy,
    limiters: HashMap<String, DefaultKeyedRateLimiter<String>>,
    lookups: Arc<LookupLimiters>,
    grid_ids: RwLock<HashMap<String, i64>>,
    audit: AuditHealth,
}

impl Gate {
    /// A gate applying `policy` to requests against `db`.
    pub fn new(db: DatabaseConnection, policy: Policy) -> Gate {
        let limiters = policy
            .roles()
            .filter_map(|(name, role)| {
                let per_minute = NonZeroU32::new(role.limits.requests_per_minute?)?;
                Some((
                    name.clone(),
                    RateLimiter::keyed(Quota::per_minute(per_minute)),
                ))
            })
            .collect();
        Gate {
            db,
            lookups: Arc::new(LookupLimiters::new(&policy)),
            policy,
            limiters,
            grid_ids: RwLock::new(HashMap::new()),
            audit: AuditHealth::default(),
        }
    }

    /// This gate, giving its requests fields in full only while `health` says the audit log is
    /// written.
    pub fn audited_by(mut self, health: AuditHealth) -> Gate {
        self.audit = health;
        self
    }

    /// The policy applied.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Lets `principal` in, or says why not.
    pub async fn admit(&self, principal: Principal) -> Result<Admission, Refusal> {
        let role =
            credentials::vet_principal(&self.policy, &principal).map_err(Refusal::Forbidden)?;
        self.check_rate(&principal)?;
        let root = match &principal.grid_scope {
            Some(code) => Some(self.grid_id(code).await?),
            None => None,
        };
        let (department_id, grants) = match &principal.department {
            Some(code) => self.department(code).await?,
            None => (None, Vec::new()),
        };
        let scope = RowScope {
            root,
            role: role.clone(),
            department_id,
        };
        Ok(Admission {
            principal,
            role,
            scope,
            grants,
            lookups: self.lookups.clone(),
            audit: self.audit.clone(),
        })
    }

    fn check_rate(&self, principal: &Principal) -> Result<(), Refusal> {
        self.charge(principal, 1)
    }

    /// Counts `operations` more operations of `principal` against its role's rate: every
    /// operation of a batch and every operation started on a WebSocket counts, not only the call
    /// that carries them. All are let through or none.
    pub fn charge(&self, principal: &Principal, operations: u32) -> Result<(), Refusal> {
        let (Some(limiter), Some(n)) = (
            self.limiters.get(&principal.role),
            NonZeroU32::new(operations),
        ) else {
            return Ok(());
        };
        match limiter.check_key_n(&principal.subject, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Refusal::TooManyRequests(wait.as_secs().max(1)))
            }
            Err(_) => Err(Refusal::TooManyRequests(RATE_WINDOW_SECS)),
        }
    }

    async fn grid_id(&self, code: &str) -> Result<i64, Refusal> {
        if let Some(id) = self.grid_ids.read().ok().and_then(|m| m.get(code).copied()) {
            return Ok(id);
        }
        let id = grid::Entity::find()
            .select_only()
            .column(grid::Column::Id)
            .filter(grid::Column::Code.eq(code))
            .into_tuple::<i64>()
            .one(&self.db)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                Refusal::Forbidden(format!(
                    "the credential's grid scope `{code}` is not a grid of this hub"
                ))
            })?;
        if let Ok(mut ids) = self.grid_ids.write() {
            ids.insert(code.to_string(), id);
        }
        Ok(id)
    }

    async fn department(&self, code: &str) -> Result<(Option<i64>, Vec<Grant>), Refusal> {
        let id = department::Entity::find()
            .select_only()
            .column(department::Column::Id)
            .filter(department::Column::Code.eq(code))
            .into_tuple::<i64>()
            .one(&self.db)
            .await
            .map_err(internal)?;
        let grants = grant::in_force(&self.db, code, chrono::Utc::now())
            .await
            .map_err(internal)?;
        Ok((id, grants))
    }
}

fn internal(error: sea_orm::DbErr) -> Refusal {
    tracing::error!(%error, "cannot admit a request");
    Refusal::Internal
}
