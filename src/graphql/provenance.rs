//! Where departments disagree about a person: each field on which their latest records differ,
//! who says what since when, beside the value the hub shows under its precedence rule (a
//! field's owner department first, else the latest record; see `crate::ingest::persons`).
//! Sensitive values in claims are shown through the access layer like the fields themselves.

use super::guard::{self, in_full};
use super::loader::{many, one};
use crate::access::context::Resolution;
use crate::access::field_policy::{column_field, mask_column};
use crate::domain::provenance::{conflicts, Statement};
use crate::entity::vocabulary::ElementType;
use crate::entity::{department, person, source_record};
use async_graphql::{Context, Result, SimpleObject};
use chrono::{DateTime, Utc};

/// One department's latest value of a disputed field.
#[derive(SimpleObject)]
pub struct FieldClaim {
    /// Department code: police, civil_affairs, property or party.
    pub department: String,
    /// The value it gives (masked like the field itself when sensitive; null when not shown).
    pub value: Option<String>,
    /// Since when it has said so.
    pub since: DateTime<Utc>,
}

/// A field on which departments disagree.
#[derive(SimpleObject)]
pub struct FieldConflict {
    /// The field under the hub's name, e.g. `phone`, `name`, `household_address`.
    pub field: String,
    /// The value the hub shows (masked when sensitive; null for fields the person card does not
    /// hold).
    pub shown_value: Option<String>,
    /// What each department says.
    pub claims: Vec<FieldClaim>,
}

fn shown(person: &person::Model, field: &str) -> Option<String> {
    match field {
        "id_number" => Some(person.id_number.clone()),
        "name" => Some(person.name.clone()),
        "ethnicity" => Some(person.ethnicity.clone()),
        "phone" => person.phone.clone(),
        "household_address" => person.household_address.clone(),
        "local_household" => Some(person.local_household.to_string()),
        "floating" => Some(person.floating.to_string()),
        _ => None,
    }
}

/// `value` of `field` as the caller may see it: `Ok(None)` for a value not shown at all.
fn visible(ctx: &Context<'_>, person: i64, field: &str, value: String) -> Result<Option<String>> {
    let Some(sensitive) = column_field(field) else {
        return Ok(Some(value));
    };
    if in_full(ctx, sensitive, ("person", person))? {
        return Ok(Some(value));
    }
    Ok(mask_column(field, &value))
}

/// Whether the caller may know that departments disagree on `field`: not for a field it may
/// not see at all, nor for one without a masked form (a tag, welfare status) it may not see in
/// full, since the disagreement itself tells the value.
fn disclosable(ctx: &Context<'_>, field: &str) -> Result<bool> {
    let Some(sensitive) = column_field(field) else {
        return Ok(true);
    };
    Ok(match guard::access(ctx)?.resolution(sensitive) {
        Resolution::Full | Resolution::Denied(_) | Resolution::Unaudited => true,
        Resolution::Absent => false,
        Resolution::Masked => mask_column(field, "0").is_some(),
    })
}

/// The conflicts among the departments' records of `person`.
pub async fn conflicts_of(ctx: &Context<'_>, person: &person::Model) -> Result<Vec<FieldConflict>> {
    let records =
        many::<source_record::Entity>(ctx, source_record::Column::ElementId, person.id).await?;
    let mut statements = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.element_type == ElementType::Person)
    {
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&record.fields) else {
            continue;
        };
        let code = one::<department::Entity>(ctx, department::Column::Id, record.department_id)
            .await?
            .map_or_else(|| record.department_id.to_string(), |d| d.code);
        statements.push(Statement {
            department: code,
            received_at: record.received_at,
            fields,
        });
    }
    let mut found = Vec::new();
    for conflict in conflicts(&statements) {
        let field = conflict.field;
        if !disclosable(ctx, &field)? {
            continue;
        }
        let mut claims = Vec::new();
        for claim in conflict.claims {
            claims.push(FieldClaim {
                department: claim.department,
                value: visible(ctx, person.id, &field, claim.value)?,
                since: claim.since,
            });
        }
        let shown_value = match shown(person, &field) {
            Some(value) => visible(ctx, person.id, &field, value)?,
            None => None,
        };
        found.push(FieldConflict {
            field,
            shown_value,
            claims,
        });
    }
    Ok(found)
}
