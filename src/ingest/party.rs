//! Party organisation 党组织 records: the party organisation tree and party members.
//!
//! A party organisation is keyed by its party code, which is its source id: the party
//! department's source record for an organization maps the code to the organization, so codes
//! need no column of their own. A parent must be in the hub or earlier in the same file. A member
//! row names a person the hub already has (police registers persons) and an organisation by its
//! code; a person has one party membership per organisation, whose category and points follow
//! the latest row.

use super::lookup::{self, UNKNOWN_PERSON};
use super::outcome::Outcome;
use super::reader::Row;
use super::sources::{self, Fingerprinted, Record, Seen};
use crate::domain::id_number::IdNumber;
use crate::entity::vocabulary::{ElementType, MembershipRole, OrganizationKind, PartyCategory};
use crate::entity::{membership, organization};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Why a member row naming an organisation code the hub does not know is rejected.
fn unknown_org(code: &str) -> String {
    format!("org_code `{code}`: no party organisation with this code in the hub; import organizations first")
}

/// Why an organisation whose parent is neither in the hub nor earlier in the file is rejected.
fn unknown_parent(code: &str) -> String {
    format!("parent_code `{code}`: no party organisation with this code in the hub or earlier in the file (parents come first)")
}

/// A party organisation row, checked.
#[derive(Debug, Clone)]
struct OrgFact {
    code: String,
    parent_code: Option<String>,
    name: String,
    kind: OrganizationKind,
    grid_id: Option<i64>,
}

/// The kind of party organisation named by `label`.
fn party_kind(label: &str) -> Option<OrganizationKind> {
    match label {
        "党工委" => Some(OrganizationKind::StreetPartyCommittee),
        "社区党委" | "大党委" => Some(OrganizationKind::CommunityPartyCommittee),
        "党总支" => Some(OrganizationKind::GeneralPartyBranch),
        "党支部" => Some(OrganizationKind::PartyBranch),
        "党小组" => Some(OrganizationKind::PartyGroup),
        _ => None,
    }
}

/// Writes the party organisation tree.
pub struct OrganizationsWriter {
    department_id: i64,
    grids: HashMap<String, i64>,
}

/// One organisation to write, in file order.
struct OrgStep {
    fact: OrgFact,
    record: Record,
}

impl OrganizationsWriter {
    /// A writer for the party department with `department_id`.
    pub async fn new(db: &DatabaseConnection, department_id: i64) -> anyhow::Result<Self> {
        Ok(OrganizationsWriter {
            department_id,
            grids: lookup::grids(db).await?,
        })
    }

    fn parse(&self, row: &Row) -> Result<Fingerprinted<OrgFact>, String> {
        let code = lookup::required(row, "org_code")?.to_string();
        let name = lookup::required(row, "name")?.to_string();
        let label = lookup::required(row, "org_type")?;
        let kind = party_kind(label).ok_or_else(|| {
            format!("org_type `{label}`: not one of 党工委, 社区党委, 党总支, 党支部, 党小组")
        })?;
        let grid_code = lookup::optional(row, "grid_code");
        let grid_id = grid_code
            .map(|code| lookup::grid_id(&self.grids, "grid_code", code))
            .transpose()?;
        let parent_code = lookup::optional(row, "parent_code").map(str::to_string);
        let fields = json!({
            "org_code": code, "parent_code": parent_code, "name": name,
            "org_type": label, "grid_code": grid_code,
        });
        let fact = OrgFact {
            code,
            parent_code,
            name,
            kind,
            grid_id,
        };
        Ok(Fingerprinted::new(&fact.code.clone(), row, &fields, fact))
    }

