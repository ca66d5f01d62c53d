//! Property residents 业主 / 租户 / 住户 / 户主 → residences of existing persons in existing rooms.
//!
//! The room is found by [`identity::house_key`] of compound, building, unit and room against
//! the hub's rooms; an unknown room rejects the row. The person is found by the ID number when
//! the row has one (it must be valid and already in the hub), else by name, birth date and phone
//! through [`identity::decide`]: a single strong match is linked; plausible matches that are not
//! strong enough (several persons, or one with the same name and birth date but another phone)
//! keep the record unlinked (element id 0) with one open identity candidate per person, for a
//! person to decide; no plausible match rejects the row, asking for the ID number.
//!
//! Property owns the phone: a linked row whose phone differs from the person's sets it.

use super::outcome::Outcome;
use super::reader::Row;
use super::scope::WriteScope;
use super::sources::{self, Fingerprinted, Known, Record};
use crate::domain::id_number::IdNumber;
use crate::domain::identity::{self, Decision, Evidence};
use crate::entity::vocabulary::{ElementType, HouseKind, ResidenceRole};
use crate::entity::{house, identity_candidate, person, residence};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// A property resident record, checked and normalised.
#[derive(Debug, Clone)]
struct ResidentFact {
    source_id: String,
    room_id: i64,
    name: String,
    id_number: Option<IdNumber>,
    birth_date: Option<NaiveDate>,
    phone: Option<String>,
    role: ResidenceRole,
    since: NaiveDate,
}

/// Writes property resident records.
pub struct ResidentsWriter {
    department_id: i64,
    rooms: HashMap<String, i64>,
    scope: WriteScope,
}

/// The role a property file names: Chinese or English.
fn role_of(value: &str) -> Option<ResidenceRole> {
    match value.trim().to_lowercase().as_str() {
        "业主" | "owner" => Some(ResidenceRole::Owner),
        "租户" | "tenant" => Some(ResidenceRole::Tenant),
        "住户" | "resident" => Some(ResidenceRole::Resident),
        "户主" | "household_head" => Some(ResidenceRole::HouseholdHead),
        _ => None,
    }
}

/// The row's record id, else one made of its house key and normalised name.
fn source_id(row: &Row, key: &str, name: &str) -> String {
    row.values
        .get("record_id")
        .cloned()
        .unwrap_or_else(|| format!("resident:{key}:{name}"))
}

/// The source id a resident row's record has, when the row names a room and a person.
pub fn source_id_of(row: &Row) -> Option<String> {
    let value = |name: &str| row.values.get(name).map(String::as_str);
    let key = identity::house_key(
        value("compound")?,
        value("building")?,
        value("unit")?,
        value("room")?,
    );
    let name = identity::normalize_name(value("name")?);
    Some(source_id(row, &key, &name))
}

/// A `YYYY-MM-DD` date (also `YYYY/MM/DD`) of `column`.
fn date_of(column: &str, value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y/%m/%d"))
        .map_err(|_| format!("{column}: `{value}` is not a date (YYYY-MM-DD)"))
}

/// The house keys of every room of the hub inside `scope`: compound, building, unit and room
/// names found by walking each room's parents.
pub async fn room_keys(
    db: &DatabaseConnection,
    scope: &WriteScope,
) -> anyhow::Result<HashMap<String, i64>> {
    let houses = house::Entity::find()
        .filter(house::Column::Kind.is_in([
            HouseKind::Compound,
            HouseKind::Building,
            HouseKind::Unit,
            HouseKind::Room,
        ]))
        .all(db)
        .await?;
    let by_id: HashMap<i64, &house::Model> = houses.iter().map(|h| (h.id, h)).collect();
    let parent = |h: &house::Model| h.parent_id.and_then(|id| by_id.get(&id).copied());
    Ok(houses
        .iter()
        .filter(|h| h.kind == HouseKind::Room && scope.holds(h.grid_id))
        .filter_map(|room| {
            let unit = parent(room)?;
            let building = parent(unit)?;
            let compound = parent(building)?;
            let key = identity::house_key(&compound.name, &building.name, &unit.name, &room.name);
            Some((key, room.id))
        })
        .collect())
}

