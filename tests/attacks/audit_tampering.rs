//! Attack class "audit tampering": an attacker with write access to the hub's database (not to
//! its audit key, nor to the history of its checkpoint file) tries to make reads disappear from
//! the audit log: wipe it, cut its tail, put back an older copy, edit, forge or insert entries,
//! resign the head, reseal the chain with the public development key. Each attempt leaks when
//! `gridhub audit verify` still exits 0.

use crate::common::{self, audit, Hub};
use crate::probe::{self, bearer, Probe};
use gridhub::access::audit::read_checkpoints;
use gridhub::domain::audit_chain::{self, Checkpoint, Link, DEVELOPMENT_KEY};
use gridhub::entity::{audit_entry, audit_head};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// The audit key of a hardened hub.
const KEY: &str = "attack-suite-audit-key";

/// Audited full reads made before the attacks.
const READS: usize = 12;

/// A hardened hub with audit key `key` (empty: none) taking a checkpoint after every write,
/// with [`READS`] audited reads in its log.
async fn hub_with_history(backend: common::Backend, key: &str) -> Hub {
    let hub = Hub::start_with(backend, 40, |s| {
        probe::hardened(s);
        s.audit.key = key.to_string();
        s.audit.checkpoint_interval_secs = 0;
    })
    .await;
    read_some(&hub, READS).await;
    hub
}

