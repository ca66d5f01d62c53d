//! Civil affairs 民政 records: welfare status, social organisations and community workers.
//!
//! Welfare and community-worker rows name a person the hub already has (police registers
//! persons) by the ID number. Welfare status becomes a care tag of the person (低保 → low-income,
//! 残疾 → disabled, 独居老人 → elderly living alone), removed when its end date has passed; the
//! phone on a welfare row is kept with the source record only, as civil affairs does not own it.
//! A social organisation is keyed by its unified social credit code. A community worker holds one
//! grid-staff post per (person, grid, post).

use super::grid_posts::{self, PostFact};
use super::lookup::{self, UNKNOWN_PERSON};
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Seen};
use crate::domain::credit_code;
use crate::domain::id_number::IdNumber;
use crate::entity::vocabulary::{ElementType, OrganizationKind, PersonTag, StaffRole};
use crate::entity::{organization, person_tag};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A welfare row, checked.
#[derive(Debug, Clone)]
struct WelfareFact {
    id_number: IdNumber,
    tag: PersonTag,
    ended: bool,
}

fn welfare_tag(label: &str) -> Result<PersonTag, String> {
    match label.to_lowercase().as_str() {
        "低保" | "低保户" | "low_income" => Ok(PersonTag::LowIncome),
        "残疾" | "残疾人" | "disabled" => Ok(PersonTag::Disabled),
        "独居老人" | "elderly_living_alone" => Ok(PersonTag::ElderlyLivingAlone),
        _ => Err(format!(
            "welfare_type `{label}`: not one of 低保, 残疾, 独居老人"
        )),
    }
}

/// Writes welfare status as care tags.
pub struct WelfareWriter {
    department_id: i64,
}

impl WelfareWriter {
    /// A writer for the civil affairs department with `department_id`.
    pub fn new(department_id: i64) -> Self {
        WelfareWriter { department_id }
    }

    fn parse(row: &Row) -> Result<Fingerprinted<WelfareFact>, String> {
        let id_number = lookup::id_number(row, "id_number")?;
        let name = lookup::required(row, "name")?;
        let tag = welfare_tag(lookup::required(row, "welfare_type")?)?;
        let since = lookup::date(row, "since")?;
        let until = lookup::date(row, "until")?;
        let phone =
            lookup::optional(row, "phone").and_then(crate::domain::identity::normalize_phone);
        let source_id = lookup::optional(row, "record_id")
            .map(str::to_string)
            .unwrap_or_else(|| format!("welfare:{}:{tag:?}", id_number.as_str()));
        let fields = json!({
            "id_number": id_number.as_str(), "name": name, "welfare_type": format!("{tag:?}"),
            "phone": phone, "since": since.map(|d| d.to_string()),
            "until": until.map(|d| d.to_string()),
        });
        let fact = WelfareFact {
            id_number,
            tag,
            ended: until.is_some_and(|d| d < lookup::today()),
        };
        Ok(Fingerprinted::new(&source_id, row, &fields, fact))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<_> = rows.iter().map(Self::parse).collect();
        let facts: Vec<&Fingerprinted<WelfareFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let (mut seen, persons) =
            lookup::seen_and_persons(txn, self.department_id, &facts, |f| f.id_number.as_str())
                .await?;
        let before = tags(txn, persons.values().copied()).await?;
        let mut tags = before.clone();
        let mut records = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => match persons.get(item.fact.id_number.as_str()) {
                    None => Outcome::Rejected(UNKNOWN_PERSON.to_string()),
                    Some(&person) => {
                        records.push((person, seen.take(item)));
                        tag_outcome(&mut tags, person, &item.fact)
                    }
                },
            });
        }
        write_tags(txn, &before, &tags).await?;
        sources::write(txn, self.department_id, ElementType::Person, records).await?;
        Ok(outcomes)
    }
}

/// Adds or removes the fact's tag in `tags`: Inserted for a new tag, Updated for a removed one,
/// Unchanged when the person already is as the fact says.
fn tag_outcome(tags: &mut HashSet<(i64, PersonTag)>, person: i64, fact: &WelfareFact) -> Outcome {
    let key = (person, fact.tag);
    match (fact.ended, tags.contains(&key)) {
        (false, false) => {
            tags.insert(key);
            Outcome::Inserted
        }
        (true, true) => {
            tags.remove(&key);
            Outcome::Updated
        }
        _ => Outcome::Unchanged,
    }
}