    /// Writes a batch of rows inside `txn`; returns one outcome per row, in order.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<Row>,
    ) -> anyhow::Result<Vec<Outcome>> {
        let parsed: Vec<_> = rows.iter().map(|row| self.parse(row)).collect();
        let facts: Vec<&Fingerprinted<OrgFact>> =
            parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let mut seen = Seen::load(
            txn,
            self.department_id,
            facts.iter().map(|f| f.source_id.as_str()),
        )
        .await?;
        let mut codes: Vec<&str> = facts.iter().map(|f| f.fact.code.as_str()).collect();
        codes.extend(facts.iter().filter_map(|f| f.fact.parent_code.as_deref()));
        let ids = lookup::organization_ids(txn, self.department_id, codes).await?;
        let existing = organizations(txn, ids.values().copied()).await?;
        let mut planned = HashSet::new();
        let mut steps = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            let outcome = match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => {
                    let fact = &item.fact;
                    let parent_known = fact
                        .parent_code
                        .as_ref()
                        .is_none_or(|p| ids.contains_key(p) || planned.contains(p));
                    if !parent_known {
                        let parent = fact.parent_code.as_deref().unwrap_or_default();
                        outcomes.push(Outcome::Rejected(unknown_parent(parent)));
                        continue;
                    }
                    let current = ids.get(&fact.code).and_then(|id| existing.get(id));
                    let outcome = org_outcome(current, fact, &ids, &mut planned);
                    steps.push(OrgStep {
                        fact: fact.clone(),
                        record: seen.take(item),
                    });
                    outcome
                }
            };
            outcomes.push(outcome);
        }
        self.apply(txn, steps, ids).await?;
        Ok(outcomes)
    }

    /// Writes the organisations in file order, so that a parent gets its id before its children.
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        steps: Vec<OrgStep>,
        mut ids: HashMap<String, i64>,
    ) -> anyhow::Result<()> {
        let mut records = Vec::with_capacity(steps.len());
        for step in steps {
            let fact = step.fact;
            let row = organization::ActiveModel {
                parent_id: Set(fact.parent_code.as_ref().and_then(|p| ids.get(p).copied())),
                grid_id: Set(fact.grid_id),
                department_id: Set(Some(self.department_id)),
                kind: Set(fact.kind),
                name: Set(fact.name),
                ..Default::default()
            };
            let id = match ids.get(&fact.code) {
                Some(id) => {
                    organization::Entity::update(organization::ActiveModel {
                        id: Set(*id),
                        ..row
                    })
                    .exec(txn)
                    .await?;
                    *id
                }
                None => row.insert(txn).await?.id,
            };
            ids.insert(fact.code, id);
            records.push((id, step.record));
        }
        sources::write(txn, self.department_id, ElementType::Organization, records).await
    }
}

/// Inserted for a new code, Updated when a value differs from the hub's (or from an earlier row
/// of the batch), Unchanged otherwise; a new code is marked `planned`.
fn org_outcome(
    current: Option<&organization::Model>,
    fact: &OrgFact,
    ids: &HashMap<String, i64>,
    planned: &mut HashSet<String>,
) -> Outcome {
    if !planned.insert(fact.code.clone()) {
        return Outcome::Updated;
    }
    let Some(current) = current else {
        return Outcome::Inserted;
    };
    planned.remove(&fact.code);
    let parent_id = fact.parent_code.as_ref().and_then(|p| ids.get(p).copied());
    let same = (
        current.parent_id,
        current.grid_id,
        current.kind,
        &current.name,
    ) == (parent_id, fact.grid_id, fact.kind, &fact.name);
    if same {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    }
}

async fn organizations(
    txn: &DatabaseTransaction,
    ids: impl Iterator<Item = i64>,
) -> anyhow::Result<HashMap<i64, organization::Model>> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

/// A party member row, checked.
#[derive(Debug, Clone)]
struct MemberFact {
    id_number: IdNumber,
    org_code: String,
    category: Option<PartyCategory>,
    points: Option<i32>,
    since: NaiveDate,
}

fn category(raw: &str) -> Result<PartyCategory, String> {
    match raw.to_uppercase().as_str() {
        "A" => Ok(PartyCategory::A),
        "B" => Ok(PartyCategory::B),
        "C" => Ok(PartyCategory::C),
        "D" => Ok(PartyCategory::D),
        _ => Err(format!("category `{raw}`: not one of A, B, C, D")),
    }
}

fn points(raw: &str) -> Result<i32, String> {
    raw.parse()
        .map_err(|_| format!("points `{raw}`: not a whole number"))
}

/// Writes party members.
pub struct MembersWriter {
    department_id: i64,
}

impl MembersWriter {
    /// A writer for the party department with `department_id`.
    pub fn new(department_id: i64) -> Self {
        MembersWriter { department_id }
    }

