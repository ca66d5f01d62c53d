//! The write scope of an import: a principal scoped to a grid writes only inside that grid's
//! subtree, as it reads. Before a batch reaches its writer, every row is screened against what
//! it names — the persons (by ID number), the grids it places things in, the department record
//! it updates (by source id) and hub-wide keys of existing elements (device codes, credit codes)
//! — and a row naming anything outside the subtree is rejected. A person outside the scope and a
//! person the hub does not have get the same rejection, so an import is no existence oracle.
//! An unscoped import (an admin, a department-wide key, `gridhub import`) screens nothing.

use super::houses;
use super::property;
use super::reader::Row;
use crate::access::scope::{descendants_of, source_records_within, within_grid};
use crate::domain::id_number::IdNumber;
use crate::entity::{grid, object, organization, person, source_record};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use std::collections::{HashMap, HashSet};

/// Why a row naming a person outside the scope, or no person at all, is rejected.
pub const NO_PERSON_IN_SCOPE: &str = "no person with this ID number in your grid scope";

/// The columns (hub names) that name a person by ID number.
const PERSON_COLUMNS: [&str; 2] = ["id_number", "officer_id_number"];

/// The column that names the grid a row places its element in.
const GRID_COLUMN: &str = "grid_code";

/// The grids an import may write in.
#[derive(Debug, Clone, Default)]
pub struct WriteScope {
    /// The grid whose subtree bounds the writes; `None` for the whole hub.
    root: Option<i64>,
    /// Codes and ids of the grids in that subtree.
    grids: HashMap<String, i64>,
    /// Ids of the grids in that subtree.
    ids: HashSet<i64>,
}

impl WriteScope {
    /// No bound: the whole hub.
    pub fn whole_hub() -> WriteScope {
        WriteScope::default()
    }

