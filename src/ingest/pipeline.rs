//! One import from start to end: rows are read and decoded on a blocking thread and handed over
//! in batches; each batch is resolved and written in one transaction together with its rejected
//! rows, so an import stopped at any point leaves whole batches only, and running it again skips
//! what was already written (same source id and fingerprint) and completes it.

use super::civil_affairs::{CommunityWorkersWriter, SocialOrganizationsWriter, WelfareWriter};
use super::dual_registrations::DualRegistrationsWriter;
use super::ebike_sheds::EbikeShedsWriter;
use super::houses::HousesWriter;
use super::outcome::{Outcome, Summary};
use super::party::{MembersWriter, OrganizationsWriter};
use super::persons::PersonsWriter;
use super::police::{DevicesWriter, GridPoliceWriter};
use super::property::ResidentsWriter;
use super::reader::{Format, Mapping, ReadLimits, Row, RowReader};
use super::scope::WriteScope;
use super::service_requests::ServiceRequestsWriter;
use super::volunteer_hours::VolunteerHoursWriter;
use crate::entity::{department, import, import_rejection};
use anyhow::{anyhow, Context as _};
use chrono::Utc;
use indicatif::ProgressBar;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use std::io::Read;
use tokio::sync::{mpsc, oneshot};

/// Rows written per transaction.
pub const BATCH_ROWS: usize = 2000;

/// SQLite page cache of the importing connection with `large_cache`, in KiB: a large district's
/// indexes stay in memory instead of being read back for every batch (the default is 2 MiB).
/// Bounded, so memory stays flat however long the file is.
const SQLITE_CACHE_KIB: u32 = 131_072;

/// What to import.
pub struct ImportRequest<R> {
    /// Department code: police, civil_affairs, property or party.
    pub department: String,
    /// Kind of records (`persons` …); `None` to detect it from the header.
    pub kind: Option<String>,
    /// CSV or NDJSON.
    pub format: Format,
    /// Name of the file (or `http` for a pushed body), kept with the import.
    pub file_name: String,
    /// Who started it.
    pub started_by: String,
    /// The bytes.
    pub source: R,
    /// Give the importing SQLite connection a large page cache (for a process that imports
    /// over one connection, such as `gridhub import`; a server's pooled connections keep theirs).
    pub large_cache: bool,
    /// Id of the grid whose subtree bounds every write (the pushing principal's grid scope);
    /// `None` for the whole hub.
    pub scope: Option<i64>,
    /// How long a line and a value may be.
    pub limits: ReadLimits,
}

/// A row as read: decoded, or a line that could not be read.
type ReadRow = Result<Row, (u64, String)>;

/// Writes the rows of one kind of one department.
enum Writer {
    Persons(PersonsWriter),
    GridPolice(GridPoliceWriter),
    Devices(DevicesWriter),
    Residents(ResidentsWriter),
    Houses(HousesWriter),
    EbikeSheds(EbikeShedsWriter),
    ServiceRequests(ServiceRequestsWriter),
    PartyOrganizations(OrganizationsWriter),
    PartyMembers(MembersWriter),
    DualRegistrations(DualRegistrationsWriter),
    VolunteerHours(VolunteerHoursWriter),
    Welfare(WelfareWriter),
    SocialOrganizations(SocialOrganizationsWriter),
    CommunityWorkers(CommunityWorkersWriter),
}

impl Writer {
    async fn new(
        db: &DatabaseConnection,
        department: &str,
        department_id: i64,
        kind: &str,
        scope: &WriteScope,
    ) -> anyhow::Result<Writer> {
        match (department, kind) {
            ("police", "persons") => Ok(Writer::Persons(
                PersonsWriter::new(db, department_id).await?,
            )),
            ("police", "grid_police") => Ok(Writer::GridPolice(
                GridPoliceWriter::new(db, department_id).await?,
            )),
            ("police", "devices") => Ok(Writer::Devices(
                DevicesWriter::new(db, department_id).await?,
            )),
            ("property", "residents") => Ok(Writer::Residents(
                ResidentsWriter::new(db, department_id, scope).await?,
            )),
            ("property", "houses") => Ok(Writer::Houses(
                HousesWriter::new(db, department_id, scope).await?,
            )),
            ("property", "ebike_sheds") => Ok(Writer::EbikeSheds(
                EbikeShedsWriter::new(db, department_id).await?,
            )),
            ("property", "service_requests") => Ok(Writer::ServiceRequests(
                ServiceRequestsWriter::new(db, department_id, scope).await?,
            )),
            ("party", "organizations") => Ok(Writer::PartyOrganizations(
                OrganizationsWriter::new(db, department_id).await?,
            )),
            ("party", "members") => Ok(Writer::PartyMembers(MembersWriter::new(department_id))),
            ("party", "dual_registrations") => Ok(Writer::DualRegistrations(
                DualRegistrationsWriter::new(db, department_id).await?,
            )),
            ("party", "volunteer_hours") => Ok(Writer::VolunteerHours(
                VolunteerHoursWriter::new(db, department_id).await?,
            )),
            ("civil_affairs", "welfare") => Ok(Writer::Welfare(WelfareWriter::new(department_id))),
            ("civil_affairs", "social_organizations") => Ok(Writer::SocialOrganizations(
                SocialOrganizationsWriter::new(db, department_id).await?,
            )),
            ("civil_affairs", "community_workers") => Ok(Writer::CommunityWorkers(
                CommunityWorkersWriter::new(db, department_id).await?,
            )),
            _ => Err(anyhow!(
                "importing {kind} of {department} is not supported yet; supported: police \
                 persons, grid_police and devices; property residents, houses, ebike_sheds and \
                 service_requests; party organizations, members, dual_registrations \
                 and volunteer_hours; civil_affairs welfare, social_organizations and \
                 community_workers"
            )),
        }
    }

