//! The principal a request acts as. Until authentication is configured there is only the
//! anonymous development principal, which sees personal identifiers masked.

/// What kind of caller a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// No credentials: a developer exploring the embedded default. Sees identifiers masked.
    AnonymousDevelopment,
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable name of the caller, written to logs.
    pub subject: String,
    /// What kind of caller it is.
    pub kind: PrincipalKind,
}

impl Principal {
    /// The anonymous development principal.
    pub fn anonymous() -> Principal {
        Principal {
            subject: "anonymous".to_string(),
            kind: PrincipalKind::AnonymousDevelopment,
        }
    }
}
