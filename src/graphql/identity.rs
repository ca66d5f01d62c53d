//! Identity candidates in GraphQL: department records the importer could not link to a person
//! for certain (a resident without an ID number whose name and birth date fit several persons,
//! or one person with another phone), and the decisions on them: merge, keep apart, and split
//! a wrong merge. Only an admin or the property department decides (property sends the records
//! that need it); every decision is written to the audit log. A candidate is in a caller's row
//! scope when both its person and the house its record names are; any other looks exactly like
//! a missing one, to lists and decisions alike.

use super::error::{bad_input, coded, not_found, Code, OrInternal};
use super::guard;
use super::id::{decode_as, NodeType};
use super::loader::one;
use super::person::Person;
use super::source_record::SourceRecord;
use crate::access::context::Action;
use crate::access::policy::{GrantRights, Kind};
use crate::access::scope::Scoped;
use crate::access::Access;
use crate::db::Database;
use crate::entity::{house, identity_candidate, person, source_record};
use crate::ingest::candidates::{self, Refusal};
use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use std::collections::HashSet;

/// The department whose records need identity decisions.
const DECIDING_DEPARTMENT: &str = "property";

/// Where an identity candidate stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCandidateStatus {
    /// Nobody has decided yet; the record is not linked to any person.
    Open,
    /// The record was merged into this person.
    Merged,
    /// Decided to be a different person (or closed because the record went to another one).
    KeptApart,
}

impl IdentityCandidateStatus {
    fn as_str(self) -> &'static str {
        match self {
            IdentityCandidateStatus::Open => identity_candidate::OPEN,
            IdentityCandidateStatus::Merged => identity_candidate::MERGED,
            IdentityCandidateStatus::KeptApart => identity_candidate::KEPT_APART,
        }
    }

    fn of(stored: &str) -> IdentityCandidateStatus {
        match stored {
            identity_candidate::MERGED => IdentityCandidateStatus::Merged,
            identity_candidate::KEPT_APART => IdentityCandidateStatus::KeptApart,
            _ => IdentityCandidateStatus::Open,
        }
    }
}

/// A possible match between a department record and an existing person.
pub struct IdentityCandidate(identity_candidate::Model);

/// A possible match between a department record without an ID number and an existing person,
/// waiting for (or showing) a person's decision.
#[Object]
impl IdentityCandidate {
    /// Number of the candidate; pass it to `mergeIdentity` or `keepIdentitiesApart`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// How likely the record is this person, from 0 to 1: same name 0.1, plus same birth date
    /// 0.5, plus same phone 0.4 (a different phone takes 0.3 off).
    async fn score(&self) -> f64 {
        self.0.score
    }

    /// Where the decision stands.
    async fn status(&self) -> IdentityCandidateStatus {
        IdentityCandidateStatus::of(&self.0.status)
    }

    /// The department record in question (null when the caller may not see it).
    async fn source_record(&self, ctx: &Context<'_>) -> Result<Option<SourceRecord>> {
        let id = self.0.source_record_id;
        Ok(
            one::<source_record::Entity>(ctx, source_record::Column::Id, id)
                .await?
                .map(SourceRecord),
        )
    }

    /// The person the record may be (null when outside the caller's grids).
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let id = self.0.person_id;
        Ok(one::<person::Entity>(ctx, person::Column::Id, id)
            .await?
            .map(Person))
    }

    /// Who decided (the caller's name), once decided.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    /// When it was decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}

/// Whether the caller may see and decide identity candidates: an admin, or the property
/// department's system.
fn may_decide(access: &Access) -> bool {
    match access.role.grants {
        GrantRights::Any => true,
        GrantRights::OwnDepartment => {
            access.principal.department.as_deref() == Some(DECIDING_DEPARTMENT)
        }
        GrantRights::None => false,
    }
}

fn decider<'a>(ctx: &'a Context<'_>) -> Result<&'a Access> {
    let access = guard::access(ctx)?;
    guard::require(
        may_decide(access),
        "only an admin or the property department decides identity candidates",
    )?;
    Ok(access)
}

