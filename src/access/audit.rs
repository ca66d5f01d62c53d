//! The tamper-evident audit log: requests [`AuditLog::record`] what they did or read; one writer
//! task per process gathers the entries and appends them in batches, hash-chained (see
//! [`crate::domain::audit_chain`]), so that [`verify`] finds any edited, inserted or deleted entry.
//! After writes it appends signed checkpoints of the head to a file outside the database, so
//! that a wiped, cut or rolled-back log fails verification too. While it cannot write, its
//! [`AuditHealth`] is clear and full reads are refused. Also the reads auditors need: pages of
//! entries and "who read my data".

use super::principal::Principal;
use crate::config::AuditSettings;
use crate::domain::audit_chain::{self, Checkpoint, Head, Link, Walk, DEVELOPMENT_KEY, GENESIS};
use crate::entity::{audit_entry, audit_head, residence};
use crate::metrics;
use anyhow::Context as _;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Id of the single row of `audit_head`.
const HEAD_ROW: i64 = 1;

/// Key of the PostgreSQL advisory lock that keeps the writers of all processes on one chain.
const CHAIN_LOCK: i64 = 0x6772_6964_6175_6474;

/// Rows per INSERT statement: 15 columns each stays far below SQLite's 32766 bind parameters.
const ROWS_PER_INSERT: usize = 1000;

/// Entries read per statement while verifying or reporting.
const READ_CHUNK: u64 = 1000;

/// The first and the longest pause between two attempts to write a batch; a batch is retried
/// until it is written, never given up.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A read of sensitive fields of one element.
    Read,
    /// A mutation.
    Mutation,
    /// A break-glass reveal: sensitive data shown beyond the caller's normal rights.
    BreakGlass,
    /// A full read that was refused (no purpose, a purpose the grant does not allow, the audit
    /// log unavailable): an attempt an auditor should see.
    Refused,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [AuditKind; 4] = [
        AuditKind::Read,
        AuditKind::Mutation,
        AuditKind::BreakGlass,
        AuditKind::Refused,
    ];
}

impl AuditKind {
    /// The stored name: `read`, `mutation`, `break_glass` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Read => "read",
            AuditKind::Mutation => "mutation",
            AuditKind::BreakGlass => "break_glass",
            AuditKind::Refused => "refused",
        }
    }

    /// The kind with the stored name `text`.
    pub fn parse(text: &str) -> Option<AuditKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
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

/// Whether the audit log is being written: clear after a failed write until the next write
/// succeeds, and while `max_backlog` entries or more wait to be written. Full reads are refused
/// while it is clear. Cheap to clone and to read.
#[derive(Debug, Clone)]
pub struct AuditHealth {
    written: Arc<AtomicBool>,
    backlog: Arc<AtomicUsize>,
    max_backlog: usize,
}

impl Default for AuditHealth {
    /// Healthy, with no bound on the backlog (for an access without an audit writer).
    fn default() -> Self {
        AuditHealth::new(usize::MAX)
    }
}

impl AuditHealth {
    fn new(max_backlog: usize) -> AuditHealth {
        AuditHealth {
            written: Arc::new(AtomicBool::new(true)),
            backlog: Arc::new(AtomicUsize::new(0)),
            max_backlog: max_backlog.max(1),
        }
    }

    /// Whether the last write of the audit log succeeded and the writer keeps up.
    pub fn is_healthy(&self) -> bool {
        self.written.load(Ordering::Relaxed) && self.waiting() < self.max_backlog
    }

    /// Entries recorded and not yet written.
    pub fn waiting(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }

    fn set(&self, healthy: bool) {
        self.written.store(healthy, Ordering::Relaxed);
        metrics::audit_healthy(healthy);
    }

    /// Counts an entry in, unless the backlog is full.
    fn admit(&self) -> bool {
        self.backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max_backlog).then_some(n + 1)
            })
            .is_ok()
    }

    fn written_out(&self, entries: usize) {
        self.backlog.fetch_sub(entries, Ordering::Relaxed);
    }
}

enum Message {
    Entry(Box<Link>),
    Flush(oneshot::Sender<()>),
}

/// The handle requests record through; cheap to clone. Writing happens in a background task.
#[derive(Clone)]
pub struct AuditLog {
    sender: mpsc::UnboundedSender<Message>,
    health: AuditHealth,
}

