//! Data-sharing grants: approved requests in force, as the access layer applies them, and the
//! storage of requests through their lifecycle (see `crate::domain::sharing`).

use super::field_policy::SensitiveField;
use crate::domain::sharing::{transition, SharingAction, SharingStatus};
use crate::entity::sharing_request;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

/// An approved request in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Id of the request.
    pub id: i64,
    /// Department that provides the data.
    pub provider: String,
    /// Element types covered (`person`, `house` …).
    pub element_types: Vec<String>,
    /// Fields covered (`person.phone` …).
    pub fields: Vec<String>,
    /// Purposes the data may be read for.
    pub purposes: Vec<String>,
    /// Hashes of the registered operations it is bound to; empty for any operation.
    pub operations: Vec<String>,
    /// End of the grant.
    pub ends_at: DateTime<Utc>,
}

/// A comma-separated list as stored.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Grant {
    /// The grant a stored request is, if it is approved.
    pub fn from_request(request: &sharing_request::Model) -> Option<Grant> {
        (request.status == SharingStatus::Approved.as_str()).then(|| Grant {
            id: request.id,
            provider: request.provider.clone(),
            element_types: split_list(&request.element_types),
            fields: split_list(&request.fields),
            purposes: split_list(&request.purposes),
            operations: split_list(&request.operations),
            ends_at: request.ends_at,
        })
    }

    /// Whether the grant unmasks `field` for the operation with `operation_hash` at `now`.
    pub fn covers(&self, field: SensitiveField, operation_hash: &str, now: DateTime<Utc>) -> bool {
        now < self.ends_at
            && field.owner() == Some(self.provider.as_str())
            && self.element_types.iter().any(|t| t == field.element())
            && self.fields.iter().any(|f| f == field.name())
            && (self.operations.is_empty() || self.operations.iter().any(|h| h == operation_hash))
    }

    /// Whether reading for `purpose` is allowed.
    pub fn allows_purpose(&self, purpose: &str) -> bool {
        self.purposes.iter().any(|p| p == purpose)
    }
}

/// The grants `department` holds at `now`: approved and not ended.
pub async fn in_force(
    db: &impl ConnectionTrait,
    department: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Grant>, sea_orm::DbErr> {
    let rows = sharing_request::Entity::find()
        .filter(sharing_request::Column::Requester.eq(department))
        .filter(sharing_request::Column::Status.eq(SharingStatus::Approved.as_str()))
        .filter(sharing_request::Column::EndsAt.gt(now))
        .all(db)
        .await?;
    Ok(rows.iter().filter_map(Grant::from_request).collect())
}

/// Applies `action` to a stored request by `actor`, with a note; refuses what the lifecycle
/// does not allow.
pub async fn decide(
    db: &impl ConnectionTrait,
    request: sharing_request::Model,
    action: SharingAction,
    actor: &str,
    note: Option<String>,
) -> Result<Result<sharing_request::Model, String>, sea_orm::DbErr> {
    let now = Utc::now();
    let current = SharingStatus::parse(&request.status)
        .unwrap_or(SharingStatus::Rejected)
        .at(request.ends_at, now);
    let next = match transition(current, action) {
        Ok(next) => next,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut active = request.into_active_model();
    active.status = Set(next.as_str().to_string());
    active.decided_by = Set(Some(actor.to_string()));
    active.decided_at = Set(Some(now));
    active.decision_note = Set(note);
    Ok(Ok(active.update(db).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn grant() -> Grant {
        Grant {
            id: 1,
            provider: "property".into(),
            element_types: vec!["person".into()],
            fields: vec!["person.phone".into()],
            purposes: vec!["elderly care visit".into()],
            operations: vec![],
            ends_at: Utc::now() + Duration::days(30),
        }
    }

    #[test]
    fn covers_only_named_fields_of_the_provider_until_the_end() {
        let now = Utc::now();
        let g = grant();
        assert!(g.covers(SensitiveField::Phone, "op", now));
        assert!(!g.covers(SensitiveField::IdNumber, "op", now));
        assert!(!g.covers(SensitiveField::Phone, "op", now + Duration::days(31)));
        let wrong_provider = Grant {
            provider: "police".into(),
            ..grant()
        };
        assert!(!wrong_provider.covers(SensitiveField::Phone, "op", now));
    }

    #[test]
    fn bound_grants_cover_only_their_operations() {
        let bound = Grant {
            operations: vec!["abc".into()],
            ..grant()
        };
        assert!(bound.covers(SensitiveField::Phone, "abc", Utc::now()));
        assert!(!bound.covers(SensitiveField::Phone, "other", Utc::now()));
    }

    #[test]
    fn lists_are_split_and_trimmed() {
        assert_eq!(split_list(" a, b ,,c"), ["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }
}
