//! The HTTP face of gridhub: `/graphql` (POST and GET), subscriptions at `/graphql/ws`
//! (graphql-transport-ws and the older graphql-ws), GraphiQL at `/`, `/healthz`, `/readyz`,
//! `/metrics` (Prometheus) and `/ingest/{department}`, with a body limit, a request timeout and
//! request tracing. Every request (and every WebSocket connection) is authenticated and let in by
//! the gate; every GraphQL request or subscription then runs with its own access and DataLoader,
//! and what it read in full is audited.

mod lifetime;

use crate::access::audit::{AuditEntry, AuditKind, AuditLog};
use crate::access::credentials::Authenticator;
use crate::access::gate::{Admission, Gate, Refusal};
use crate::access::policy::Policy;
use crate::access::{Access, Principal};
use crate::config::ServerSettings;
use crate::config::Settings;
use crate::db::Database;
use crate::feed::ChangeFeed;
use crate::graphql::audit::AuditReader;
use crate::graphql::budget::CallLimits;
use crate::graphql::document_limits::{prepare, DocumentLimits};
use crate::graphql::error::classify;
use crate::graphql::loader::{drive, drive_stream, Batches};
use crate::graphql::Schemas;
use crate::ingest::reader::ReadLimits;
use crate::metrics;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{BatchRequest, BatchResponse, Data, Executor, ParseRequestError};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures_util::stream::{self, BoxStream, StreamExt};
use futures_util::SinkExt;
use lifetime::Lifetime;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{json, Value};
use std::any::TypeId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema of each role (limits and introspection differ).
    pub schemas: Arc<Schemas>,
    /// Turns credentials into principals.
    pub authenticator: Authenticator,
    /// Lets principals in.
    pub gate: Arc<Gate>,
    /// The tamper-evident audit log.
    pub audit: AuditLog,
    /// The database pool.
    pub db: Database,
    /// Changes to events, for subscriptions.
    pub feed: ChangeFeed,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// How long each DataLoader gathers keys before a batch.
    pub batch_window: Duration,
    /// How often an open WebSocket connection's API key is checked for revocation.
    pub recheck_interval: Duration,
    /// What one call may carry.
    pub calls: CallLimits,
    /// How long a line and a value of a pushed department file may be.
    pub ingest: ReadLimits,
}

impl AppState {
    /// Everything the handlers share, for `db` under `settings`.
    pub async fn new(db: Database, settings: &Settings) -> anyhow::Result<AppState> {
        let policy = Policy::load(&settings.access.policy_file)?;
        let feed = ChangeFeed::start(&db).await?;
        let schemas = Schemas::build(db.clone(), feed.clone(), settings, &policy);
        let audit = AuditLog::start(
            db.conn.clone(),
            &settings.audit.for_database(&settings.database.url),
        );
        Ok(AppState {
            authenticator: Authenticator::new(db.conn.clone(), &settings.auth)?,
            schemas: Arc::new(schemas),
            gate: Arc::new(Gate::new(db.conn.clone(), policy).audited_by(audit.health())),
            audit,
            db,
            feed,
            metrics: metrics::handle(),
            batch_window: Duration::from_micros(settings.graphql.batch_window_micros),
            recheck_interval: Duration::from_secs(
                settings.subscriptions.recheck_interval_secs.max(1),
            ),
            calls: CallLimits::new(&settings.graphql),
            ingest: ReadLimits::from(&settings.ingest),
        })
    }
}