    async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        match self {
            Writer::Persons(writer) => writer.write(txn, rows).await,
            Writer::GridPolice(writer) => writer.write(txn, rows).await,
            Writer::Devices(writer) => writer.write(txn, rows).await,
            Writer::Residents(writer) => writer.write(txn, rows).await,
            Writer::Houses(writer) => writer.write(txn, rows).await,
            Writer::EbikeSheds(writer) => writer.write(txn, rows).await,
            Writer::ServiceRequests(writer) => writer.write(txn, rows).await,
            Writer::PartyOrganizations(writer) => writer.write(txn, rows).await,
            Writer::PartyMembers(writer) => writer.write(txn, rows).await,
            Writer::DualRegistrations(writer) => writer.write(txn, rows).await,
            Writer::VolunteerHours(writer) => writer.write(txn, rows).await,
            Writer::Welfare(writer) => writer.write(txn, rows).await,
            Writer::SocialOrganizations(writer) => writer.write(txn, rows).await,
            Writer::CommunityWorkers(writer) => writer.write(txn, rows).await,
        }
    }
}

/// Runs an import and returns its summary. Fails before any row is written when the department
/// is unknown or the header lacks required columns.
pub async fn run<R: Read + Send + 'static>(
    db: &DatabaseConnection,
    request: ImportRequest<R>,
    progress: &ProgressBar,
) -> anyhow::Result<Summary> {
    let mapping = Mapping::built_in(&request.department).ok_or_else(|| {
        anyhow!(
            "unknown department `{}`: police, civil_affairs, property or party",
            request.department
        )
    })?;
    let (kind, mut batches) = read_in_batches(
        request.source,
        request.format,
        mapping,
        request.kind,
        request.limits,
    )
    .await?;
    let department_id = department_id(db, &request.department).await?;
    let scope = WriteScope::of(db, request.scope).await?;
    let mut writer = Writer::new(db, &request.department, department_id, &kind, &scope).await?;
    let run = start(
        db,
        &request.department,
        &kind,
        &request.file_name,
        &request.started_by,
    )
    .await?;
    let mut summary = Summary {
        import_id: run.id,
        department: request.department.clone(),
        kind,
        ..Summary::default()
    };
    let target = Target {
        scope,
        department_id,
        large_cache: request.large_cache,
    };
    while let Some(batch) = batches.recv().await {
        let rows = batch.len() as u64;
        write_batch(db, &mut writer, &target, run.id, batch, &mut summary).await?;
        progress.inc(rows);
    }
    crate::tally::refresh(db).await?;
    finish(db, run, &summary).await?;
    Ok(summary)
}

/// Starts reading on a blocking thread; returns the kind the header names and the batches.
async fn read_in_batches<R: Read + Send + 'static>(
    source: R,
    format: Format,
    mapping: Mapping,
    kind: Option<String>,
    limits: ReadLimits,
) -> anyhow::Result<(String, mpsc::Receiver<Vec<ReadRow>>)> {
    let (layout_sender, layout) = oneshot::channel();
    let (sender, batches) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let (rows, layout) =
            match RowReader::open_with(source, format, &mapping, kind.as_deref(), limits) {
                Ok(opened) => opened,
                Err(error) => {
                    let _ = layout_sender.send(Err(error.to_string()));
                    return;
                }
            };
        let _ = layout_sender.send(Ok(layout.kind.clone()));
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        for row in rows {
            batch.push(row.map_err(|e| (e.line, e.reason)));
            if batch.len() == BATCH_ROWS
                && sender
                    .blocking_send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(BATCH_ROWS),
                    ))
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
    });
    let kind = layout
        .await
        .context("the reader stopped before the header")?
        .map_err(|message| anyhow!(message))?;
    Ok((kind, batches))
}

