//! The audit log end to end, on SQLite and on PostgreSQL: entries recorded through `AuditLog` are
//! written in order with consecutive ids, `gridhub audit verify` accepts the chain, and names the
//! entry where it breaks after an entry is edited, deleted or forged, or the end is cut off. Two
//! writers on one database keep one chain. Auditors page the log and see who read a household.

mod common;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use common::{audit, Backend};
use gridhub::access::audit::{
    household_person_ids, verify, AuditEntry, AuditKind, AuditLog, Verification,
};
use gridhub::access::Principal;
use gridhub::config::{AuditSettings, DatabaseSettings, Settings};
use gridhub::db;
use gridhub::domain::audit_chain::{self, Checkpoint, DEVELOPMENT_KEY};
use gridhub::entity::{audit_entry, residence};
use gridhub::graphql::audit::{AuditQuery, AuditReader};
use gridhub::graphql::id::{encode, NodeType};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const KEY: &str = "audit test key";
const ENTRIES: i64 = 30;

/// A migrated database of its own, removed when dropped.
struct TestDb {
    url: String,
    conn: DatabaseConnection,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// The checkpoint file of the database's audit log.
    fn checkpoints(&self) -> String {
        self.dir
            .path()
            .join("audit.checkpoints")
            .display()
            .to_string()
    }

    /// Audit settings writing checkpoints to [`TestDb::checkpoints`] after every write.
    fn settings(&self, batch_size: usize, flush_interval_millis: u64) -> AuditSettings {
        AuditSettings {
            key: KEY.to_string(),
            batch_size,
            flush_interval_millis,
            checkpoint_file: self.checkpoints(),
            checkpoint_interval_secs: 0,
            ..Settings::defaults().audit
        }
    }

    /// `verify` on this database with its checkpoints.
    async fn verdict(&self) -> Verification {
        let checkpoints = self.checkpoints();
        verify(&self.conn, KEY.as_bytes(), Some(Path::new(&checkpoints)))
            .await
            .unwrap()
    }

    /// `gridhub audit verify` on this database with the test key.
    async fn verify_with_binary(&self) -> (bool, String) {
        audit::verify(&self.url, &self.checkpoints(), Some(KEY), &[]).await
    }

    async fn assert_broken_at(&self, entry_id: i64, backend: Backend) {
        let (ok, output) = self.verify_with_binary().await;
        assert!(
            !ok,
            "{backend:?}: verify accepted a tampered chain: {output}"
        );
        let expected = format!("audit chain broken at entry {entry_id}:");
        assert!(output.contains(&expected), "{backend:?}: {output}");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.clone() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                let admin = sea_orm::Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop an audit test database");
        }
    }
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: url.to_string(),
        max_connections: 4,
        ..Settings::defaults().database
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    db::connect(&database_settings(url))
        .await
        .expect("connect")
        .conn
}

async fn fresh_db(backend: Backend) -> TestDb {
    let db = empty_db(backend).await;
    db::migrate(&db.conn).await.expect("migrate");
    db
}

async fn empty_db(backend: Backend) -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (url, postgres) = match backend {
        Backend::Sqlite => {
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("audit.db").display()
            );
            (url, None)
        }
        Backend::Postgres => {
            let admin_url = common::postgres_admin_url();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let name = format!("gridhub_audit_{}_{}", std::process::id(), nanos);
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            (
                common::with_database(&admin_url, &name),
                Some((admin_url, name)),
            )
        }
    };
    let conn = connect(&url).await;
    TestDb {
        url,
        conn,
        dir,
        postgres,
    }
}

fn entry(n: i64) -> AuditEntry {
    let mut principal = Principal::anonymous();
    principal.subject = format!("worker{n}");
    principal.role = "grid_worker".into();
    principal.purpose = Some("home visit".into());
    let mut entry = AuditEntry::by(&principal, AuditKind::Read);
    entry.element = Some(("person".into(), n));
    entry.fields = vec!["person.idNumber".into(), "person.phone".into()];
    entry
}

/// A fresh database holding a chain of [`ENTRIES`] entries, written in batches of 7.
async fn chained_db(backend: Backend) -> TestDb {
    let db = fresh_db(backend).await;
    let log = AuditLog::start(db.conn.clone(), &db.settings(7, 60_000));
    for n in 1..=ENTRIES {
        log.record(entry(n));
    }
    log.flush().await.expect("flush");
    db
}

