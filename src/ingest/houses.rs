//! Property houses 房屋 → the hub's house tree. A row names compound, building, unit and room;
//! the room is found by [`identity::house_key`], and the levels it lacks are created (compound →
//! building → unit → room, each level found by its key form under its parent), named as the seed
//! names them (`3号楼`, `2单元`, `502室`), with the address of the parent followed by the name,
//! all in the row's grid. A room the hub has already gets the row's area and usage (updated, or
//! unchanged when they are the same).

use super::lookup;
use super::outcome::Outcome;
use super::reader::Row;
use super::scope::WriteScope;
use super::sources::{self, Fingerprinted, Record, Seen};
use crate::domain::identity;
use crate::entity::house;
use crate::entity::vocabulary::{ElementType, HouseKind, HouseUsage};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set,
};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A house row, checked and normalised.
#[derive(Debug, Clone)]
struct HouseFact {
    source_id: String,
    /// Compound name as given, then the key forms of building, unit and room.
    compound: String,
    parts: [String; 4],
    area_sqm: Option<f64>,
    usage: Option<HouseUsage>,
    grid_id: i64,
}

/// A level of the tree the hub has.
#[derive(Debug, Clone)]
struct Level {
    id: i64,
    address: String,
    area_sqm: Option<f64>,
    usage: Option<HouseUsage>,
}

/// Writes property house records.
pub struct HousesWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
    /// (parent, key form of the name) → level, for every compound, building, unit and room.
    levels: HashMap<(Option<i64>, String), Level>,
}

/// The row's record id, else one made of its house key.
fn source_id(row: &Row, key: &str) -> String {
    lookup::optional(row, "record_id")
        .map(str::to_string)
        .unwrap_or_else(|| format!("house:{key}"))
}

/// The source id a house row's record has, when the row names a room at all.
pub fn source_id_of(row: &Row) -> Option<String> {
    let part = |column| lookup::optional(row, column);
    let key = identity::house_key(
        part("compound")?,
        part("building")?,
        part("unit")?,
        part("room")?,
    );
    Some(source_id(row, &key))
}

/// The usage a property file names: Chinese or English.
fn usage_of(value: &str) -> Option<HouseUsage> {
    match value.trim().to_lowercase().as_str() {
        "自住" | "owner_occupied" => Some(HouseUsage::OwnerOccupied),
        "出租" | "rented" => Some(HouseUsage::Rented),
        "空置" | "vacant" => Some(HouseUsage::Vacant),
        _ => None,
    }
}

/// The key form of the name of a house of `kind`.
fn key_of(kind: HouseKind, name: &str) -> String {
    let [compound, building, unit, room] = match kind {
        HouseKind::Compound => identity::house_key_parts(name, "", "", ""),
        HouseKind::Building => identity::house_key_parts("", name, "", ""),
        HouseKind::Unit => identity::house_key_parts("", "", name, ""),
        HouseKind::Room => identity::house_key_parts("", "", "", name),
    };
    match kind {
        HouseKind::Compound => compound,
        HouseKind::Building => building,
        HouseKind::Unit => unit,
        HouseKind::Room => room,
    }
}

/// The name the seed gives a house of `kind` whose key form is `key`.
fn seed_name(kind: HouseKind, key: &str) -> String {
    match kind {
        HouseKind::Compound => key.to_string(),
        HouseKind::Building => format!("{key}号楼"),
        HouseKind::Unit => format!("{key}单元"),
        HouseKind::Room => format!("{key}室"),
    }
}

const KINDS: [HouseKind; 4] = [
    HouseKind::Compound,
    HouseKind::Building,
    HouseKind::Unit,
    HouseKind::Room,
];

impl HousesWriter {
    /// A writer for the department with `department_id`; knows every house and grid of the hub
    /// inside `scope` (a level outside it is never reused: the row's own levels are created).
    pub async fn new(
        db: &DatabaseConnection,
        department_id: i64,
        scope: &WriteScope,
    ) -> anyhow::Result<Self> {
        let houses = house::Entity::find()
            .filter(house::Column::Kind.is_in(KINDS))
            .filter(scope.condition(house::Column::GridId))
            .all(db)
            .await?;
        let levels = houses
            .into_iter()
            .map(|h| {
                let level = Level {
                    id: h.id,
                    address: h.address,
                    area_sqm: h.area_sqm,
                    usage: h.usage,
                };
                ((h.parent_id, key_of(h.kind, &h.name)), level)
            })
            .collect();
        Ok(HousesWriter {
            department_id,
            grids: lookup::grids(db).await?,
            levels,
        })
    }