    fn parse(row: &Row) -> Result<Fingerprinted<MemberFact>, String> {
        let id_number = lookup::id_number(row, "id_number")?;
        let name = lookup::required(row, "name")?;
        let org_code = lookup::required(row, "org_code")?.to_string();
        let category = lookup::optional(row, "category")
            .map(category)
            .transpose()?;
        let points = lookup::optional(row, "points").map(points).transpose()?;
        let joined_on = lookup::date(row, "joined_on")?;
        let fields = json!({
            "id_number": id_number.as_str(), "name": name, "org_code": org_code,
            "category": category.map(|c| format!("{c:?}")), "points": points,
            "joined_on": joined_on.map(|d| d.to_string()),
        });
        let source_id = format!("member:{}:{org_code}", id_number.as_str());
        let fact = MemberFact {
            id_number,
            org_code,
            category,
            points,
            since: joined_on.unwrap_or_else(lookup::today),
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
        let facts: Vec<&Fingerprinted<MemberFact>> =
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
        let mut plan = MemberPlan {
            current: memberships(txn, persons.values().copied()).await?,
            ..MemberPlan::default()
        };
        let mut outcomes = Vec::with_capacity(rows.len());
        for item in &parsed {
            outcomes.push(match item {
                Err(reason) => Outcome::Rejected(reason.clone()),
                Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
                Ok(item) => match (
                    persons.get(item.fact.id_number.as_str()),
                    orgs.get(&item.fact.org_code),
                ) {
                    (None, _) => Outcome::Rejected(UNKNOWN_PERSON.to_string()),
                    (_, None) => Outcome::Rejected(unknown_org(&item.fact.org_code)),
                    (Some(&person), Some(&org)) => {
                        plan.records.push((person, seen.take(item)));
                        plan.add(person, org, &item.fact)
                    }
                },
            });
        }
        plan.apply(txn, self.department_id).await?;
        Ok(outcomes)
    }
}

/// The party memberships of these persons, by (person, organization).
async fn memberships(
    txn: &DatabaseTransaction,
    persons: impl Iterator<Item = i64>,
) -> anyhow::Result<HashMap<(i64, i64), membership::Model>> {
    let persons: Vec<i64> = persons.collect();
    if persons.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(membership::Entity::find()
        .filter(membership::Column::PersonId.is_in(persons))
        .filter(membership::Column::Role.eq(MembershipRole::PartyMember))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| ((m.person_id, m.organization_id), m))
        .collect())
}

/// What one batch of members will write.
#[derive(Default)]
struct MemberPlan {
    current: HashMap<(i64, i64), membership::Model>,
    changed: HashSet<(i64, i64)>,
    records: Vec<(i64, Record)>,
}

impl MemberPlan {
    fn add(&mut self, person: i64, org: i64, fact: &MemberFact) -> Outcome {
        let key = (person, org);
        let Some(current) = self.current.get_mut(&key) else {
            self.current.insert(
                key,
                membership::Model {
                    id: 0,
                    person_id: person,
                    organization_id: org,
                    role: MembershipRole::PartyMember,
                    party_category: fact.category,
                    points: fact.points,
                    since: fact.since,
                    until: None,
                },
            );
            self.changed.insert(key);
            return Outcome::Inserted;
        };
        let category = fact.category.or(current.party_category);
        let points = fact.points.or(current.points);
        if (category, points) == (current.party_category, current.points) {
            return Outcome::Unchanged;
        }
        current.party_category = category;
        current.points = points;
        self.changed.insert(key);
        Outcome::Updated
    }

    async fn apply(self, txn: &DatabaseTransaction, department_id: i64) -> anyhow::Result<()> {
        let (inserts, updates): (Vec<_>, Vec<_>) = self
            .changed
            .iter()
            .filter_map(|key| self.current.get(key))
            .partition(|m| m.id == 0);
        for chunk in inserts.chunks(500) {
            let rows = chunk.iter().map(|m| membership::ActiveModel {
                person_id: Set(m.person_id),
                organization_id: Set(m.organization_id),
                role: Set(m.role),
                party_category: Set(m.party_category),
                points: Set(m.points),
                since: Set(m.since),
                until: Set(None),
                ..Default::default()
            });
            membership::Entity::insert_many(rows).exec(txn).await?;
        }
        for m in updates {
            membership::Entity::update(membership::ActiveModel {
                id: Set(m.id),
                party_category: Set(m.party_category),
                points: Set(m.points),
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
    fn party_kinds_and_categories_are_read() {
        assert_eq!(party_kind("党支部"), Some(OrganizationKind::PartyBranch));
        assert_eq!(party_kind("支部"), None);
        assert_eq!(category("c"), Ok(PartyCategory::C));
        assert!(category("E").unwrap_err().contains("category `E`"));
        assert!(points("8.5").is_err());
    }

    #[test]
    fn a_code_planned_twice_is_an_update() {
        let fact = OrgFact {
            code: "DZ1".into(),
            parent_code: None,
            name: "支部".into(),
            kind: OrganizationKind::PartyBranch,
            grid_id: None,
        };
        let mut planned = HashSet::new();
        let ids = HashMap::new();
        assert_eq!(
            org_outcome(None, &fact, &ids, &mut planned),
            Outcome::Inserted
        );
        assert_eq!(
            org_outcome(None, &fact, &ids, &mut planned),
            Outcome::Updated
        );
    }
}
