//! The tamper-evident audit log: requests [`AuditLog::record`] what they did or read; one writer
//! task per process gathers the entries and appends them in batches, hash-chained (see
//! [`crate::domain::audit_chain`]), so that [`verify`] finds any edited, inserted or deleted entry.
//! Also the reads auditors need: pages of entries and "who read my data".

use super::principal::Principal;
use crate::config::AuditSettings;
use crate::domain::audit_chain::{self, Head, Link, Walk, GENESIS};
use crate::entity::{audit_entry, audit_head, residence};
use anyhow::Context as _;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Key used when `audit.key` is not configured: fine for development, worthless in production.
const DEVELOPMENT_KEY: &[u8] = b"gridhub development audit key (not for production)";

/// Id of the single row of `audit_head`.
const HEAD_ROW: i64 = 1;

/// Key of the PostgreSQL advisory lock that keeps the writers of all processes on one chain.
const CHAIN_LOCK: i64 = 0x6772_6964_6175_6474;

/// Rows per INSERT statement: 15 columns each stays far below SQLite's 32766 bind parameters.
const ROWS_PER_INSERT: usize = 1000;

/// Entries read per statement while verifying or reporting.
const READ_CHUNK: u64 = 1000;

/// Attempts to write one batch before its entries are given up, and the first pause between them.
const WRITE_ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A read of sensitive fields of one element.
    Read,
    /// A mutation.
    Mutation,
    /// A break-glass reveal: sensitive data shown beyond the caller's normal rights.
    BreakGlass,
}

impl AuditKind {
    /// The stored name: `read`, `mutation` or `break_glass`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Read => "read",
            AuditKind::Mutation => "mutation",
            AuditKind::BreakGlass => "break_glass",
        }
    }

    /// The kind with the stored name `text`.
    pub fn parse(text: &str) -> Option<AuditKind> {
        [AuditKind::Read, AuditKind::Mutation, AuditKind::BreakGlass]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One thing to record: who did what to which element, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// What happened.
    pub kind: AuditKind,
    /// The principal's subject.
    pub subject: String,
    /// The principal's role.
    pub role: String,
    /// The principal's department.
    pub department: Option<String>,
    /// The stated purpose.
    pub purpose: Option<String>,
    /// The case reference.
    pub case_id: Option<String>,
    /// Hash of the GraphQL operation.
    pub operation_hash: Option<String>,
    /// The element touched: its type name in snake case (`person`, `house`, …) and row id.
    pub element: Option<(String, i64)>,
    /// Names of the fields read or written, e.g. `person.idNumber`.
    pub fields: Vec<String>,
    /// Free-form detail.
    pub detail: String,
}

impl AuditEntry {
    /// An entry of `kind` by `principal`, without element, fields or detail.
    pub fn by(principal: &Principal, kind: AuditKind) -> AuditEntry {
        AuditEntry {
            kind,
            subject: principal.subject.clone(),
            role: principal.role.clone(),
            department: principal.department.clone(),
            purpose: principal.purpose.clone(),
            case_id: principal.case_id.clone(),
            operation_hash: None,
            element: None,
            fields: Vec::new(),
            detail: String::new(),
        }
    }

    /// The entry as an unchained link recorded `at` (id and hashes are set when written).
    fn into_link(self, at: DateTime<Utc>) -> Link {
        let (element_type, element_id) = self.element.unzip();
        Link {
            id: 0,
            at,
            kind: self.kind.as_str().to_string(),
            subject: storable(self.subject),
            role: storable(self.role),
            department: self.department.map(storable),
            purpose: self.purpose.map(storable),
            case_id: self.case_id.map(storable),
            operation_hash: self.operation_hash.map(storable),
            element_type: element_type.map(storable),
            element_id,
            fields: storable(self.fields.join(",")),
            detail: storable(self.detail),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }
}

/// `text` without NUL characters, which PostgreSQL refuses in text columns.
fn storable(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text
    }
}

/// The configured chain key, or the development key (with a warning) when none is configured.
pub fn key_of(settings: &AuditSettings) -> Vec<u8> {
    if settings.key.is_empty() {
        tracing::warn!("audit.key is not set: the audit chain uses the development key");
        DEVELOPMENT_KEY.to_vec()
    } else {
        settings.key.as_bytes().to_vec()
    }
}

enum Message {
    Entry(Box<Link>),
    Flush(oneshot::Sender<bool>),
}

/// The handle requests record through; cheap to clone. Writing happens in a background task.
#[derive(Clone)]
pub struct AuditLog {
    sender: mpsc::UnboundedSender<Message>,
}

