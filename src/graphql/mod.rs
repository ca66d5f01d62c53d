//! The GraphQL schema: assembly, per-request data (principal, DataLoaders) and limits. One file
//! per element type; shared machinery in `loader`, `connection`, `id`, `scope` and `error`; the
//! audit log for auditors in `audit`.

pub mod audit;
pub mod connection;
pub mod department;
pub mod error;
pub mod event;
pub mod grid;
pub mod house;
pub mod id;
pub mod loader;
pub mod node;
pub mod object;
pub mod organization;
pub mod person;
pub mod place;
pub mod query;
pub mod relations;
pub mod scope;
pub mod source_record;
pub mod stats;
pub mod volunteer;

use crate::config::GraphqlSettings;
use crate::db::Database;
use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use connection::PageLimits;
use query::Query;

/// The gridhub schema.
pub type GridhubSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Largest number of ids `nodes(ids:)` accepts.
#[derive(Debug, Clone, Copy)]
pub struct NodeIdLimit(pub usize);

fn builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
}

/// The schema over `db`, with the limits of `settings`. Each request adds its principal and a
/// fresh DataLoader (see `http`).
pub fn build(db: Database, settings: &GraphqlSettings) -> GridhubSchema {
    builder()
        .data(db)
        .data(PageLimits {
            default_size: settings.default_page_size,
            max_size: settings.max_page_size,
        })
        .data(NodeIdLimit(settings.max_node_ids))
        .limit_depth(settings.max_depth)
        .limit_complexity(settings.max_complexity)
        .finish()
}

/// The schema in SDL, as kept in `schema/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
