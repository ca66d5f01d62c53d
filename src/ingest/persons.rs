//! Police person records 户籍与居住登记 → Persons. A person is keyed by the normalised resident
//! ID number (15-digit numbers upgraded, full-width digits and spaces removed); a record whose ID
//! number is malformed or fails its check character is rejected, as is one in an unknown grid.
//!
//! Precedence (which department's value the hub shows): a field's owner department wins, and
//! where the owner has not said, the latest record does. Police owns name, ethnicity, household
//! address, household type, floating status and the grid where the person lives; property owns
//! the phone, so a police phone is shown unless a property record gives one.

use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted};
use crate::domain::grid_code;
use crate::domain::id_number::{self, IdNumber};
use crate::entity::vocabulary::{ElementType, Gender, PersonTag};
use crate::entity::{department, grid, person, person_tag};
use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    Set,
};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// A police person record, checked and normalised.
#[derive(Debug, Clone)]
struct PersonFact {
    source_id: String,
    id_number: IdNumber,
    name: String,
    ethnicity: Option<String>,
    phone: Option<String>,
    household_address: Option<String>,
    local_household: Option<bool>,
    floating: Option<bool>,
    grid_id: i64,
    key_person: Option<bool>,
    fields: Value,
}

/// Writes police person records.
pub struct PersonsWriter {
    department_id: i64,
    property_id: Option<i64>,
    grids: HashMap<String, i64>,
}

fn yes_no(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "是" | "yes" | "y" | "true" | "1" => Some(true),
        "否" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

fn local_household(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "本地" | "local" => Some(true),
        "外地" | "nonlocal" | "non-local" => Some(false),
        _ => None,
    }
}

fn floating(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "流动人口" | "floating" => Some(true),
        "户籍人口" | "常住人口" | "registered" => Some(false),
        _ => None,
    }
}

/// A name with its spaces removed where it is written in Chinese characters.
fn clean_name(raw: &str) -> String {
    let trimmed = raw.trim();
    if trimmed
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    {
        trimmed.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// A phone number with full-width digits converted and separators removed.
fn clean_phone(raw: &str) -> Option<String> {
    let digits: String = id_number::normalize(raw)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then_some(digits)
}

impl PersonsWriter {
    /// A writer for the department with `department_id`; knows every grid code of the hub.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        let grids = grid::Entity::find()
            .select_only()
            .column(grid::Column::Code)
            .column(grid::Column::Id)
            .into_tuple::<(String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let property_id = department::Entity::find()
            .filter(department::Column::Code.eq("property"))
            .one(db)
            .await?
            .map(|d| d.id);
        Ok(PersonsWriter {
            department_id,
            property_id,
            grids,
        })
    }

    fn parse(&self, row: &Row) -> Result<PersonFact, String> {
        let value = |name: &str| row.values.get(name).map(String::as_str);
        let raw_id = value("id_number").ok_or("the ID number is missing")?;
        let id_number =
            IdNumber::parse(raw_id).map_err(|e| format!("ID number `{raw_id}`: {e}"))?;
        let name = clean_name(value("name").ok_or("the name is missing")?);
        let code = value("grid_code").ok_or("the grid code is missing")?.trim();
        grid_code::level_of(code).map_err(|e| format!("grid code `{code}`: {e}"))?;
        let grid_id = *self
            .grids
            .get(code)
            .ok_or_else(|| format!("grid code `{code}` is not a grid of this hub"))?;
        let fact = PersonFact {
            source_id: value("record_id")
                .map(str::to_string)
                .unwrap_or_else(|| id_number.as_str().to_string()),
            name,
            ethnicity: value("ethnicity").map(str::to_string),
            phone: value("phone").and_then(clean_phone),
            household_address: value("household_address").map(str::to_string),
            local_household: value("household_type").and_then(local_household),
            floating: value("population_type").and_then(floating),
            grid_id,
            key_person: value("key_person").and_then(yes_no),
            fields: Value::Null,
            id_number,
        };
        Ok(PersonFact {
            fields: fields_of(&fact, code),
            ..fact
        })
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<Result<Fingerprinted<PersonFact>, String>> = rows
            .iter()
            .map(|row| {
                self.parse(row).map(|fact| {
                    let fields = fact.fields.clone();
                    Fingerprinted::new(&fact.source_id.clone(), row, &fields, fact)
                })
            })
            .collect();
        let facts: Vec<&Fingerprinted<PersonFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let known = sources::known(
            txn,
            self.department_id,
            facts.iter().map(|f| f.source_id.as_str()),
        )
        .await?;
        let mut persons =
            existing_persons(txn, facts.iter().map(|f| f.fact.id_number.as_str())).await?;
        let phone_owned = sources::with_field(
            txn,
            &self.property_id,
            persons.values().map(|p| p.id),
            "phone",
        )
        .await?;
        let mut plan = Plan::default();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(fact) => plan.add(fact, &known, &mut persons, &phone_owned),
            });
        }
        plan.apply(txn, self.department_id, persons).await?;
        Ok(outcomes)
    }
}