impl AuditLog {
    /// Starts the writer task on `db` (must be called inside a tokio runtime).
    pub fn start(db: DatabaseConnection, settings: &AuditSettings) -> AuditLog {
        let (sender, receiver) = mpsc::unbounded_channel();
        let writer = Writer {
            db,
            key: key_of(settings),
            batch_size: settings.batch_size.max(1),
            interval: Duration::from_millis(settings.flush_interval_millis),
            receiver,
            lost_since_flush: false,
        };
        tokio::spawn(writer.run());
        AuditLog { sender }
    }

    /// Queues `entry`, stamped with the time now. Never blocks and never fails the caller.
    pub fn record(&self, entry: AuditEntry) {
        let at = Utc::now().trunc_subsecs(6);
        let message = Message::Entry(Box::new(entry.into_link(at)));
        if self.sender.send(message).is_err() {
            tracing::error!("the audit writer has stopped: an audit entry is lost");
        }
    }

    /// Waits until every entry recorded before this call is written; an error when some of them
    /// could not be written.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let (done, written) = oneshot::channel();
        self.sender
            .send(Message::Flush(done))
            .map_err(|_| anyhow::anyhow!("the audit writer has stopped"))?;
        match written.await {
            Ok(true) => Ok(()),
            Ok(false) => anyhow::bail!("some audit entries could not be written"),
            Err(_) => anyhow::bail!("the audit writer has stopped"),
        }
    }
}

/// Entries gathered for one transaction, and the flushes waiting for them.
#[derive(Default)]
struct Batch {
    links: Vec<Link>,
    flushes: Vec<oneshot::Sender<bool>>,
}

impl Batch {
    fn add(&mut self, message: Message) {
        match message {
            Message::Entry(link) => self.links.push(*link),
            Message::Flush(done) => self.flushes.push(done),
        }
    }
}

/// The background task that appends gathered entries to the chain.
struct Writer {
    db: DatabaseConnection,
    key: Vec<u8>,
    batch_size: usize,
    interval: Duration,
    receiver: mpsc::UnboundedReceiver<Message>,
    lost_since_flush: bool,
}

impl Writer {
    async fn run(mut self) {
        while let Some(first) = self.receiver.recv().await {
            let mut batch = Batch::default();
            batch.add(first);
            self.gather(&mut batch).await;
            if !self.write_with_retries(batch.links).await {
                self.lost_since_flush = true;
            }
            let written = !self.lost_since_flush;
            if !batch.flushes.is_empty() {
                self.lost_since_flush = false;
            }
            for done in batch.flushes {
                let _ = done.send(written);
            }
        }
    }

