//! gridhub: one GraphQL schema over the six elements of grid-based community governance
//! (person, house, place, event, object, organization), hung on the territorial grid tree.

pub mod access;
pub mod config;
pub mod db;
pub mod domain;
pub mod entity;
pub mod event_loop;
pub mod feed;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod screen;
pub mod seed;
pub mod sweeper;
pub mod tally;
