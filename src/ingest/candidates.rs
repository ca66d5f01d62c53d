//! Identity decisions on records the importer could not link for certain: merge a record into
//! one of its candidate persons, keep a candidate apart, or split a wrong merge. Each decision
//! runs in one transaction and keeps who decided and when on the candidate rows.
//!
//! A merge links the source record to the person, adds the residence the record names (house,
//! role, since) when missing, and applies the record's phone (property owns the phone). A split
//! undoes that: the record is unlinked again (element id 0), the candidate of that person is
//! kept apart (a new candidate row when the importer had linked the record by itself), the
//! candidates the merge had closed are open again, the residence the record names is removed,
//! and when the person's phone is the record's phone it falls back to the latest phone another
//! record of that person gives (property records first, then any department's, e.g. the
//! police registration), or none.

use super::property::evidence_of;
use crate::domain::identity::{self, Evidence};
use crate::entity::vocabulary::{ElementType, ResidenceRole};
use crate::entity::{department, identity_candidate, person, residence, source_record};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;

/// Why a decision was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The candidate or record does not exist.
    NotFound(String),
    /// The decision does not fit the current state (already decided, already linked …).
    Conflict(String),
}

/// A decision's result: the changed row, or why nothing changed.
pub type Decided<T> = anyhow::Result<Result<T, Refusal>>;

/// The values of a resident record that decisions use.
#[derive(Debug, Default, Deserialize)]
struct RecordFields {
    name: Option<String>,
    birth_date: Option<NaiveDate>,
    phone: Option<String>,
    id_number: Option<String>,
    house_id: Option<i64>,
    role: Option<String>,
    since: Option<NaiveDate>,
}

impl RecordFields {
    fn of(record: &source_record::Model) -> RecordFields {
        serde_json::from_str(&record.fields).unwrap_or_default()
    }

    fn evidence(&self) -> Evidence {
        Evidence::new(
            self.name.as_deref().unwrap_or_default(),
            self.birth_date,
            self.phone.as_deref(),
        )
    }

    /// The residence the record names: house and role.
    fn residence(&self) -> Option<(i64, ResidenceRole)> {
        let role = ResidenceRole::try_from_value(self.role.as_ref()?).ok()?;
        Some((self.house_id?, role))
    }
}

