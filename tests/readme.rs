//! The README's GraphQL examples work as printed: every ```graphql block of README.md is taken
//! apart into its named operations, which run in order against a seeded hub on SQLite and
//! PostgreSQL. Variables are filled from what earlier examples returned (`$id`/`$ids` with
//! element ids, `$eventId` with the event the report returned); the subscription is opened over
//! `/graphql/ws` and must deliver the report made after it.

mod common;

use common::ws::Client;
use common::{backends, Hub};
use serde_json::{json, Map, Value};

/// One named operation of the README.
#[derive(Debug, Clone)]
struct Example {
    kind: String,
    name: String,
    text: String,
}

/// The ```graphql blocks of README.md.
fn blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    readme
        .split("```graphql\n")
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap_or_default().to_string())
        .collect()
}

/// The operations of a block: each starts with `query`, `mutation` or `subscription` at the
/// start of a line and runs to the next.
fn operations(block: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    for line in block.lines() {
        let keyword = ["query ", "mutation ", "subscription "]
            .into_iter()
            .find(|k| line.starts_with(k));
        match (keyword, examples.last_mut()) {
            (Some(keyword), _) => {
                let rest = &line[keyword.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                examples.push(Example {
                    kind: keyword.trim().to_string(),
                    name,
                    text: format!("{line}\n"),
                });
            }
            (None, Some(example)) => example.text.push_str(&format!("{line}\n")),
            (None, None) => panic!("a README block starts outside an operation: {line}"),
        }
    }
    examples
}

/// Every `"id"` string in `value`, depth first.
fn ids_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("id") {
                found.push(id.clone());
            }
            map.values().for_each(|v| ids_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| ids_in(v, found)),
        _ => {}
    }
}

/// What earlier examples returned, to fill the variables of later ones.
#[derive(Default)]
struct Seen {
    ids: Vec<String>,
    event: Option<String>,
}

impl Seen {
    fn variables(&self, text: &str) -> Value {
        let mut variables = Map::new();
        if text.contains("$eventId") {
            variables.insert(
                "eventId".into(),
                json!(self.event.clone().expect("a report")),
            );
        }
        if text.contains("$ids") {
            variables.insert(
                "ids".into(),
                json!(self.ids.iter().take(2).collect::<Vec<_>>()),
            );
        } else if text.contains("$id") {
            variables.insert("id".into(), json!(self.ids.first().expect("an element id")));
        }
        Value::Object(variables)
    }

    fn note(&mut self, example: &Example, data: &Value) {
        if example.name == "ReportHazard" {
            self.event = data["reportEvent"]["id"].as_str().map(str::to_string);
        }
        ids_in(data, &mut self.ids);
    }
}

#[test]
fn every_readme_example_is_a_named_operation() {
    let examples: Vec<Example> = blocks().iter().flat_map(|b| operations(b)).collect();
    assert!(examples.len() >= 12, "{examples:#?}");
    for example in &examples {
        assert!(
            !example.name.is_empty(),
            "an anonymous operation: {}",
            example.text
        );
        assert!(
            !example.text.contains('…'),
            "a placeholder: {}",
            example.text
        );
    }
    let mut names: Vec<&str> = examples.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "operation names are unique");
}

#[tokio::test]
async fn every_readme_example_runs_against_a_seeded_hub() {
    let examples: Vec<Example> = blocks().iter().flat_map(|b| operations(b)).collect();
    for backend in backends() {
        let hub = Hub::start(backend, 1000).await;
        let mut seen = Seen::default();
        let mut feeds = Vec::new();
        for example in &examples {
            if example.kind == "subscription" {
                let mut client = Client::connect(&hub, json!({})).await;
                client
                    .subscribe(&example.name, &example.text, json!({}))
                    .await;
                client.settle().await;
                feeds.push((example.clone(), client));
                continue;
            }
            let body = hub
                .query(&example.text, seen.variables(&example.text))
                .await;
            assert!(
                body.get("errors").is_none() && body["data"].is_object(),
                "{backend:?}: {} failed: {body:#}",
                example.name
            );
            seen.note(example, &body["data"]);
        }
        let report = examples
            .iter()
            .find(|e| e.name == "ReportHazard")
            .expect("the README reports an event");
        let reported = hub.data(&report.text, json!({})).await;
        for (example, client) in &mut feeds {
            let next = client.next_of(&example.name).await;
            assert_eq!(
                next["data"]["eventChanged"]["eventId"], reported["reportEvent"]["id"],
                "{backend:?}: {} delivers the report: {next:#}",
                example.name
            );
        }
    }
}