impl AuditLog {
    /// Starts the writer task on `db` (must be called inside a tokio runtime). Checkpoints go
    /// to `settings.checkpoint_file` (none when it is empty; see
    /// [`AuditSettings::for_database`]).
    pub fn start(db: DatabaseConnection, settings: &AuditSettings) -> AuditLog {
        let (sender, receiver) = mpsc::unbounded_channel();
        let health = AuditHealth::new(settings.max_backlog);
        let checkpoints = (!settings.checkpoint_file.is_empty()).then(|| Checkpoints {
            path: PathBuf::from(&settings.checkpoint_file),
            interval: Duration::from_secs(settings.checkpoint_interval_secs),
            last: None,
        });
        let writer = Writer {
            db,
            key: key_of(settings),
            batch_size: settings.batch_size.max(1),
            interval: Duration::from_millis(settings.flush_interval_millis),
            receiver,
            health: health.clone(),
            checkpoints,
            tip: None,
        };
        tokio::spawn(writer.run());
        AuditLog { sender, health }
    }

    /// The log's health, for refusing full reads while it cannot be written.
    pub fn health(&self) -> AuditHealth {
        self.health.clone()
    }

    /// Queues `entry`, stamped with the time now. Never blocks and never fails the caller.
    /// Full reads are refused before the backlog is full, so what is dropped when it is full
    /// (counted by `gridhub_audit_entries_dropped_total`) is never the record of a full read.
    pub fn record(&self, entry: AuditEntry) {
        if !self.health.admit() {
            metrics::audit_entry_dropped();
            tracing::error!(
                waiting = self.health.waiting(),
                "the audit backlog is full: an audit entry is lost"
            );
            return;
        }
        let at = Utc::now().trunc_subsecs(6);
        let message = Message::Entry(Box::new(entry.into_link(at)));
        if self.sender.send(message).is_err() {
            self.health.written_out(1);
            metrics::audit_entry_dropped();
            tracing::error!("the audit writer has stopped: an audit entry is lost");
        }
    }

    /// Waits until every entry recorded before this call is written (however long the
    /// database takes to come back) and a checkpoint of the head is taken.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let (done, written) = oneshot::channel();
        self.sender
            .send(Message::Flush(done))
            .map_err(|_| anyhow::anyhow!("the audit writer has stopped"))?;
        written
            .await
            .map_err(|_| anyhow::anyhow!("the audit writer has stopped"))
    }
}

/// Entries gathered for one transaction, and the flushes waiting for them.
#[derive(Default)]
struct Batch {
    links: Vec<Link>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn add(&mut self, message: Message) {
        match message {
            Message::Entry(link) => self.links.push(*link),
            Message::Flush(done) => self.flushes.push(done),
        }
    }
}

/// Where checkpoints go, how often, and when the last was taken.
struct Checkpoints {
    path: PathBuf,
    interval: Duration,
    last: Option<(Instant, i64)>,
}

