//! DataLoaders: every field that reaches another table goes through here, so a nested query costs
//! one SQL statement per level however many rows it returns.
//!
//! Three generic loaders cover the whole schema:
//! - [`ByColumn`]: rows of a table whose integer column equals a key (relations in both directions);
//! - [`PageQuery`]: one page of a connection; pages of many parents run as one `UNION ALL` statement;
//! - [`CountQuery`]: `totalCount` of a connection; counts of many parents run as one statement.

use super::error::{internal, OrInternal};
use crate::access::scope::{RowScope, Scoped};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Error, Result};
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, PostgresQueryBuilder, Query, SelectStatement, UnionType,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic,
    ModelTrait, QueryFilter, Value,
};
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Context as TaskContext;
use std::task::{Poll, Wake, Waker};
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// SQLite allows 500 terms in a compound select; stay well below.
pub(super) const UNION_CHUNK: usize = 100;
const BATCH_KEY: &str = "batch_key";

/// Runs the batched statements of one request, inside its row scope.
pub struct DbLoader {
    pub(super) db: DatabaseConnection,
    pub(super) scope: RowScope,
}

/// The per-request DataLoader over [`DbLoader`].
pub type Loaders = DataLoader<DbLoader>;

/// The batches a request's DataLoaders started, waiting to be run by [`drive`].
pub struct Batches {
    sender: UnboundedSender<BoxFuture<'static, ()>>,
    started: UnboundedReceiver<BoxFuture<'static, ()>>,
}

impl Batches {
    /// No batches yet.
    pub fn new() -> Self {
        let (sender, started) = unbounded_channel();
        Batches { sender, started }
    }

    /// A fresh DataLoader reading rows in `scope`, whose batches run inside [`drive`] (after
    /// gathering keys for `window`, when it is not zero).
    pub fn loaders(&self, db: DatabaseConnection, scope: RowScope, window: Duration) -> Loaders {
        let sender = self.sender.clone();
        let spawner = move |batch| {
            let _ = sender.send(batch);
        };
        DataLoader::new(DbLoader { db, scope }, spawner).delay(window)
    }
}

