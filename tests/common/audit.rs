//! The audit log as an attacker with write access to a hub's database sees it: read the entries
//! and the head, put back an older copy, rewrite and reseal the chain with a key, and ask
//! `gridhub audit verify` what it finds.

use gridhub::domain::audit_chain::{self, Link, GENESIS};
use gridhub::entity::{audit_entry, audit_head};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryOrder,
};
use std::process::Command;

/// Every entry, in id order.
pub async fn entries(conn: &DatabaseConnection) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(conn)
        .await
        .expect("read the audit entries")
}

/// The signed head, if any.
pub async fn head(conn: &DatabaseConnection) -> Option<audit_head::Model> {
    audit_head::Entity::find()
        .one(conn)
        .await
        .expect("read the audit head")
}

/// Deletes every entry and the head.
pub async fn wipe(conn: &DatabaseConnection) {
    for statement in ["DELETE FROM audit_entries", "DELETE FROM audit_head"] {
        conn.execute_unprepared(statement).await.expect("wipe");
    }
}

/// Replaces the log by `entries` and `head` as they are (an older copy put back).
pub async fn restore(
    conn: &DatabaseConnection,
    entries: Vec<audit_entry::Model>,
    head: Option<audit_head::Model>,
) {
    wipe(conn).await;
    for chunk in entries.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model)
            .collect();
        audit_entry::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await
            .expect("put entries back");
    }
    if let Some(head) = head {
        audit_head::Entity::insert(head.into_active_model())
            .exec_without_returning(conn)
            .await
            .expect("put the head back");
    }
}

/// The chain link of a stored entry.
pub fn link_of(entry: &audit_entry::Model) -> Link {
    Link {
        id: entry.id,
        at: entry.at,
        kind: entry.kind.clone(),
        subject: entry.subject.clone(),
        role: entry.role.clone(),
        department: entry.department.clone(),
        purpose: entry.purpose.clone(),
        case_id: entry.case_id.clone(),
        operation_hash: entry.operation_hash.clone(),
        element_type: entry.element_type.clone(),
        element_id: entry.element_id,
        fields: entry.fields.clone(),
        detail: entry.detail.clone(),
        prev_hash: entry.prev_hash.clone(),
        hash: entry.hash.clone(),
    }
}

fn model_of(link: Link) -> audit_entry::Model {
    audit_entry::Model {
        id: link.id,
        at: link.at,
        kind: link.kind,
        subject: link.subject,
        role: link.role,
        department: link.department,
        purpose: link.purpose,
        case_id: link.case_id,
        operation_hash: link.operation_hash,
        element_type: link.element_type,
        element_id: link.element_id,
        fields: link.fields,
        detail: link.detail,
        prev_hash: link.prev_hash,
        hash: link.hash,
    }
}

/// Replaces the log by `links`, renumbered from 1, chained and sealed with `key`, under a head
/// signed with `key`: what someone holding the key (or using the public development key) can do.
pub async fn reseal(conn: &DatabaseConnection, key: &[u8], links: Vec<Link>) {
    let mut prev_hash = GENESIS.to_string();
    let mut models = Vec::new();
    for (mut link, id) in links.into_iter().zip(1..) {
        link.id = id;
        link.prev_hash = prev_hash;
        audit_chain::seal(key, &mut link);
        prev_hash = link.hash.clone();
        models.push(model_of(link));
    }
    let head = models.last().map(|last| {
        let signed = audit_chain::head(key, last.id, &last.hash);
        audit_head::ActiveModel {
            id: Set(1),
            last_id: Set(signed.last_id),
            last_hash: Set(signed.last_hash),
            mac: Set(signed.mac),
        }
    });
    restore(conn, models, None).await;
    if let Some(head) = head {
        audit_head::Entity::insert(head)
            .exec_without_returning(conn)
            .await
            .expect("sign the head");
    }
}

/// Runs `gridhub audit verify` on the database at `url` with the checkpoint file `checkpoints`,
/// the chain key `key` (none: the development key) and `extra` arguments: whether it succeeded,
/// and what it printed.
pub async fn verify(
    url: &str,
    checkpoints: &str,
    key: Option<&str>,
    extra: &[&str],
) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gridhub"));
    command
        .args([
            "audit",
            "verify",
            "--database",
            url,
            "--checkpoints",
            checkpoints,
        ])
        .args(extra)
        .env("RUST_LOG", "error")
        .env_remove("GRIDHUB__AUDIT__KEY");
    if let Some(key) = key {
        command.env("GRIDHUB__AUDIT__KEY", key);
    }
    let output = super::output_of(command).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Makes every write of the audit log fail, as a full disk or a broken table would.
pub async fn break_store(conn: &DatabaseConnection) {
    conn.execute_unprepared("ALTER TABLE audit_entries RENAME TO audit_entries_away")
        .await
        .expect("break the audit store");
}

/// Undoes [`break_store`].
pub async fn mend_store(conn: &DatabaseConnection) {
    conn.execute_unprepared("ALTER TABLE audit_entries_away RENAME TO audit_entries")
        .await
        .expect("mend the audit store");
}

/// A full read by `headers` of `query`, retried for up to ten seconds until `done` says its
/// answer is the one awaited; that answer.
pub async fn until(
    hub: &super::Hub,
    headers: &[(&str, &str)],
    query: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut body = serde_json::Value::Null;
    for _ in 0..100 {
        body = hub
            .query_as(headers, serde_json::json!({"query": query}))
            .await
            .2;
        if done(&body) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never answered as awaited: {body}");
}