impl Checkpoints {
    /// Whether a checkpoint of the chain ending at `last_id` is due (always at a flush).
    fn due(&self, last_id: i64, flushing: bool) -> bool {
        match self.last {
            None => true,
            Some((_, id)) if id == last_id => false,
            Some((at, _)) => flushing || at.elapsed() >= self.interval,
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
    health: AuditHealth,
    checkpoints: Option<Checkpoints>,
    tip: Option<(i64, String)>,
}

impl Writer {
    async fn run(mut self) {
        while let Some(first) = self.receiver.recv().await {
            let mut batch = Batch::default();
            batch.add(first);
            self.gather(&mut batch).await;
            self.write_until_done(batch.links).await;
            self.checkpoint(!batch.flushes.is_empty()).await;
            for done in batch.flushes {
                let _ = done.send(());
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

    /// Writes `links`, retrying with backoff until they are written; the log is unhealthy
    /// from the first failure until a write succeeds.
    async fn write_until_done(&mut self, links: Vec<Link>) {
        if links.is_empty() {
            return;
        }
        let mut pause = FIRST_BACKOFF;
        for attempt in 1u64.. {
            match append(&self.db, &self.key, &links).await {
                Ok(tip) => {
                    self.health.written_out(links.len());
                    self.health.set(true);
                    self.tip = Some(tip);
                    return;
                }
                Err(error) => {
                    self.health.set(false);
                    metrics::audit_write_failed();
                    tracing::error!(%error, attempt, entries = links.len(), "cannot write audit entries: full reads are refused until they are written; retrying");
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// Appends a checkpoint of the chain's tip when one is due.
    async fn checkpoint(&mut self, flushing: bool) {
        let (Some(checkpoints), Some((last_id, last_hash))) = (&mut self.checkpoints, &self.tip)
        else {
            return;
        };
        if !checkpoints.due(*last_id, flushing) {
            return;
        }
        let at = Utc::now().trunc_subsecs(6);
        let line = Checkpoint::new(&self.key, at, *last_id, last_hash).to_line();
        let path = checkpoints.path.clone();
        let written = tokio::task::spawn_blocking(move || append_line(&path, &line)).await;
        match written {
            Ok(Ok(())) => checkpoints.last = Some((Instant::now(), *last_id)),
            Ok(Err(error)) => {
                metrics::audit_checkpoint_failed();
                tracing::error!(%error, path = %checkpoints.path.display(), "cannot append an audit checkpoint");
            }
            Err(error) => tracing::error!(%error, "the audit checkpoint task failed"),
        }
    }
}

/// Appends `line` and a line end to the file at `path` in one write, and syncs it.
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()
}

/// Appends `links` to the chain in one transaction: lock, read the tip, chain, insert, sign.
/// Returns the new tip.
async fn append(
    db: &DatabaseConnection,
    key: &[u8],
    links: &[Link],
) -> Result<(i64, String), DbErr> {
    let txn = db.begin().await?;
    lock_chain(&txn).await?;
    let (mut last_id, mut last_hash) = tip(&txn).await?;
    let mut rows = Vec::with_capacity(links.len());
    for link in links {
        let mut link = link.clone();
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
    txn.commit().await?;
    Ok((last_id, last_hash))
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
    /// Every entry, the signed head and every checkpoint check out.
    Intact {
        /// Number of entries.
        entries: u64,
        /// Number of checkpoints the log was held to.
        checkpoints: usize,
    },
    /// The first place where the chain does not check out.
    Broken {
        /// The entry at which it breaks (for a missing entry, its id).
        entry_id: i64,
        /// What is wrong.
        reason: String,
    },
}

/// The checkpoints in the file at `path`; `None` when there is no such file.
pub fn read_checkpoints(path: &Path) -> anyhow::Result<Option<Vec<Checkpoint>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut checkpoints = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let checkpoint = Checkpoint::parse(line).map_err(|error| {
            anyhow::anyhow!(
                "line {} of the checkpoint file {} is not a checkpoint ({error}): the file was edited",
                number + 1,
                path.display()
            )
        })?;
        checkpoints.push(checkpoint);
    }
    Ok(Some(checkpoints))
}

/// Walks the whole chain in id order (one consistent snapshot) and checks it against `key` and
/// the checkpoints in the file at `checkpoint_file` (none when `None`). A log holding entries
/// whose checkpoint file is gone does not verify.
pub async fn verify(
    db: &DatabaseConnection,
    key: &[u8],
    checkpoint_file: Option<&Path>,
) -> anyhow::Result<Verification> {
    let checkpoints = match checkpoint_file {
        Some(path) => read_checkpoints(path)?,
        None => Some(Vec::new()),
    };
    let count = checkpoints.as_ref().map_or(0, Vec::len);
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
    let verdict = walk(
        &txn,
        key,
        head.as_ref(),
        checkpoints.clone().unwrap_or_default(),
    )
    .await?;
    txn.commit().await?;
    Ok(match (verdict, checkpoints) {
        (Ok(entries), None) if entries > 0 || head.is_some() => Verification::Broken {
            entry_id: 1,
            reason: format!(
                "the checkpoint file {} is missing although the log holds {entries} entries: it was deleted (or audit.checkpoint_file was changed)",
                checkpoint_file.map(Path::display).map(|p| p.to_string()).unwrap_or_default()
            ),
        },
        (Ok(entries), _) => Verification::Intact {
            entries,
            checkpoints: count,
        },
        (Err(broken), _) => Verification::Broken {
            entry_id: broken.entry_id,
            reason: broken.reason,
        },
    })
}

async fn walk(
    txn: &DatabaseTransaction,
    key: &[u8],
    head: Option<&Head>,
    checkpoints: Vec<Checkpoint>,
) -> anyhow::Result<Result<u64, audit_chain::Break>> {
    let mut walk = match Walk::anchored(key, checkpoints) {
        Ok(walk) => walk,
        Err(broken) => return Ok(Err(broken)),
    };
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
        for kind in AuditKind::ALL {
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
