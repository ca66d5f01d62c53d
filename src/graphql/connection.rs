//! Relay cursor connections (`first/after/last/before`, `pageInfo`, `totalCount`) over any
//! filtered select, with keyset paging: a cursor holds the sort values of its row, so pages stay
//! stable and cheap however deep a client pages.

use super::error::bad_input;
use super::guard;
use super::loader::{self, CountQuery};
use crate::access::scope::Scoped;
use async_graphql::connection::PageInfo;
use async_graphql::{Context, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, EntityTrait, ModelTrait, Order as SortOrder, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};

/// A connection type built from one page of nodes (see [`page_type!`](crate::page_type)).
pub trait PageOf<N> {
    /// The page: `(cursor, node)` pairs in order, paging information and the lazy total.
    fn from_parts(edges: Vec<(String, N)>, page_info: PageInfo, total: TotalCount) -> Self;
}

/// Declares a Relay connection type and its edge type for a node type, with descriptions.
#[macro_export]
macro_rules! page_type {
    ($connection:ident, $edge:ident, $node:ty, $plural:literal) => {
        /// A page of a list (Relay connection).
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: async_graphql::connection::PageInfo,
            total: $crate::graphql::connection::TotalCount,
        }

        impl $crate::graphql::connection::PageOf<$node> for $connection {
            fn from_parts(
                edges: Vec<(String, $node)>,
                page_info: async_graphql::connection::PageInfo,
                total: $crate::graphql::connection::TotalCount,
            ) -> Self {
                let edges = edges
                    .into_iter()
                    .map(|(cursor, node)| $edge { cursor, node })
                    .collect();
                $connection {
                    edges,
                    page_info,
                    total,
                }
            }
        }

        #[doc = concat!("A page of ", $plural, " (Relay connection): edges with cursors, the nodes alone, paging information and the total count.")]
        #[async_graphql::Object]
        impl $connection {
            /// The items of this page, each with its cursor.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page without cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }

            /// Whether there are more pages, and the cursors to reach them.
            async fn page_info(&self) -> &async_graphql::connection::PageInfo {
                &self.page_info
            }

            /// Number of items that match, over all pages.
            async fn total_count(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<i64> {
                self.total.count(ctx).await
            }
        }

        /// One item of a page with its cursor.
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        #[doc = concat!("One of the ", $plural, " in a page, with the cursor to page from it.")]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque cursor: pass it as `after` or `before` to page from here.
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            /// The item.
            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}

/// The page size assumed when weighing a connection field without `first` or `last`, and the
/// largest size weighed (larger requests are refused by the resolver with a clearer message).
const WEIGHED_DEFAULT: i32 = 20;
const WEIGHED_MAX: i32 = 100;

/// Complexity of a connection field: its selection counts once per item it can return.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(WEIGHED_DEFAULT)
        .clamp(1, WEIGHED_MAX) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// Page sizes from configuration.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Page size when neither `first` nor `last` is given.
    pub default_size: u32,
    /// Largest `first` or `last` accepted.
    pub max_size: u32,
}

/// The standard connection arguments of a field.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    /// Items after this cursor.
    pub after: Option<String>,
    /// Items before this cursor.
    pub before: Option<String>,
    /// The first n items.
    pub first: Option<i32>,
    /// The last n items.
    pub last: Option<i32>,
}

impl PageArgs {
    /// The arguments in the order fields declare them.
    pub fn new(
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Self {
        PageArgs {
            after,
            before,
            first,
            last,
        }
    }
}

/// The sort order of a connection: columns whose last one is unique (the id).
pub struct Order<E: EntityTrait> {
    columns: Vec<E::Column>,
    descending: bool,
}

impl<E: EntityTrait> Order<E> {
    /// Ascending by the given unique column.
    pub fn by(id: E::Column) -> Self {
        Order {
            columns: vec![id],
            descending: false,
        }
    }

    /// By `columns` (the last one unique), newest or largest first when `descending`.
    pub fn new(columns: Vec<E::Column>, descending: bool) -> Self {
        Order {
            columns,
            descending,
        }
    }

    fn cursor_of(&self, model: &E::Model) -> String {
        let parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| encode_value(model.get(*c)))
            .collect();
        URL_SAFE_NO_PAD.encode(serde_json::to_string(&parts).unwrap_or_default())
    }

    fn decode(&self, cursor: &str) -> Result<Vec<Value>> {
        let invalid = || bad_input(format!("`{cursor}` is not a valid cursor"));
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if parts.len() != self.columns.len() {
            return Err(invalid());
        }
        parts
            .iter()
            .map(|p| decode_value(p).ok_or_else(invalid))
            .collect()
    }

    /// Rows strictly after (`greater`) or before the cursor values in column order.
    fn beyond(&self, values: Vec<Value>, greater: bool) -> Condition {
        let mut any = Condition::any();
        for k in 0..self.columns.len() {
            let mut all = Condition::all();
            for (column, value) in self.columns.iter().zip(&values).take(k) {
                all = all.add(column.eq(value.clone()));
            }
            let (column, value) = (self.columns[k], values[k].clone());
            all = all.add(if greater {
                column.gt(value)
            } else {
                column.lt(value)
            });
            any = any.add(all);
        }
        any
    }

    fn apply(&self, mut select: Select<E>, reversed: bool) -> Select<E> {
        let descending = self.descending != reversed;
        let direction = if descending {
            SortOrder::Desc
        } else {
            SortOrder::Asc
        };
        for column in &self.columns {
            select = select.order_by(*column, direction.clone());
        }
        select
    }
}

