//! What the department writers share: reading checked values out of a row (required values, ID
//! numbers, dates, grid codes) with a rejection reason naming the column, and loading in one
//! statement per batch what the hub already has (grids, persons by ID number, grid posts,
//! elements by a department's source ids).

use super::reader::Row;
use super::sources::{Fingerprinted, Seen};
use crate::domain::grid_code;
use crate::domain::id_number::IdNumber;
use crate::entity::vocabulary::{ElementType, StaffRole};
use crate::entity::{grid, grid_staff, person, source_record};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};
use std::collections::{HashMap, HashSet};

/// Why a row naming an ID number the hub does not know is rejected.
pub const UNKNOWN_PERSON: &str =
    "no person with this ID number in the hub; import the police registration first";

/// The value of `column`, or a rejection naming it.
pub fn required<'a>(row: &'a Row, column: &str) -> Result<&'a str, String> {
    row.values
        .get(column)
        .map(String::as_str)
        .ok_or_else(|| format!("{column}: required value missing"))
}

/// The value of `column` when the row gives one.
pub fn optional<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    row.values.get(column).map(String::as_str)
}

/// The normalised ID number of `column` (required).
pub fn id_number(row: &Row, column: &str) -> Result<IdNumber, String> {
    let raw = required(row, column)?;
    IdNumber::parse(raw).map_err(|e| format!("{column} `{raw}`: {e}"))
}

/// The date of `column` (YYYY-MM-DD) when given.
pub fn date(row: &Row, column: &str) -> Result<Option<NaiveDate>, String> {
    optional(row, column)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| format!("{column} `{raw}`: not a date (YYYY-MM-DD)"))
        })
        .transpose()
}

/// Today, in UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Every grid of the hub, code → id.
pub async fn grids(db: &DatabaseConnection) -> anyhow::Result<HashMap<String, i64>> {
    Ok(grid::Entity::find()
        .select_only()
        .column(grid::Column::Code)
        .column(grid::Column::Id)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The id of the grid `code` (a value of `column`), or a rejection saying why it is not one.
pub fn grid_id(grids: &HashMap<String, i64>, column: &str, code: &str) -> Result<i64, String> {
    grid_code::level_of(code).map_err(|e| format!("{column} `{code}`: {e}"))?;
    grids
        .get(code)
        .copied()
        .ok_or_else(|| format!("{column} `{code}`: not a grid of this hub"))
}

/// The ids of the persons with these (normalised) ID numbers, by ID number.
pub async fn person_ids(
    txn: &DatabaseTransaction,
    numbers: Vec<&str>,
) -> anyhow::Result<HashMap<String, i64>> {
    if numbers.is_empty() {
        return Ok(HashMap::new());
    }
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

/// The organizations a department knows by these codes (its source ids for organizations),
/// code → organization id.
pub async fn organization_ids(
    txn: &DatabaseTransaction,
    department_id: i64,
    codes: Vec<&str>,
) -> anyhow::Result<HashMap<String, i64>> {
    element_ids(txn, department_id, ElementType::Organization, codes).await
}

/// The elements of `element_type` a department knows by these source ids, source id → element id.
pub async fn element_ids(
    txn: &DatabaseTransaction,
    department_id: i64,
    element_type: ElementType,
    source_ids: Vec<&str>,
) -> anyhow::Result<HashMap<String, i64>> {
    if source_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(source_record::Entity::find()
        .select_only()
        .column(source_record::Column::SourceId)
        .column(source_record::Column::ElementId)
        .filter(source_record::Column::DepartmentId.eq(department_id))
        .filter(source_record::Column::ElementType.eq(element_type))
        .filter(source_record::Column::SourceId.is_in(source_ids))
        .into_tuple::<(String, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect())
}

/// The grid posts of these persons, as (person, grid, role).
pub async fn grid_posts(
    txn: &DatabaseTransaction,
    persons: impl Iterator<Item = i64>,
) -> anyhow::Result<HashSet<(i64, i64, StaffRole)>> {
    let persons: Vec<i64> = persons.collect();
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(grid_staff::Entity::find()
        .filter(grid_staff::Column::PersonId.is_in(persons))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| (s.person_id, s.grid_id, s.role))
        .collect())
}

/// For a batch of facts about persons: the department's records already in the hub and the
/// hub's persons (ID number → person id) the facts name, each in one statement.
pub async fn seen_and_persons<T>(
    txn: &DatabaseTransaction,
    department_id: i64,
    facts: &[&Fingerprinted<T>],
    id_number: impl Fn(&T) -> &str,
) -> anyhow::Result<(Seen, HashMap<String, i64>)> {
    let seen = Seen::load(
        txn,
        department_id,
        facts.iter().map(|f| f.source_id.as_str()),
    )
    .await?;
    let persons = person_ids(txn, facts.iter().map(|f| id_number(&f.fact)).collect()).await?;
    Ok((seen, persons))
}
