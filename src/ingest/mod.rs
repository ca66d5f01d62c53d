//! Department data in: readers of department files (CSV or NDJSON, UTF-8 or GBK, headers mapped
//! per department), writers per kind of record, identity resolution and provenance, and the
//! command-line and HTTP faces of an import.

pub mod candidates;
pub mod civil_affairs;
pub mod cli;
pub mod dual_registrations;
pub mod ebike_sheds;
pub mod endpoint;
pub mod grid_posts;
pub mod houses;
pub mod lookup;
pub mod outcome;
pub mod party;
pub mod persons;
pub mod pipeline;
pub mod police;
pub mod property;
pub mod reader;
pub mod scope;
pub mod service_requests;
pub mod sources;
pub mod volunteer_hours;
