//! `GridStats`, the counts over one grid's subtree as the schema shows them, with small-count
//! suppression applied for the caller.

use super::breakdown::{Breakdown, BreakdownKey, Row, Rows};
use super::{Stat, StatKey};
use crate::access::policy::Kind;
use crate::access::scope::Scoped;
use crate::config::AggregatesSettings;
use crate::domain::suppression::{shown, shown_measure, withheld};
use crate::entity::event;
use crate::entity::vocabulary::{EventCategory, EventPriority, EventStatus, VolunteerCategory};
use crate::event_loop::overdue_at;
use crate::graphql::connection::{page_complexity, PageLimits};
use crate::graphql::error::bad_input;
use crate::graphql::event::Event;
use crate::graphql::guard::{access, require_reads};
use crate::graphql::loader::{page, Loaders};
use crate::graphql::scope::within_grid;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveEnum, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

/// Most days `eventsPerDay` covers.
const MAX_DAYS: i32 = 366;

/// Counts over the subtree of one grid.
pub struct GridStats {
    /// The grid whose subtree is counted.
    pub grid_id: i64,
}

/// How one caller is shown counts: the threshold and which kinds of rows it reads.
struct Shown<'a> {
    below: i64,
    ctx: &'a Context<'a>,
}

impl Shown<'_> {
    fn reads(&self, kind: Kind) -> Result<bool> {
        Ok(access(self.ctx)?.scope.reads(kind))
    }

    /// `count` of rows of `kind`, or `None` when withheld.
    fn count(&self, count: i64, kind: Kind) -> Result<Option<i64>> {
        Ok(shown(count, self.below, self.reads(kind)?))
    }

    /// A sum of a measure over rows of `kind`, rounded like their count.
    fn measure(&self, value: f64, kind: Kind) -> Result<f64> {
        Ok(shown_measure(value, self.below, self.reads(kind)?))
    }

    /// Whether `count` of rows of `kind` is withheld.
    fn withheld(&self, count: i64, kind: Kind) -> Result<bool> {
        Ok(withheld(count, self.below, self.reads(kind)?))
    }
}

