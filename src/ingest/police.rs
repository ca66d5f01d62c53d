//! Police 公安 records beyond the registration of persons: grid police 格警 and devices.
//!
//! A grid-police row names an officer the hub already has (the police registration brings
//! persons) by the ID number, and gives the officer one grid-police post per grid. A device row
//! is a camera 摄像头 or an access gate 门禁, keyed by its device id: the police source record
//! with that id (else the object with that code) is the object it describes.

use super::grid_posts::{self, PostFact};
use super::lookup;
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Seen};
use crate::entity::object;
use crate::entity::vocabulary::{ElementType, ObjectKind, ObjectStatus, StaffRole};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;

/// Writes grid police posts.
pub struct GridPoliceWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

impl GridPoliceWriter {
    /// A writer for the police department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(GridPoliceWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<PostFact>, String> {
        let id_number = lookup::id_number(row, "officer_id_number")?;
        let name = lookup::required(row, "name")?;
        let grid_code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", grid_code)?;
        let since = lookup::date(row, "since")?;
        let fields = json!({
            "officer_id_number": id_number.as_str(), "name": name, "grid_code": grid_code,
            "since": since.map(|d| d.to_string()),
        });
        let source_id = format!("grid_police:{}:{grid_code}", id_number.as_str());
        let fact = PostFact {
            id_number,
            grid_id,
            role: StaffRole::GridPolice,
            since: since.unwrap_or_else(lookup::today),
        };
        Ok(Fingerprinted::new(&source_id, row, &fields, fact))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<_> = rows.iter().map(|row| self.parse(row)).collect();
        grid_posts::write(txn, self.department_id, &parsed).await
    }
}

/// A device row, checked: the values of its object.
#[derive(Debug, Clone, PartialEq)]
struct DeviceFact {
    device_id: String,
    kind: ObjectKind,
    grid_id: i64,
    name: String,
    latitude: f64,
    longitude: f64,
    installed_on: Option<NaiveDate>,
    status: ObjectStatus,
}

impl DeviceFact {
    fn of(object: &object::Model) -> DeviceFact {
        DeviceFact {
            device_id: object.code.clone(),
            kind: object.kind,
            grid_id: object.grid_id,
            name: object.name.clone(),
            latitude: object.latitude,
            longitude: object.longitude,
            installed_on: object.installed_on,
            status: object.status,
        }
    }

    /// The object's values, for an insert (`id` unset) or an update.
    fn active(&self, id: Option<i64>) -> object::ActiveModel {
        object::ActiveModel {
            id: id.map_or(NotSet, Set),
            grid_id: Set(self.grid_id),
            place_id: NotSet,
            owner_id: NotSet,
            kind: Set(self.kind),
            code: Set(self.device_id.clone()),
            name: Set(self.name.clone()),
            status: Set(self.status),
            latitude: Set(self.latitude),
            longitude: Set(self.longitude),
            installed_on: Set(self.installed_on),
        }
    }
}

/// The kind of a device type, with its Chinese name.
fn device_kind(label: &str) -> Result<(ObjectKind, &'static str), String> {
    match label.to_lowercase().as_str() {
        "摄像头" | "camera" => Ok((ObjectKind::Camera, "摄像头")),
        "门禁" | "access_gate" => Ok((ObjectKind::AccessGate, "门禁")),
        _ => Err(format!(
            "device_type `{label}`: not one of 摄像头, 门禁 (camera, access_gate)"
        )),
    }
}

fn device_status(label: &str) -> Result<ObjectStatus, String> {
    match label.to_lowercase().as_str() {
        "正常" | "working" => Ok(ObjectStatus::InService),
        "故障" | "faulty" => Ok(ObjectStatus::Faulty),
        "停用" | "retired" => Ok(ObjectStatus::Retired),
        _ => Err(format!(
            "status `{label}`: not one of 正常, 故障, 停用 (working, faulty, retired)"
        )),
    }
}

/// The coordinate of `column` (required), between -`bound` and `bound` degrees.
fn coordinate(row: &Row, column: &str, bound: f64) -> Result<f64, String> {
    let raw = lookup::required(row, column)?;
    let value: f64 = raw
        .parse()
        .map_err(|_| format!("{column} `{raw}`: not a decimal number"))?;
    if value.is_finite() && value.abs() <= bound {
        Ok(value)
    } else {
        Err(format!(
            "{column} `{raw}`: out of range (-{bound} to {bound})"
        ))
    }
}

/// Writes cameras and access gates.
pub struct DevicesWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

