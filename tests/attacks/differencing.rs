//! Differencing: a command centre reads no persons, so small person counts are withheld from
//! it. An attacker subtracts the shown counts of a grid's other children from the grid's count
//! to recover a withheld child's count, at every level of the tree and for every person-derived
//! figure; a leak is a withheld count recovered exactly.

use crate::common::{backends, Hub};
use crate::probe::{bearer, hardened, Probe};
use serde_json::{json, Value};

const FIGURES: [&str; 4] = ["population", "households", "partyMembers", "volunteers"];

const TREE: &str = r#"query($code: String!) { grid(code: $code) { code stats { ...F }
  children { code stats { ...F } children { code stats { ...F } children { code stats { ...F } } } } } }
fragment F on GridStats { population households partyMembers volunteers }"#;

async fn tree(hub: &Hub, token: &str, code: &str) -> Value {
    let (_, _, body) = hub
        .query_as(
            &[("Authorization", token)],
            json!({"query": TREE, "variables": {"code": code}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["grid"].clone()
}

/// The sum of `figure` over `grids` but the `i`th, nulls as zero.
fn sum_except(grids: &[Value], i: usize, figure: &str) -> i64 {
    grids
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, g)| g["stats"][figure].as_i64().unwrap_or(0))
        .sum()
}

/// Every withheld child count, its exact value and the attacker's difference estimate when the
/// counts it is made of are exact (the attacker then knows the withheld count for sure).
fn differences(shown: &Value, exact: &Value, out: &mut Vec<(String, i64, Option<i64>)>) {
    let children = shown["children"].as_array().cloned().unwrap_or_default();
    let exact_children = exact["children"].as_array().cloned().unwrap_or_default();
    for figure in FIGURES {
        let Some(parent) = shown["stats"][figure].as_i64() else {
            continue;
        };
        for (i, child) in children.iter().enumerate() {
            if !child["stats"][figure].is_null() {
                continue;
            }
            let others = sum_except(&children, i, figure);
            let exact_others = sum_except(&exact_children, i, figure);
            let truth = exact_children[i]["stats"][figure]
                .as_i64()
                .unwrap_or_default();
            let exact_parent = exact["stats"][figure].as_i64().unwrap_or_default();
            let inputs_exact = parent == exact_parent && others == exact_others;
            let name = format!("{} {figure}", child["code"]);
            out.push((name, truth, inputs_exact.then_some(parent - others)));
        }
    }
    for (child, exact_child) in children.iter().zip(&exact_children) {
        differences(child, exact_child, out);
    }
}

#[tokio::test]
async fn a_withheld_count_is_not_recovered_by_subtracting_its_siblings() {
    let mut probe = Probe::new("differencing");
    for backend in backends() {
        let hub = Hub::start_with(backend, 400, hardened).await;
        let admin = bearer("admin-01", "admin", None, None);
        let (_, _, body) = hub
            .query_as(
                &[("Authorization", admin.as_str())],
                json!({"query": "{ grids(filter: {levels: [STREET]}) { nodes { code } } }"}),
            )
            .await;
        let street = body["data"]["grids"]["nodes"][0]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let exact = tree(&hub, &admin, &street).await;
        let screen = bearer("screen-01", "command_centre", None, Some(&street));
        let shown = tree(&hub, &screen, &street).await;
        let mut found = Vec::new();
        differences(&shown, &exact, &mut found);
        assert!(
            !found.is_empty(),
            "{backend:?}: the seeded street has withheld counts"
        );
        for (name, truth, estimate) in found {
            probe.attempt(
                format!("{backend:?}: {name} = {truth} recovered by differencing"),
                estimate == Some(truth),
            );
        }
    }
    probe.finish();
}
