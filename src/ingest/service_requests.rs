//! Property service requests 物业报修 → events, keyed by the request id (the property
//! department's source id). 报修 / 咨询 become service requests, 投诉 a property complaint; each
//! is reported, of normal priority, with the seed's deadlines for that priority, and found
//! through the department channel (the hub has no channel of its own for a property system).
//! The room, when the row names one, must be in the hub; the reporting time is RFC 3339 or
//! `YYYY-MM-DD HH:MM[:SS]` in local time (+08:00). A known request gets the row's values
//! (updated, or unchanged when they are the same).

use super::lookup;
use super::outcome::Outcome;
use super::property::room_keys;
use super::reader::Row;
use super::scope::WriteScope;
use super::sources::{self, Fingerprinted, Record, Seen};
use crate::domain::identity;
use crate::entity::event;
use crate::entity::vocabulary::{
    ElementType, EventCategory, EventChannel, EventPriority, EventStatus,
};
use crate::seed::events::deadlines;
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set,
};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Priority of an imported request.
const PRIORITY: EventPriority = EventPriority::Normal;

/// A request row, checked.
#[derive(Debug, Clone)]
struct RequestFact {
    request_id: String,
    title: String,
    description: String,
    category: EventCategory,
    house_id: Option<i64>,
    grid_id: i64,
    reported_at: DateTime<Utc>,
}

/// Writes property service requests.
pub struct ServiceRequestsWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
    rooms: HashMap<String, i64>,
}

/// The category a property file names: Chinese or English.
fn category_of(value: &str) -> Option<EventCategory> {
    match value.trim().to_lowercase().as_str() {
        "报修" | "repair" | "咨询" | "enquiry" => Some(EventCategory::ServiceRequest),
        "投诉" | "complaint" => Some(EventCategory::PropertyComplaint),
        _ => None,
    }
}

/// A reporting time: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` at +08:00.
fn time_of(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .ok()?;
    let offset = FixedOffset::east_opt(8 * 3600)?;
    Some(
        local
            .and_local_timezone(offset)
            .single()?
            .with_timezone(&Utc),
    )
}

