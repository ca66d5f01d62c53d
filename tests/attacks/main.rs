//! The attack suite: what an attacker holding a credential of the hub tries, organised by attack
//! class, against a hub hardened as a district runs it (authentication required, issuer and
//! audience checked, an audit key, production mode). Each class counts its attempts and its
//! leaks, prints them and fails on any leak.

#[path = "../common/mod.rs"]
mod common;

mod aliases_and_batches;
mod audit_completeness;
mod audit_tampering;
mod credentials;
mod differencing;
mod event_steps;
mod grammar_fuzz;
mod lookup_oracles;
mod payload_leakage;
mod probe;
mod resource_exhaustion;
mod websocket_lifetime;
mod write_scope;

pub use probe::Probe;
