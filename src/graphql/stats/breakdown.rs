//! Breakdowns over grid subtrees for the command centre: events by status, category and
//! priority (with resolved and on-time counts), events reported and resolved per day, party
//! members, volunteers and volunteer hours by category. Like the plain counts, every breakdown a
//! request asks for, over however many grids, is one `UNION ALL` statement of grouped parts
//! walked from the grid closure; each part yields the same columns (`kind`, `grid`, up to three
//! labels, three integers and one float), read back into [`Row`]s.

use super::{from_subtrees, GRIDS_PER_PART};
use crate::entity::vocabulary::{MembershipRole, OrganizationKind};
use crate::entity::{event, membership, organization, volunteer_activity, volunteer_participation};
use crate::graphql::error::OrInternal;
use crate::graphql::loader::{union_all, DbLoader, UNION_CHUNK};
use async_graphql::dataloader::Loader;
use async_graphql::Error;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, QueryResult};
use std::collections::HashMap;
use std::sync::Arc;

/// Kinds of party organisation 党组织 whose members count as the subtree's party members.
pub const PARTY: [OrganizationKind; 5] = [
    OrganizationKind::StreetPartyCommittee,
    OrganizationKind::CommunityPartyCommittee,
    OrganizationKind::GeneralPartyBranch,
    OrganizationKind::PartyBranch,
    OrganizationKind::PartyGroup,
];

/// One breakdown of a subtree; its fields are the parameters of the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Breakdown {
    /// Events reported in `[from, to)` by status, category and priority: how many, how many
    /// were resolved, how many of those by their deadline.
    Events {
        /// Only events reported at or after this.
        from: Option<DateTime<Utc>>,
        /// Only events reported before this.
        to: Option<DateTime<Utc>>,
    },
    /// Events reported on each day (UTC) since `since`.
    ReportedPerDay {
        /// Start of the first day.
        since: DateTime<Utc>,
    },
    /// Events resolved on each day (UTC) since `since`.
    ResolvedPerDay {
        /// Start of the first day.
        since: DateTime<Utc>,
    },
    /// Distinct persons with a current membership as party member of a party organisation.
    PartyMembers {
        /// Memberships that ended on or before this day are past.
        today: NaiveDate,
    },
    /// Distinct persons who took part in a volunteer activity.
    Volunteers,
    /// Volunteer activities by category: activities, distinct volunteers, hours served.
    VolunteerHours,
}

/// One breakdown over the subtree of one grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakdownKey {
    /// What to break down.
    pub breakdown: Breakdown,
    /// The grid whose subtree is counted.
    pub grid_id: i64,
}

/// One group of a breakdown: its labels (as stored) and figures; see each [`Breakdown`] for
/// what they hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Up to three labels of the group (status, category, priority; a day; a category).
    pub labels: [Option<String>; 3],
    /// The group's main count.
    pub n: i64,
    /// A second count (resolved events; distinct volunteers).
    pub a: i64,
    /// A third count (events resolved by their deadline).
    pub b: i64,
    /// A sum of hours.
    pub hours: f64,
}

/// The value of a breakdown: its groups (none when the subtree has nothing to count).
pub type Rows = Arc<Vec<Row>>;

fn text(expr: Expr) -> SimpleExpr {
    expr.cast_as(Alias::new("TEXT"))
}

fn no_text() -> SimpleExpr {
    Expr::cust("CAST(NULL AS TEXT)")
}

fn big(expr: Expr) -> SimpleExpr {
    expr.cast_as(Alias::new("BIGINT"))
}

fn zero() -> SimpleExpr {
    Expr::cust("CAST(0 AS BIGINT)")
}

/// `SUM(CASE WHEN condition THEN 1 ELSE 0 END)`.
fn count_if(condition: SimpleExpr) -> SimpleExpr {
    big(Expr::case(condition, 1).finally(0).sum())
}

/// The labels and figures of a part, in the order every part of the union shares.
fn figures(
    select: &mut SelectStatement,
    labels: [SimpleExpr; 3],
    counts: [SimpleExpr; 3],
    hours: SimpleExpr,
) {
    for (i, label) in labels.into_iter().enumerate() {
        select.expr_as(label, Alias::new(format!("k{i}")));
    }
    for (name, count) in ["n", "a", "b"].into_iter().zip(counts) {
        select.expr_as(count, Alias::new(name));
    }
    select.expr_as(
        hours.cast_as(Alias::new("DOUBLE PRECISION")),
        Alias::new("h"),
    );
}