/// Where the batches of one import go: the scope bounding its writes, the department whose
/// records they are, and the connection setting.
struct Target {
    scope: WriteScope,
    department_id: i64,
    large_cache: bool,
}

/// Writes the rows the scope admits through `writer`; returns one outcome per row, in order,
/// the rows it refuses rejected with its reason.
async fn write_screened(
    txn: &DatabaseTransaction,
    writer: &mut Writer,
    target: &Target,
    kind: &str,
    rows: Vec<Row>,
) -> anyhow::Result<Vec<Outcome>> {
    let refusals = target
        .scope
        .screen(txn, target.department_id, kind, &rows)
        .await?;
    let admitted = rows
        .into_iter()
        .zip(&refusals)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(row, _)| row)
        .collect();
    let mut written = writer.write(txn, admitted).await?.into_iter();
    refusals
        .into_iter()
        .map(|refusal| match refusal {
            Some(reason) => Ok(Outcome::Rejected(reason)),
            None => written
                .next()
                .ok_or_else(|| anyhow!("a writer gave fewer outcomes than it was given rows")),
        })
        .collect()
}

/// Writes one batch and its rejected rows in one transaction, and counts the outcomes.
async fn write_batch(
    db: &DatabaseConnection,
    writer: &mut Writer,
    target: &Target,
    import_id: i64,
    batch: Vec<ReadRow>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let txn = crate::db::begin_write(db).await?;
    if target.large_cache && txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
            .await?;
    }
    let mut unreadable = Vec::new();
    let mut rows = Vec::with_capacity(batch.len());
    for row in batch {
        match row {
            Ok(row) => rows.push(row),
            Err((line, reason)) => unreadable.push((line, reason)),
        }
    }
    let raws: Vec<(u64, String)> = rows
        .iter()
        .map(|r| (r.line, serde_json::Value::Object(r.raw.clone()).to_string()))
        .collect();
    let outcomes = write_screened(&txn, writer, target, &summary.kind, rows).await?;
    let mut results: Vec<(u64, Outcome, String)> = raws
        .into_iter()
        .zip(outcomes)
        .map(|((line, raw), outcome)| (line, outcome, raw))
        .collect();
    results.extend(
        unreadable
            .into_iter()
            .map(|(line, reason)| (line, Outcome::Rejected(reason), String::new())),
    );
    results.sort_by_key(|(line, _, _)| *line);
    let rejections: Vec<import_rejection::ActiveModel> = results
        .iter()
        .filter_map(|(line, outcome, raw)| match outcome {
            Outcome::Rejected(reason) => Some(import_rejection::ActiveModel {
                import_id: Set(import_id),
                line: Set(*line as i64),
                reason: Set(reason.clone()),
                raw: Set(raw.clone()),
                ..Default::default()
            }),
            _ => None,
        })
        .collect();
    if !rejections.is_empty() {
        import_rejection::Entity::insert_many(rejections)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    for (line, outcome, _) in &results {
        summary.count(*line, outcome);
    }
    Ok(())
}

/// The id of the department with `code`.
async fn department_id(db: &DatabaseConnection, code: &str) -> anyhow::Result<i64> {
    department::Entity::find()
        .filter(department::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|d| d.id)
        .ok_or_else(|| anyhow!("the department `{code}` is not registered in this hub"))
}

async fn start(
    db: &DatabaseConnection,
    department: &str,
    kind: &str,
    file_name: &str,
    started_by: &str,
) -> anyhow::Result<import::Model> {
    let row = import::ActiveModel {
        department: Set(department.to_string()),
        kind: Set(kind.to_string()),
        file_name: Set(file_name.to_string()),
        status: Set("running".to_string()),
        started_by: Set(started_by.to_string()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        inserted: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        rejected: Set(0),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

async fn finish(
    db: &DatabaseConnection,
    run: import::Model,
    summary: &Summary,
) -> anyhow::Result<()> {
    let mut row = run.into_active_model();
    row.status = Set("finished".to_string());
    row.finished_at = Set(Some(Utc::now()));
    row.inserted = Set(summary.inserted as i64);
    row.updated = Set(summary.updated as i64);
    row.unchanged = Set(summary.unchanged as i64);
    row.rejected = Set(summary.rejected as i64);
    row.update(db).await?;
    Ok(())
}