impl DevicesWriter {
    /// A writer for the police department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(DevicesWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<DeviceFact>, String> {
        let device_id = lookup::required(row, "device_id")?.to_string();
        let (kind, label) = device_kind(lookup::required(row, "device_type")?)?;
        let grid_code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", grid_code)?;
        let name = lookup::optional(row, "name")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{label}{device_id}"));
        let latitude = coordinate(row, "latitude", 90.0)?;
        let longitude = coordinate(row, "longitude", 180.0)?;
        let installed_on = lookup::date(row, "installed_on")?;
        let status = lookup::optional(row, "status")
            .map(device_status)
            .transpose()?
            .unwrap_or(ObjectStatus::InService);
        let fields = json!({
            "device_id": device_id, "device_type": format!("{kind:?}"), "name": name, "grid_code": grid_code,
            "latitude": latitude, "longitude": longitude,
            "installed_on": installed_on.map(|d| d.to_string()), "status": format!("{status:?}"),
        });
        let fact = DeviceFact {
            device_id,
            kind,
            grid_id,
            name,
            latitude,
            longitude,
            installed_on,
            status,
        };
        Ok(Fingerprinted::new(
            &fact.device_id.clone(),
            row,
            &fields,
            fact,
        ))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<_> = rows.iter().map(|row| self.parse(row)).collect();
        let facts: Vec<&Fingerprinted<DeviceFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let codes: Vec<&str> = facts.iter().map(|f| f.source_id.as_str()).collect();
        let mut seen = Seen::load(txn, self.department_id, codes.iter().copied()).await?;
        let known =
            lookup::element_ids(txn, self.department_id, ElementType::Object, codes.clone())
                .await?;
        let existing = objects(txn, &known, codes).await?;
        let mut after: HashMap<String, DeviceFact> = existing
            .iter()
            .map(|(code, (_, object))| (code.clone(), object.clone()))
            .collect();
        let mut records = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => {
                    records.push((item.source_id.clone(), seen.take(item)));
                    let fact = item.fact.clone();
                    match after.insert(fact.device_id.clone(), fact.clone()) {
                        None => Outcome::Inserted,
                        Some(previous) if previous == fact => Outcome::Unchanged,
                        Some(_) => Outcome::Updated,
                    }
                }
            });
        }
        let ids = write_objects(txn, &existing, after).await?;
        let records = records
            .into_iter()
            .filter_map(|(code, record)| ids.get(&code).map(|id| (*id, record)))
            .collect();
        sources::write(txn, self.department_id, ElementType::Object, records).await?;
        Ok(outcomes)
    }
}

/// The objects these devices describe, device id → (object id, values): the object of the
/// police source record with the device id, else the object whose code is the device id.
async fn objects(
    txn: &DatabaseTransaction,
    known: &HashMap<String, i64>,
    codes: Vec<&str>,
) -> anyhow::Result<HashMap<String, (i64, DeviceFact)>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = known.values().copied().collect();
    let by_id: HashMap<i64, object::Model> = object::Entity::find()
        .filter(object::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let by_code: HashMap<String, object::Model> = object::Entity::find()
        .filter(object::Column::Code.is_in(codes.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| (o.code.clone(), o))
        .collect();
    Ok(codes
        .into_iter()
        .filter_map(|code| {
            let object = known
                .get(code)
                .and_then(|id| by_id.get(id))
                .or_else(|| by_code.get(code))?;
            let mut fact = DeviceFact::of(object);
            fact.device_id = code.to_string();
            Some((code.to_string(), (object.id, fact)))
        })
        .collect())
}

/// Inserts the new devices in multi-row statements and updates the changed ones; returns every
/// device's object id, by device id.
async fn write_objects(
    txn: &DatabaseTransaction,
    existing: &HashMap<String, (i64, DeviceFact)>,
    after: HashMap<String, DeviceFact>,
) -> anyhow::Result<HashMap<String, i64>> {
    let mut ids: HashMap<String, i64> = existing
        .iter()
        .map(|(code, (id, _))| (code.clone(), *id))
        .collect();
    let mut inserts = Vec::new();
    for (code, fact) in &after {
        match existing.get(code) {
            None => inserts.push(fact.active(None)),
            Some((_, before)) if before == fact => {}
            Some((id, _)) => {
                object::Entity::update(fact.active(Some(*id)))
                    .exec(txn)
                    .await?;
            }
        }
    }
    let new_codes: Vec<String> = after
        .keys()
        .filter(|code| !existing.contains_key(*code))
        .cloned()
        .collect();
    for chunk in inserts.chunks(500) {
        object::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    for chunk in new_codes.chunks(1000) {
        let inserted: Vec<(String, i64)> = object::Entity::find()
            .select_only()
            .column(object::Column::Code)
            .column(object::Column::Id)
            .filter(object::Column::Code.is_in(chunk.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        ids.extend(inserted);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_to_kinds_and_states() {
        assert_eq!(device_kind("摄像头"), Ok((ObjectKind::Camera, "摄像头")));
        assert_eq!(
            device_kind("Access_Gate"),
            Ok((ObjectKind::AccessGate, "门禁"))
        );
        assert!(device_kind("井盖").unwrap_err().contains("device_type"));
        assert_eq!(device_status("故障"), Ok(ObjectStatus::Faulty));
        assert_eq!(device_status("working"), Ok(ObjectStatus::InService));
        assert!(device_status("维修中").unwrap_err().contains("status"));
    }
}