/// The UTC calendar day of a timestamp column as `YYYY-MM-DD`.
fn day_of(column: event::Column, backend: DbBackend) -> Expr {
    let column = format!("\"events\".\"{}\"", column.into_iden());
    match backend {
        DbBackend::Postgres => Expr::cust(format!(
            "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        )),
        _ => Expr::cust(format!("substr(CAST({column} AS TEXT), 1, 10)")),
    }
}

fn events_from(select: &mut SelectStatement, grids: &[i64]) {
    from_subtrees(
        select,
        event::Entity,
        (event::Entity, event::Column::GridId),
        grids,
    );
}

fn events(
    select: &mut SelectStatement,
    grids: &[i64],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) {
    events_from(select, grids);
    let col = |c: event::Column| Expr::col((event::Entity, c));
    let labels = [
        event::Column::Status,
        event::Column::Category,
        event::Column::Priority,
    ];
    figures(
        select,
        labels.map(|c| text(col(c))),
        [
            Expr::cust("COUNT(*)"),
            count_if(col(event::Column::ResolvedAt).is_not_null()),
            count_if(col(event::Column::ResolvedAt).lte(col(event::Column::ResolveBy))),
        ],
        Expr::val(0.0),
    );
    for column in labels {
        select.group_by_col((event::Entity, column));
    }
    if let Some(from) = from {
        select.and_where(event::Column::ReportedAt.gte(from));
    }
    if let Some(to) = to {
        select.and_where(event::Column::ReportedAt.lt(to));
    }
}

fn per_day(
    select: &mut SelectStatement,
    grids: &[i64],
    column: event::Column,
    since: DateTime<Utc>,
    backend: DbBackend,
) {
    events_from(select, grids);
    let day = day_of(column, backend);
    figures(
        select,
        [text(day.clone()), no_text(), no_text()],
        [Expr::cust("COUNT(*)"), zero(), zero()],
        Expr::val(0.0),
    );
    select
        .and_where(Expr::col((event::Entity, column)).gte(since))
        .add_group_by([day]);
}

fn party_members(select: &mut SelectStatement, grids: &[i64], today: NaiveDate) {
    from_subtrees(
        select,
        organization::Entity,
        (organization::Entity, organization::Column::GridId),
        grids,
    );
    let member = |c: membership::Column| Expr::col((membership::Entity, c));
    select
        .inner_join(
            membership::Entity,
            member(membership::Column::OrganizationId)
                .equals((organization::Entity, organization::Column::Id)),
        )
        .and_where(organization::Column::Kind.is_in(PARTY))
        .and_where(member(membership::Column::Role).eq(MembershipRole::PartyMember))
        .and_where(
            member(membership::Column::Until)
                .is_null()
                .or(member(membership::Column::Until).gt(today)),
        );
    figures(
        select,
        [no_text(), no_text(), no_text()],
        [distinct_persons(membership::Entity), zero(), zero()],
        Expr::val(0.0),
    );
}

fn distinct_persons(table: impl IntoIden) -> SimpleExpr {
    let table = table.into_iden().to_string();
    Expr::cust(format!("COUNT(DISTINCT \"{table}\".\"person_id\")"))
}

fn activities_from(select: &mut SelectStatement, grids: &[i64]) {
    from_subtrees(
        select,
        volunteer_activity::Entity,
        (
            volunteer_activity::Entity,
            volunteer_activity::Column::GridId,
        ),
        grids,
    );
}

fn on_activity() -> SimpleExpr {
    Expr::col((
        volunteer_participation::Entity,
        volunteer_participation::Column::ActivityId,
    ))
    .equals((volunteer_activity::Entity, volunteer_activity::Column::Id))
}

fn volunteers(select: &mut SelectStatement, grids: &[i64]) {
    activities_from(select, grids);
    select.inner_join(volunteer_participation::Entity, on_activity());
    figures(
        select,
        [no_text(), no_text(), no_text()],
        [
            distinct_persons(volunteer_participation::Entity),
            zero(),
            zero(),
        ],
        Expr::val(0.0),
    );
}

fn volunteer_hours(select: &mut SelectStatement, grids: &[i64]) {
    activities_from(select, grids);
    select.left_join(volunteer_participation::Entity, on_activity());
    let category = (
        volunteer_activity::Entity,
        volunteer_activity::Column::Category,
    );
    let hours = Expr::col((
        volunteer_participation::Entity,
        volunteer_participation::Column::Hours,
    ));
    figures(
        select,
        [text(Expr::col(category)), no_text(), no_text()],
        [
            Expr::cust("COUNT(DISTINCT \"volunteer_activities\".\"id\")"),
            distinct_persons(volunteer_participation::Entity),
            zero(),
        ],
        hours.sum().if_null(0.0),
    );
    select.group_by_col(category);
}

/// One breakdown over a few grids, tagged `index`, as one part of the batch's `UNION ALL`.
fn statement(
    index: usize,
    breakdown: Breakdown,
    grids: &[i64],
    backend: DbBackend,
) -> SelectStatement {
    let mut select = Query::select();
    select.expr_as(
        Expr::cust(format!("CAST({index} AS BIGINT)")),
        Alias::new("kind"),
    );
    match breakdown {
        Breakdown::Events { from, to } => events(&mut select, grids, from, to),
        Breakdown::ReportedPerDay { since } => per_day(
            &mut select,
            grids,
            event::Column::ReportedAt,
            since,
            backend,
        ),
        Breakdown::ResolvedPerDay { since } => per_day(
            &mut select,
            grids,
            event::Column::ResolvedAt,
            since,
            backend,
        ),
        Breakdown::PartyMembers { today } => party_members(&mut select, grids, today),
        Breakdown::Volunteers => volunteers(&mut select, grids),
        Breakdown::VolunteerHours => volunteer_hours(&mut select, grids),
    }
    select
}

fn read_row(row: &QueryResult) -> Result<Row, Error> {
    let label = |i: usize| {
        row.try_get::<Option<String>>("", &format!("k{i}"))
            .or_internal()
    };
    Ok(Row {
        labels: [label(0)?, label(1)?, label(2)?],
        n: row.try_get("", "n").or_internal()?,
        a: row.try_get("", "a").or_internal()?,
        b: row.try_get("", "b").or_internal()?,
        hours: row.try_get("", "h").or_internal()?,
    })
}

impl Loader<BreakdownKey> for DbLoader {
    type Value = Rows;
    type Error = Error;

    async fn load(&self, keys: &[BreakdownKey]) -> Result<HashMap<BreakdownKey, Rows>, Error> {
        let mut wanted: Vec<(Breakdown, Vec<i64>)> = Vec::new();
        for key in keys {
            match wanted.iter_mut().find(|(b, _)| *b == key.breakdown) {
                Some((_, grids)) => grids.push(key.grid_id),
                None => wanted.push((key.breakdown, vec![key.grid_id])),
            }
        }
        let backend = self.db.get_database_backend();
        let parts: Vec<SelectStatement> = wanted
            .iter()
            .enumerate()
            .flat_map(|(index, (breakdown, grids))| {
                grids
                    .chunks(GRIDS_PER_PART)
                    .map(move |chunk| statement(index, *breakdown, chunk, backend))
            })
            .collect();
        let mut found: HashMap<BreakdownKey, Vec<Row>> = HashMap::new();
        for chunk in parts.chunks(UNION_CHUNK) {
            let union = union_all(chunk.iter().cloned());
            for row in self.db.query_all(&union).await.or_internal()? {
                let index: i64 = row.try_get("", "kind").or_internal()?;
                let grid_id: i64 = row.try_get("", "grid").or_internal()?;
                let Some((breakdown, _)) = usize::try_from(index).ok().and_then(|i| wanted.get(i))
                else {
                    continue;
                };
                let key = BreakdownKey {
                    breakdown: *breakdown,
                    grid_id,
                };
                found.entry(key).or_default().push(read_row(&row)?);
            }
        }
        Ok(keys
            .iter()
            .map(|key| (*key, Arc::new(found.remove(key).unwrap_or_default())))
            .collect())
    }
}
