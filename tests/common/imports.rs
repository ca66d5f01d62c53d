//! Running `gridhub import` (the real binary) against a test hub's database, and reading its
//! summary: shared by the import tests of the departments.

use super::{output_of, Hub};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const GRIDHUB: &str = env!("CARGO_BIN_EXE_gridhub");

/// 李秀英, the person every department knows (in `police/persons.csv` and the other files).
pub const LI_XIUYING: &str = "65020319620308184X";

/// Runs `gridhub import` of `department`'s `kind`; returns the exit code and the output.
pub async fn import(hub: &Hub, department: &str, kind: &str, file: &Path) -> (i32, String) {
    let mut command = Command::new(GRIDHUB);
    command
        .args(["import", "--department", department, "--kind", kind])
        .args(["--database", &hub.url, "--file"])
        .arg(file)
        .env("GRIDHUB__SEED__PERSONS_ON_FIRST_START", "0");
    let output = output_of(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

/// The counts of the summary line `…: I inserted, U updated, N unchanged, R rejected`.
pub fn counts(output: &str) -> [u64; 4] {
    let line = output
        .lines()
        .find(|l| l.starts_with("import "))
        .unwrap_or_else(|| panic!("no summary in: {output}"));
    let tail = line.split(": ").nth(1).expect("counts");
    let numbers: Vec<u64> = tail
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

pub async fn scalar(hub: &Hub, sql: &str) -> i64 {
    let backend = hub.db.conn.get_database_backend();
    let row = hub
        .db
        .conn
        .query_one_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// Imports `path` as `kind` of `department`, expects `first` counts and the rejected `lines`,
/// then imports it again and expects every row taken to be unchanged and the same rejections.
/// Returns the output of the first import.
pub async fn import_twice(
    hub: &Hub,
    department: &str,
    kind: &str,
    path: &str,
    first: [u64; 4],
    lines: &[u64],
) -> String {
    let backend = hub.backend;
    let (code, output) = import(hub, department, kind, &fixture(path)).await;
    assert_eq!(code, 0, "{backend:?} {path}: {output}");
    assert_eq!(counts(&output), first, "{backend:?} {path}: {output}");
    for line in lines {
        assert!(
            output.contains(&format!("line {line}: ")),
            "{backend:?} {path}: line {line} rejected: {output}"
        );
    }
    let (_, again) = import(hub, department, kind, &fixture(path)).await;
    let taken = first[0] + first[1] + first[2];
    assert_eq!(
        counts(&again),
        [0, 0, taken, first[3]],
        "{backend:?} {path}: a re-import changes nothing: {again}"
    );
    for line in lines {
        assert!(
            again.contains(&format!("line {line}: ")),
            "{backend:?}: {again}"
        );
    }
    output
}

/// The person with `id_number`, as `fields` of a `Person` read by the development principal
/// (which may not look persons up by ID number: the id is found in the database).
pub async fn person_with_id_number(hub: &Hub, id_number: &str, fields: &str) -> Value {
    let sql = format!("SELECT id FROM persons WHERE id_number = '{id_number}'");
    let id = gridhub::graphql::id::encode(
        gridhub::graphql::id::NodeType::Person,
        scalar(hub, &sql).await,
    );
    let query = format!("query($id: ID!) {{ node(id: $id) {{ ... on Person {{ {fields} }} }} }}");
    hub.data(&query, serde_json::json!({ "id": id })).await["node"].clone()
}
