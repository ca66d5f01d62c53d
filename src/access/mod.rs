//! Who may see what. Every request carries a [`Principal`]; sensitive fields are read through
//! [`field_policy`] only, never straight from an entity in a resolver; what they read and change
//! is recorded in the tamper-evident [`audit`] log.

pub mod audit;
pub mod field_policy;
pub mod principal;

pub use principal::Principal;
