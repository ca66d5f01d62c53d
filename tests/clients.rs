//! The clients front-end developers use, against a running hub: graphql-js's standard
//! introspection query (what GraphiQL, graphql-codegen and graphql-inspector send) passes at the
//! default limits, the schema built from its answer is `schema/schema.graphql`, and every type,
//! field, argument and enum value in it has a description for GraphiQL to show.

mod common;

use common::{node, Backend, Hub};
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn the_standard_introspection_query_passes_and_gives_the_schema_file() {
    if node::skip("introspection test", node::missing(&["graphql"], None)) {
        return;
    }
    let hub = Hub::start(Backend::Sqlite, 0).await;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let args = vec![
        format!("{}/graphql", hub.base),
        schema.display().to_string(),
    ];
    let output = node::run_script("introspection.mjs", args, Duration::from_secs(60)).await;
    node::expect_success(output, "introspection matches");
}

#[tokio::test]
async fn graphiql_runs_a_query_and_shows_the_docs_with_nothing_from_outside_the_hub() {
    if node::skip("GraphiQL browser test", node::missing_browser()) {
        return;
    }
    let hub = Hub::start(Backend::Sqlite, 100).await;
    let output = node::run_script(
        "graphiql.mjs",
        vec![hub.base.clone()],
        Duration::from_secs(120),
    )
    .await;
    node::expect_success(output, "ok: GraphiQL");
}
