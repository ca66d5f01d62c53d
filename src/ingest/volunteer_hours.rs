//! Party volunteer service 志愿服务 records, one row per participant of an activity. The activity
//! is held by a team (a party organisation, named by its code) in a grid on a day; it is known by
//! (team, grid, title, day), and its hours are the most any participant served. A participant is
//! a person the hub already has (police registers persons) and takes part once per activity,
//! with the hours of the latest row.

use super::lookup::{self, UNKNOWN_PERSON};
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Record};
use crate::domain::id_number::IdNumber;
use crate::entity::vocabulary::{ElementType, VolunteerCategory};
use crate::entity::{volunteer_activity, volunteer_participation};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;
use std::collections::HashMap;

/// A participant row, checked.
#[derive(Debug, Clone)]
struct HoursFact {
    id_number: IdNumber,
    team_code: String,
    grid_id: i64,
    title: String,
    category: VolunteerCategory,
    held_on: NaiveDate,
    hours: f64,
}

fn category(label: Option<&str>) -> VolunteerCategory {
    match label {
        Some("交通引导") => VolunteerCategory::TrafficGuidance,
        Some("助学") => VolunteerCategory::StudentAid,
        Some("环境卫生") | Some("环境整治") => VolunteerCategory::Sanitation,
        Some("法律援助") => VolunteerCategory::LegalAid,
        Some("助老") => VolunteerCategory::ElderlyCare,
        _ => VolunteerCategory::Other,
    }
}

fn hours(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0)
        .ok_or_else(|| format!("hours `{raw}`: not a positive number of hours"))
}

/// Writes volunteer activities and their participants' hours.
pub struct VolunteerHoursWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

/// An activity: (team, grid, title, day).
type ActivityKey = (i64, i64, String, NaiveDate);

impl VolunteerHoursWriter {
    /// A writer for the party department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(VolunteerHoursWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<HoursFact>, String> {
        let activity_id = lookup::required(row, "activity_id")?;
        let title = lookup::required(row, "title")?.to_string();
        let held_on = lookup::date(row, "held_on")?.ok_or("held_on: required value missing")?;
        let grid_code = lookup::required(row, "grid_code")?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", grid_code)?;
        let id_number = lookup::id_number(row, "id_number")?;
        let hours = hours(lookup::required(row, "hours")?)?;
        let team_code = lookup::required(row, "team_org_code")?.to_string();
        let label = lookup::optional(row, "category");
        let fields = json!({
            "activity_id": activity_id, "team_org_code": team_code, "title": title,
            "category": label, "held_on": held_on.to_string(), "grid_code": grid_code,
            "id_number": id_number.as_str(), "name": lookup::optional(row, "name"), "hours": hours,
        });
        let source_id = format!("volunteer:{activity_id}:{}", id_number.as_str());
        let fact = HoursFact {
            id_number,
            team_code,
            grid_id,
            title,
            category: category(label),
            held_on,
            hours,
        };
        Ok(Fingerprinted::new(&source_id, row, &fields, fact))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order. Activities
    /// are few (one per dozens of rows), so each is found or inserted on its own.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<_> = rows.iter().map(|row| self.parse(row)).collect();
        let facts: Vec<&Fingerprinted<HoursFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let (mut seen, persons) =
            lookup::seen_and_persons(txn, self.department_id, &facts, |f| f.id_number.as_str())
                .await?;
        let teams = lookup::organization_ids(
            txn,
            self.department_id,
            facts.iter().map(|f| f.fact.team_code.as_str()).collect(),
        )
        .await?;
        let mut activities: HashMap<ActivityKey, i64> = HashMap::new();
        let mut records: Vec<(i64, Record)> = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            let outcome = match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => {
                    let fact = &item.fact;
                    match (persons.get(fact.id_number.as_str()), teams.get(&fact.team_code)) {
                        (None, _) => Outcome::Rejected(UNKNOWN_PERSON.to_string()),
                        (_, None) => Outcome::Rejected(format!(
                            "team_org_code `{}`: no party organisation with this code in the hub; import organizations first",
                            fact.team_code
                        )),
                        (Some(&person), Some(&team)) => {
                            let key = (team, fact.grid_id, fact.title.clone(), fact.held_on);
                            let activity = match activities.get(&key) {
                                Some(id) => *id,
                                None => activity_id(txn, &key, fact).await?,
                            };
                            activities.insert(key, activity);
                            records.push((person, seen.take(item)));
                            take_part(txn, activity, person, fact.hours).await?
                        }
                    }
                }
            };
            outcomes.push(outcome);
        }
        sources::write(txn, self.department_id, ElementType::Person, records).await?;
        Ok(outcomes)
    }
}

/// The id of the activity `key`, inserted when the hub does not have it; its hours are raised
/// to the fact's when they are fewer.
async fn activity_id(
    txn: &DatabaseTransaction,
    key: &ActivityKey,
    fact: &HoursFact,
) -> anyhow::Result<i64> {
    let (team, grid, title, held_on) = key;
    let found = volunteer_activity::Entity::find()
        .filter(volunteer_activity::Column::OrganizationId.eq(*team))
        .filter(volunteer_activity::Column::GridId.eq(*grid))
        .filter(volunteer_activity::Column::Title.eq(title.as_str()))
        .filter(volunteer_activity::Column::HeldOn.eq(*held_on))
        .one(txn)
        .await?;
    if let Some(activity) = found {
        if activity.hours < fact.hours {
            volunteer_activity::Entity::update(volunteer_activity::ActiveModel {
                id: Set(activity.id),
                hours: Set(fact.hours),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        }
        return Ok(activity.id);
    }
    let row = volunteer_activity::ActiveModel {
        organization_id: Set(*team),
        grid_id: Set(*grid),
        category: Set(fact.category),
        title: Set(title.clone()),
        held_on: Set(*held_on),
        hours: Set(fact.hours),
        ..Default::default()
    };
    Ok(row.insert(txn).await?.id)
}

/// Records that `person` served `hours` in `activity`: Inserted the first time, Updated when the
/// hours differ, Unchanged otherwise.
async fn take_part(
    txn: &DatabaseTransaction,
    activity: i64,
    person: i64,
    hours: f64,
) -> anyhow::Result<Outcome> {
    let found = volunteer_participation::Entity::find()
        .filter(volunteer_participation::Column::ActivityId.eq(activity))
        .filter(volunteer_participation::Column::PersonId.eq(person))
        .one(txn)
        .await?;
    let Some(found) = found else {
        volunteer_participation::ActiveModel {
            activity_id: Set(activity),
            person_id: Set(person),
            hours: Set(hours),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        return Ok(Outcome::Inserted);
    };
    if found.hours == hours {
        return Ok(Outcome::Unchanged);
    }
    volunteer_participation::Entity::update(volunteer_participation::ActiveModel {
        id: Set(found.id),
        hours: Set(hours),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(Outcome::Updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_hours_are_read() {
        assert_eq!(category(Some("助老")), VolunteerCategory::ElderlyCare);
        assert_eq!(category(None), VolunteerCategory::Other);
        assert_eq!(hours("1.5"), Ok(1.5));
        assert!(hours("0").is_err());
    }
}