impl AppState {
    /// Authenticates the caller of a request and lets it through the gate, or says why not.
    pub async fn admit(&self, headers: &HeaderMap) -> Result<Admission, Refusal> {
        let principal = match self.authenticator.authenticate(headers).await {
            Ok(principal) => principal,
            Err(error) if error.is_internal() => return Err(Refusal::Internal),
            Err(error) => return Err(Refusal::Unauthenticated(error.message().to_string())),
        };
        self.gate.admit(principal).await
    }
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

/// Gives each request of a call its access and its DataLoader; returns the accesses too, to
/// read what the requests noted once they ran.
fn with_request_data(
    request: BatchRequest,
    state: &AppState,
    admission: &Admission,
    batches: &Batches,
) -> (BatchRequest, Vec<Arc<Access>>) {
    let mut accesses = Vec::new();
    let budget = state.calls.budget(&admission.role);
    let mut prepare = |r: async_graphql::Request| {
        let access = Arc::new(admission.access_for(&r.query));
        let loaders = batches.loaders(
            state.db.conn.clone(),
            access.scope.clone(),
            state.batch_window,
        );
        accesses.push(access.clone());
        let r = r.data(access).data(loaders).data(budget.clone());
        if admission.role.audit_log {
            r.data(AuditReader)
        } else {
            r
        }
    };
    let request = match request {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(rs.into_iter().map(prepare).collect()),
    };
    (request, accesses)
}

/// Writes what the requests of a call read in full, were refused in full and did to the audit
/// log (off the request path: the log's writer batches them).
fn record(audit: &AuditLog, admission: &Admission, accesses: &[Arc<Access>]) {
    for access in accesses {
        let entry = |kind| AuditEntry {
            operation_hash: Some(access.operation_hash.clone()),
            ..AuditEntry::by(&admission.principal, kind)
        };
        for ((element_type, id), fields) in access.take_reads() {
            audit.record(AuditEntry {
                element: Some((element_type.to_string(), id)),
                fields: fields.into_iter().map(str::to_string).collect(),
                ..entry(AuditKind::Read)
            });
        }
        for ((element_type, id), fields, reasons) in access.take_refusals() {
            audit.record(AuditEntry {
                element: Some((element_type.to_string(), id)),
                fields: fields.into_iter().map(str::to_string).collect(),
                detail: reasons.join("; "),
                ..entry(AuditKind::Refused)
            });
        }
        for action in access.take_actions() {
            let kind = if action.break_glass {
                AuditKind::BreakGlass
            } else {
                AuditKind::Mutation
            };
            audit.record(AuditEntry {
                element: action.element.map(|(t, id)| (t.to_string(), id)),
                fields: action.fields,
                detail: action.detail,
                ..entry(kind)
            });
        }
    }
}

/// The HTTP status, error code, message and retry delay of a refusal.
fn explain(refusal: Refusal) -> (StatusCode, &'static str, String, Option<u64>) {
    match refusal {
        Refusal::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", m, None),
        Refusal::Forbidden(m) => (StatusCode::FORBIDDEN, "FORBIDDEN", m, None),
        Refusal::TooManyRequests(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            format!("too many requests: retry after {secs} s"),
            Some(secs),
        ),
        Refusal::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error".to_string(),
            None,
        ),
    }
}

/// A refused request, answered in GraphQL's error shape with a code and the matching status.
pub fn refused(refusal: Refusal) -> Response {
    let (status, code, message, retry_after) = explain(refusal);
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A request refused before it runs, in GraphQL's error shape with BAD_USER_INPUT.
fn bad_request(status: StatusCode, message: String) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]});
    (status, Json(body)).into_response()
}

/// Checks every document of `request` (off the async workers, since that takes time in
/// proportion to their length) and hands each its parsed document; over GET, mutations are
/// refused.
async fn prepare_all(
    mut request: BatchRequest,
    limits: DocumentLimits,
    method: Method,
) -> Result<BatchRequest, Response> {
    let status = if method == Method::GET {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        StatusCode::BAD_REQUEST
    };
    let checked = tokio::task::spawn_blocking(move || {
        let checked = prepare(request.iter_mut(), &limits, method != Method::GET);
        checked.map(|()| request)
    })
    .await;
    match checked {
        Ok(Ok(request)) => Ok(request),
        Ok(Err(error)) => Err(bad_request(status, error.to_string())),
        Err(_) => Err(refused(Refusal::Internal)),
    }
}

