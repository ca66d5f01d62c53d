//! The GraphQL schema: assembly, per-request data (principal, DataLoaders) and limits. One file
//! per element type; shared machinery in `loader`, `connection`, `id`, `scope` and `error`; the
//! audit log for auditors in `audit`.

pub mod audit;
pub mod break_glass;
pub mod budget;
pub mod connection;
pub mod department;
pub mod document_limits;
pub mod error;
pub mod event;
pub mod event_loop;
pub mod grid;
pub mod guard;
pub mod house;
pub mod id;
pub mod identity;
pub mod imports;
pub mod loader;
pub mod node;
pub mod object;
pub mod organization;
pub mod person;
pub mod place;
pub mod provenance;
pub mod query;
pub mod relations;
pub mod scope;
pub mod sharing;
pub mod source_record;
pub mod stats;
pub mod subscription;
pub mod volunteer;

use crate::access::policy::{Limits, Policy};
use crate::config::Settings;
use crate::db::Database;
use crate::event_loop::Loop;
use crate::feed::ChangeFeed;
use async_graphql::{MergedObject, Schema, SchemaBuilder};
use audit::AuditQuery;
use break_glass::BreakGlassMutation;
use connection::PageLimits;
use event_loop::EventLoopMutation;
use identity::{IdentityMutation, IdentityQuery};
use imports::ImportQuery;
use query::ElementQuery;
use sharing::{SharingMutation, SharingQuery};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use subscription::{StatsInterval, Subscription};

/// The entry points of the gridhub graph.
#[derive(MergedObject, Default)]
pub struct Query(
    ElementQuery,
    SharingQuery,
    AuditQuery,
    ImportQuery,
    IdentityQuery,
);

/// The changes gridhub accepts.
#[derive(MergedObject, Default)]
pub struct Mutation(
    SharingMutation,
    BreakGlassMutation,
    IdentityMutation,
    EventLoopMutation,
);

/// The gridhub schema.
pub type GridhubSchema = Schema<Query, Mutation, Subscription>;

/// Largest number of ids `nodes(ids:)` accepts.
#[derive(Debug, Clone, Copy)]
pub struct NodeIdLimit(pub usize);

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The schema over `db` with `limits` (unset ones from `settings`), introspection on or off
/// (and "did you mean" suggestions, which name fields, with it); every operation is charged to
/// its call's complexity budget ([`budget`]).
/// Each request adds its access and a fresh DataLoader (see `http`).
pub fn build(
    db: Database,
    feed: ChangeFeed,
    settings: &Settings,
    policy: &Arc<Policy>,
    limits: &Limits,
    introspection: bool,
) -> GridhubSchema {
    let graphql = &settings.graphql;
    let max_page = limits.max_page_size.unwrap_or(graphql.max_page_size);
    let mut builder = builder()
        .data(db)
        .data(policy.clone())
        .data(feed.clone())
        .data(Loop {
            feed,
            deadlines: settings.events.deadlines,
        })
        .data(PageLimits {
            default_size: graphql.default_page_size.min(max_page),
            max_size: max_page,
        })
        .data(NodeIdLimit(graphql.max_node_ids))
        .data(StatsInterval(Duration::from_millis(
            settings.subscriptions.stats_interval_millis,
        )))
        .data(settings.aggregates)
        .limit_complexity(limits.max_complexity.unwrap_or(graphql.max_complexity))
        .limit_directives(graphql.max_directives)
        .extension(budget::Budgeted);
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// One executable schema per role of the policy: the limits and introspection differ.
pub struct Schemas {
    by_role: HashMap<String, GridhubSchema>,
    fallback: GridhubSchema,
}

impl Schemas {
    /// A schema for every role of `policy`. In production mode only roles that allow it may
    /// introspect.
    pub fn build(db: Database, feed: ChangeFeed, settings: &Settings, policy: &Policy) -> Schemas {
        let production = settings.access.production;
        let shared = Arc::new(policy.clone());
        let by_role = policy
            .roles()
            .map(|(name, role)| {
                let introspection = !production || role.introspection;
                let schema = build(
                    db.clone(),
                    feed.clone(),
                    settings,
                    &shared,
                    &role.limits,
                    introspection,
                );
                (name.clone(), schema)
            })
            .collect();
        let fallback = build(db, feed, settings, &shared, &Limits::default(), !production);
        Schemas { by_role, fallback }
    }

    /// The schema of `role`.
    pub fn for_role(&self, role: &str) -> &GridhubSchema {
        self.by_role.get(role).unwrap_or(&self.fallback)
    }
}

/// The schema in SDL, as kept in `schema/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