impl ResidentsWriter {
    /// A writer for the department with `department_id`; knows every room of the hub inside
    /// `scope`, and matches persons inside it only.
    pub async fn new(
        db: &DatabaseConnection,
        department_id: i64,
        scope: &WriteScope,
    ) -> anyhow::Result<Self> {
        Ok(ResidentsWriter {
            department_id,
            rooms: room_keys(db, scope).await?,
            scope: scope.clone(),
        })
    }

    fn parse(&self, row: &Row) -> Result<(ResidentFact, Value), String> {
        let value = |name: &str| row.values.get(name).map(String::as_str);
        let required =
            |name: &str| value(name).ok_or_else(|| format!("{name}: required value missing"));
        let compound = required("compound")?;
        let (building, unit, room) = (required("building")?, required("unit")?, required("room")?);
        let name = identity::normalize_name(required("name")?);
        let raw_role = required("role")?;
        let key = identity::house_key(compound, building, unit, room);
        let room_id = *self
            .rooms
            .get(&key)
            .ok_or_else(|| format!("no room {building} {unit} {room} in compound {compound}"))?;
        let id_number = value("id_number")
            .map(|raw| IdNumber::parse(raw).map_err(|e| format!("id_number `{raw}`: {e}")))
            .transpose()?;
        let role = role_of(raw_role)
            .ok_or_else(|| format!("role: `{raw_role}` is not 业主, 租户, 住户 or 户主"))?;
        let fact = ResidentFact {
            source_id: source_id(row, &key, &name),
            room_id,
            name,
            birth_date: value("birth_date")
                .map(|v| date_of("birth_date", v))
                .transpose()?,
            phone: value("phone").and_then(identity::normalize_phone),
            role,
            since: value("since")
                .map(|v| date_of("since", v))
                .transpose()?
                .unwrap_or_else(|| Utc::now().date_naive()),
            id_number,
        };
        let fields = fields_of(&fact, &key, value("since").is_some());
        Ok((fact, fields))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<Result<Fingerprinted<ResidentFact>, String>> = rows
            .iter()
            .map(|row| {
                self.parse(row).map(|(fact, fields)| {
                    Fingerprinted::new(&fact.source_id.clone(), row, &fields, fact)
                })
            })
            .collect();
        let facts: Vec<&ResidentFact> = parsed.iter().flatten().map(|f| &f.fact).collect();
        let known = sources::known(
            txn,
            self.department_id,
            parsed.iter().flatten().map(|f| f.source_id.as_str()),
        )
        .await?;
        let mut persons = Persons::load(txn, &facts, &self.scope).await?;
        let residences = existing_residences(txn, facts.iter().map(|f| f.room_id)).await?;
        let mut plan = Plan {
            residences,
            ..Plan::default()
        };
        let outcomes = parsed
            .iter()
            .map(|item| match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) => plan.add(item, &known, &mut persons),
            })
            .collect();
        plan.apply(txn, self.department_id).await?;
        Ok(outcomes)
    }
}

/// The record's values under the hub's names, kept on its source record; `since` only when the
/// row gives it, so that a re-import on another day has the same fingerprint.
fn fields_of(fact: &ResidentFact, key: &str, since_given: bool) -> Value {
    let mut fields = Map::new();
    fields.insert("house_key".into(), json!(key));
    fields.insert("house_id".into(), json!(fact.room_id));
    fields.insert("name".into(), json!(fact.name));
    fields.insert("role".into(), json!(fact.role.to_value()));
    let optional = [
        (
            "id_number",
            fact.id_number.as_ref().map(|n| json!(n.as_str())),
        ),
        ("birth_date", fact.birth_date.map(|d| json!(d))),
        ("phone", fact.phone.as_ref().map(|p| json!(p))),
        ("since", since_given.then(|| json!(fact.since))),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            fields.insert(name.into(), value);
        }
    }
    Value::Object(fields)
}

/// The persons a batch may refer to: by ID number, and by normalised name.
#[derive(Default)]
struct Persons {
    by_number: HashMap<String, person::Model>,
    by_name: HashMap<String, Vec<person::Model>>,
}