/// Lets the operations of a call in: at most the batch limit, each counted against the
/// principal's rate (the admission counted the first), each document within its limits.
async fn screen(
    request: BatchRequest,
    state: &AppState,
    admission: &Admission,
    method: Method,
) -> Result<BatchRequest, Response> {
    let operations = request.iter().count();
    if operations > state.calls.max_operations {
        return Err(bad_request(
            StatusCode::BAD_REQUEST,
            format!(
                "a batch may carry at most {} operations, this one has {operations}",
                state.calls.max_operations
            ),
        ));
    }
    let more = u32::try_from(operations.saturating_sub(1)).unwrap_or(u32::MAX);
    state
        .gate
        .charge(&admission.principal, more)
        .map_err(refused)?;
    prepare_all(request, state.calls.documents_for(&admission.role), method).await
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    request: Result<GraphQLBatchRequest<Rejection>, Rejection>,
) -> Response {
    let admission = match state.admit(&headers).await {
        Ok(admission) => admission,
        Err(refusal) => return refused(refusal),
    };
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    let request = match screen(request, &state, &admission, method).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let batches = Batches::new();
    let (request, accesses) = with_request_data(request, &state, &admission, &batches);
    let schema = state.schemas.for_role(&admission.principal.role);
    let operation = match &request {
        BatchRequest::Single(r) => r.operation_name.clone(),
        BatchRequest::Batch(_) => Some("batch".to_string()),
    };
    let started = Instant::now();
    let mut response = drive(schema.execute_batch(request), batches).await;
    record(&state.audit, &admission, &accesses);
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

/// Longest reason a WebSocket close frame carries (the protocol allows 123 bytes).
const CLOSE_REASON_BYTES: usize = 120;

/// A refused WebSocket connection's close reason: the error code and message, cut to fit.
fn close_reason(refusal: Refusal) -> String {
    let (_, code, message, _) = explain(refusal);
    let mut reason = format!("{code}: {message}");
    if reason.len() > CLOSE_REASON_BYTES {
        let mut end = CLOSE_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// The upgrade request's headers with the `connection_init` payload's string values laid over
/// them (each key taken as a header name).
fn init_headers(mut headers: HeaderMap, payload: Value) -> HeaderMap {
    if let Value::Object(entries) = payload {
        for (name, value) in entries {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = value.as_str().map(HeaderValue::from_str);
            if let (Ok(name), Some(Ok(value))) = (name, value) {
                headers.insert(name, value);
            }
        }
    }
    headers
}

/// Admits the caller of a WebSocket connection, as an HTTP request is admitted, and hands the
/// principal to the connection's warden; a refusal closes the connection with its reason.
async fn connection_init(
    state: AppState,
    headers: HeaderMap,
    payload: Value,
    lifetime: Lifetime,
    admitted: oneshot::Sender<Principal>,
) -> async_graphql::Result<Data> {
    let admission = state
        .admit(&init_headers(headers, payload))
        .await
        .map_err(|refusal| async_graphql::Error::new(close_reason(refusal)))?;
    let _ = admitted.send(admission.principal.clone());
    let mut data = Data::default();
    data.insert(Arc::new(admission));
    data.insert(lifetime);
    Ok(data)
}

/// Runs the operations of one WebSocket connection, each in the schema of the connection's
/// role with its own access and DataLoader.
#[derive(Clone)]
struct Subscriptions {
    state: AppState,
}

impl Subscriptions {
    /// The operation counted against the caller's rate and its document checked, then run; or
    /// the reason it is not.
    fn run(
        &self,
        request: async_graphql::Request,
        admission: Arc<Admission>,
        session: Arc<Data>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let this = self.clone();
        stream::once(async move {
            match this.screen(request, &admission).await {
                Ok(request) => this.operation(request, admission, session),
                Err(response) => stream::once(async { response }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    /// Counts one operation against the caller's rate and checks its document.
    async fn screen(
        &self,
        mut request: async_graphql::Request,
        admission: &Admission,
    ) -> Result<async_graphql::Request, async_graphql::Response> {
        let state = &self.state;
        if let Err(refusal) = state.gate.charge(&admission.principal, 1) {
            let (_, code, message, _) = explain(refusal);
            let error = async_graphql::ServerError::new(message, None);
            let mut response = async_graphql::Response::from_errors(vec![error]);
            response.errors[0]
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
            return Err(response);
        }
        let limits = state.calls.documents_for(&admission.role);
        let checked = tokio::task::spawn_blocking(move || {
            prepare([&mut request], &limits, true).map(|()| request)
        })
        .await;
        match checked {
            Ok(Ok(request)) => Ok(request),
            Ok(Err(error)) => Err(refused_operation(&error.to_string())),
            Err(_) => Err(refused_operation("internal error")),
        }
    }

    /// The operation as the admitted caller runs it, responses classified and reads audited.
    fn operation(
        &self,
        request: async_graphql::Request,
        admission: Arc<Admission>,
        session: Arc<Data>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let state = &self.state;
        let access = Arc::new(admission.access_for(&request.query));
        let batches = Batches::new();
        let loaders = batches.loaders(
            state.db.conn.clone(),
            access.scope.clone(),
            state.batch_window,
        );
        let mut request = request.data(access.clone()).data(loaders);
        if admission.role.audit_log {
            request = request.data(AuditReader);
        }
        let schema = state.schemas.for_role(&admission.principal.role);
        let responses = schema.execute_stream_with_session_data(request, session);
        let audit = state.audit.clone();
        drive_stream(responses, batches)
            .map(move |mut response| {
                classify(&mut response);
                record(&audit, &admission, std::slice::from_ref(&access));
                response
            })
            .boxed()
    }
}

/// What `connection_init` stored in a connection's data, of type `T`.
fn session_value<T: Clone + 'static>(session: &Data) -> Option<T> {
    session
        .get(&TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
        .cloned()
}

/// The admission of a connection whose lifetime has not ended, or why no operation may run.
fn admitted(session: &Data) -> Result<Arc<Admission>, String> {
    let admission =
        session_value::<Arc<Admission>>(session).ok_or("the connection is not admitted")?;
    if let Some(end) = session_value::<Lifetime>(session).and_then(|l| l.end()) {
        return Err(end.reason);
    }
    if admission.principal.expired() {
        return Err(lifetime::expired_reason());
    }
    Ok(admission)
}

/// An operation that cannot run over this path, answered with `message`.
fn refused_operation(message: &str) -> async_graphql::Response {
    let mut response =
        async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(message, None)]);
    classify(&mut response);
    response
}

impl Executor for Subscriptions {
    async fn execute(&self, _request: async_graphql::Request) -> async_graphql::Response {
        refused_operation("send queries and mutations to /graphql")
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let Some(session) = session else {
            return stream::once(async { refused_operation("the connection is not admitted") })
                .boxed();
        };
        match admitted(&session) {
            Ok(admission) => self.run(request, admission, session),
            Err(reason) => stream::once(async move { refused_operation(&reason) }).boxed(),
        }
    }
}

async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(state, protocol, headers, socket))
}

/// Serves one WebSocket connection until the client leaves or its warden ends it; then closes
/// it with the warden's code and reason.
async fn serve_socket(
    state: AppState,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    socket: WebSocket,
) {
    let (warden, lifetime, admit) = lifetime::warden();
    let (mut sink, source) = socket.split();
    let executor = Subscriptions {
        state: state.clone(),
    };
    let watch = warden.watch(state.authenticator.clone(), state.recheck_interval);
    let init = move |payload| connection_init(state, headers, payload, lifetime, admit);
    let served = GraphQLWebSocket::new_with_pair(&mut sink, source, executor, protocol)
        .on_connection_init(init)
        .serve();
    let end = tokio::select! {
        () = served => return,
        end = watch => end,
    };
    let frame = CloseFrame {
        code: end.code,
        reason: end.reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

/// The Prometheus metrics: open while no authentication is configured, then only for a role
/// the policy lets read them.
async fn prometheus(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.authenticator.configured() {
        match state.admit(&headers).await {
            Ok(admission) if admission.role.metrics => {}
            Ok(admission) => {
                return refused(Refusal::Forbidden(format!(
                    "the role `{}` may not read the metrics",
                    admission.principal.role
                )))
            }
            Err(refusal) => return refused(refusal),
        }
    }
    let (size, idle) = state.db.pool_usage();
    metrics::pool_usage(size, idle);
    state.metrics.render().into_response()
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

/// The router with every route and layer. `/ingest/{department}` streams bodies of any size
/// and has no request timeout; every other route has the body limit and the timeout.
pub fn router(state: AppState, settings: &ServerSettings) -> Router {
    let ingest = Router::new()
        .route(
            "/ingest/{department}",
            post(crate::ingest::endpoint::ingest),
        )
        .with_state(state.clone())
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)));
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus))
        .merge(crate::screen::routes())
        .merge(crate::graphiql::routes())
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)))
        .merge(ingest)
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
