//! Domain rules with no I/O: resident ID numbers, identity resolution, masking of personal
//! data, grid codes, the lifecycle of data-sharing requests, the audit log's hash chain, the
//! event loop with its deadlines, and small-count suppression of statistics.

pub mod audit_chain;
pub mod credit_code;
pub mod deadlines;
pub mod event_loop;
pub mod grid_code;
pub mod id_number;
pub mod identity;
pub mod masking;
pub mod provenance;
pub mod sharing;
pub mod suppression;