/// Reads a person's ID number in full `n` times, one request each, and waits until the log
/// holds the entries and a checkpoint of them.
async fn read_some(hub: &Hub, n: usize) {
    let admin = bearer("reader", "admin", None, None);
    let headers = [
        ("Authorization", admin.as_str()),
        ("X-Purpose", "case_handling"),
        ("X-Case-Id", "CASE-0003"),
    ];
    let before = audit::entries(&hub.db.conn).await.len();
    let body = json!({"query": "{ persons(first: 1, filter: {}) { nodes { idNumber } } }"});
    for _ in 0..n {
        hub.query_as(&headers, body.clone()).await;
    }
    for _ in 0..100 {
        let held = audit::entries(&hub.db.conn).await.len();
        if held >= before + n && checkpointed(hub, held).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reads never reached the audit log");
}

/// Whether the hub's checkpoint file names entry `last_id`.
async fn checkpointed(hub: &Hub, last_id: usize) -> bool {
    let checkpoints = read_checkpoints(Path::new(&hub.checkpoint_file())).unwrap();
    checkpoints
        .unwrap_or_default()
        .iter()
        .any(|c| c.last_id as usize == last_id)
}

/// The log and the checkpoint file as they were before an attempt.
struct Snapshot {
    entries: Vec<audit_entry::Model>,
    head: Option<audit_head::Model>,
    checkpoints: String,
}

impl Snapshot {
    async fn of(hub: &Hub) -> Snapshot {
        Snapshot {
            entries: audit::entries(&hub.db.conn).await,
            head: audit::head(&hub.db.conn).await,
            checkpoints: std::fs::read_to_string(hub.checkpoint_file()).unwrap(),
        }
    }

    async fn put_back(&self, hub: &Hub) {
        audit::restore(&hub.db.conn, self.entries.clone(), self.head.clone()).await;
        std::fs::write(hub.checkpoint_file(), &self.checkpoints).unwrap();
    }

    fn links(&self) -> Vec<Link> {
        self.entries.iter().map(audit::link_of).collect()
    }
}

/// Whether `gridhub audit verify` accepts the hub's log under `key` (none: no key set).
async fn accepted(hub: &Hub, key: Option<&str>) -> bool {
    audit::verify(&hub.url, &hub.checkpoint_file(), key, &[])
        .await
        .0
}

/// One way of tampering with the log, applied to the untouched snapshot.
#[derive(Debug, Clone, Copy)]
enum Tampering {
    WipeAll,
    DeleteEntriesKeepHead,
    DeleteLast,
    DeleteTailAndHead,
    DeleteTailMoveHead,
    CutTailResealWithKey,
    DeleteMiddle,
    EditSubject,
    EditFields,
    AppendForged,
    InsertForged,
    ResealWithDevelopmentKey,
    CutAndForgeDevelopmentCheckpoint,
    DeleteCheckpointFile,
    LowerCheckpointCounts,
}

impl Tampering {
    const ALL: [Tampering; 15] = [
        Tampering::WipeAll,
        Tampering::DeleteEntriesKeepHead,
        Tampering::DeleteLast,
        Tampering::DeleteTailAndHead,
        Tampering::DeleteTailMoveHead,
        Tampering::CutTailResealWithKey,
        Tampering::DeleteMiddle,
        Tampering::EditSubject,
        Tampering::EditFields,
        Tampering::AppendForged,
        Tampering::InsertForged,
        Tampering::ResealWithDevelopmentKey,
        Tampering::CutAndForgeDevelopmentCheckpoint,
        Tampering::DeleteCheckpointFile,
        Tampering::LowerCheckpointCounts,
    ];

    async fn apply(self, hub: &Hub, s: &Snapshot) {
        let last = s.entries.len();
        match self {
            Tampering::WipeAll => audit::wipe(&hub.db.conn).await,
            Tampering::DeleteEntriesKeepHead => sql(hub, "DELETE FROM audit_entries").await,
            Tampering::DeleteLast => {
                sql(hub, &format!("DELETE FROM audit_entries WHERE id = {last}")).await
            }
            Tampering::DeleteTailAndHead => {
                sql(
                    hub,
                    &format!("DELETE FROM audit_entries WHERE id > {}", last - 4),
                )
                .await;
                sql(hub, "DELETE FROM audit_head").await;
            }
            Tampering::DeleteTailMoveHead => {
                let kept = &s.entries[last - 5];
                sql(
                    hub,
                    &format!("DELETE FROM audit_entries WHERE id > {}", kept.id),
                )
                .await;
                let head = audit_chain::head(b"guessed key", kept.id, &kept.hash);
                sql(
                    hub,
                    &format!(
                        "UPDATE audit_head SET last_id = {}, last_hash = '{}', mac = '{}'",
                        head.last_id, head.last_hash, head.mac
                    ),
                )
                .await;
            }
            Tampering::CutTailResealWithKey => {
                let kept = s.links()[..last - 3].to_vec();
                audit::reseal(&hub.db.conn, KEY.as_bytes(), kept).await;
            }
            Tampering::DeleteMiddle => sql(hub, "DELETE FROM audit_entries WHERE id = 5").await,
            Tampering::EditSubject => {
                sql(
                    hub,
                    "UPDATE audit_entries SET subject = 'nobody' WHERE id = 3",
                )
                .await
            }
            Tampering::EditFields => {
                sql(
                    hub,
                    "UPDATE audit_entries SET fields = 'person.name' WHERE id = 7",
                )
                .await
            }
            Tampering::AppendForged => {
                let mut links = s.links();
                let mut forged = links[last - 1].clone();
                forged.subject = "nobody".into();
                links.push(forged);
                audit::reseal(&hub.db.conn, b"guessed key", links).await;
            }
            Tampering::InsertForged => {
                let mut links = s.links();
                links.insert(3, links[2].clone());
                audit::reseal(&hub.db.conn, b"guessed key", links).await;
            }
            Tampering::ResealWithDevelopmentKey => {
                let mut links = s.links();
                links[4].purpose = Some("curiosity".into());
                audit::reseal(&hub.db.conn, DEVELOPMENT_KEY, links).await;
            }
            Tampering::CutAndForgeDevelopmentCheckpoint => {
                let kept = s.links()[..last - 2].to_vec();
                audit::reseal(&hub.db.conn, DEVELOPMENT_KEY, kept).await;
                forge_checkpoint(hub, DEVELOPMENT_KEY).await;
            }
            Tampering::DeleteCheckpointFile => std::fs::remove_file(hub.checkpoint_file()).unwrap(),
            Tampering::LowerCheckpointCounts => {
                let edited = s.checkpoints.replace("\"entries\":", "\"entries\":0");
                std::fs::write(hub.checkpoint_file(), edited).unwrap();
                audit::wipe(&hub.db.conn).await;
            }
        }
    }
}

async fn sql(hub: &Hub, statement: &str) {
    use sea_orm::ConnectionTrait;
    hub.db.conn.execute_unprepared(statement).await.unwrap();
}

/// Replaces the checkpoint file by one checkpoint of the log as it now is, signed with `key`.
async fn forge_checkpoint(hub: &Hub, key: &[u8]) {
    let last = audit::entries(&hub.db.conn).await.pop().unwrap();
    let forged = Checkpoint::new(key, chrono::Utc::now(), last.id, &last.hash);
    std::fs::write(hub.checkpoint_file(), forged.to_line() + "\n").unwrap();
}

#[tokio::test]
async fn the_audit_log_cannot_be_wiped_cut_rolled_back_or_resealed() {
    let mut probe = Probe::new("audit tampering");
    for backend in common::backends() {
        let hub = hub_with_history(backend, KEY).await;
        let snapshot = Snapshot::of(&hub).await;
        assert!(
            accepted(&hub, Some(KEY)).await,
            "{backend:?}: the untouched log verifies"
        );
        for tampering in Tampering::ALL {
            snapshot.put_back(&hub).await;
            tampering.apply(&hub, &snapshot).await;
            probe.attempt(
                format!("{backend:?}: {tampering:?}"),
                accepted(&hub, Some(KEY)).await,
            );
        }

        snapshot.put_back(&hub).await;
        read_some(&hub, 6).await;
        audit::restore(
            &hub.db.conn,
            snapshot.entries.clone(),
            snapshot.head.clone(),
        )
        .await;
        probe.attempt(
            format!("{backend:?}: roll back to an older copy of entries and head"),
            accepted(&hub, Some(KEY)).await,
        );

        let open = hub_with_history(backend, "").await;
        let snapshot = Snapshot::of(&open).await;
        for tampering in Tampering::ALL {
            snapshot.put_back(&open).await;
            tampering.apply(&open, &snapshot).await;
            forge_checkpoint_if_present(&open).await;
            probe.attempt(
                format!("{backend:?}, no audit.key: {tampering:?}, checkpoint forged"),
                accepted(&open, None).await,
            );
        }
    }
    probe.finish();
}

/// On a hub without audit.key the attacker can sign checkpoints too: it forges one for the
/// tampered log (when the log still has entries).
async fn forge_checkpoint_if_present(hub: &Hub) {
    if !audit::entries(&hub.db.conn).await.is_empty() {
        forge_checkpoint(hub, DEVELOPMENT_KEY).await;
    }
}
