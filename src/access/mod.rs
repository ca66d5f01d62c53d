//! Who may see what. Every request carries a [`Principal`]; sensitive fields are read through
//! [`field_policy`] only, never straight from an entity in a resolver.

pub mod credentials;
pub mod field_policy;
pub mod principal;

pub use principal::Principal;