    /// Adds messages until the batch is full, the interval has passed or a flush is asked for.
    async fn gather(&mut self, batch: &mut Batch) {
        let deadline = Instant::now() + self.interval;
        while batch.links.len() < self.batch_size && batch.flushes.is_empty() {
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Some(message)) => batch.add(message),
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Writes `links`, retrying with backoff; false when they had to be given up.
    async fn write_with_retries(&self, links: Vec<Link>) -> bool {
        if links.is_empty() {
            return true;
        }
        let mut pause = FIRST_BACKOFF;
        for attempt in 1..=WRITE_ATTEMPTS {
            match append(&self.db, &self.key, links.clone()).await {
                Ok(()) => return true,
                Err(error) => {
                    tracing::warn!(%error, attempt, entries = links.len(), "cannot write audit entries; retrying");
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
        tracing::error!(
            entries = links.len(),
            attempts = WRITE_ATTEMPTS,
            "AUDIT ENTRIES LOST: the audit log could not be written"
        );
        false
    }
}

/// Appends `links` to the chain in one transaction: lock, read the tip, chain, insert, sign.
async fn append(db: &DatabaseConnection, key: &[u8], links: Vec<Link>) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    lock_chain(&txn).await?;
    let (mut last_id, mut last_hash) = tip(&txn).await?;
    let mut rows = Vec::with_capacity(links.len());
    for mut link in links {
        last_id += 1;
        link.id = last_id;
        link.prev_hash = last_hash;
        audit_chain::seal(key, &mut link);
        last_hash = link.hash.clone();
        rows.push(active_entry(link));
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        audit_entry::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    save_head(&txn, &audit_chain::head(key, last_id, &last_hash)).await?;
    txn.commit().await
}

/// Makes concurrent writers (also of other processes) take turns: an advisory lock on
/// PostgreSQL, the database's write lock on SQLite.
async fn lock_chain(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    let statement = match txn.get_database_backend() {
        DbBackend::Postgres => format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})"),
        _ => format!("UPDATE audit_head SET last_id = last_id WHERE id = {HEAD_ROW}"),
    };
    txn.execute_unprepared(&statement).await.map(|_| ())
}

/// The id and hash the next entry chains to: the signed head's, else the last entry's, else
/// the genesis.
async fn tip(txn: &DatabaseTransaction) -> Result<(i64, String), DbErr> {
    if let Some(head) = audit_head::Entity::find_by_id(HEAD_ROW).one(txn).await? {
        return Ok((head.last_id, head.last_hash));
    }
    let last = audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::Id)
        .one(txn)
        .await?;
    Ok(last.map_or((0, GENESIS.to_string()), |entry| (entry.id, entry.hash)))
}

async fn save_head(txn: &DatabaseTransaction, head: &Head) -> Result<(), DbErr> {
    let row = audit_head::ActiveModel {
        id: Set(HEAD_ROW),
        last_id: Set(head.last_id),
        last_hash: Set(head.last_hash.clone()),
        mac: Set(head.mac.clone()),
    };
    let upsert = OnConflict::column(audit_head::Column::Id)
        .update_columns([
            audit_head::Column::LastId,
            audit_head::Column::LastHash,
            audit_head::Column::Mac,
        ])
        .to_owned();
    audit_head::Entity::insert(row)
        .on_conflict(upsert)
        .exec_without_returning(txn)
        .await
        .map(|_| ())
}

fn active_entry(link: Link) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        id: Set(link.id),
        at: Set(link.at),
        kind: Set(link.kind),
        subject: Set(link.subject),
        role: Set(link.role),
        department: Set(link.department),
        purpose: Set(link.purpose),
        case_id: Set(link.case_id),
        operation_hash: Set(link.operation_hash),
        element_type: Set(link.element_type),
        element_id: Set(link.element_id),
        fields: Set(link.fields),
        detail: Set(link.detail),
        prev_hash: Set(link.prev_hash),
        hash: Set(link.hash),
    }
}

fn link_of(entry: audit_entry::Model) -> Link {
    Link {
        id: entry.id,
        at: entry.at,
        kind: entry.kind,
        subject: entry.subject,
        role: entry.role,
        department: entry.department,
        purpose: entry.purpose,
        case_id: entry.case_id,
        operation_hash: entry.operation_hash,
        element_type: entry.element_type,
        element_id: entry.element_id,
        fields: entry.fields,
        detail: entry.detail,
        prev_hash: entry.prev_hash,
        hash: entry.hash,
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every entry and the signed head check out.
    Intact {
        /// Number of entries.
        entries: u64,
    },
    /// The first place where the chain does not check out.
    Broken {
        /// The entry at which it breaks (for a missing entry, its id).
        entry_id: i64,
        /// What is wrong.
        reason: String,
    },
}

/// Walks the whole chain in id order (one consistent snapshot) and checks it against `key`.
pub async fn verify(db: &DatabaseConnection, key: &[u8]) -> anyhow::Result<Verification> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
        _ => db.begin().await,
    }
    .context("cannot open a transaction to read the audit log")?;
    let head = audit_head::Entity::find_by_id(HEAD_ROW)
        .one(&txn)
        .await
        .context("cannot read the audit head")?
        .map(|h| Head {
            last_id: h.last_id,
            last_hash: h.last_hash,
            mac: h.mac,
        });
    let verdict = walk(&txn, key, head.as_ref()).await?;
    txn.commit().await?;
    Ok(match verdict {
        Ok(entries) => Verification::Intact { entries },
        Err(broken) => Verification::Broken {
            entry_id: broken.entry_id,
            reason: broken.reason,
        },
    })
}

async fn walk(
    txn: &DatabaseTransaction,
    key: &[u8],
    head: Option<&Head>,
) -> anyhow::Result<Result<u64, audit_chain::Break>> {
    let mut walk = Walk::new(key);
    let mut after = i64::MIN;
    loop {
        let chunk = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(after))
            .order_by_asc(audit_entry::Column::Id)
            .limit(READ_CHUNK)
            .all(txn)
            .await
            .context("cannot read the audit entries")?;
        let Some(last) = chunk.last() else {
            return Ok(walk.finish(head));
        };
        after = last.id;
        for entry in chunk {
            if let Err(broken) = walk.step(&link_of(entry)) {
                return Ok(Err(broken));
            }
        }
    }
}