/// The welfare tags of these persons.
async fn tags(
    txn: &DatabaseTransaction,
    persons: impl Iterator<Item = i64>,
) -> anyhow::Result<HashSet<(i64, PersonTag)>> {
    let persons: Vec<i64> = persons.collect();
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(person_tag::Entity::find()
        .filter(person_tag::Column::PersonId.is_in(persons))
        .filter(person_tag::Column::Tag.ne(PersonTag::KeyPerson))
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.person_id, t.tag))
        .collect())
}

/// Inserts the tags in `after` but not in `before`, and deletes the others.
async fn write_tags(
    txn: &DatabaseTransaction,
    before: &HashSet<(i64, PersonTag)>,
    after: &HashSet<(i64, PersonTag)>,
) -> anyhow::Result<()> {
    let added: Vec<person_tag::ActiveModel> = after
        .difference(before)
        .map(|(person, tag)| person_tag::ActiveModel {
            person_id: Set(*person),
            tag: Set(*tag),
        })
        .collect();
    for chunk in added.chunks(1000) {
        person_tag::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    for (person, tag) in before.difference(after) {
        person_tag::Entity::delete_many()
            .filter(person_tag::Column::PersonId.eq(*person))
            .filter(person_tag::Column::Tag.eq(*tag))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// A social organisation row, checked.
#[derive(Debug, Clone, PartialEq)]
struct SocialOrgFact {
    credit_code: String,
    name: String,
    address: Option<String>,
    grid_id: Option<i64>,
}

/// Writes social organisations.
pub struct SocialOrganizationsWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

impl SocialOrganizationsWriter {
    /// A writer for the civil affairs department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(SocialOrganizationsWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<SocialOrgFact>, String> {
        let raw = lookup::required(row, "credit_code")?;
        let credit_code = raw.trim().to_uppercase();
        if !credit_code::is_valid(&credit_code) {
            return Err(format!(
                "credit_code `{raw}`: not a valid unified social credit code (GB 32100 length, characters or check character)"
            ));
        }
        let name = lookup::required(row, "name")?.to_string();
        let address = lookup::optional(row, "address").map(str::to_string);
        let grid_code = lookup::optional(row, "grid_code");
        let grid_id = grid_code
            .map(|code| lookup::grid_id(&self.grids, "grid_code", code))
            .transpose()?;
        let fields = json!({
            "credit_code": credit_code, "name": name, "address": address, "grid_code": grid_code,
        });
        let fact = SocialOrgFact {
            credit_code,
            name,
            address,
            grid_id,
        };
        Ok(Fingerprinted::new(
            &fact.credit_code.clone(),
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
        let facts: Vec<&Fingerprinted<SocialOrgFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let mut seen = Seen::load(
            txn,
            self.department_id,
            facts.iter().map(|f| f.source_id.as_str()),
        )
        .await?;
        let before = by_credit_code(txn, facts.iter().map(|f| f.fact.credit_code.as_str())).await?;
        let mut after: HashMap<String, SocialOrgFact> = before
            .iter()
            .map(|(code, org)| (code.clone(), fact_of(org)))
            .collect();
        let mut records = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => {
                    records.push((item.fact.credit_code.clone(), seen.take(item)));
                    let fact = item.fact.clone();
                    match after.insert(fact.credit_code.clone(), fact.clone()) {
                        None => Outcome::Inserted,
                        Some(previous) if previous == fact => Outcome::Unchanged,
                        Some(_) => Outcome::Updated,
                    }
                }
            });
        }
        let ids = write_social_orgs(txn, &before, after).await?;
        let records = records
            .into_iter()
            .filter_map(|(code, record)| ids.get(&code).map(|id| (*id, record)))
            .collect();
        sources::write(txn, self.department_id, ElementType::Organization, records).await?;
        Ok(outcomes)
    }
}

fn fact_of(org: &organization::Model) -> SocialOrgFact {
    SocialOrgFact {
        credit_code: org.credit_code.clone().unwrap_or_default(),
        name: org.name.clone(),
        address: org.address.clone(),
        grid_id: org.grid_id,
    }
}

/// The organizations with these credit codes, by code.
async fn by_credit_code<'a>(
    txn: &DatabaseTransaction,
    codes: impl Iterator<Item = &'a str>,
) -> anyhow::Result<HashMap<String, organization::Model>> {
    let codes: Vec<&str> = codes.collect();
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::CreditCode.is_in(codes))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|o| o.credit_code.clone().map(|c| (c, o)))
        .collect())
}