    fn parse(&self, row: &Row) -> Result<(HouseFact, Value), String> {
        let compound = lookup::required(row, "compound")?;
        let building = lookup::required(row, "building")?;
        let unit = lookup::required(row, "unit")?;
        let room = lookup::required(row, "room")?;
        let code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", code)?;
        let area_sqm = lookup::optional(row, "area_sqm")
            .map(|raw| match raw.parse::<f64>() {
                Ok(area) if area.is_finite() && area > 0.0 && area < 100_000.0 => Ok(area),
                _ => Err(format!("area_sqm `{raw}`: not an area in square metres")),
            })
            .transpose()?;
        let usage = lookup::optional(row, "usage")
            .map(|raw| {
                usage_of(raw).ok_or_else(|| format!("usage: `{raw}` is not 自住, 出租 or 空置"))
            })
            .transpose()?;
        let parts = identity::house_key_parts(compound, building, unit, room);
        let key = parts.join("/");
        let fact = HouseFact {
            source_id: source_id(row, &key),
            compound: compound.split_whitespace().collect(),
            parts,
            area_sqm,
            usage,
            grid_id,
        };
        let fields = json!({
            "house_key": key,
            "area_sqm": area_sqm,
            "usage": usage.map(|u| u.to_value()),
            "grid_code": code,
        });
        Ok((fact, fields))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<Result<Fingerprinted<HouseFact>, String>> = rows
            .iter()
            .map(|row| {
                self.parse(row).map(|(fact, fields)| {
                    Fingerprinted::new(&fact.source_id.clone(), row, &fields, fact)
                })
            })
            .collect();
        let mut seen = Seen::load(
            txn,
            self.department_id,
            parsed.iter().flatten().map(|f| f.source_id.as_str()),
        )
        .await?;
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
            let (room, outcome) = self.room(txn, &item.fact).await?;
            records.push((room, seen.take(item)));
            outcomes.push(outcome);
        }
        sources::write(txn, self.department_id, ElementType::House, records).await?;
        Ok(outcomes)
    }

    /// Finds or creates the room of `fact`, creating the levels it lacks, and sets its area and
    /// usage; returns its id and what happened.
    async fn room(
        &mut self,
        txn: &DatabaseTransaction,
        fact: &HouseFact,
    ) -> anyhow::Result<(i64, Outcome)> {
        let mut parent: Option<Level> = None;
        let mut at = (None, String::new());
        for (depth, kind) in KINDS.into_iter().enumerate() {
            at = (parent.as_ref().map(|p| p.id), fact.parts[depth].clone());
            if let Some(found) = self.levels.get(&at).cloned() {
                parent = Some(found);
                continue;
            }
            let name = match kind {
                HouseKind::Compound => fact.compound.clone(),
                _ => seed_name(kind, &at.1),
            };
            let address = match &parent {
                Some(p) => format!("{}{name}", p.address),
                None => name.clone(),
            };
            let is_room = kind == HouseKind::Room;
            let created = house::ActiveModel {
                parent_id: Set(at.0),
                grid_id: Set(fact.grid_id),
                kind: Set(kind),
                name: Set(name),
                address: Set(address.clone()),
                usage: Set(if is_room { fact.usage } else { None }),
                area_sqm: Set(if is_room { fact.area_sqm } else { None }),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            let level = Level {
                id: created.id,
                address,
                area_sqm: created.area_sqm,
                usage: created.usage,
            };
            self.levels.insert(at.clone(), level.clone());
            if is_room {
                return Ok((level.id, Outcome::Inserted));
            }
            parent = Some(level);
        }
        let Some(room) = self.levels.get_mut(&at) else {
            anyhow::bail!("the room of a house row was not found");
        };
        // A value the row does not give stays as it is.
        let area_sqm = fact.area_sqm.or(room.area_sqm);
        let usage = fact.usage.or(room.usage);
        if room.area_sqm == area_sqm && room.usage == usage {
            return Ok((room.id, Outcome::Unchanged));
        }
        room.area_sqm = area_sqm;
        room.usage = usage;
        house::Entity::update(house::ActiveModel {
            id: Set(room.id),
            area_sqm: Set(area_sqm),
            usage: Set(usage),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        Ok((room.id, Outcome::Updated))
    }
}