/// The record's values under the hub's column names, kept on its source record.
fn fields_of(fact: &PersonFact, grid_code: &str) -> Value {
    let mut fields = Map::new();
    fields.insert("id_number".into(), json!(fact.id_number.as_str()));
    fields.insert("name".into(), json!(fact.name));
    fields.insert("grid_code".into(), json!(grid_code));
    let optional = [
        ("ethnicity", fact.ethnicity.clone().map(Value::from)),
        ("phone", fact.phone.clone().map(Value::from)),
        (
            "household_address",
            fact.household_address.clone().map(Value::from),
        ),
        ("local_household", fact.local_household.map(Value::from)),
        ("floating", fact.floating.map(Value::from)),
        ("key_person", fact.key_person.map(Value::from)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            fields.insert(name.into(), value);
        }
    }
    Value::Object(fields)
}

async fn existing_persons<'a>(
    txn: &DatabaseTransaction,
    numbers: impl Iterator<Item = &'a str>,
) -> anyhow::Result<HashMap<String, person::Model>> {
    let numbers: Vec<&str> = numbers.collect();
    if numbers.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(person::Entity::find()
        .filter(person::Column::IdNumber.is_in(numbers))
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id_number.clone(), p))
        .collect())
}

/// The person as `fact` says it is, from `current` (id 0 for a new person); `phone_owned` when
/// property has given the person's phone.
fn merged(current: Option<&person::Model>, fact: &PersonFact, phone_owned: bool) -> person::Model {
    let id = &fact.id_number;
    let gender = match id.gender() {
        id_number::Gender::Male => Gender::Male,
        id_number::Gender::Female => Gender::Female,
    };
    let local = fact
        .local_household
        .or(current.map(|p| p.local_household))
        .unwrap_or(true);
    person::Model {
        id: current.map_or(0, |p| p.id),
        id_number: id.as_str().to_string(),
        name: fact.name.clone(),
        gender,
        birth_date: id.birth_date(),
        ethnicity: fact
            .ethnicity
            .clone()
            .or(current.map(|p| p.ethnicity.clone()))
            .unwrap_or_else(|| "未登记".to_string()),
        phone: if phone_owned {
            current.and_then(|p| p.phone.clone())
        } else {
            fact.phone.clone().or(current.and_then(|p| p.phone.clone()))
        },
        household_address: fact
            .household_address
            .clone()
            .or(current.and_then(|p| p.household_address.clone())),
        local_household: local,
        floating: fact
            .floating
            .or(current.map(|p| p.floating))
            .unwrap_or(!local),
        grid_id: fact.grid_id,
        updated_at: current.map_or_else(Utc::now, |p| p.updated_at),
    }
}

/// What one batch will write.
#[derive(Default)]
struct Plan {
    inserts: Vec<person::Model>,
    updates: Vec<person::Model>,
    records: Vec<(String, sources::Record)>,
    tags: Vec<(String, bool)>,
}

impl Plan {
    fn add(
        &mut self,
        item: &Fingerprinted<PersonFact>,
        known: &HashMap<String, sources::Known>,
        persons: &mut HashMap<String, person::Model>,
        phone_owned: &HashSet<i64>,
    ) -> Outcome {
        let fact = &item.fact;
        let number = fact.id_number.as_str().to_string();
        let same = known
            .get(&item.source_id)
            .is_some_and(|k| k.fingerprint == item.fingerprint)
            || self
                .records
                .iter()
                .any(|(_, r)| r.source_id == item.source_id && r.fingerprint == item.fingerprint);
        if same {
            return Outcome::Unchanged;
        }
        let current = persons.get(&number);
        let owned = current.is_some_and(|p| phone_owned.contains(&p.id));
        let next = merged(current, fact, owned);
        let outcome = match current {
            None => {
                self.inserts.push(next.clone());
                Outcome::Inserted
            }
            Some(p) if differs(p, &next) => {
                let next = person::Model {
                    updated_at: Utc::now(),
                    ..next.clone()
                };
                self.updates.retain(|u| u.id != next.id);
                self.updates.push(next.clone());
                Outcome::Updated
            }
            Some(_) => Outcome::Unchanged,
        };
        persons.insert(number.clone(), next);
        self.records.push((number.clone(), item.record(known)));
        if let Some(key_person) = fact.key_person {
            self.tags.push((number, key_person));
        }
        outcome
    }