impl Default for Batches {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `request` and the DataLoader batches it starts on the same task. A batch is first polled
/// only once `request` has gone as far as it can without data, so it holds every key of that
/// resolver pass, with no timer and no hop to another thread.
pub async fn drive<F: Future>(request: F, mut batches: Batches) -> F::Output {
    let mut request = std::pin::pin!(request);
    let mut running = FuturesUnordered::new();
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = poll_until_waiting(request.as_mut(), cx) {
            return Poll::Ready(output);
        }
        loop {
            while let Poll::Ready(Some(batch)) = batches.started.poll_recv(cx) {
                running.push(batch);
            }
            if !matches!(running.poll_next_unpin(cx), Poll::Ready(Some(()))) {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// Like [`drive`], for a subscription: runs the batches each item of `responses` starts on the
/// task that polls the stream.
pub fn drive_stream<S: Stream + Unpin>(
    mut responses: S,
    mut batches: Batches,
) -> impl Stream<Item = S::Item> {
    let mut running = FuturesUnordered::new();
    futures_util::stream::poll_fn(move |cx| {
        if let Poll::Ready(item) = responses.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        loop {
            while let Poll::Ready(Some(batch)) = batches.started.poll_recv(cx) {
                running.push(batch);
            }
            if !matches!(running.poll_next_unpin(cx), Poll::Ready(Some(()))) {
                return Poll::Pending;
            }
        }
    })
}

/// Most polls in a row given to a request that keeps yielding (waking itself) before its
/// batches run anyway.
const MAX_YIELDS: usize = 64;

/// Polls `request` again while it yields (lists of many items are resolved a few at a time,
/// each slice ending with a wake of its own), so that it stops only to wait for data.
fn poll_until_waiting<F: Future>(
    mut request: Pin<&mut F>,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    for _ in 0..MAX_YIELDS {
        let noting = Arc::new(NotingWaker {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(noting.clone());
        if let Poll::Ready(output) = request.as_mut().poll(&mut TaskContext::from_waker(&waker)) {
            return Poll::Ready(output);
        }
        if !noting.woken.load(Ordering::Relaxed) {
            return Poll::Pending;
        }
    }
    Poll::Pending
}

/// A waker that notes that it was woken and passes the wake on.
struct NotingWaker {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for NotingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}

/// Rows of `E` whose integer `column` equals `value`.
pub struct ByColumn<E: EntityTrait> {
    column: E::Column,
    value: i64,
}

impl<E: EntityTrait> ByColumn<E> {
    /// The rows of `E` with `column = value`.
    pub fn new(column: E::Column, value: i64) -> Self {
        ByColumn { column, value }
    }
}

impl<E: EntityTrait> Clone for ByColumn<E> {
    fn clone(&self) -> Self {
        ByColumn {
            column: self.column,
            value: self.value,
        }
    }
}

impl<E: EntityTrait> PartialEq for ByColumn<E> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.column.as_str() == other.column.as_str()
    }
}

impl<E: EntityTrait> Eq for ByColumn<E> {}

impl<E: EntityTrait> Hash for ByColumn<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.column.as_str().hash(state);
        self.value.hash(state);
    }
}

fn as_i64(value: Value) -> Option<i64> {
    match value {
        Value::BigInt(v) => v,
        Value::Int(v) => v.map(i64::from),
        _ => None,
    }
}

impl<E> Loader<ByColumn<E>> for DbLoader
where
    E: Scoped,
    E::Model: Sync,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = Error;

    async fn load(
        &self,
        keys: &[ByColumn<E>],
    ) -> Result<HashMap<ByColumn<E>, Self::Value>, Self::Error> {
        let mut grouped: HashMap<&'static str, (E::Column, Vec<i64>)> = HashMap::new();
        for key in keys {
            let entry = grouped
                .entry(key.column.as_str())
                .or_insert_with(|| (key.column, Vec::new()));
            entry.1.push(key.value);
        }
        let mut found: HashMap<ByColumn<E>, Vec<E::Model>> = HashMap::new();
        for (column, values) in grouped.into_values() {
            let mut select = E::find().filter(column.is_in(values));
            if let Some(visible) = E::visible_in(&self.scope) {
                select = select.filter(visible);
            }
            let rows = select.all(&self.db).await.or_internal()?;
            for row in rows {
                if let Some(value) = as_i64(row.get(column)) {
                    found
                        .entry(ByColumn { column, value })
                        .or_default()
                        .push(row);
                }
            }
        }
        Ok(keys
            .iter()
            .map(|key| {
                let rows = found.remove(key).unwrap_or_default();
                (key.clone(), Arc::new(rows))
            })
            .collect())
    }
}

/// A statement identified by its text with values inlined (for identity only; it runs with
/// bound values).
#[derive(Clone)]
struct Keyed {
    text: Arc<str>,
    statement: Arc<SelectStatement>,
}

impl Keyed {
    fn new(statement: SelectStatement) -> Self {
        Keyed {
            text: statement.to_string(PostgresQueryBuilder).into(),
            statement: Arc::new(statement),
        }
    }
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Keyed {}

impl Hash for Keyed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

/// One page of rows of `E`: a select with its order and limit already applied.
pub struct PageQuery<E> {
    keyed: Keyed,
    entity: PhantomData<fn() -> E>,
}

impl<E> PageQuery<E> {
    /// Wraps a finished select (filter, order, limit).
    pub fn new(statement: SelectStatement) -> Self {
        PageQuery {
            keyed: Keyed::new(statement),
            entity: PhantomData,
        }
    }
}

impl<E> Clone for PageQuery<E> {
    fn clone(&self) -> Self {
        PageQuery::<E> {
            keyed: self.keyed.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> PartialEq for PageQuery<E> {
    fn eq(&self, other: &Self) -> bool {
        self.keyed == other.keyed
    }
}

impl<E> Eq for PageQuery<E> {}

impl<E> Hash for PageQuery<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.keyed.hash(state);
    }
}

/// The number of rows a select (without limit) matches.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CountQuery {
    keyed: Keyed,
}

impl CountQuery {
    /// Wraps a select whose rows are to be counted.
    pub fn new(statement: SelectStatement) -> Self {
        CountQuery {
            keyed: Keyed::new(statement),
        }
    }
}

/// The batch index as a 64-bit literal on every database.
fn batch_literal(i: usize) -> Expr {
    Expr::cust(format!("CAST({i} AS BIGINT)"))
}

/// `SELECT *, i AS batch_key FROM (q_i)` for each statement, joined by `UNION ALL`.
fn union_of_pages(statements: &[&SelectStatement]) -> SelectStatement {
    let part = |(i, statement): (usize, &&SelectStatement)| {
        Query::select()
            .column(Asterisk)
            .expr_as(batch_literal(i), Alias::new(BATCH_KEY))
            .from_subquery((*statement).clone(), Alias::new(format!("q{i}")))
            .to_owned()
    };
    union_all(statements.iter().enumerate().map(part))
}

/// `SELECT i AS batch_key, COUNT(*) AS n FROM (q_i)` for each statement, joined by `UNION ALL`.
fn union_of_counts(statements: &[&SelectStatement]) -> SelectStatement {
    let part = |(i, statement): (usize, &&SelectStatement)| {
        Query::select()
            .expr_as(batch_literal(i), Alias::new(BATCH_KEY))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery((*statement).clone(), Alias::new(format!("q{i}")))
            .to_owned()
    };
    union_all(statements.iter().enumerate().map(part))
}

/// The statements joined by `UNION ALL` (at least one).
pub(super) fn union_all(mut parts: impl Iterator<Item = SelectStatement>) -> SelectStatement {
    let mut first = parts.next().expect("a batch has at least one key");
    for part in parts {
        first.union(UnionType::All, part);
    }
    first
}

fn batch_index(row: &sea_orm::QueryResult) -> Result<usize, Error> {
    let index: i64 = row.try_get("", BATCH_KEY).or_internal()?;
    usize::try_from(index).map_err(internal)
}

impl<E> Loader<PageQuery<E>> for DbLoader
where
    E: EntityTrait,
    E::Model: Sync,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = Error;