#[tokio::test]
async fn recorded_entries_are_chained_in_order_and_verify() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let entries = audit::entries(&db.conn).await;
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=ENTRIES).collect::<Vec<_>>(), "{backend:?}");
        for (entry, n) in entries.iter().zip(1..) {
            assert_eq!(entry.subject, format!("worker{n}"), "{backend:?}");
            assert_eq!(entry.fields, "person.idNumber,person.phone");
            assert_eq!(entry.kind, "read");
        }
        assert_eq!(entries[0].prev_hash, audit_chain::GENESIS);
        let (ok, output) = db.verify_with_binary().await;
        assert!(ok, "{backend:?}: {output}");
        assert!(
            output.contains(&format!("audit chain intact: {ENTRIES} entries")),
            "{output}"
        );
    }
}

#[tokio::test]
async fn flush_waits_for_the_entries_recorded_before_it() {
    for backend in common::backends() {
        let db = fresh_db(backend).await;
        let log = AuditLog::start(db.conn.clone(), &db.settings(500, 60_000));
        for n in 1..=5 {
            log.record(entry(n));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let count = || audit_entry::Entity::find().count(&db.conn);
        assert_eq!(
            count().await.unwrap(),
            0,
            "{backend:?}: written before the interval"
        );
        log.flush().await.unwrap();
        assert_eq!(count().await.unwrap(), 5, "{backend:?}");
        log.flush().await.unwrap();
        log.record(entry(6));
        log.flush().await.unwrap();
        assert_eq!(count().await.unwrap(), 6, "{backend:?}");
    }
}

#[tokio::test]
async fn a_failed_write_is_retried_until_it_succeeds() {
    for backend in common::backends() {
        let db = empty_db(backend).await;
        let log = AuditLog::start(db.conn.clone(), &db.settings(500, 1));
        for n in 1..=3 {
            log.record(entry(n));
        }
        let flushed = tokio::spawn({
            let log = log.clone();
            async move { log.flush().await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!flushed.is_finished(), "{backend:?}: flush did not wait");
        db::migrate(&db.conn).await.expect("migrate");
        flushed.await.unwrap().expect("written after a retry");
        let ids: Vec<i64> = audit::entries(&db.conn)
            .await
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec![1, 2, 3], "{backend:?}");
    }
}

#[tokio::test]
async fn a_full_backlog_makes_the_log_unhealthy_and_bounds_what_it_holds() {
    for backend in common::backends() {
        let db = empty_db(backend).await;
        let settings = AuditSettings {
            max_backlog: 3,
            ..db.settings(500, 1)
        };
        let log = AuditLog::start(db.conn.clone(), &settings);
        let health = log.health();
        for n in 1..=10 {
            log.record(entry(n));
        }
        assert!(!health.is_healthy(), "{backend:?}: the backlog is full");
        assert_eq!(health.waiting(), 3, "{backend:?}: entries past the bound");
        db::migrate(&db.conn).await.expect("migrate");
        log.flush().await.expect("written after the store is back");
        assert!(health.is_healthy(), "{backend:?}: recovered");
        assert_eq!(health.waiting(), 0, "{backend:?}");
        let ids: Vec<i64> = audit::entries(&db.conn)
            .await
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec![1, 2, 3], "{backend:?}: the first three are kept");
    }
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        db.conn
            .execute_unprepared("UPDATE audit_entries SET purpose = 'curiosity' WHERE id = 12")
            .await
            .unwrap();
        db.assert_broken_at(12, backend).await;
    }
}

#[tokio::test]
async fn a_deleted_middle_entry_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        db.conn
            .execute_unprepared("DELETE FROM audit_entries WHERE id = 15")
            .await
            .unwrap();
        db.assert_broken_at(15, backend).await;
    }
}

#[tokio::test]
async fn a_forged_entry_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let last = audit::entries(&db.conn).await.pop().unwrap();
        let mut forged = last.clone();
        forged.id = last.id + 1;
        forged.subject = "nobody".into();
        forged.prev_hash = last.hash.clone();
        forged.hash = plausible_hash(&forged);
        audit_entry::Entity::insert(forged.into_active_model())
            .exec_without_returning(&db.conn)
            .await
            .unwrap();
        db.assert_broken_at(last.id + 1, backend).await;
    }
}

/// A well-formed hash of `entry` under a key the forger guessed.
fn plausible_hash(entry: &audit_entry::Model) -> String {
    audit_chain::entry_hash(b"guessed key", &audit::link_of(entry))
}

