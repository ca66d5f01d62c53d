//! Department imports through the public interfaces: `gridhub import` (the real binary) and
//! `POST /ingest/{department}`, on SQLite and PostgreSQL: exact counts over the fixture files,
//! idempotent re-imports, an import killed with SIGKILL that leaves whole batches only and
//! completes when run again, and who may push data.

mod common;

use chrono::NaiveDate;
use common::imports::{counts, person_with_id_number, scalar, GRIDHUB};
use common::{backends, Hub};
use gridhub::access::credentials::{create_key, NewKey};
use gridhub::domain::id_number::{compose, Gender};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs `gridhub import` on the hub's database; returns the exit code and standard output.
async fn import(hub: &Hub, file: &Path, extra: &[&str]) -> (i32, String) {
    let mut command = Command::new(GRIDHUB);
    command
        .args([
            "import",
            "--department",
            "police",
            "--database",
            &hub.url,
            "--file",
        ])
        .arg(file)
        .args(extra)
        .env("GRIDHUB__SEED__PERSONS_ON_FIRST_START", "0");
    let output = common::output_of(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

async fn leaf_grid_codes(hub: &Hub) -> Vec<String> {
    let backend = hub.db.conn.get_database_backend();
    hub.db
        .conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT code FROM grids WHERE level IN ('grid', 'micro_grid') ORDER BY code"
                .to_string(),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// Writes `rows` police person rows with valid, new ID numbers, spread over `grids`.
fn write_persons(path: &Path, rows: usize, grids: &[String]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        file,
        "人员编号,公民身份号码,姓名,民族,联系电话,户籍地址,户籍类型,人口类型,网格编码,重点人员"
    )
    .unwrap();
    let base = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    for i in 0..rows {
        let birth = base + chrono::Duration::days((i % 20000) as i64);
        let gender = if i % 2 == 0 {
            Gender::Male
        } else {
            Gender::Female
        };
        let id = compose("650204", birth, (i / 20000) as u16 * 2 + 500, gender);
        writeln!(
            file,
            "GA-T{i:07},{id},测试{i},汉族,139{:08},克拉玛依市白碱滩区,本地,户籍人口,{},否",
            i,
            grids[i % grids.len()]
        )
        .unwrap();
    }
}

const ORPHANS: &str = "SELECT COUNT(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM source_records s WHERE s.element_type = 'person' AND s.element_id = p.id)";

#[tokio::test]
async fn a_killed_import_leaves_whole_batches_and_completes_when_run_again() {
    for backend in backends() {
        let hub = Hub::start(backend, 200).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("persons.csv");
        let total = 60_000;
        write_persons(&file, total, &leaf_grid_codes(&hub).await);
        let before = scalar(&hub, "SELECT COUNT(*) FROM persons").await;
        assert_eq!(
            scalar(&hub, ORPHANS).await,
            0,
            "{backend:?}: seeded persons have records"
        );

        let mut child = Command::new(GRIDHUB)
            .args([
                "import",
                "--department",
                "police",
                "--database",
                &hub.url,
                "--file",
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while scalar(&hub, "SELECT COUNT(*) FROM persons").await == before {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{backend:?}: no batch landed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let landed = scalar(&hub, "SELECT COUNT(*) FROM persons").await - before;
        assert!(
            landed > 0 && landed < total as i64,
            "{backend:?}: killed halfway ({landed} of {total})"
        );
        assert_eq!(
            scalar(&hub, ORPHANS).await,
            0,
            "{backend:?}: no person without its source record"
        );

        let (code, output) = import(&hub, &file, &[]).await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        let [inserted, updated, unchanged, rejected] = counts(&output);
        assert_eq!(
            inserted as i64,
            total as i64 - landed,
            "{backend:?}: {output}"
        );
        assert_eq!((updated, rejected), (0, 0), "{backend:?}: {output}");
        assert_eq!(unchanged as i64, landed, "{backend:?}: {output}");
        assert_eq!(
            scalar(&hub, "SELECT COUNT(*) FROM persons").await - before,
            total as i64,
            "{backend:?}: every row once"
        );
        assert_eq!(scalar(&hub, ORPHANS).await, 0);
    }
}

#[tokio::test]
async fn departments_push_their_own_data_over_http() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 200, |s| s.auth.required = true).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("persons.csv");
        write_persons(&file, 50, &leaf_grid_codes(&hub).await);
        let body = std::fs::read(&file).unwrap();
        let key = |department: &'static str| NewKey {
            name: format!("{department}-system"),
            role: "department".into(),
            department: Some(department.into()),
            grid_code: None,
        };
        let (_, police) = create_key(&hub.db.conn, key("police")).await.unwrap();
        let (_, party) = create_key(&hub.db.conn, key("party")).await.unwrap();
        let client = reqwest::Client::new();
        let push = |key: Option<String>, body: Vec<u8>| {
            let mut request = client
                .post(format!("{}/ingest/police?format=csv", hub.base))
                .body(body);
            if let Some(key) = key {
                request = request.header("X-Api-Key", key);
            }
            request.send()
        };
        let response = push(Some(police.clone()), body.clone()).await.unwrap();
        assert_eq!(response.status(), 200, "{backend:?}");
        let summary: Value = response.json().await.unwrap();
        assert_eq!(summary["inserted"], 50, "{backend:?}: {summary}");
        assert_eq!(summary["kind"], "persons");

        let again: Value = push(Some(police.clone()), body.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (again["inserted"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(50)),
            "{backend:?}: {again}"
        );

        assert_eq!(
            push(Some(party), body.clone()).await.unwrap().status(),
            403,
            "{backend:?}: another department may not push police data"
        );
        assert_eq!(push(None, body).await.unwrap().status(), 401, "{backend:?}");
    }
}

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

#[tokio::test]
async fn police_person_files_import_with_exact_counts_and_again_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        let persons = fixture("police/persons.csv");
        let (code, output) = import(&hub, &persons, &[]).await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        assert_eq!(counts(&output), [15, 2, 1, 4], "{backend:?}: {output}");
        for line in [14, 19, 20, 22] {
            assert!(
                output.contains(&format!("line {line}: ")),
                "{backend:?}: line {line} rejected: {output}"
            );
        }
        let (code, output) = import(&hub, &fixture("police/persons_gbk.csv"), &["--strict"]).await;
        assert_eq!(
            code, 2,
            "{backend:?}: --strict fails on rejected rows: {output}"
        );
        assert_eq!(counts(&output), [8, 0, 0, 2], "{backend:?}: {output}");

        let before = scalar(&hub, "SELECT COUNT(*) FROM source_records").await;
        let (_, output) = import(&hub, &persons, &[]).await;
        assert_eq!(
            counts(&output),
            [0, 0, 18, 4],
            "{backend:?}: a re-import changes nothing: {output}"
        );
        assert_eq!(
            scalar(&hub, "SELECT COUNT(*) FROM source_records").await,
            before
        );

        let mut rejections = Command::new(GRIDHUB);
        rejections.args(["rejections", "--database", &hub.url]);
        let listed = common::output_of(rejections).await;
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(listed.contains("4 rejected"), "{backend:?}: {listed}");
        assert!(
            listed.contains("line 14\t") && listed.contains("check character"),
            "{backend:?}: {listed}"
        );

        let (code, output) = import(&hub, &fixture("police/persons_missing_column.csv"), &[]).await;
        assert_eq!(code, 1, "{backend:?}: {output}");
        assert!(
            output.contains("persons lacks grid_code"),
            "{backend:?}: {output}"
        );

        let fields = "name sourceRecords { sourceId department { code } }";
        let person = &person_with_id_number(&hub, "65020319620308184X", fields).await;
        assert_eq!(person["name"], "李秀英", "{backend:?}: {person}");
        assert_eq!(person["sourceRecords"][0]["department"]["code"], "police");
    }
}

