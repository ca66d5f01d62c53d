//! The principal a request acts as: who calls (an API key of a department system or service
//! account, a staff member's token, or the anonymous development principal while no
//! authentication is configured), in which role, for which department and grid subtree, and for
//! what stated purpose.

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// No credentials while authentication is not configured: a developer exploring the
    /// embedded default.
    AnonymousDevelopment,
    /// An API key of a department system or service account.
    ApiKey,
    /// A staff member's JWT bearer token.
    Token,
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable name of the caller (key name or token subject), written to logs and the audit log.
    pub subject: String,
    /// How the caller proved who it is.
    pub kind: PrincipalKind,
    /// Name of a role of the access policy, e.g. `grid_worker`.
    pub role: String,
    /// Department code (`police`, `civil_affairs`, `property`, `party`) the caller acts for.
    pub department: Option<String>,
    /// Code of the grid whose subtree bounds what the caller sees; `None` for the whole hub.
    pub grid_scope: Option<String>,
    /// Stated purpose of the request (`X-Purpose`, or the token's `purpose` claim).
    pub purpose: Option<String>,
    /// Case reference the request serves (`X-Case-Id`, or the token's `case_id` claim).
    pub case_id: Option<String>,
    /// When the credential stops being valid, in seconds since the Unix epoch (a token's `exp`);
    /// `None` when it does not expire by time.
    pub expires_at: Option<u64>,
}

/// Role of the anonymous development principal.
pub const ANONYMOUS_ROLE: &str = "anonymous";

impl Principal {
    /// The anonymous development principal: the whole hub, identifiers masked.
    pub fn anonymous() -> Principal {
        Principal {
            subject: "anonymous".to_string(),
            kind: PrincipalKind::AnonymousDevelopment,
            role: ANONYMOUS_ROLE.to_string(),
            department: None,
            grid_scope: None,
            purpose: None,
            case_id: None,
            expires_at: None,
        }
    }

    /// Whether the credential's expiry has passed.
    pub fn expired(&self) -> bool {
        self.expires_at
            .is_some_and(|at| at <= jsonwebtoken::get_current_timestamp())
    }
}