/// Merges the candidate's record into the candidate's person.
pub async fn merge(
    db: &DatabaseConnection,
    candidate_id: i64,
    by: &str,
) -> Decided<identity_candidate::Model> {
    let txn = crate::db::begin_write(db).await?;
    let candidate = match open_candidate(&txn, candidate_id).await? {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(record) = source_record::Entity::find_by_id(candidate.source_record_id)
        .one(&txn)
        .await?
    else {
        return Ok(Err(not_found_record(candidate.source_record_id)));
    };
    if record.element_id != 0 {
        return Ok(Err(Refusal::Conflict(format!(
            "source record {} is already linked to a person; split it first",
            record.id
        ))));
    }
    let now = Utc::now();
    let person_id = candidate.person_id;
    link(&txn, &record, person_id).await?;
    identity_candidate::Entity::update_many()
        .col_expr(
            identity_candidate::Column::Status,
            Expr::value(identity_candidate::KEPT_APART),
        )
        .col_expr(identity_candidate::Column::DecidedBy, Expr::value(by))
        .col_expr(identity_candidate::Column::DecidedAt, Expr::value(now))
        .filter(identity_candidate::Column::SourceRecordId.eq(record.id))
        .filter(identity_candidate::Column::Status.eq(identity_candidate::OPEN))
        .filter(identity_candidate::Column::Id.ne(candidate.id))
        .exec(&txn)
        .await?;
    let merged = set_status(&txn, candidate, identity_candidate::MERGED, by, now).await?;
    let fields = RecordFields::of(&record);
    add_residence(&txn, person_id, &fields).await?;
    if let Some(phone) = &fields.phone {
        set_phone(&txn, person_id, Some(phone.clone())).await?;
    }
    txn.commit().await?;
    Ok(Ok(merged))
}

/// Decides that the candidate's person is not the one the record describes.
pub async fn keep_apart(
    db: &DatabaseConnection,
    candidate_id: i64,
    by: &str,
) -> Decided<identity_candidate::Model> {
    let txn = crate::db::begin_write(db).await?;
    let candidate = match open_candidate(&txn, candidate_id).await? {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let kept = set_status(
        &txn,
        candidate,
        identity_candidate::KEPT_APART,
        by,
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(kept))
}

/// Undoes a wrong merge of a record linked without its ID number; returns the record, now
/// unlinked, and the person it was linked to.
pub async fn split(
    db: &DatabaseConnection,
    record_id: i64,
    by: &str,
) -> Decided<(source_record::Model, i64)> {
    let txn = crate::db::begin_write(db).await?;
    let Some(record) = source_record::Entity::find_by_id(record_id)
        .one(&txn)
        .await?
    else {
        return Ok(Err(not_found_record(record_id)));
    };
    let fields = RecordFields::of(&record);
    if let Err(refusal) = splittable(&record, &fields) {
        return Ok(Err(refusal));
    }
    let person_id = record.element_id;
    let now = Utc::now();
    let unlinked = link(&txn, &record, 0).await?;
    keep_apart_after_split(&txn, &record, &fields, person_id, by, now).await?;
    if let Some((house, role)) = fields.residence() {
        residence::Entity::delete_many()
            .filter(residence::Column::PersonId.eq(person_id))
            .filter(residence::Column::HouseId.eq(house))
            .filter(residence::Column::Role.eq(role))
            .exec(&txn)
            .await?;
    }
    restore_phone(&txn, person_id, &fields).await?;
    txn.commit().await?;
    Ok(Ok((unlinked, person_id)))
}

/// The refusal for a source record that does not exist.
pub fn not_found_record(id: i64) -> Refusal {
    Refusal::NotFound(format!("no source record {id}"))
}

/// The refusal for an identity candidate that does not exist.
pub fn not_found_candidate(id: i64) -> Refusal {
    Refusal::NotFound(format!("no identity candidate {id}"))
}

/// Only a person record linked by a decision (no ID number of its own) can be split.
fn splittable(record: &source_record::Model, fields: &RecordFields) -> Result<(), Refusal> {
    if record.element_type != ElementType::Person || record.element_id == 0 {
        return Err(Refusal::Conflict(format!(
            "source record {} is not linked to a person",
            record.id
        )));
    }
    if fields.id_number.is_some() {
        return Err(Refusal::Conflict(format!(
            "source record {} is linked by its own ID number, not by a match",
            record.id
        )));
    }
    Ok(())
}

async fn open_candidate(
    txn: &DatabaseTransaction,
    id: i64,
) -> anyhow::Result<Result<identity_candidate::Model, Refusal>> {
    let found = identity_candidate::Entity::find_by_id(id).one(txn).await?;
    Ok(match found {
        None => Err(not_found_candidate(id)),
        Some(c) if c.status != identity_candidate::OPEN => Err(Refusal::Conflict(format!(
            "identity candidate {id} is already decided ({})",
            c.status
        ))),
        Some(c) => Ok(c),
    })
}

async fn set_status(
    txn: &DatabaseTransaction,
    candidate: identity_candidate::Model,
    status: &str,
    by: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<identity_candidate::Model> {
    let mut row = candidate.into_active_model();
    row.status = Set(status.to_string());
    row.decided_by = Set(Some(by.to_string()));
    row.decided_at = Set(Some(at));
    Ok(row.update(txn).await?)
}

async fn link(
    txn: &DatabaseTransaction,
    record: &source_record::Model,
    person_id: i64,
) -> anyhow::Result<source_record::Model> {
    let mut row = record.clone().into_active_model();
    row.element_type = Set(ElementType::Person);
    row.element_id = Set(person_id);
    Ok(row.update(txn).await?)
}

async fn add_residence(
    txn: &DatabaseTransaction,
    person_id: i64,
    fields: &RecordFields,
) -> anyhow::Result<()> {
    let Some((house, role)) = fields.residence() else {
        return Ok(());
    };
    let existing = residence::Entity::find()
        .filter(residence::Column::PersonId.eq(person_id))
        .filter(residence::Column::HouseId.eq(house))
        .filter(residence::Column::Role.eq(role))
        .one(txn)
        .await?;
    if existing.is_none() {
        residence::ActiveModel {
            person_id: Set(person_id),
            house_id: Set(house),
            role: Set(role),
            since: Set(fields.since.unwrap_or_else(|| Utc::now().date_naive())),
            until: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

async fn set_phone(
    txn: &DatabaseTransaction,
    person_id: i64,
    phone: Option<String>,
) -> anyhow::Result<()> {
    person::Entity::update_many()
        .col_expr(person::Column::Phone, Expr::value(phone))
        .col_expr(person::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(person::Column::Id.eq(person_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Marks the person's candidate of the record kept apart and reopens the candidates that the
/// merge closed (those decided at the same instant as the merged one).
async fn keep_apart_after_split(
    txn: &DatabaseTransaction,
    record: &source_record::Model,
    fields: &RecordFields,
    person_id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let merged = identity_candidate::Entity::find()
        .filter(identity_candidate::Column::SourceRecordId.eq(record.id))
        .filter(identity_candidate::Column::PersonId.eq(person_id))
        .filter(identity_candidate::Column::Status.eq(identity_candidate::MERGED))
        .one(txn)
        .await?;
    let Some(merged) = merged else {
        let Some(person) = person::Entity::find_by_id(person_id).one(txn).await? else {
            return Ok(());
        };
        identity_candidate::ActiveModel {
            source_record_id: Set(record.id),
            person_id: Set(person_id),
            score: Set(identity::score(&fields.evidence(), &evidence_of(&person))),
            status: Set(identity_candidate::KEPT_APART.to_string()),
            decided_by: Set(Some(by.to_string())),
            decided_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        return Ok(());
    };
    if let Some(merged_at) = merged.decided_at {
        identity_candidate::Entity::update_many()
            .col_expr(
                identity_candidate::Column::Status,
                Expr::value(identity_candidate::OPEN),
            )
            .col_expr(
                identity_candidate::Column::DecidedBy,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                identity_candidate::Column::DecidedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(identity_candidate::Column::SourceRecordId.eq(record.id))
            .filter(identity_candidate::Column::Status.eq(identity_candidate::KEPT_APART))
            .filter(identity_candidate::Column::DecidedAt.eq(merged_at))
            .exec(txn)
            .await?;
    }
    set_status(txn, merged, identity_candidate::KEPT_APART, by, now).await?;
    Ok(())
}

/// When the person's phone is the split record's, falls back to the latest phone another
/// record of the person gives: property first, then any department; none if no record does.
async fn restore_phone(
    txn: &DatabaseTransaction,
    person_id: i64,
    fields: &RecordFields,
) -> anyhow::Result<()> {
    let Some(person) = person::Entity::find_by_id(person_id).one(txn).await? else {
        return Ok(());
    };
    if fields.phone.is_none() || person.phone != fields.phone {
        return Ok(());
    }
    let property = department::Entity::find()
        .filter(department::Column::Code.eq("property"))
        .one(txn)
        .await?
        .map(|d| d.id);
    let records = source_record::Entity::find()
        .filter(source_record::Column::ElementType.eq(ElementType::Person))
        .filter(source_record::Column::ElementId.eq(person_id))
        .order_by_desc(source_record::Column::ReceivedAt)
        .order_by_desc(source_record::Column::Id)
        .all(txn)
        .await?;
    let phone_of = |r: &source_record::Model| RecordFields::of(r).phone;
    let fallback = records
        .iter()
        .filter(|r| Some(r.department_id) == property)
        .find_map(phone_of)
        .or_else(|| records.iter().find_map(phone_of));
    set_phone(txn, person_id, fallback).await
}
