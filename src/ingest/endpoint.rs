//! `POST /ingest/{department}`: a department system pushes a file's bytes (CSV or NDJSON,
//! streamed, never held whole) with its API key and gets the import's summary as JSON. Only the
//! department itself (or a role allowed to import for any department) may push its data, and a
//! principal scoped to a grid writes inside that grid's subtree only (see [`super::scope`]).

use super::pipeline::{self, ImportRequest};
use super::reader::Format;
use crate::access::audit::{AuditEntry, AuditKind};
use crate::access::gate::Refusal;
use crate::access::policy::GrantRights;
use crate::http::{refused, AppState};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::TryStreamExt;
use indicatif::ProgressBar;
use serde::Deserialize;
use serde_json::json;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// Query parameters of a push.
#[derive(Debug, Deserialize)]
pub struct IngestParams {
    /// Kind of records; detected from the header when absent.
    pub kind: Option<String>,
    /// `csv` (the default) or `ndjson`.
    pub format: Option<String>,
}

fn bad_request(message: String) -> Response {
    let body = json!({"error": {"code": "BAD_USER_INPUT", "message": message}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn format_of(name: Option<&str>) -> Result<Format, String> {
    match name.unwrap_or("csv") {
        "csv" => Ok(Format::Csv),
        "ndjson" | "jsonl" => Ok(Format::Ndjson),
        other => Err(format!("unknown format `{other}`: csv or ndjson")),
    }
}

/// Imports the body for `department`.
pub async fn ingest(
    State(state): State<AppState>,
    Path(department): Path<String>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let admission = match state.admit(&headers).await {
        Ok(admission) => admission,
        Err(refusal) => return refused(refusal),
    };
    let own = admission.principal.department.as_deref() == Some(department.as_str());
    let allowed = match admission.role.grants {
        GrantRights::Any => true,
        GrantRights::OwnDepartment => own,
        GrantRights::None => false,
    };
    if !allowed {
        return refused(Refusal::Forbidden(format!(
            "only the {department} department may push its data"
        )));
    }
    let format = match format_of(params.format.as_deref()) {
        Ok(format) => format,
        Err(message) => return bad_request(message),
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let request = ImportRequest {
        department: department.clone(),
        kind: params.kind,
        format,
        file_name: "http".to_string(),
        started_by: admission.principal.subject.clone(),
        source: SyncIoBridge::new(StreamReader::new(stream)),
        large_cache: false,
        scope: admission.access_for("").scope.root,
        limits: state.ingest,
    };
    match pipeline::run(&state.db.conn, request, &ProgressBar::hidden()).await {
        Ok(summary) => {
            state.audit.record(AuditEntry {
                detail: summary.describe(),
                ..AuditEntry::by(&admission.principal, AuditKind::Mutation)
            });
            Json(summary).into_response()
        }
        Err(error) => bad_request(format!("{error:#}")),
    }
}