fn candidate_number(id: &ID) -> Result<i64> {
    id.parse()
        .map_err(|_| bad_input(format!("`{}` is not a candidate number", id.as_str())))
}

fn refused(refusal: Refusal) -> async_graphql::Error {
    match refusal {
        Refusal::NotFound(message) => not_found(message),
        Refusal::Conflict(message) => coded(Code::Conflict, message),
    }
}

/// The condition rows of `E` must meet in the caller's row scope.
fn visible<E: Scoped>(access: &Access) -> Condition {
    let all = Condition::all();
    match E::visible_in(&access.scope) {
        Some(visible) => all.add(visible),
        None => all,
    }
}

/// Of the rows with these ids, those of `E` in the caller's row scope.
async fn visible_ids<E: Scoped>(
    db: &DatabaseConnection,
    access: &Access,
    id: E::Column,
    ids: impl Iterator<Item = i64>,
) -> Result<HashSet<i64>> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found = E::find()
        .select_only()
        .column(id)
        .filter(id.is_in(ids))
        .filter(visible::<E>(access))
        .into_tuple::<i64>()
        .all(db)
        .await
        .or_internal()?;
    Ok(found.into_iter().collect())
}

/// The house a resident record names.
#[derive(Deserialize)]
struct NamedHouse {
    house_id: Option<i64>,
}

/// The candidates in the caller's row scope: their person visible, and the house their record
/// names too (a record naming none is outside every grid scope).
async fn in_scope(
    db: &DatabaseConnection,
    access: &Access,
    candidates: Vec<identity_candidate::Model>,
) -> Result<Vec<identity_candidate::Model>> {
    if access.scope.root.is_none() && access.scope.reads(Kind::Person) {
        return Ok(candidates);
    }
    let persons = visible_ids::<person::Entity>(
        db,
        access,
        person::Column::Id,
        candidates.iter().map(|c| c.person_id),
    )
    .await?;
    let records = source_record::Entity::find()
        .filter(source_record::Column::Id.is_in(candidates.iter().map(|c| c.source_record_id)))
        .all(db)
        .await
        .or_internal()?;
    let house_of = |record: &source_record::Model| {
        serde_json::from_str::<NamedHouse>(&record.fields)
            .ok()
            .and_then(|named| named.house_id)
    };
    let houses = visible_ids::<house::Entity>(
        db,
        access,
        house::Column::Id,
        records.iter().filter_map(house_of),
    )
    .await?;
    let placed: HashSet<i64> = records
        .iter()
        .filter(|r| house_of(r).is_some_and(|h| houses.contains(&h)))
        .map(|r| r.id)
        .collect();
    Ok(candidates
        .into_iter()
        .filter(|c| persons.contains(&c.person_id) && placed.contains(&c.source_record_id))
        .collect())
}

/// NOT_FOUND, exactly as for a missing candidate, unless candidate `number` exists and is in
/// the caller's row scope.
async fn require_in_scope(db: &DatabaseConnection, access: &Access, number: i64) -> Result<()> {
    let candidate = identity_candidate::Entity::find_by_id(number)
        .one(db)
        .await
        .or_internal()?;
    let found = in_scope(db, access, candidate.into_iter().collect()).await?;
    if found.is_empty() {
        return Err(refused(candidates::not_found_candidate(number)));
    }
    Ok(())
}

/// NOT_FOUND, exactly as for a missing record, unless source record `number` exists and is in
/// the caller's row scope.
async fn require_record_in_scope(
    db: &DatabaseConnection,
    access: &Access,
    number: i64,
) -> Result<()> {
    let visible = source_record::Entity::find_by_id(number)
        .filter(visible::<source_record::Entity>(access))
        .one(db)
        .await
        .or_internal()?;
    match visible {
        Some(_) => Ok(()),
        None => Err(refused(candidates::not_found_record(number))),
    }
}