/// Which entries a page holds; every condition set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries of this kind.
    pub kind: Option<AuditKind>,
    /// Only entries by this subject.
    pub subject: Option<String>,
    /// Only entries about this element (type name and row id).
    pub element: Option<(String, i64)>,
    /// Only entries recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries recorded before this time.
    pub until: Option<DateTime<Utc>>,
}

/// One page of entries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries, by descending id.
    pub entries: Vec<audit_entry::Model>,
    /// Whether older matching entries follow.
    pub has_next_page: bool,
}

/// Up to `first` entries matching `filter` with an id below `before_id` (all when `None`),
/// newest first.
pub async fn entries_page(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    before_id: Option<i64>,
    first: u64,
) -> Result<AuditPage, DbErr> {
    let mut select = audit_entry::Entity::find();
    if let Some(kind) = filter.kind {
        select = select.filter(audit_entry::Column::Kind.eq(kind.as_str()));
    }
    if let Some(subject) = &filter.subject {
        select = select.filter(audit_entry::Column::Subject.eq(subject.as_str()));
    }
    if let Some((element_type, element_id)) = &filter.element {
        select = select
            .filter(audit_entry::Column::ElementType.eq(element_type.as_str()))
            .filter(audit_entry::Column::ElementId.eq(*element_id));
    }
    if let Some(since) = filter.since {
        select = select.filter(audit_entry::Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        select = select.filter(audit_entry::Column::At.lt(until));
    }
    if let Some(before_id) = before_id {
        select = select.filter(audit_entry::Column::Id.lt(before_id));
    }
    let mut entries = select
        .order_by_desc(audit_entry::Column::Id)
        .limit(first.saturating_add(1))
        .all(db)
        .await?;
    let has_next_page = entries.len() as u64 > first;
    entries.truncate(first as usize);
    Ok(AuditPage {
        entries,
        has_next_page,
    })
}

/// Reads and break-glass reveals of the elements `ids` of type `element_type`, newest first.
pub async fn reads_about(
    db: &DatabaseConnection,
    element_type: &str,
    ids: &[i64],
) -> Result<Vec<audit_entry::Model>, DbErr> {
    let kinds = [AuditKind::Read.as_str(), AuditKind::BreakGlass.as_str()];
    let mut entries = Vec::new();
    for chunk in ids.chunks(READ_CHUNK as usize) {
        let found = audit_entry::Entity::find()
            .filter(audit_entry::Column::ElementType.eq(element_type))
            .filter(audit_entry::Column::ElementId.is_in(chunk.iter().copied()))
            .filter(audit_entry::Column::Kind.is_in(kinds))
            .all(db)
            .await?;
        entries.extend(found);
    }
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.id));
    Ok(entries)
}

/// The persons who live in, lived in or own the house `house_id`.
pub async fn household_person_ids(
    db: &DatabaseConnection,
    house_id: i64,
) -> Result<Vec<i64>, DbErr> {
    residence::Entity::find()
        .select_only()
        .column(residence::Column::PersonId)
        .filter(residence::Column::HouseId.eq(house_id))
        .distinct()
        .order_by_asc(residence::Column::PersonId)
        .into_tuple::<i64>()
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in [AuditKind::Read, AuditKind::Mutation, AuditKind::BreakGlass] {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::BreakGlass.as_str(), "break_glass");
        assert_eq!(AuditKind::parse("delete"), None);
    }

    #[test]
    fn an_entry_takes_the_principal_and_joins_its_fields() {
        let mut principal = Principal::anonymous();
        principal.purpose = Some("visit\0".into());
        let mut entry = AuditEntry::by(&principal, AuditKind::Read);
        assert_eq!(entry.subject, "anonymous");
        entry.element = Some(("person".into(), 7));
        entry.fields = vec!["person.idNumber".into(), "person.phone".into()];
        let link = entry.into_link(Utc::now());
        assert_eq!(link.fields, "person.idNumber,person.phone");
        assert_eq!(link.element_type.as_deref(), Some("person"));
        assert_eq!(link.element_id, Some(7));
        assert_eq!(link.purpose.as_deref(), Some("visit\u{fffd}"));
    }

    #[test]
    fn an_empty_key_falls_back_to_the_development_key() {
        let mut settings = crate::config::Settings::defaults().audit;
        assert_eq!(key_of(&settings), DEVELOPMENT_KEY);
        settings.key = "secret".into();
        assert_eq!(key_of(&settings), b"secret");
    }
}
