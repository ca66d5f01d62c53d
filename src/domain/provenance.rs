//! Conflicts between departments: given what each department's records say about one element
//! (values under the hub's field names), the fields on which the departments' latest values
//! disagree, with who says what since when.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What one record says.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Department that sent the record.
    pub department: String,
    /// When the hub received it.
    pub received_at: DateTime<Utc>,
    /// Its values under the hub's field names.
    pub fields: Map<String, Value>,
}

/// One department's latest value of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The department.
    pub department: String,
    /// Its value, as text.
    pub value: String,
    /// Since when the department has said so (the record that said it last).
    pub since: DateTime<Utc>,
}

/// A field on which departments disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The field, e.g. `phone`.
    pub field: String,
    /// Each department's latest claim, by department name.
    pub claims: Vec<Claim>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The fields on which the departments' latest values differ, by field name.
pub fn conflicts(statements: &[Statement]) -> Vec<Conflict> {
    let mut latest: BTreeMap<&str, BTreeMap<&str, (DateTime<Utc>, String)>> = BTreeMap::new();
    for statement in statements {
        for (field, value) in &statement.fields {
            let by_department = latest.entry(field.as_str()).or_default();
            let newer = by_department
                .get(statement.department.as_str())
                .is_none_or(|(at, _)| *at <= statement.received_at);
            if newer {
                by_department.insert(
                    statement.department.as_str(),
                    (statement.received_at, text(value)),
                );
            }
        }
    }
    latest
        .into_iter()
        .filter(|(_, claims)| {
            let mut values = claims.values().map(|(_, v)| v);
            let first = values.next();
            values.any(|v| Some(v) != first)
        })
        .map(|(field, claims)| Conflict {
            field: field.to_string(),
            claims: claims
                .into_iter()
                .map(|(department, (since, value))| Claim {
                    department: department.to_string(),
                    value,
                    since,
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use serde_json::json;

    fn says(department: &str, days_ago: i64, fields: Value) -> Statement {
        Statement {
            department: department.into(),
            received_at: Utc::now() - Duration::days(days_ago),
            fields: fields.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn departments_disagreeing_on_a_field_make_a_conflict() {
        let found = conflicts(&[
            says(
                "police",
                3,
                json!({"phone": "13709901122", "name": "张建国"}),
            ),
            says(
                "property",
                1,
                json!({"phone": "13709905566", "name": "张建国"}),
            ),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "phone");
        let claimed: Vec<_> = found[0]
            .claims
            .iter()
            .map(|c| (c.department.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(
            claimed,
            [("police", "13709901122"), ("property", "13709905566")]
        );
    }

    #[test]
    fn a_departments_latest_record_is_its_claim() {
        let found = conflicts(&[
            says("police", 5, json!({"phone": "1"})),
            says("police", 1, json!({"phone": "2"})),
            says("property", 2, json!({"phone": "2"})),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn agreement_and_single_sources_are_no_conflict() {
        assert!(conflicts(&[says("police", 1, json!({"floating": true}))]).is_empty());
        assert!(conflicts(&[]).is_empty());
    }
}