/// Notes a decision on `person_id` for the audit log.
fn audit(access: &Access, person_id: i64, detail: String) {
    access.note_action(Action {
        break_glass: false,
        element: Some(("person", person_id)),
        fields: vec!["person.phone".to_string()],
        detail,
    });
}

/// Identity candidates in GraphQL queries.
#[derive(Default)]
pub struct IdentityQuery;

/// Identity candidates.
#[Object]
impl IdentityQuery {
    /// Identity candidates, oldest first; by default all of them. Only an admin or the property
    /// department may list them, and a caller scoped to a grid sees those whose person and
    /// house are both inside its grid.
    async fn identity_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only candidates in this status, e.g. OPEN for those waiting.")]
        status: Option<IdentityCandidateStatus>,
    ) -> Result<Vec<IdentityCandidate>> {
        decider(ctx)?;
        let mut select = identity_candidate::Entity::find();
        if let Some(status) = status {
            select = select.filter(identity_candidate::Column::Status.eq(status.as_str()));
        }
        let db = &ctx.data::<Database>()?.conn;
        let rows = select
            .order_by_asc(identity_candidate::Column::Id)
            .all(db)
            .await
            .or_internal()?;
        let rows = in_scope(db, guard::access(ctx)?, rows).await?;
        Ok(rows.into_iter().map(IdentityCandidate).collect())
    }
}

/// Identity decisions.
#[derive(Default)]
pub struct IdentityMutation;

/// Identity decisions.
#[Object]
impl IdentityMutation {
    /// Merges the candidate's record into its person: the record is linked to the person, the
    /// residence it names is added, its phone becomes the person's (property owns the phone),
    /// and the record's other open candidates are kept apart.
    async fn merge_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of an OPEN identity candidate.")] candidate_id: ID,
    ) -> Result<IdentityCandidate> {
        let access = decider(ctx)?;
        let number = candidate_number(&candidate_id)?;
        let db = &ctx.data::<Database>()?.conn;
        require_in_scope(db, access, number).await?;
        let merged = candidates::merge(db, number, &access.principal.subject)
            .await
            .or_internal()?
            .map_err(refused)?;
        let detail = format!(
            "merged source record {} into person {} (identity candidate {number})",
            merged.source_record_id, merged.person_id
        );
        audit(access, merged.person_id, detail);
        Ok(IdentityCandidate(merged))
    }

    /// Decides that the candidate's person is not the one the record describes.
    async fn keep_identities_apart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of an OPEN identity candidate.")] candidate_id: ID,
    ) -> Result<IdentityCandidate> {
        let access = decider(ctx)?;
        let number = candidate_number(&candidate_id)?;
        let db = &ctx.data::<Database>()?.conn;
        require_in_scope(db, access, number).await?;
        let kept = candidates::keep_apart(db, number, &access.principal.subject)
            .await
            .or_internal()?
            .map_err(refused)?;
        let detail = format!(
            "kept source record {} apart from person {} (identity candidate {number})",
            kept.source_record_id, kept.person_id
        );
        audit(access, kept.person_id, detail);
        Ok(IdentityCandidate(kept))
    }

    /// Undoes a wrong merge: the record is unlinked from its person and kept apart from it,
    /// the candidates the merge closed are open again, the residence it named is removed, and
    /// a phone it had set falls back to the person's other records. Records linked by their
    /// own ID number cannot be split.
    async fn split_source_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of a source record linked to a person.")] source_record_id: ID,
    ) -> Result<SourceRecord> {
        let access = decider(ctx)?;
        let number = decode_as(&source_record_id, NodeType::SourceRecord)?;
        let db = &ctx.data::<Database>()?.conn;
        require_record_in_scope(db, access, number).await?;
        let (record, person_id) = candidates::split(db, number, &access.principal.subject)
            .await
            .or_internal()?
            .map_err(refused)?;
        audit(
            access,
            person_id,
            format!("split source record {number} from person {person_id}"),
        );
        Ok(SourceRecord(record))
    }
}