impl ServiceRequestsWriter {
    /// A writer for the department with `department_id`; knows every grid of the hub and every
    /// room inside `scope`.
    pub async fn new(
        db: &DatabaseConnection,
        department_id: i64,
        scope: &WriteScope,
    ) -> anyhow::Result<Self> {
        Ok(ServiceRequestsWriter {
            department_id,
            grids: lookup::grids(db).await?,
            rooms: room_keys(db, scope).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<(RequestFact, Value), String> {
        let request_id = lookup::required(row, "request_id")?;
        let title = lookup::required(row, "title")?;
        let raw_time = lookup::required(row, "reported_at")?;
        let code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", code)?;
        let reported_at = time_of(raw_time).ok_or_else(|| {
            format!("reported_at `{raw_time}`: not a time (RFC 3339 or YYYY-MM-DD HH:MM[:SS])")
        })?;
        let category = match lookup::optional(row, "category") {
            None => EventCategory::ServiceRequest,
            Some(raw) => category_of(raw)
                .ok_or_else(|| format!("category: `{raw}` is not 报修, 投诉 or 咨询"))?,
        };
        let address = ["compound", "building", "unit", "room"].map(|c| lookup::optional(row, c));
        let (house_key, house_id) = match address {
            [None, None, None, None] => (None, None),
            [Some(compound), Some(building), Some(unit), Some(room)] => {
                let key = identity::house_key(compound, building, unit, room);
                let id = *self.rooms.get(&key).ok_or_else(|| {
                    format!("room: no room {building} {unit} {room} in compound {compound}")
                })?;
                (Some(key), Some(id))
            }
            partial => {
                let missing = ["compound", "building", "unit", "room"]
                    .iter()
                    .zip(partial)
                    .find(|(_, v)| v.is_none())
                    .map_or("room", |(c, _)| *c);
                return Err(format!(
                    "{missing}: required value missing (a room is named by compound, building, unit and room)"
                ));
            }
        };
        let description = lookup::optional(row, "description").unwrap_or_default();
        let fields = json!({
            "title": title,
            "description": description,
            "category": category.to_value(),
            "house_key": house_key,
            "reported_at": reported_at,
            "phone": lookup::optional(row, "phone").and_then(identity::normalize_phone),
            "grid_code": code,
        });
        let fact = RequestFact {
            request_id: request_id.to_string(),
            title: title.to_string(),
            description: description.to_string(),
            category,
            house_id,
            grid_id,
            reported_at,
        };
        Ok((fact, fields))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<Result<Fingerprinted<RequestFact>, String>> = rows
            .iter()
            .map(|row| {
                self.parse(row).map(|(fact, fields)| {
                    Fingerprinted::new(&fact.request_id.clone(), row, &fields, fact)
                })
            })
            .collect();
        let ids = || parsed.iter().flatten().map(|f| f.source_id.as_str());
        let mut seen = Seen::load(txn, self.department_id, ids()).await?;
        let mut events =
            lookup::element_ids(txn, self.department_id, ElementType::Event, ids().collect())
                .await?;
        let mut existing: HashMap<i64, event::Model> = event::Entity::find()
            .filter(event::Column::Id.is_in(events.values().copied()))
            .all(txn)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let (respond, resolve) = deadlines(PRIORITY);
        let mut records: Vec<(i64, Record)> = Vec::new();
        let mut outcomes = Vec::with_capacity(parsed.len());
        for item in &parsed {
            let item = match item {
                Err(reason) => {
                    outcomes.push(Outcome::Rejected(reason.clone()));
                    continue;
                }
                Ok(item) if seen.is_unchanged(item) => {
                    outcomes.push(Outcome::Unchanged);
                    continue;
                }
                Ok(item) => item,
            };
            let fact = &item.fact;
            let values = event::ActiveModel {
                grid_id: Set(fact.grid_id),
                house_id: Set(fact.house_id),
                category: Set(fact.category),
                title: Set(fact.title.clone()),
                description: Set(fact.description.clone()),
                reported_at: Set(fact.reported_at),
                respond_by: Set(fact.reported_at + Duration::minutes(respond)),
                step_due_at: Set(Some(fact.reported_at + Duration::minutes(respond))),
                resolve_by: Set(fact.reported_at + Duration::minutes(resolve)),
                ..Default::default()
            };
            let known = events
                .get(&fact.request_id)
                .and_then(|id| existing.get_mut(id));
            let (id, outcome) = match known {
                Some(model) => {
                    let same = model.grid_id == fact.grid_id
                        && model.house_id == fact.house_id
                        && model.category == fact.category
                        && model.title == fact.title
                        && model.description == fact.description
                        && model.reported_at == fact.reported_at;
                    if same {
                        (model.id, Outcome::Unchanged)
                    } else {
                        let updated = event::Entity::update(event::ActiveModel {
                            id: Set(model.id),
                            ..values
                        })
                        .exec(txn)
                        .await?;
                        *model = updated;
                        (model.id, Outcome::Updated)
                    }
                }
                None => {
                    let model = event::ActiveModel {
                        place_id: Set(None),
                        department_id: Set(None),
                        priority: Set(PRIORITY),
                        status: Set(EventStatus::Reported),
                        channel: Set(EventChannel::Department),
                        latitude: Set(None),
                        longitude: Set(None),
                        resolved_at: Set(None),
                        closed_at: Set(None),
                        satisfaction: Set(None),
                        ..values
                    }
                    .insert(txn)
                    .await?;
                    events.insert(fact.request_id.clone(), model.id);
                    existing.insert(model.id, model.clone());
                    (model.id, Outcome::Inserted)
                }
            };
            records.push((id, seen.take(item)));
            outcomes.push(outcome);
        }
        sources::write(txn, self.department_id, ElementType::Event, records).await?;
        Ok(outcomes)
    }
}
