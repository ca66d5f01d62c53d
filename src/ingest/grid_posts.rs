//! Grid posts 网格力量 from department rows (police grid police, civil-affairs community workers):
//! one `grid_staff` row per person, grid and role, for persons the hub already has.

use super::lookup::{self, UNKNOWN_PERSON};
use super::outcome::Outcome;
use super::sources::{self, Fingerprinted, Record};
use crate::domain::id_number::IdNumber;
use crate::entity::grid_staff;
use crate::entity::vocabulary::{ElementType, StaffRole};
use chrono::NaiveDate;
use sea_orm::{DatabaseTransaction, EntityTrait, Set};

/// A post named by a row, checked.
#[derive(Debug, Clone)]
pub struct PostFact {
    /// The person holding the post.
    pub id_number: IdNumber,
    /// The grid.
    pub grid_id: i64,
    /// The role in the grid.
    pub role: StaffRole,
    /// First day of the post.
    pub since: NaiveDate,
}

/// Writes the posts of a parsed batch inside `txn` for the department with `department_id`;
/// returns one outcome per row, in order: a post the person already holds is unchanged.
pub async fn write(
    txn: &DatabaseTransaction,
    department_id: i64,
    parsed: &[Result<Fingerprinted<PostFact>, String>],
) -> anyhow::Result<Vec<Outcome>> {
    let facts: Vec<&Fingerprinted<PostFact>> =
        parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let (mut seen, persons) =
        lookup::seen_and_persons(txn, department_id, &facts, |f| f.id_number.as_str()).await?;
    let mut posts = lookup::grid_posts(txn, persons.values().copied()).await?;
    let mut inserts = Vec::new();
    let mut records: Vec<(i64, Record)> = Vec::new();
    let mut outcomes = Vec::with_capacity(parsed.len());
    for item in parsed {
        outcomes.push(match item {
            Err(reason) => Outcome::Rejected(reason.clone()),
            Ok(item) if seen.is_unchanged(item) => Outcome::Unchanged,
            Ok(item) => match persons.get(item.fact.id_number.as_str()) {
                None => Outcome::Rejected(UNKNOWN_PERSON.to_string()),
                Some(&person) => {
                    records.push((person, seen.take(item)));
                    let fact = &item.fact;
                    if posts.insert((person, fact.grid_id, fact.role)) {
                        inserts.push(grid_staff::ActiveModel {
                            grid_id: Set(fact.grid_id),
                            person_id: Set(person),
                            role: Set(fact.role),
                            since: Set(fact.since),
                            until: Set(None),
                            ..Default::default()
                        });
                        Outcome::Inserted
                    } else {
                        Outcome::Unchanged
                    }
                }
            },
        });
    }
    for chunk in inserts.chunks(500) {
        grid_staff::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    sources::write(txn, department_id, ElementType::Person, records).await?;
    Ok(outcomes)
}
