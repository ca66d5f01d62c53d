//! Relay cursor connections (`first/after/last/before`, `pageInfo`, `totalCount`) over any
//! filtered select, with keyset paging: a cursor holds the sort values of its row, so pages stay
//! stable and cheap however deep a client pages.

use super::error::bad_input;
use super::loader::{self, CountQuery};
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Error, Object, OutputType, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, EntityTrait, ModelTrait, Order as SortOrder, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};

/// A page of `N` with `totalCount`.
pub type Page<N> = Connection<String, N, TotalCount, EmptyFields>;

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

/// The `totalCount` of a connection, counted only when asked for.
pub struct TotalCount {
    query: CountQuery,
}

#[Object]
impl TotalCount {
    /// Number of items that match, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        loader::count(ctx, self.query.clone()).await
    }
}

/// Reads one page of `base` in `order` and wraps each row as `N`.
pub async fn paginate<E, N>(
    ctx: &Context<'_>,
    base: Select<E>,
    order: &Order<E>,
    args: PageArgs,
) -> Result<Page<N>>
where
    E: EntityTrait,
    E::Model: Sync,
    N: From<E::Model> + OutputType,
{
    let limits = *ctx.data::<PageLimits>()?;
    let window = window(args, limits)?;
    let total = TotalCount {
        query: CountQuery::new(base.clone().into_query()),
    };
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
    let mut page = Connection::with_additional_fields(has_previous, has_next, total);
    page.edges.extend(
        rows.into_iter()
            .map(|m| Edge::new(order.cursor_of(&m), N::from(m))),
    );
    Ok(page)
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