/// Inserts the new organisations (multi-row) and updates the changed ones; returns the ids of
/// all of them by credit code.
async fn write_social_orgs(
    txn: &DatabaseTransaction,
    before: &HashMap<String, organization::Model>,
    after: HashMap<String, SocialOrgFact>,
) -> anyhow::Result<HashMap<String, i64>> {
    let row = |fact: &SocialOrgFact| organization::ActiveModel {
        grid_id: Set(fact.grid_id),
        name: Set(fact.name.clone()),
        address: Set(fact.address.clone()),
        ..Default::default()
    };
    let mut inserts = Vec::new();
    for (code, fact) in &after {
        match before.get(code) {
            None => inserts.push(organization::ActiveModel {
                parent_id: Set(None),
                department_id: Set(None),
                kind: Set(OrganizationKind::SocialOrganization),
                credit_code: Set(Some(code.clone())),
                ..row(fact)
            }),
            Some(org) if fact_of(org) != *fact => {
                organization::Entity::update(organization::ActiveModel {
                    id: Set(org.id),
                    ..row(fact)
                })
                .exec(txn)
                .await?;
            }
            Some(_) => {}
        }
    }
    for chunk in inserts.chunks(500) {
        organization::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(by_credit_code(txn, after.keys().map(String::as_str))
        .await?
        .into_iter()
        .map(|(code, org)| (code, org.id))
        .collect())
}

fn staff_role(post: &str) -> Result<StaffRole, String> {
    match post {
        "网格长" => Ok(StaffRole::GridLeader),
        "专职网格员" => Ok(StaffRole::FullTimeWorker),
        "兼职网格员" => Ok(StaffRole::PartTimeWorker),
        "楼道长" => Ok(StaffRole::BuildingLeader),
        "协理员" => Ok(StaffRole::Coordinator),
        _ => Err(format!(
            "post `{post}`: not one of 网格长, 专职网格员, 兼职网格员, 楼道长, 协理员"
        )),
    }
}

/// Writes community workers' grid posts.
pub struct CommunityWorkersWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

impl CommunityWorkersWriter {
    /// A writer for the civil affairs department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(CommunityWorkersWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<PostFact>, String> {
        let id_number = lookup::id_number(row, "id_number")?;
        let name = lookup::required(row, "name")?;
        let grid_code = lookup::required(row, "grid_code")?;
        let post = lookup::required(row, "post")?;
        let role = staff_role(post)?;
        let grid_id = lookup::grid_id(&self.grids, "grid_code", grid_code)?;
        let since = lookup::date(row, "since")?;
        let phone =
            lookup::optional(row, "phone").and_then(crate::domain::identity::normalize_phone);
        let fields = json!({
            "id_number": id_number.as_str(), "name": name, "phone": phone,
            "grid_code": grid_code, "post": format!("{role:?}"),
            "since": since.map(|d| d.to_string()),
        });
        let source_id = format!("worker:{}:{grid_code}:{role:?}", id_number.as_str());
        let fact = PostFact {
            id_number,
            grid_id,
            role,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_to_tags_and_roles() {
        assert_eq!(welfare_tag("低保"), Ok(PersonTag::LowIncome));
        assert_eq!(welfare_tag("Disabled"), Ok(PersonTag::Disabled));
        assert!(welfare_tag("优抚").unwrap_err().contains("welfare_type"));
        assert_eq!(staff_role("楼道长"), Ok(StaffRole::BuildingLeader));
        assert!(staff_role("保安").is_err());
    }

    #[test]
    fn an_ended_status_removes_the_tag() {
        let mut tags = HashSet::from([(7, PersonTag::LowIncome)]);
        let fact = WelfareFact {
            id_number: IdNumber::parse("65020319620308184X").unwrap(),
            tag: PersonTag::LowIncome,
            ended: true,
        };
        assert_eq!(tag_outcome(&mut tags, 7, &fact), Outcome::Updated);
        assert_eq!(tag_outcome(&mut tags, 7, &fact), Outcome::Unchanged);
        assert!(tags.is_empty());
    }
}