impl Persons {
    /// Loads those inside `scope` in two statements: `id_number IN (…)` and `name IN (…)`.
    async fn load(
        txn: &DatabaseTransaction,
        facts: &[&ResidentFact],
        scope: &WriteScope,
    ) -> anyhow::Result<Persons> {
        let inside = || scope.condition(person::Column::GridId);
        let numbers: Vec<&str> = facts
            .iter()
            .filter_map(|f| f.id_number.as_ref().map(IdNumber::as_str))
            .collect();
        let names: HashSet<&str> = facts
            .iter()
            .filter(|f| f.id_number.is_none())
            .map(|f| f.name.as_str())
            .collect();
        let mut persons = Persons::default();
        if !numbers.is_empty() {
            persons.by_number = person::Entity::find()
                .filter(person::Column::IdNumber.is_in(numbers))
                .filter(inside())
                .all(txn)
                .await?
                .into_iter()
                .map(|p| (p.id_number.clone(), p))
                .collect();
        }
        if !names.is_empty() {
            let found = person::Entity::find()
                .filter(person::Column::Name.is_in(names))
                .filter(inside())
                .all(txn)
                .await?;
            for p in found {
                let name = identity::normalize_name(&p.name);
                persons.by_name.entry(name).or_default().push(p);
            }
        }
        Ok(persons)
    }

    /// Who the record is: a person, or candidates with their scores, or why it is neither.
    fn resolve(&self, fact: &ResidentFact) -> Result<Match, String> {
        if let Some(number) = &fact.id_number {
            return self
                .by_number
                .get(number.as_str())
                .map(|p| Match::Person(p.id))
                .ok_or_else(|| {
                    "no person with this ID number in the hub; import the police registration first"
                        .to_string()
                });
        }
        let incoming = Evidence {
            name: fact.name.clone(),
            birth_date: fact.birth_date,
            phone: fact.phone.clone(),
        };
        let candidates: Vec<(i64, Evidence)> = self
            .by_name
            .get(&fact.name)
            .into_iter()
            .flatten()
            .filter(|p| fact.birth_date.is_none_or(|d| d == p.birth_date))
            .map(|p| (p.id, evidence_of(p)))
            .collect();
        let scored = |ids: Vec<i64>| {
            let score = |id| {
                candidates
                    .iter()
                    .find(|(c, _)| *c == id)
                    .map_or(0.0, |(_, e)| identity::score(&incoming, e))
            };
            Match::Candidates(ids.into_iter().map(|id| (id, score(id))).collect())
        };
        match identity::decide(&incoming, &candidates) {
            Decision::Merge(id) => Ok(Match::Person(id)),
            Decision::Ambiguous(ids) => Ok(scored(ids)),
            Decision::New if fact.birth_date.is_some() && !candidates.is_empty() => {
                Ok(scored(candidates.iter().map(|(id, _)| *id).collect()))
            }
            Decision::New => {
                Err("no person matches name/birth date/phone; give the ID number".to_string())
            }
        }
    }

    /// The person with row id `id`, as loaded (and changed by earlier rows of the batch).
    fn get_mut(&mut self, id: i64) -> Option<&mut person::Model> {
        self.by_number
            .values_mut()
            .chain(self.by_name.values_mut().flatten())
            .find(|p| p.id == id)
    }
}

/// What a person says about themself, for identity decisions.
pub fn evidence_of(p: &person::Model) -> Evidence {
    Evidence::new(&p.name, Some(p.birth_date), p.phone.as_deref())
}

/// Who a record is.
enum Match {
    /// This person.
    Person(i64),
    /// Maybe one of these persons (row id, score).
    Candidates(Vec<(i64, f64)>),
}

async fn existing_residences(
    txn: &DatabaseTransaction,
    rooms: impl Iterator<Item = i64>,
) -> anyhow::Result<HashSet<(i64, i64, ResidenceRole)>> {
    let rooms: HashSet<i64> = rooms.collect();
    if rooms.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(residence::Entity::find()
        .filter(residence::Column::HouseId.is_in(rooms))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.person_id, r.house_id, r.role))
        .collect())
}

/// What one batch will write.
#[derive(Default)]
struct Plan {
    residences: HashSet<(i64, i64, ResidenceRole)>,
    new_residences: Vec<residence::ActiveModel>,
    phones: HashMap<i64, String>,
    linked: Vec<(i64, Record)>,
    unlinked: Vec<(i64, Record)>,
    candidates: Vec<(String, Vec<(i64, f64)>)>,
}

