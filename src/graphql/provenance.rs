//! Where departments disagree about a person: each field on which their latest records differ,
//! who says what since when, beside the value the hub shows under its precedence rule (a
//! field's owner department first, else the latest record; see `crate::ingest::persons`).
//! Sensitive values in claims are shown through the access layer like the fields themselves.

use super::guard::show;
use super::loader::{many, one};
use crate::access::field_policy::SensitiveField;
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

fn sensitive(field: &str) -> Option<SensitiveField> {
    match field {
        "id_number" => Some(SensitiveField::IdNumber),
        "phone" => Some(SensitiveField::Phone),
        "birth_date" => Some(SensitiveField::BirthDate),
        "key_person" => Some(SensitiveField::KeyPersonTag),
        _ => None,
    }
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

/// `value` of `field` as the caller may see it.
fn visible(ctx: &Context<'_>, person: i64, field: &str, value: String) -> Result<Option<String>> {
    match sensitive(field) {
        Some(SensitiveField::KeyPersonTag) => Ok(None),
        Some(sensitive) => show(ctx, sensitive, ("person", person), &value),
        None => Ok(Some(value)),
    }
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