/// Reports an event and accepts it, and reads persons, over and over until `done`; returns how
/// many rounds ran and the bodies of any that failed.
async fn serve_work(hub: &Hub, grid: &str, done: &AtomicBool) -> (usize, Vec<Value>) {
    let report = "mutation($input: ReportEventInput!) { reportEvent(input: $input) { id } }";
    let accept = "mutation($input: EventStepInput!) { acceptEvent(input: $input) { status } }";
    let read = "{ persons(first: 5) { totalCount nodes { name grid { code } } } }";
    let (mut rounds, mut failures) = (0, Vec::new());
    while !done.load(Ordering::SeqCst) {
        let input = json!({"input": {"gridCode": grid, "category": "SAFETY_HAZARD",
            "priority": "NORMAL", "channel": "PATROL", "title": format!("楼道堆物 {rounds}"),
            "description": "3号楼楼道堆放杂物", "note": "巡查发现"}});
        let reported = hub.query(report, input).await;
        let id = reported["data"]["reportEvent"]["id"].clone();
        let accepted = hub
            .query(accept, json!({"input": {"eventId": id, "note": "受理"}}))
            .await;
        let read = hub.query(read, json!({})).await;
        for body in [reported, accepted, read] {
            if body.get("errors").is_some() {
                failures.push(body);
            }
        }
        rounds += 1;
    }
    (rounds, failures)
}

#[tokio::test]
async fn an_import_runs_to_the_end_while_the_hub_serves_reads_and_event_steps() {
    for backend in backends() {
        let hub = Hub::start(backend, 200).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("persons.csv");
        let grids = leaf_grid_codes(&hub).await;
        write_persons(&file, 20_000, &grids);
        let done = AtomicBool::new(false);
        let importing = async {
            let result = import(&hub, &file, &[]).await;
            done.store(true, Ordering::SeqCst);
            result
        };
        let ((code, output), (rounds, failures)) =
            tokio::join!(importing, serve_work(&hub, &grids[0], &done));
        assert_eq!(code, 0, "{backend:?}: {output}");
        assert_eq!(counts(&output), [20_000, 0, 0, 0], "{backend:?}: {output}");
        assert!(
            rounds > 0,
            "{backend:?}: the hub served while the import ran"
        );
        assert!(
            failures.is_empty(),
            "{backend:?}: {} of {rounds} rounds failed, e.g. {:#}",
            failures.len(),
            failures[0]
        );
    }
}
