//! Property e-bike sheds 电动车棚 → objects of kind e-bike shed, keyed by the shed id (the
//! property department's source id: a record it sent before gives the object). A new shed is in
//! service; a known one gets the row's name, grid and position (updated, or unchanged when they
//! are the same). The number of chargers stays on the source record.

use super::lookup;
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Record, Seen};
use crate::entity::object;
use crate::entity::vocabulary::{ElementType, ObjectKind, ObjectStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A shed row, checked.
#[derive(Debug, Clone)]
struct ShedFact {
    shed_id: String,
    name: String,
    grid_id: i64,
    latitude: f64,
    longitude: f64,
}

/// Writes property e-bike shed records.
pub struct EbikeShedsWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

/// The decimal degrees of `column`, required and within ±`limit`.
fn degrees(row: &Row, column: &str, limit: f64) -> Result<f64, String> {
    let raw = lookup::required(row, column)?;
    match raw.parse::<f64>() {
        Ok(value) if value.is_finite() && value.abs() <= limit => Ok(value),
        _ => Err(format!(
            "{column} `{raw}`: not decimal degrees between -{limit} and {limit}"
        )),
    }
}

impl EbikeShedsWriter {
    /// A writer for the department with `department_id`; knows every grid of the hub.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(EbikeShedsWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<(ShedFact, Value), String> {
        let shed_id = lookup::required(row, "shed_id")?;
        let name = lookup::required(row, "name")?;
        let code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", code)?;
        let latitude = degrees(row, "latitude", 90.0)?;
        let longitude = degrees(row, "longitude", 180.0)?;
        let chargers = lookup::optional(row, "chargers")
            .map(|raw| {
                raw.parse::<u32>()
                    .map_err(|_| format!("chargers `{raw}`: not a number of chargers"))
            })
            .transpose()?;
        let fields = json!({
            "name": name,
            "grid_code": code,
            "latitude": latitude,
            "longitude": longitude,
            "chargers": chargers,
        });
        let fact = ShedFact {
            shed_id: shed_id.to_string(),
            name: name.to_string(),
            grid_id,
            latitude,
            longitude,
        };
        Ok((fact, fields))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<Result<Fingerprinted<ShedFact>, String>> = rows
            .iter()
            .map(|row| {
                self.parse(row).map(|(fact, fields)| {
                    Fingerprinted::new(&fact.shed_id.clone(), row, &fields, fact)
                })
            })
            .collect();
        let ids = || parsed.iter().flatten().map(|f| f.source_id.as_str());
        let mut seen = Seen::load(txn, self.department_id, ids()).await?;
        let mut objects = lookup::element_ids(
            txn,
            self.department_id,
            ElementType::Object,
            ids().collect(),
        )
        .await?;
        let mut existing: HashMap<i64, object::Model> = object::Entity::find()
            .filter(object::Column::Id.is_in(objects.values().copied()))
            .all(txn)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
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
            let known = objects
                .get(&fact.shed_id)
                .and_then(|id| existing.get_mut(id));
            let (id, outcome) = match known {
                Some(model) => {
                    let same = model.name == fact.name
                        && model.grid_id == fact.grid_id
                        && model.latitude == fact.latitude
                        && model.longitude == fact.longitude;
                    if !same {
                        model.name = fact.name.clone();
                        model.grid_id = fact.grid_id;
                        model.latitude = fact.latitude;
                        model.longitude = fact.longitude;
                        object::Entity::update(object::ActiveModel {
                            id: Set(model.id),
                            name: Set(fact.name.clone()),
                            grid_id: Set(fact.grid_id),
                            latitude: Set(fact.latitude),
                            longitude: Set(fact.longitude),
                            ..Default::default()
                        })
                        .exec(txn)
                        .await?;
                    }
                    let outcome = if same {
                        Outcome::Unchanged
                    } else {
                        Outcome::Updated
                    };
                    (model.id, outcome)
                }
                None => {
                    let model = object::ActiveModel {
                        grid_id: Set(fact.grid_id),
                        place_id: Set(None),
                        owner_id: Set(None),
                        kind: Set(ObjectKind::EbikeShed),
                        code: Set(fact.shed_id.clone()),
                        name: Set(fact.name.clone()),
                        status: Set(ObjectStatus::InService),
                        latitude: Set(fact.latitude),
                        longitude: Set(fact.longitude),
                        installed_on: Set(None),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    objects.insert(fact.shed_id.clone(), model.id);
                    existing.insert(model.id, model.clone());
                    (model.id, Outcome::Inserted)
                }
            };
            records.push((id, seen.take(item)));
            outcomes.push(outcome);
        }
        sources::write(txn, self.department_id, ElementType::Object, records).await?;
        Ok(outcomes)
    }
}