    async fn apply(
        self,
        txn: &DatabaseTransaction,
        department_id: i64,
        persons: HashMap<String, person::Model>,
    ) -> anyhow::Result<()> {
        let mut ids: HashMap<String, i64> = persons
            .iter()
            .filter(|(_, p)| p.id != 0)
            .map(|(n, p)| (n.clone(), p.id))
            .collect();
        ids.extend(insert_persons(txn, &self.inserts).await?);
        for update in self.updates {
            person::Entity::update(person::ActiveModel {
                id: Set(update.id),
                name: Set(update.name),
                ethnicity: Set(update.ethnicity),
                phone: Set(update.phone),
                household_address: Set(update.household_address),
                local_household: Set(update.local_household),
                floating: Set(update.floating),
                grid_id: Set(update.grid_id),
                updated_at: Set(update.updated_at),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        }
        let records = self
            .records
            .into_iter()
            .filter_map(|(number, record)| ids.get(&number).map(|id| (*id, record)))
            .collect();
        sources::write(txn, department_id, ElementType::Person, records).await?;
        write_tags(txn, &self.tags, &ids).await
    }
}

fn differs(a: &person::Model, b: &person::Model) -> bool {
    (
        &a.name,
        &a.ethnicity,
        &a.phone,
        &a.household_address,
        a.local_household,
        a.floating,
        a.grid_id,
    ) != (
        &b.name,
        &b.ethnicity,
        &b.phone,
        &b.household_address,
        b.local_household,
        b.floating,
        b.grid_id,
    )
}

/// Inserts new persons (one multi-row statement per chunk) and returns their ids by ID number.
async fn insert_persons(
    txn: &DatabaseTransaction,
    persons: &[person::Model],
) -> anyhow::Result<HashMap<String, i64>> {
    if persons.is_empty() {
        return Ok(HashMap::new());
    }
    for chunk in persons.chunks(500) {
        let rows = chunk.iter().map(|p| person::ActiveModel {
            id_number: Set(p.id_number.clone()),
            name: Set(p.name.clone()),
            gender: Set(p.gender),
            birth_date: Set(p.birth_date),
            ethnicity: Set(p.ethnicity.clone()),
            phone: Set(p.phone.clone()),
            household_address: Set(p.household_address.clone()),
            local_household: Set(p.local_household),
            floating: Set(p.floating),
            grid_id: Set(p.grid_id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        });
        person::Entity::insert_many(rows).exec(txn).await?;
    }
    let numbers: Vec<&str> = persons.iter().map(|p| p.id_number.as_str()).collect();
    Ok(person::Entity::find()
        .select_only()
        .column(person::Column::IdNumber)
        .column(person::Column::Id)
        .filter(person::Column::IdNumber.is_in(numbers))
        .into_tuple::<(String, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect())
}

/// Adds or removes the key-person tag, which police owns.
async fn write_tags(
    txn: &DatabaseTransaction,
    tags: &[(String, bool)],
    ids: &HashMap<String, i64>,
) -> anyhow::Result<()> {
    let (add, remove): (Vec<_>, Vec<_>) = tags.iter().partition(|(_, on)| *on);
    let add: Vec<person_tag::ActiveModel> = add
        .iter()
        .filter_map(|(n, _)| ids.get(n))
        .map(|id| person_tag::ActiveModel {
            person_id: Set(*id),
            tag: Set(PersonTag::KeyPerson),
        })
        .collect();
    if !add.is_empty() {
        person_tag::Entity::insert_many(add)
            .on_conflict_do_nothing_on([person_tag::Column::PersonId, person_tag::Column::Tag])
            .exec(txn)
            .await?;
    }
    let remove: Vec<i64> = remove
        .iter()
        .filter_map(|(n, _)| ids.get(n).copied())
        .collect();
    if !remove.is_empty() {
        person_tag::Entity::delete_many()
            .filter(person_tag::Column::PersonId.is_in(remove))
            .filter(person_tag::Column::Tag.eq(PersonTag::KeyPerson))
            .exec(txn)
            .await?;
    }
    Ok(())
}
