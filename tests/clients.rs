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
    let output = node::run_script(
        "introspection.mjs",
        args,
        Vec::new(),
        Duration::from_secs(60),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("introspection matches"),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn graphiql_runs_a_query_and_shows_the_docs_with_nothing_from_outside_the_hub() {
    let chromium = std::env::var("GRIDHUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let no_chromium =
        (!Path::new(&chromium).exists()).then(|| format!("no Chromium at {chromium}"));
    if node::skip(
        "GraphiQL browser test",
        node::missing(&["playwright-core"], no_chromium),
    ) {
        return;
    }
    let hub = Hub::start(Backend::Sqlite, 100).await;
    let envs = vec![("GRIDHUB_CHROMIUM".to_string(), chromium)];
    let output = node::run_script(
        "graphiql.mjs",
        vec![hub.base.clone()],
        envs,
        Duration::from_secs(120),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ok: GraphiQL"),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
