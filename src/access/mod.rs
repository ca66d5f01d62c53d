//! Who may see what. Every request carries a [`Principal`] and passes the [`gate::Gate`]; it
//! then runs with an [`Access`]: its row scope (applied in the SQL of every read), how each
//! sensitive field is shown to it (roles in `policy.toml`, departments' own fields, grants,
//! purposes), and the record of what it read in full for the tamper-evident [`audit`] log.

pub mod audit;
pub mod context;
pub mod credentials;
pub mod field_policy;
pub mod gate;
pub mod grant;
pub mod lookup;
pub mod policy;
pub mod principal;
pub mod scope;

pub use context::Access;
pub use principal::Principal;