    async fn load(
        &self,
        keys: &[PageQuery<E>],
    ) -> Result<HashMap<PageQuery<E>, Self::Value>, Self::Error> {
        let mut pages = HashMap::new();
        for chunk in keys.chunks(UNION_CHUNK) {
            let statements: Vec<_> = chunk.iter().map(|k| k.keyed.statement.as_ref()).collect();
            let rows = self
                .db
                .query_all(&union_of_pages(&statements))
                .await
                .or_internal()?;
            let mut grouped: Vec<Vec<E::Model>> = vec![Vec::new(); chunk.len()];
            for row in rows {
                let model = E::Model::from_query_result(&row, "").or_internal()?;
                grouped[batch_index(&row)?].push(model);
            }
            for (key, rows) in chunk.iter().zip(grouped) {
                pages.insert(key.clone(), Arc::new(rows));
            }
        }
        Ok(pages)
    }
}

impl Loader<CountQuery> for DbLoader {
    type Value = i64;
    type Error = Error;

    async fn load(&self, keys: &[CountQuery]) -> Result<HashMap<CountQuery, i64>, Error> {
        let mut counts = HashMap::new();
        for chunk in keys.chunks(UNION_CHUNK) {
            let statements: Vec<_> = chunk.iter().map(|k| k.keyed.statement.as_ref()).collect();
            let rows = self
                .db
                .query_all(&union_of_counts(&statements))
                .await
                .or_internal()?;
            for row in rows {
                let n: i64 = row.try_get("", "n").or_internal()?;
                counts.insert(chunk[batch_index(&row)?].clone(), n);
            }
        }
        Ok(counts)
    }
}

fn loader<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

/// All rows of `E` with `column = value`, batched with every other such lookup of the request.
pub async fn many<E>(ctx: &Context<'_>, column: E::Column, value: i64) -> Result<Arc<Vec<E::Model>>>
where
    E: Scoped,
    E::Model: Sync,
{
    let rows = loader(ctx)?
        .load_one(ByColumn::<E>::new(column, value))
        .await?;
    Ok(rows.unwrap_or_default())
}

/// The first row of `E` with `column = value` (use with a unique column such as the id).
pub async fn one<E>(ctx: &Context<'_>, column: E::Column, value: i64) -> Result<Option<E::Model>>
where
    E: Scoped,
    E::Model: Sync,
{
    Ok(many::<E>(ctx, column, value).await?.first().cloned())
}

/// Like [`one`], for an optional reference.
pub async fn maybe<E>(
    ctx: &Context<'_>,
    column: E::Column,
    value: Option<i64>,
) -> Result<Option<E::Model>>
where
    E: Scoped,
    E::Model: Sync,
{
    match value {
        Some(value) => one::<E>(ctx, column, value).await,
        None => Ok(None),
    }
}

/// One page of rows, batched with the pages of sibling parents.
pub async fn page<E>(ctx: &Context<'_>, statement: SelectStatement) -> Result<Arc<Vec<E::Model>>>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let rows = loader(ctx)?
        .load_one(PageQuery::<E>::new(statement))
        .await?;
    Ok(rows.unwrap_or_default())
}

/// The number of rows `statement` matches, batched with sibling counts.
pub async fn count(ctx: &Context<'_>, query: CountQuery) -> Result<i64> {
    Ok(loader(ctx)?.load_one(query).await?.unwrap_or(0))
}
