//! Party 双报到 records: an in-service party member of a unit's organisation registering to serve
//! in the grid where they live. The row names a person the hub already has (police registers
//! persons), the unit's party organisation by its code and a grid; there is one registration per
//! (person, organisation, grid), whose date and service hours follow the latest row.

use super::lookup::{self, UNKNOWN_PERSON};
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Record};
use crate::domain::id_number::IdNumber;
use crate::entity::dual_registration;
use crate::entity::vocabulary::ElementType;
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A 双报到 row, checked.
#[derive(Debug, Clone)]
struct DualFact {
    id_number: IdNumber,
    org_code: String,
    grid_id: i64,
    registered_on: NaiveDate,
    service_hours: f64,
}

fn hours(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h >= 0.0)
        .ok_or_else(|| format!("service_hours `{raw}`: not a number of hours"))
}

/// Writes 双报到 registrations.
pub struct DualRegistrationsWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

/// (person, organization, grid).
type Key = (i64, i64, i64);

impl DualRegistrationsWriter {
    /// A writer for the party department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(DualRegistrationsWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<DualFact>, String> {
        let id_number = lookup::id_number(row, "id_number")?;
        let name = lookup::required(row, "name")?;
        let org_code = lookup::required(row, "unit_org_code")?.to_string();
        let grid_code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", grid_code)?;
        let registered_on = lookup::date(row, "registered_on")?;
        let service_hours = lookup::optional(row, "service_hours")
            .map(hours)
            .transpose()?;
        let fields = json!({
            "id_number": id_number.as_str(), "name": name, "unit_org_code": org_code,
            "grid_code": grid_code, "registered_on": registered_on.map(|d| d.to_string()),
            "service_hours": service_hours,
        });
        let source_id = format!("dual:{}:{org_code}:{grid_code}", id_number.as_str());
        let fact = DualFact {
            id_number,
            org_code,
            grid_id,
            registered_on: registered_on.unwrap_or_else(lookup::today),
            service_hours: service_hours.unwrap_or(0.0),
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
        let facts: Vec<&Fingerprinted<DualFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let (mut seen, persons) =
            lookup::seen_and_persons(txn, self.department_id, &facts, |f| f.id_number.as_str())
                .await?;
        let orgs = lookup::organization_ids(
            txn,
            self.department_id,
            facts.iter().map(|f| f.fact.org_code.as_str()).collect(),
        )
        .await?;
        let mut plan = DualPlan {
            current: registrations(txn, persons.values().copied().collect()).await?,
            ..DualPlan::default()
        };
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => {
                    let fact = &item.fact;
                    match (persons.get(fact.id_number.as_str()), orgs.get(&fact.org_code)) {
                        (None, _) => Outcome::Rejected(UNKNOWN_PERSON.to_string()),
                        (_, None) => Outcome::Rejected(format!(
                            "unit_org_code `{}`: no party organisation with this code in the hub; import organizations first",
                            fact.org_code
                        )),
                        (Some(&person), Some(&org)) => {
                            plan.records.push((person, seen.take(item)));
                            plan.add((person, org, fact.grid_id), fact)
                        }
                    }
                }
            });
        }
        plan.apply(txn, self.department_id).await?;
        Ok(outcomes)
    }
}

/// The registrations of these persons, by (person, organization, grid).
async fn registrations(
    txn: &DatabaseTransaction,
    persons: Vec<i64>,
) -> anyhow::Result<HashMap<Key, dual_registration::Model>> {
    if persons.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(dual_registration::Entity::find()
        .filter(dual_registration::Column::PersonId.is_in(persons))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| ((r.person_id, r.organization_id, r.grid_id), r))
        .collect())
}

/// What one batch of registrations will write.
#[derive(Default)]
struct DualPlan {
    current: HashMap<Key, dual_registration::Model>,
    changed: HashSet<Key>,
    records: Vec<(i64, Record)>,
}

impl DualPlan {
    fn add(&mut self, key: Key, fact: &DualFact) -> Outcome {
        let next = dual_registration::Model {
            id: self.current.get(&key).map_or(0, |r| r.id),
            person_id: key.0,
            organization_id: key.1,
            grid_id: key.2,
            registered_on: fact.registered_on,
            service_hours: fact.service_hours,
        };
        let outcome = match self.current.get(&key) {
            None => Outcome::Inserted,
            Some(current) if *current == next => return Outcome::Unchanged,
            Some(_) => Outcome::Updated,
        };
        self.current.insert(key, next);
        self.changed.insert(key);
        outcome
    }

    async fn apply(self, txn: &DatabaseTransaction, department_id: i64) -> anyhow::Result<()> {
        let (inserts, updates): (Vec<_>, Vec<_>) = self
            .changed
            .iter()
            .filter_map(|key| self.current.get(key))
            .partition(|r| r.id == 0);
        for chunk in inserts.chunks(500) {
            let rows = chunk.iter().map(|r| dual_registration::ActiveModel {
                person_id: Set(r.person_id),
                organization_id: Set(r.organization_id),
                grid_id: Set(r.grid_id),
                registered_on: Set(r.registered_on),
                service_hours: Set(r.service_hours),
                ..Default::default()
            });
            dual_registration::Entity::insert_many(rows)
                .exec(txn)
                .await?;
        }
        for r in updates {
            dual_registration::Entity::update(dual_registration::ActiveModel {
                id: Set(r.id),
                registered_on: Set(r.registered_on),
                service_hours: Set(r.service_hours),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        }
        sources::write(txn, department_id, ElementType::Person, self.records).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_non_negative_numbers() {
        assert_eq!(hours("12"), Ok(12.0));
        assert_eq!(hours("1.5"), Ok(1.5));
        assert!(hours("-1").is_err());
        assert!(hours("NaN").is_err());
    }
}
