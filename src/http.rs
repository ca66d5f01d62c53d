//! The HTTP face of gridhub: `/graphql` (POST and GET), GraphiQL at `/`, `/healthz`, `/readyz`
//! and `/metrics` (Prometheus), with a body limit, a request timeout and request tracing. Every GraphQL request
//! gets a principal and its own DataLoader.

use crate::access::Principal;
use crate::config::ServerSettings;
use crate::db::Database;
use crate::graphql::error::classify;
use crate::graphql::loader::{drive, Batches};
use crate::graphql::GridhubSchema;
use crate::metrics;
use async_graphql::ParseRequestError;
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema.
    pub schema: GridhubSchema,
    /// The database pool.
    pub db: Database,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// How long each DataLoader gathers keys before a batch.
    pub batch_window: Duration,
}

/// A request that could not be read as GraphQL: answered in GraphQL's error shape with a code.
pub struct Rejection(ParseRequestError);

impl From<ParseRequestError> for Rejection {
    fn from(error: ParseRequestError) -> Self {
        Rejection(error)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, message) = match self.0 {
            ParseRequestError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large".to_string(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("cannot read the request as GraphQL: {other}"),
            ),
        };
        let body =
            json!({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]});
        (status, Json(body)).into_response()
    }
}

fn with_request_data(request: BatchRequest, state: &AppState, batches: &Batches) -> BatchRequest {
    let prepare = |r: async_graphql::Request| {
        r.data(Principal::anonymous())
            .data(batches.loaders(state.db.conn.clone(), state.batch_window))
    };
    match request {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(rs.into_iter().map(prepare).collect()),
    }
}

async fn graphql(
    State(state): State<AppState>,
    request: Result<GraphQLBatchRequest<Rejection>, Rejection>,
) -> Response {
    let batches = Batches::new();
    let request = match request {
        Ok(request) => with_request_data(request.into_inner(), &state, &batches),
        Err(rejection) => return rejection.into_response(),
    };
    let operation = match &request {
        BatchRequest::Single(r) => r.operation_name.clone(),
        BatchRequest::Batch(_) => Some("batch".to_string()),
    };
    let started = Instant::now();
    let mut response = drive(state.schema.execute_batch(request), batches).await;
    let had_errors = match &mut response {
        BatchResponse::Single(r) => {
            classify(r);
            r.is_err()
        }
        BatchResponse::Batch(rs) => {
            rs.iter_mut().for_each(classify);
            rs.iter().any(|r| r.is_err())
        }
    };
    metrics::graphql_request(
        operation.as_deref(),
        started.elapsed().as_secs_f64(),
        had_errors,
    );
    GraphQLResponse(response).into_response()
}

async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

async fn prometheus(State(state): State<AppState>) -> String {
    let (size, idle) = state.db.pool_usage();
    metrics::pool_usage(size, idle);
    state.metrics.render()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.is_reachable().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// The router with every route and layer.
pub fn router(state: AppState, settings: &ServerSettings) -> Router {
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql).post(graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus))
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)))
}

/// Serves `app` on `listener` until `shutdown` resolves, with Nagle's algorithm off on every
/// connection (axum 0.8 leaves it on, which holds small responses back for the client's delayed
/// ACK, about 40 ms on Linux).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves when the process is asked to stop (ctrl-c or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