#[tokio::test]
async fn a_deleted_last_entry_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        db.conn
            .execute_unprepared(&format!("DELETE FROM audit_entries WHERE id = {ENTRIES}"))
            .await
            .unwrap();
        db.assert_broken_at(ENTRIES, backend).await;
        let verdict = db.verdict().await;
        assert!(
            matches!(verdict, Verification::Broken { entry_id, .. } if entry_id == ENTRIES),
            "{verdict:?}"
        );
    }
}

#[tokio::test]
async fn an_edited_head_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let entries = audit::entries(&db.conn).await;
        let before_last = &entries[entries.len() - 2];
        db.conn
            .execute_unprepared(&format!("DELETE FROM audit_entries WHERE id = {ENTRIES}"))
            .await
            .unwrap();
        db.conn
            .execute_unprepared(&format!(
                "UPDATE audit_head SET last_id = {}, last_hash = '{}'",
                before_last.id, before_last.hash
            ))
            .await
            .unwrap();
        db.assert_broken_at(before_last.id, backend).await;
    }
}

#[tokio::test]
async fn writing_continues_the_chain_after_a_restart() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let log = AuditLog::start(db.conn.clone(), &db.settings(7, 5));
        log.record(entry(99));
        log.flush().await.unwrap();
        let verdict = db.verdict().await;
        assert!(
            matches!(verdict, Verification::Intact { entries, checkpoints } if entries == ENTRIES as u64 + 1 && checkpoints > 1),
            "{backend:?}: {verdict:?}"
        );
    }
}

#[tokio::test]
async fn two_writers_on_one_database_keep_one_chain() {
    for backend in common::backends() {
        let db = fresh_db(backend).await;
        let settings = db.settings(5, 2);
        let first = AuditLog::start(connect(&db.url).await, &settings);
        let second = AuditLog::start(connect(&db.url).await, &settings);
        let write = |log: AuditLog, offset: i64| async move {
            for n in 0..60 {
                log.record(entry(offset + n));
                if n % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            }
            log.flush().await
        };
        let (a, b) = tokio::join!(
            tokio::spawn(write(first, 1000)),
            tokio::spawn(write(second, 2000))
        );
        a.unwrap().unwrap();
        b.unwrap().unwrap();
        let verdict = db.verdict().await;
        assert!(
            matches!(verdict, Verification::Intact { entries: 120, .. }),
            "{backend:?}: {verdict:?}"
        );
        let subjects: Vec<String> = audit::entries(&db.conn)
            .await
            .into_iter()
            .map(|e| e.subject)
            .collect();
        assert!(subjects.contains(&"worker1000".to_string()));
        assert!(subjects.contains(&"worker2059".to_string()));
    }
}

async fn assert_fails_saying(db: &TestDb, backend: Backend, expected: &[&str]) {
    let (ok, output) = db.verify_with_binary().await;
    assert!(!ok, "{backend:?}: verify accepted a tampered log: {output}");
    for words in expected {
        assert!(
            output.contains(words),
            "{backend:?}: `{words}` not in: {output}"
        );
    }
}