    /// The subtree of the grid with id `root`, or the whole hub.
    pub async fn of(db: &DatabaseConnection, root: Option<i64>) -> anyhow::Result<WriteScope> {
        let Some(root) = root else {
            return Ok(WriteScope::whole_hub());
        };
        let grids = grid::Entity::find()
            .select_only()
            .column(grid::Column::Code)
            .column(grid::Column::Id)
            .filter(grid::Column::Id.in_subquery(descendants_of(root)))
            .into_tuple::<(String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect::<HashMap<_, _>>();
        Ok(WriteScope {
            root: Some(root),
            ids: grids.values().copied().collect(),
            grids,
        })
    }

    /// Whether the grid with id `grid_id` may be written in.
    pub fn holds(&self, grid_id: i64) -> bool {
        self.root.is_none() || self.ids.contains(&grid_id)
    }

    /// The condition on the grid column of rows this scope may write (none for the whole hub).
    pub fn condition(&self, column: impl ColumnTrait) -> Condition {
        let all = Condition::all();
        match self.root {
            Some(root) => all.add(within_grid(column, root)),
            None => all,
        }
    }

    /// Why each row may not be written (`None`: it may), in the order of `rows`; `department_id`
    /// and `kind` say whose records of which kind the rows are.
    pub async fn screen(
        &self,
        db: &impl ConnectionTrait,
        department_id: i64,
        kind: &str,
        rows: &[Row],
    ) -> anyhow::Result<Vec<Option<String>>> {
        let Some(root) = self.root else {
            return Ok(vec![None; rows.len()]);
        };
        let named = Named::of(kind, rows);
        let outside = Outside {
            persons: persons_inside(db, root, &named.persons).await?,
            records: records_outside(db, root, department_id, &named.records).await?,
            devices: devices_outside(db, root, &named.devices).await?,
            organizations: organizations_outside(db, root, &named.credit_codes).await?,
        };
        Ok(rows
            .iter()
            .map(|row| self.refusal(kind, row, &outside).err())
            .collect())
    }

    /// Why `row` may not be written, if it may not.
    fn refusal(&self, kind: &str, row: &Row, outside: &Outside) -> Result<(), String> {
        for number in person_numbers(row) {
            if !outside.persons.contains(&number) {
                return Err(NO_PERSON_IN_SCOPE.to_string());
            }
        }
        if let Some(code) = row.values.get(GRID_COLUMN) {
            if !self.grids.contains_key(code.trim()) {
                return Err(format!(
                    "{GRID_COLUMN} `{code}`: not a grid in your grid scope"
                ));
            }
        }
        if let Some(id) = record_id(kind, row).filter(|id| outside.records.contains(id)) {
            return Err(format!(
                "record `{id}` of your department is held outside your grid scope"
            ));
        }
        let devices = (kind == "devices")
            .then(|| row.values.get("device_id"))
            .flatten();
        if let Some(code) = devices.filter(|c| outside.devices.contains(*c)) {
            return Err(format!("device `{code}` is held outside your grid scope"));
        }
        let credit = credit_code(kind, row);
        if let Some(code) = credit.filter(|c| outside.organizations.contains(c)) {
            return Err(format!(
                "organization `{code}` is held outside your grid scope"
            ));
        }
        Ok(())
    }
}

/// What the rows of a batch name.
#[derive(Default)]
struct Named {
    persons: Vec<String>,
    records: Vec<String>,
    devices: Vec<String>,
    credit_codes: Vec<String>,
}

impl Named {
    fn of(kind: &str, rows: &[Row]) -> Named {
        let mut named = Named::default();
        for row in rows {
            named.persons.extend(person_numbers(row));
            named.records.extend(record_id(kind, row));
            if kind == "devices" {
                named.devices.extend(row.values.get("device_id").cloned());
            }
            named.credit_codes.extend(credit_code(kind, row));
        }
        named
    }
}

/// What a batch names that lies outside the scope (persons: those inside it).
struct Outside {
    persons: HashSet<String>,
    records: HashSet<String>,
    devices: HashSet<String>,
    organizations: HashSet<String>,
}

/// The normalised ID numbers a row names; malformed ones are left to the writer's check.
fn person_numbers(row: &Row) -> Vec<String> {
    PERSON_COLUMNS
        .iter()
        .filter_map(|column| row.values.get(*column))
        .filter_map(|raw| IdNumber::parse(raw).ok())
        .map(|number| number.as_str().to_string())
        .collect()
}

/// The department's source id the row's record has, as its writer derives it.
fn record_id(kind: &str, row: &Row) -> Option<String> {
    let value = |column: &str| row.values.get(column).cloned();
    match kind {
        "houses" => houses::source_id_of(row),
        "residents" => property::source_id_of(row),
        "organizations" => value("org_code"),
        "ebike_sheds" => value("shed_id"),
        "service_requests" => value("request_id"),
        "devices" => value("device_id"),
        _ => value("record_id"),
    }
}

/// The credit code of a social organization row, as its writer normalises it.
fn credit_code(kind: &str, row: &Row) -> Option<String> {
    (kind == "social_organizations")
        .then(|| row.values.get("credit_code"))
        .flatten()
        .map(|raw| raw.trim().to_uppercase())
}

/// Of these ID numbers, those of persons inside the subtree of `root`.
async fn persons_inside(
    db: &impl ConnectionTrait,
    root: i64,
    numbers: &[String],
) -> anyhow::Result<HashSet<String>> {
    let inside = within_grid(person::Column::GridId, root);
    keys_where::<person::Entity>(db, person::Column::IdNumber, numbers, inside.into()).await
}

/// Of these source ids, those the department holds for an element outside the subtree.
async fn records_outside(
    db: &impl ConnectionTrait,
    root: i64,
    department_id: i64,
    source_ids: &[String],
) -> anyhow::Result<HashSet<String>> {
    let outside = Condition::all()
        .add(source_record::Column::DepartmentId.eq(department_id))
        .add(source_record::Column::ElementId.ne(0))
        .add(source_records_within(root).not());
    keys_where::<source_record::Entity>(db, source_record::Column::SourceId, source_ids, outside)
        .await
}

/// Of these codes, those of objects outside the subtree.
async fn devices_outside(
    db: &impl ConnectionTrait,
    root: i64,
    codes: &[String],
) -> anyhow::Result<HashSet<String>> {
    let outside = within_grid(object::Column::GridId, root).not();
    keys_where::<object::Entity>(db, object::Column::Code, codes, outside.into()).await
}

/// Of these credit codes, those of organizations outside the subtree (or placed in no grid).
async fn organizations_outside(
    db: &impl ConnectionTrait,
    root: i64,
    codes: &[String],
) -> anyhow::Result<HashSet<String>> {
    let outside = Condition::any()
        .add(within_grid(organization::Column::GridId, root).not())
        .add(organization::Column::GridId.is_null());
    keys_where::<organization::Entity>(db, organization::Column::CreditCode, codes, outside).await
}

/// Of `keys`, those found in the `key` column of `E`'s rows that meet `condition`.
async fn keys_where<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    keys: &[String],
    condition: Condition,
) -> anyhow::Result<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(E::find()
        .select_only()
        .column(key)
        .filter(key.is_in(keys.iter().map(String::as_str)))
        .filter(condition)
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect())
}