macro_rules! count_type {
    ($(#[$meta:meta])* $name:ident, $key:ty, $key_doc:literal) => {
        $(#[$meta])*
        #[derive(SimpleObject)]
        pub struct $name {
            #[doc = $key_doc]
            pub key: $key,
            /// How many events of the subtree; null when withheld by small-count suppression.
            pub count: Option<i64>,
            /// Whether `count` is withheld: above zero and below `aggregates.suppress_below`,
            /// for a caller whose role may not read events.
            pub suppressed: bool,
        }
    };
}

count_type!(
    /// Events of the subtree in one status.
    EventStatusCount,
    EventStatus,
    "The status."
);
count_type!(
    /// Events of the subtree of one category.
    EventCategoryCount,
    EventCategory,
    "The category."
);
count_type!(
    /// Events of the subtree of one priority.
    EventPriorityCount,
    EventPriority,
    "The priority."
);

/// Events of the subtree reported and resolved on one day.
#[derive(SimpleObject)]
pub struct EventDay {
    /// The calendar day (UTC).
    pub day: NaiveDate,
    /// Events reported that day; null when withheld by small-count suppression.
    pub reported: Option<i64>,
    /// Events resolved that day; null when withheld by small-count suppression.
    pub resolved: Option<i64>,
    /// Whether a count of this day is withheld (above zero and below
    /// `aggregates.suppress_below`, for a caller whose role may not read events).
    pub suppressed: bool,
}

/// Volunteer service 志愿服务 of one category in the subtree.
#[derive(SimpleObject)]
pub struct VolunteerHours {
    /// The category.
    pub category: VolunteerCategory,
    /// Activities held; null when withheld by small-count suppression.
    pub activities: Option<i64>,
    /// Distinct persons who took part; null when withheld by small-count suppression.
    pub volunteers: Option<i64>,
    /// Hours served, summed over the participants; null when the volunteers are withheld.
    pub hours: Option<f64>,
    /// Whether a figure is withheld: the volunteers (or the activities) are above zero and
    /// below `aggregates.suppress_below`, for a caller whose role may not read persons (or
    /// volunteer activities).
    pub suppressed: bool,
}

/// The stored value of a label, as the enum it names.
fn parse<E: ActiveEnum<Value = String>>(label: &Option<String>) -> Option<E> {
    label.as_ref().and_then(|v| E::try_from_value(v).ok())
}

/// Per value of `E`, in the enum's order, the sum of `n` over rows whose label `i` names it.
fn tally<E>(rows: &[Row], i: usize) -> Vec<(E, i64)>
where
    E: ActiveEnum<Value = String> + Iterable + PartialEq,
{
    E::iter()
        .map(|value| {
            let n = rows
                .iter()
                .filter(|r| parse::<E>(&r.labels[i]).as_ref() == Some(&value))
                .map(|r| r.n)
                .sum();
            (value, n)
        })
        .collect()
}

impl GridStats {
    fn shown<'a>(&self, ctx: &'a Context<'a>) -> Result<Shown<'a>> {
        let below = ctx.data::<AggregatesSettings>()?.suppress_below;
        Ok(Shown { below, ctx })
    }

    async fn count(&self, ctx: &Context<'_>, stat: Stat) -> Result<i64> {
        let key = StatKey {
            stat,
            grid_id: self.grid_id,
        };
        Ok(ctx.data::<Loaders>()?.load_one(key).await?.unwrap_or(0))
    }

    async fn rows(&self, ctx: &Context<'_>, breakdown: Breakdown) -> Result<Rows> {
        let key = BreakdownKey {
            breakdown,
            grid_id: self.grid_id,
        };
        Ok(ctx
            .data::<Loaders>()?
            .load_one(key)
            .await?
            .unwrap_or_default())
    }

    /// Every event of the subtree, grouped by status, category and priority.
    async fn events(&self, ctx: &Context<'_>) -> Result<Rows> {
        self.rows(
            ctx,
            Breakdown::Events {
                from: None,
                to: None,
            },
        )
        .await
    }

    /// Event counts per value of `E` (label `i`), each with its suppression.
    async fn events_by<E, T>(
        &self,
        ctx: &Context<'_>,
        i: usize,
        make: impl Fn(E, Option<i64>, bool) -> T,
    ) -> Result<Vec<T>>
    where
        E: ActiveEnum<Value = String> + Iterable + PartialEq,
    {
        let rows = self.events(ctx).await?;
        let shown = self.shown(ctx)?;
        tally::<E>(&rows, i)
            .into_iter()
            .map(|(key, n)| {
                let suppressed = shown.withheld(n, Kind::Event)?;
                Ok(make(key, (!suppressed).then_some(n), suppressed))
            })
            .collect()
    }
}

/// Complexity of one count (a per-grid tally or a live count of open events): a few index reads.
const COUNT_COST: usize = 5;

/// Complexity of one breakdown (events by status, category or priority, deadline compliance,
/// volunteer hours): a grouped scan of the subtree's events or activities. An alias with other
/// arguments is another scan, so each alias costs this again.
const AGGREGATE_COST: usize = 50;

/// Counts over a grid's subtree, for dashboards and command-centre screens. Counts made of rows
/// the caller's role may not read are withheld (null) when above zero and below
/// `aggregates.suppress_below` (small-count suppression), and rounded to the nearest multiple
/// of it otherwise, so that a subtree's count minus its other parts' counts does not recover a
/// withheld count; `suppressBelow` says which threshold applies.
#[Object]
impl GridStats {
    /// Persons living in the subtree; null when withheld by small-count suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn population(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let n = self.count(ctx, Stat::Population).await?;
        self.shown(ctx)?.count(n, Kind::Person)
    }

    /// Households 户 in the subtree: current household heads of its houses; null when withheld
    /// by small-count suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn households(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let n = self.count(ctx, Stat::Households).await?;
        self.shown(ctx)?.count(n, Kind::Person)
    }

    /// Events in the subtree that still need work; null when withheld by small-count
    /// suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn open_events(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let n = self.count(ctx, Stat::OpenEvents).await?;
        self.shown(ctx)?.count(n, Kind::Event)
    }

    /// Open events in the subtree past their resolution deadline; null when withheld by
    /// small-count suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn overdue_events(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let n = self.count(ctx, Stat::OverdueEvents).await?;
        self.shown(ctx)?.count(n, Kind::Event)
    }

    /// The threshold of small-count suppression applied to this caller's counts of persons:
    /// counts above zero and below it are null, larger ones rounded to the nearest multiple of
    /// it (volunteer hours too). Null when the caller sees them exactly.
    async fn suppress_below(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let shown = self.shown(ctx)?;
        Ok((!shown.reads(Kind::Person)? && shown.below > 1).then_some(shown.below))
    }

    /// Events of the subtree by status, every status listed (zeros included).
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn events_by_status(&self, ctx: &Context<'_>) -> Result<Vec<EventStatusCount>> {
        self.events_by(ctx, 0, |key, count, suppressed| EventStatusCount {
            key,
            count,
            suppressed,
        })
        .await
    }

    /// Events of the subtree by category, every category listed (zeros included).
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn events_by_category(&self, ctx: &Context<'_>) -> Result<Vec<EventCategoryCount>> {
        self.events_by(ctx, 1, |key, count, suppressed| EventCategoryCount {
            key,
            count,
            suppressed,
        })
        .await
    }

    /// Events of the subtree by priority, every priority listed (zeros included).
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn events_by_priority(&self, ctx: &Context<'_>) -> Result<Vec<EventPriorityCount>> {
        self.events_by(ctx, 2, |key, count, suppressed| EventPriorityCount {
            key,
            count,
            suppressed,
        })
        .await
    }

    /// Deadline compliance 按期办结率: of the subtree's events that were resolved, the share
    /// resolved by their `resolveBy` (0–1). Null when none was resolved (or when their number is
    /// withheld by small-count suppression).
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn deadline_compliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events reported at or after this time (RFC 3339).")] from: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "Only events reported before this time (RFC 3339).")] to: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Option<f64>> {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(bad_input("`from` must not be after `to`"));
            }
        }
        let rows = self.rows(ctx, Breakdown::Events { from, to }).await?;
        let resolved: i64 = rows.iter().map(|r| r.a).sum();
        let on_time: i64 = rows.iter().map(|r| r.b).sum();
        if resolved == 0 || self.shown(ctx)?.withheld(resolved, Kind::Event)? {
            return Ok(None);
        }
        Ok(Some(on_time as f64 / resolved as f64))
    }

    /// The subtree's open events past their resolution deadline, most overdue first.
    #[graphql(complexity = "page_complexity(Some(first), None, child_complexity)")]
    async fn overdue(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many to return (at most the largest page size).",
            default = 20
        )]
        first: i32,
    ) -> Result<Vec<Event>> {
        require_reads(ctx, Kind::Event)?;
        let max = ctx.data::<PageLimits>()?.max_size;
        let first = u64::try_from(first)
            .ok()
            .filter(|n| *n <= u64::from(max))
            .ok_or_else(|| bad_input(format!("`first` must be between 0 and {max}")))?;
        let mut select = event::Entity::find()
            .filter(within_grid(event::Column::GridId, self.grid_id))
            .filter(overdue_at(Utc::now()));
        if let Some(visible) = event::Entity::visible_in(&access(ctx)?.scope) {
            select = select.filter(visible);
        }
        let statement = select
            .order_by_asc(event::Column::ResolveBy)
            .order_by_asc(event::Column::Id)
            .limit(first)
            .into_query();
        let rows = page::<event::Entity>(ctx, statement).await?;
        Ok(rows.iter().cloned().map(Event).collect())
    }

    /// Events of the subtree reported and resolved per day (UTC), for the last `days` days up
    /// to today, every day listed (zeros included), oldest first.
    #[graphql(complexity = "2 * AGGREGATE_COST + child_complexity")]
    async fn events_per_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many days, today included (1–366).", default = 30)] days: i32,
    ) -> Result<Vec<EventDay>> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(bad_input(format!(
                "`days` must be between 1 and {MAX_DAYS}"
            )));
        }
        let today = Utc::now().date_naive();
        let first = today - Duration::days(i64::from(days - 1));
        let since = first.and_time(chrono::NaiveTime::MIN).and_utc();
        let loaders = ctx.data::<Loaders>()?;
        let key = |breakdown| BreakdownKey {
            breakdown,
            grid_id: self.grid_id,
        };
        let (reported, resolved) = futures_util::try_join!(
            loaders.load_one(key(Breakdown::ReportedPerDay { since })),
            loaders.load_one(key(Breakdown::ResolvedPerDay { since })),
        )?;
        let (reported, resolved) = (reported.unwrap_or_default(), resolved.unwrap_or_default());
        let on = |rows: &Rows, day: NaiveDate| {
            let label = day.format("%Y-%m-%d").to_string();
            rows.iter()
                .filter(|r| r.labels[0].as_deref() == Some(label.as_str()))
                .map(|r| r.n)
                .sum::<i64>()
        };
        let shown = self.shown(ctx)?;
        first
            .iter_days()
            .take_while(|day| *day <= today)
            .map(|day| {
                let (r, s) = (on(&reported, day), on(&resolved, day));
                Ok(EventDay {
                    day,
                    reported: shown.count(r, Kind::Event)?,
                    resolved: shown.count(s, Kind::Event)?,
                    suppressed: shown.withheld(r, Kind::Event)?
                        || shown.withheld(s, Kind::Event)?,
                })
            })
            .collect()
    }

    /// Party members 党员 of the subtree: distinct persons with a current membership as party
    /// member of a party organisation attached to a grid of the subtree; null when withheld by
    /// small-count suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn party_members(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let today = Utc::now().date_naive();
        let rows = self.rows(ctx, Breakdown::PartyMembers { today }).await?;
        let n = rows.iter().map(|r| r.n).sum();
        self.shown(ctx)?.count(n, Kind::Person)
    }

    /// Volunteers 志愿者 of the subtree: distinct persons who took part in a volunteer activity
    /// held in it; null when withheld by small-count suppression.
    #[graphql(complexity = "COUNT_COST + child_complexity")]
    async fn volunteers(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let rows = self.rows(ctx, Breakdown::Volunteers).await?;
        let n = rows.iter().map(|r| r.n).sum();
        self.shown(ctx)?.count(n, Kind::Person)
    }

    /// Volunteer service 志愿服务 of the subtree by category, every category listed (zeros
    /// included): activities, volunteers and hours served.
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn volunteer_hours(&self, ctx: &Context<'_>) -> Result<Vec<VolunteerHours>> {
        let rows = self.rows(ctx, Breakdown::VolunteerHours).await?;
        let shown = self.shown(ctx)?;
        VolunteerCategory::iter()
            .map(|category| {
                let row = rows
                    .iter()
                    .find(|r| parse::<VolunteerCategory>(&r.labels[0]) == Some(category))
                    .cloned()
                    .unwrap_or_default();
                let hidden_people = shown.withheld(row.a, Kind::Person)?;
                Ok(VolunteerHours {
                    category,
                    activities: shown.count(row.n, Kind::VolunteerActivity)?,
                    volunteers: shown.count(row.a, Kind::Person)?,
                    hours: match hidden_people {
                        true => None,
                        false => Some(shown.measure(row.hours, Kind::Person)?),
                    },
                    suppressed: hidden_people || shown.withheld(row.n, Kind::VolunteerActivity)?,
                })
            })
            .collect()
    }
}