fn encode_value(value: Value) -> String {
    match value {
        Value::BigInt(Some(v)) => format!("i{v}"),
        Value::Int(Some(v)) => format!("i{v}"),
        Value::ChronoDateTimeUtc(Some(v)) => format!("t{}", v.to_rfc3339()),
        Value::String(Some(v)) => format!("s{v}"),
        _ => "n".to_string(),
    }
}

fn decode_value(text: &str) -> Option<Value> {
    let (tag, rest) = text.split_at_checked(1)?;
    match tag {
        "i" => rest.parse::<i64>().ok().map(Value::from),
        "t" => DateTime::parse_from_rfc3339(rest)
            .ok()
            .map(|t| Value::from(t.with_timezone(&Utc))),
        "s" => Some(Value::from(rest.to_string())),
        _ => None,
    }
}

/// Which way and how far to read.
struct Window {
    forward: bool,
    size: u64,
    cursor: Option<String>,
}

fn size(value: Option<i32>, name: &str, limits: PageLimits) -> Result<Option<u64>, Error> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(bad_input(format!("`{name}` must not be negative"))),
        Some(n) if n as u32 > limits.max_size => Err(bad_input(format!(
            "`{name}` must be at most {} (got {n})",
            limits.max_size
        ))),
        Some(n) => Ok(Some(n as u64)),
    }
}

fn window(args: PageArgs, limits: PageLimits) -> Result<Window, Error> {
    let first = size(args.first, "first", limits)?;
    let last = size(args.last, "last", limits)?;
    match (first, last) {
        (Some(_), Some(_)) => Err(bad_input("pass either `first` or `last`, not both")),
        (None, Some(last)) => Ok(Window {
            forward: false,
            size: last,
            cursor: args.before,
        }),
        (None, None) if args.before.is_some() && args.after.is_none() => Ok(Window {
            forward: false,
            size: limits.default_size as u64,
            cursor: args.before,
        }),
        (first, None) => Ok(Window {
            forward: true,
            size: first.unwrap_or(limits.default_size as u64),
            cursor: args.after,
        }),
    }
}

/// The `totalCount` of a connection, counted only when asked for (batched with its siblings).
pub struct TotalCount {
    query: CountQuery,
}

impl TotalCount {
    /// The number of rows `statement` returns.
    pub fn new(statement: sea_orm::sea_query::SelectStatement) -> TotalCount {
        TotalCount {
            query: CountQuery::new(statement),
        }
    }

    /// Counts the matching rows.
    pub async fn count(&self, ctx: &Context<'_>) -> Result<i64> {
        loader::count(ctx, self.query.clone()).await
    }
}

/// Reads one page of `base` in `order` and wraps each row as `N`.
pub async fn paginate<E, N, P>(
    ctx: &Context<'_>,
    base: Select<E>,
    order: &Order<E>,
    args: PageArgs,
) -> Result<P>
where
    E: Scoped,
    E::Model: Sync,
    N: From<E::Model>,
    P: PageOf<N>,
{
    let scope = &guard::access(ctx)?.scope;
    if let Some(kind) = E::KIND {
        guard::require_reads(ctx, kind)?;
    }
    let base = match E::visible_in(scope) {
        Some(visible) => base.filter(visible),
        None => base,
    };
    let limits = *ctx.data::<PageLimits>()?;
    let window = window(args, limits)?;
    let total = TotalCount::new(base.clone().into_query());
    let mut select = base;
    if let Some(cursor) = &window.cursor {
        let values = order.decode(cursor)?;
        select = select.filter(order.beyond(values, window.forward != order.descending));
    }
    let select = order.apply(select, !window.forward).limit(window.size + 1);
    let rows = loader::page::<E>(ctx, select.into_query()).await?;
    let has_more = rows.len() as u64 > window.size;
    let mut rows: Vec<E::Model> = rows.iter().take(window.size as usize).cloned().collect();
    if !window.forward {
        rows.reverse();
    }
    let (has_previous, has_next) = if window.forward {
        (window.cursor.is_some(), has_more)
    } else {
        (has_more, window.cursor.is_some())
    };
    let edges: Vec<(String, N)> = rows
        .into_iter()
        .map(|m| (order.cursor_of(&m), N::from(m)))
        .collect();
    let page_info = PageInfo {
        has_previous_page: has_previous,
        has_next_page: has_next,
        start_cursor: edges.first().map(|(c, _)| c.clone()),
        end_cursor: edges.last().map(|(c, _)| c.clone()),
    };
    Ok(P::from_parts(edges, page_info, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits {
        default_size: 20,
        max_size: 100,
    };

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs {
            first,
            last,
            ..PageArgs::default()
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert!(window(args(Some(-1), None), LIMITS).is_err());
        assert!(window(args(Some(100_000), None), LIMITS).is_err());
        assert!(window(args(Some(1), Some(1)), LIMITS).is_err());
        assert_eq!(window(args(None, None), LIMITS).unwrap().size, 20);
        assert!(!window(args(None, Some(5)), LIMITS).unwrap().forward);
    }

    #[test]
    fn nested_pages_multiply_complexity() {
        assert_eq!(page_complexity(Some(10), None, 5), 51);
        assert_eq!(page_complexity(None, None, 5), 101);
        assert_eq!(page_complexity(Some(-1), None, 5), 6);
        assert_eq!(page_complexity(Some(100_000), None, 5), 501);
    }

    #[test]
    fn cursor_values_round_trip() {
        let time = Utc::now();
        for value in [
            Value::from(42i64),
            Value::from(time),
            Value::from("张".to_string()),
        ] {
            assert_eq!(decode_value(&encode_value(value.clone())), Some(value));
        }
    }
}