#[tokio::test]
async fn a_wiped_log_is_named_by_its_checkpoint() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        audit::wipe(&db.conn).await;
        assert_fails_saying(
            &db,
            backend,
            &[
                "audit chain broken at entry 1:",
                "entries up to entry 30; the log holds 0: entries 1..30 are missing",
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn a_cut_tail_under_a_resigned_head_is_named_by_its_checkpoint() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let kept: Vec<_> = audit::entries(&db.conn)
            .await
            .iter()
            .take(24)
            .map(audit::link_of)
            .collect();
        audit::reseal(&db.conn, KEY.as_bytes(), kept).await;
        assert_fails_saying(
            &db,
            backend,
            &[
                "says 30 entries",
                "the log holds 24: entries 25..30 are missing",
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn a_rolled_back_log_is_named_by_its_checkpoint() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        let (older, older_head) = (audit::entries(&db.conn).await, audit::head(&db.conn).await);
        let log = AuditLog::start(db.conn.clone(), &db.settings(7, 5));
        for n in 100..110 {
            log.record(entry(n));
        }
        log.flush().await.unwrap();
        audit::restore(&db.conn, older, older_head).await;
        assert_fails_saying(
            &db,
            backend,
            &[
                "says 40 entries up to entry 40",
                "entries 31..40 are missing",
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn a_deleted_checkpoint_file_is_named() {
    for backend in common::backends() {
        let db = chained_db(backend).await;
        std::fs::remove_file(db.checkpoints()).unwrap();
        assert_fails_saying(&db, backend, &["checkpoint file", "is missing"]).await;
        audit::wipe(&db.conn).await;
        let (ok, output) = db.verify_with_binary().await;
        assert!(ok, "{backend:?}: a fresh log verifies: {output}");
    }
}

#[tokio::test]
async fn a_log_sealed_with_the_development_key_is_never_vouched_for() {
    for backend in common::backends() {
        let db = fresh_db(backend).await;
        let settings = AuditSettings {
            key: String::new(),
            ..db.settings(7, 5)
        };
        let log = AuditLog::start(db.conn.clone(), &settings);
        for n in 1..=5 {
            log.record(entry(n));
        }
        log.flush().await.unwrap();
        let mut links: Vec<_> = audit::entries(&db.conn)
            .await
            .iter()
            .map(audit::link_of)
            .collect();
        links[2].purpose = Some("curiosity".into());
        audit::reseal(&db.conn, DEVELOPMENT_KEY, links.clone()).await;
        let last = audit::entries(&db.conn).await.pop().unwrap();
        let forged = Checkpoint::new(DEVELOPMENT_KEY, chrono::Utc::now(), last.id, &last.hash);
        let checkpoints = db.checkpoints();
        std::fs::write(&checkpoints, forged.to_line() + "\n").unwrap();
        let (ok, output) = audit::verify(&db.url, &checkpoints, None, &[]).await;
        assert!(!ok, "{backend:?}: {output}");
        assert!(
            output.contains("not trustworthy") && output.contains("development key"),
            "{backend:?}: {output}"
        );

        audit::reseal(&db.conn, KEY.as_bytes(), links[..2].to_vec()).await;
        let mut resealed = audit::entries(&db.conn).await;
        let mut third = audit::link_of(&resealed[1]);
        third.id = 3;
        third.prev_hash = resealed[1].hash.clone();
        audit_chain::seal(DEVELOPMENT_KEY, &mut third);
        resealed.push(audit_entry::Model {
            id: 3,
            prev_hash: third.prev_hash,
            hash: third.hash,
            ..resealed[1].clone()
        });
        audit::restore(&db.conn, resealed, audit::head(&db.conn).await).await;
        std::fs::remove_file(&checkpoints).unwrap();
        let (ok, output) = audit::verify(&db.url, &checkpoints, Some(KEY), &[]).await;
        assert!(!ok, "{backend:?}: {output}");
        assert!(
            output.contains("entry 3: it is sealed with the public development key"),
            "{backend:?}: {output}"
        );
    }
}

async fn auditor_query(
    schema: &Schema<AuditQuery, EmptyMutation, EmptySubscription>,
    query: &str,
    variables: Value,
) -> Value {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(AuditReader);
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.into_json().unwrap()
}

fn read_of(element: &str, id: i64, kind: AuditKind, subject: &str) -> AuditEntry {
    let mut entry = entry(0);
    entry.kind = kind;
    entry.subject = subject.to_string();
    entry.element = Some((element.to_string(), id));
    entry
}

#[tokio::test]
async fn auditors_page_the_log_and_see_who_read_a_household() {
    for backend in common::backends() {
        let hub = common::Hub::start(backend, 60).await;
        let residence = residence::Entity::find()
            .one(&hub.db.conn)
            .await
            .unwrap()
            .unwrap();
        let household = household_person_ids(&hub.db.conn, residence.house_id)
            .await
            .unwrap();
        assert!(household.contains(&residence.person_id));
        let stranger = household.iter().max().unwrap() + 1_000_000;
        let log = AuditLog::start(
            hub.db.conn.clone(),
            &AuditSettings {
                key: KEY.into(),
                checkpoint_file: String::new(),
                ..Settings::defaults().audit
            },
        );
        let member = residence.person_id;
        log.record(read_of("person", member, AuditKind::Read, "clerk"));
        log.record(read_of("person", member, AuditKind::Mutation, "clerk"));
        log.record(read_of("person", stranger, AuditKind::Read, "clerk"));
        log.record(read_of(
            "house",
            residence.house_id,
            AuditKind::Read,
            "officer",
        ));
        log.record(read_of("person", member, AuditKind::BreakGlass, "medic"));
        log.flush().await.unwrap();

        let schema = Schema::build(AuditQuery, EmptyMutation, EmptySubscription)
            .data(hub.db.clone())
            .finish();
        let report = auditor_query(
            &schema,
            "query($h: ID) { dataAccessReport(houseId: $h) { persons reads { sequence subject kind breakGlass fields elementType elementId } } }",
            json!({"h": encode(NodeType::House, residence.house_id)}),
        )
        .await;
        let reads = report["dataAccessReport"]["reads"].as_array().unwrap();
        let sequences: Vec<i64> = reads
            .iter()
            .map(|r| r["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, vec![5, 4, 1], "{backend:?}: {report}");
        assert_eq!(reads[0]["kind"], "BREAK_GLASS");
        assert_eq!(reads[0]["breakGlass"], true);
        assert_eq!(
            reads[0]["fields"],
            json!(["person.idNumber", "person.phone"])
        );
        assert_eq!(reads[1]["elementType"], "house");
        let member_id = encode(NodeType::Person, member);
        assert_eq!(reads[2]["elementId"], json!(member_id.as_str()));
        let persons = report["dataAccessReport"]["persons"].as_array().unwrap();
        assert_eq!(persons.len(), household.len());

        let page = "query($after: String, $f: AuditEntryFilter) { auditEntries(filter: $f, first: 2, after: $after) { edges { cursor node { sequence } } pageInfo { hasNextPage endCursor } } }";
        let first = auditor_query(&schema, page, json!({"f": {"kind": "READ"}})).await;
        let connection = &first["auditEntries"];
        assert_eq!(connection["edges"][0]["node"]["sequence"], 4);
        assert_eq!(connection["edges"][1]["node"]["sequence"], 3);
        assert_eq!(connection["pageInfo"]["hasNextPage"], true);
        let after = connection["pageInfo"]["endCursor"].clone();
        let second = auditor_query(
            &schema,
            page,
            json!({"f": {"kind": "READ"}, "after": after}),
        )
        .await;
        assert_eq!(second["auditEntries"]["edges"][0]["node"]["sequence"], 1);
        assert_eq!(second["auditEntries"]["pageInfo"]["hasNextPage"], false);
        let about_member = auditor_query(
            &schema,
            page,
            json!({"f": {"elementId": member_id.as_str(), "subject": "clerk"}}),
        )
        .await;
        let sequences: Vec<&Value> = about_member["auditEntries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"]["sequence"])
            .collect();
        assert_eq!(sequences, vec![&json!(2), &json!(1)], "{backend:?}");
    }
}

#[tokio::test]
async fn a_failing_audit_store_refuses_full_reads_until_it_recovers() {
    for backend in common::backends() {
        let hub = common::Hub::start_with(backend, 30, common::tokens::secured).await;
        let admin = format!(
            "Bearer {}",
            common::tokens::token("admin-wang", "admin", None, None)
        );
        let headers = [
            ("Authorization", admin.as_str()),
            ("X-Purpose", "welfare_assessment"),
            ("X-Case-Id", "CASE-12"),
        ];
        let card = "{ persons(first: 3, filter: {}) { nodes { idNumber } } }";
        let served = |body: &Value| {
            body.get("errors").is_none()
                && body["data"]["persons"]["nodes"][0]["idNumber"].is_string()
        };
        audit::until(&hub, &headers, card, served).await;
        audit::break_store(&hub.db.conn).await;
        let refused = audit::until(&hub, &headers, card, |body| body.get("errors").is_some()).await;
        assert_eq!(
            common::first_error_code(&refused).as_deref(),
            Some("INTERNAL"),
            "{backend:?}: {refused}"
        );
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("AUDIT_UNAVAILABLE"),
            "{backend:?}: {message}"
        );
        assert!(
            refused["data"]["persons"]["nodes"][0]["idNumber"].is_null(),
            "{backend:?}: a full read was served unaudited: {refused}"
        );
        let metrics = reqwest::Client::new()
            .get(format!("{}/metrics", hub.base))
            .header("Authorization", admin.as_str())
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            metrics.contains("gridhub_audit_write_failures_total"),
            "{backend:?}: no metric of failed audit writes"
        );
        audit::mend_store(&hub.db.conn).await;
        audit::until(&hub, &headers, card, served).await;
        let mut kept = false;
        for _ in 0..50 {
            let entries = audit::entries(&hub.db.conn).await;
            kept = entries
                .iter()
                .any(|e| e.kind == "refused" && e.detail.contains("AUDIT_UNAVAILABLE"));
            if kept {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            kept,
            "{backend:?}: the refusals during the outage were lost"
        );
    }
}