impl Plan {
    fn add(
        &mut self,
        item: &Fingerprinted<ResidentFact>,
        known: &HashMap<String, Known>,
        persons: &mut Persons,
    ) -> Outcome {
        let planned = self.linked.iter().chain(&self.unlinked);
        let same = known
            .get(&item.source_id)
            .is_some_and(|k| k.fingerprint == item.fingerprint)
            || planned
                .clone()
                .any(|(_, r)| r.source_id == item.source_id && r.fingerprint == item.fingerprint);
        if same {
            return Outcome::Unchanged;
        }
        match persons.resolve(&item.fact) {
            Err(reason) => Outcome::Rejected(reason),
            Ok(Match::Person(id)) => {
                let outcome = self.link(&item.fact, id, persons);
                self.linked.push((id, item.record(known)));
                outcome
            }
            Ok(Match::Candidates(candidates)) => {
                self.unlinked.push((0, item.record(known)));
                self.candidates.push((item.source_id.clone(), candidates));
                Outcome::Inserted
            }
        }
    }

    /// Plans the residence and the phone of a row linked to person `id`.
    fn link(&mut self, fact: &ResidentFact, id: i64, persons: &mut Persons) -> Outcome {
        let new_residence = self.residences.insert((id, fact.room_id, fact.role));
        if new_residence {
            self.new_residences.push(residence::ActiveModel {
                person_id: Set(id),
                house_id: Set(fact.room_id),
                role: Set(fact.role),
                since: Set(fact.since),
                until: Set(None),
                ..Default::default()
            });
        }
        let phone_changed = match (persons.get_mut(id), &fact.phone) {
            (Some(p), Some(phone)) if p.phone.as_ref() != Some(phone) => {
                p.phone = Some(phone.clone());
                self.phones.insert(id, phone.clone());
                true
            }
            _ => false,
        };
        match (phone_changed, new_residence) {
            (true, _) => Outcome::Updated,
            (false, true) => Outcome::Inserted,
            (false, false) => Outcome::Unchanged,
        }
    }

    async fn apply(self, txn: &DatabaseTransaction, department_id: i64) -> anyhow::Result<()> {
        let now = Utc::now();
        for (id, phone) in self.phones {
            person::Entity::update(person::ActiveModel {
                id: Set(id),
                phone: Set(Some(phone)),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        }
        if !self.new_residences.is_empty() {
            residence::Entity::insert_many(self.new_residences)
                .exec(txn)
                .await?;
        }
        let rewritten: Vec<i64> = self
            .linked
            .iter()
            .chain(&self.unlinked)
            .filter_map(|(_, r)| r.existing)
            .collect();
        close_open_candidates(txn, rewritten).await?;
        sources::write(txn, department_id, ElementType::Person, self.linked).await?;
        sources::write(txn, department_id, ElementType::Person, self.unlinked).await?;
        write_candidates(txn, department_id, self.candidates).await
    }
}

/// Removes the open candidates of records that are written again (they are decided anew).
async fn close_open_candidates(txn: &DatabaseTransaction, records: Vec<i64>) -> anyhow::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    identity_candidate::Entity::delete_many()
        .filter(identity_candidate::Column::SourceRecordId.is_in(records))
        .filter(identity_candidate::Column::Status.eq(identity_candidate::OPEN))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes one open candidate per (record, person), in one statement per chunk.
async fn write_candidates(
    txn: &DatabaseTransaction,
    department_id: i64,
    candidates: Vec<(String, Vec<(i64, f64)>)>,
) -> anyhow::Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let records = sources::known(
        txn,
        department_id,
        candidates.iter().map(|(s, _)| s.as_str()),
    )
    .await?;
    let mut seen = HashSet::new();
    let rows: Vec<identity_candidate::ActiveModel> = candidates
        .iter()
        .filter_map(|(source_id, persons)| records.get(source_id).map(|r| (r.id, persons)))
        .flat_map(|(record, persons)| persons.iter().map(move |(p, s)| (record, *p, *s)))
        .filter(|(record, p, _)| seen.insert((*record, *p)))
        .map(
            |(record, person_id, score)| identity_candidate::ActiveModel {
                source_record_id: Set(record),
                person_id: Set(person_id),
                score: Set(score),
                status: Set(identity_candidate::OPEN.to_string()),
                decided_by: Set(None),
                decided_at: Set(None),
                ..Default::default()
            },
        )
        .collect();
    for chunk in rows.chunks(1000) {
        identity_candidate::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}
