//! Roles as data: what each role may read, how it sees each sensitive field, and its limits,
//! loaded once at start from the built-in `policy.toml` or the file in `access.policy_file`.

use super::field_policy::SensitiveField;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The built-in policy.
const BUILT_IN: &str = include_str!("policy.toml");

/// Kinds of rows a role may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Grids of the territorial tree.
    Grid,
    /// Persons 人.
    Person,
    /// Houses 房.
    House,
    /// Places 地.
    Place,
    /// Events 事.
    Event,
    /// Managed objects 物.
    Object,
    /// Organizations 组织.
    Organization,
    /// Volunteer activities.
    VolunteerActivity,
    /// Department source records (provenance).
    SourceRecord,
    /// The departments themselves.
    Department,
}

impl Kind {
    /// The name used in the policy and in messages, e.g. `volunteer_activity`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Grid => "grid",
            Kind::Person => "person",
            Kind::House => "house",
            Kind::Place => "place",
            Kind::Event => "event",
            Kind::Object => "object",
            Kind::Organization => "organization",
            Kind::VolunteerActivity => "volunteer_activity",
            Kind::SourceRecord => "source_record",
            Kind::Department => "department",
        }
    }
}

/// How a sensitive field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// The value as stored (needs a purpose and a case reference, and is audited).
    Full,
    /// Shape-keeping mask.
    Masked,
    /// Not shown at all.
    Absent,
}

/// Which source records a role sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceRecords {
    /// Every department's.
    All,
    /// Those its own department sent.
    OwnDepartment,
    /// None.
    None,
}

/// What a role may do with data-sharing requests and grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GrantRights {
    /// Decide any request and revoke any grant.
    Any,
    /// Request for its own department; decide requests addressed to it.
    OwnDepartment,
    /// Nothing.
    #[default]
    None,
}

/// Per-principal abuse limits; unset ones take the `[graphql]` settings.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Deepest selection nesting.
    pub max_depth: Option<usize>,
    /// Highest query complexity.
    pub max_complexity: Option<usize>,
    /// Largest page (`first` / `last`).
    pub max_page_size: Option<u32>,
    /// Requests per minute per principal (unset: unlimited).
    pub requests_per_minute: Option<u32>,
    /// Lookups by a sensitive value (a person by ID number) one request may make (unset: 10).
    pub lookups_per_request: Option<u32>,
    /// Lookups by a sensitive value one principal may make per hour (unset: 300; 0: none).
    pub lookups_per_hour: Option<u32>,
}

/// One role of the policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// What the role is for.
    pub description: String,
    /// Kinds of rows it may read.
    pub read: Vec<Kind>,
    /// How sensitive fields not listed in `fields` are shown.
    pub default_field: Visibility,
    /// Per-field visibility, keyed by field name (`person.idNumber`).
    #[serde(default)]
    pub fields: HashMap<String, Visibility>,
    /// Fields owned by the principal's own department are shown in full.
    #[serde(default)]
    pub own_department_fields: bool,
    /// Which source records it sees.
    pub source_records: SourceRecords,
    /// What it may do with data-sharing requests.
    #[serde(default)]
    pub grants: GrantRights,
    /// May query the audit log.
    #[serde(default)]
    pub audit_log: bool,
    /// May reveal fields of one element with a stated reason.
    #[serde(default)]
    pub break_glass: bool,
    /// May register operations.
    #[serde(default)]
    pub register_operations: bool,
    /// May read dashboard statistics.
    #[serde(default)]
    pub aggregates: bool,
    /// Steps of the event loop it may take (report, accept, reject, escalate, dispatch,
    /// acknowledge, resolve, close, reopen), on the events its grid scope or department holds.
    #[serde(default)]
    pub event_steps: Vec<crate::entity::vocabulary::EventActionKind>,
    /// May introspect the schema in production mode.
    #[serde(default)]
    pub introspection: bool,
    /// Abuse limits.
    #[serde(default)]
    pub limits: Limits,
    /// Exists only while no authentication is configured: no API key or token may name it.
    #[serde(default)]
    pub development_only: bool,
    /// Acts for a department: a principal of this role must name one.
    #[serde(default)]
    pub requires_department: bool,
    /// May read `/metrics` once authentication is configured.
    #[serde(default)]
    pub metrics: bool,
}

impl Role {
    /// Whether the role may read rows of `kind`.
    pub fn reads(&self, kind: Kind) -> bool {
        self.read.contains(&kind)
    }

    /// How the role shows `field`, before departments and grants are considered.
    pub fn visibility(&self, field: SensitiveField) -> Visibility {
        self.fields
            .get(field.name())
            .copied()
            .unwrap_or(self.default_field)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    purposes: Vec<String>,
    roles: HashMap<String, Role>,
}

/// The roles, by name, and the purposes a request may state.
#[derive(Debug, Clone)]
pub struct Policy {
    roles: HashMap<String, Arc<Role>>,
    purposes: Vec<String>,
}

impl Policy {
    /// The built-in policy.
    pub fn built_in() -> Policy {
        Policy::parse(BUILT_IN).expect("the built-in policy is valid")
    }

    /// The policy in `path`, or the built-in one when `path` is empty.
    pub fn load(path: &str) -> anyhow::Result<Policy> {
        if path.is_empty() {
            return Ok(Policy::built_in());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the access policy {path}: {e}"))?;
        Policy::parse(&text).map_err(|e| anyhow::anyhow!("access policy {path}: {e}"))
    }

    /// Parses and checks a policy: field names must be known sensitive fields.
    pub fn parse(text: &str) -> anyhow::Result<Policy> {
        let file: PolicyFile = toml::from_str(text)?;
        for (name, role) in &file.roles {
            for field in role.fields.keys() {
                if SensitiveField::parse(field).is_none() {
                    anyhow::bail!("role `{name}` names an unknown field `{field}`");
                }
            }
        }
        let roles = file
            .roles
            .into_iter()
            .map(|(name, role)| (name, Arc::new(role)))
            .collect();
        Ok(Policy {
            roles,
            purposes: file.purposes,
        })
    }

    /// The role called `name`.
    pub fn role(&self, name: &str) -> Option<Arc<Role>> {
        self.roles.get(name).cloned()
    }

    /// Every role, by name.
    pub fn roles(&self) -> impl Iterator<Item = (&String, &Arc<Role>)> {
        self.roles.iter()
    }

    /// The purposes a request may state (`X-Purpose` or a token's `purpose` claim).
    pub fn purposes(&self) -> &[String] {
        &self.purposes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_roles_are_the_documented_ones() {
        let policy = Policy::built_in();
        let mut names: Vec<_> = policy.roles().map(|(n, _)| n.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "admin",
                "anonymous",
                "auditor",
                "command_centre",
                "department",
                "grid_worker"
            ]
        );
    }

    #[test]
    fn command_centre_reads_no_persons_and_auditor_nothing() {
        let policy = Policy::built_in();
        assert!(!policy.role("command_centre").unwrap().reads(Kind::Person));
        assert!(policy.role("command_centre").unwrap().reads(Kind::Event));
        assert!(policy.role("auditor").unwrap().read.is_empty());
        assert!(policy.role("auditor").unwrap().audit_log);
    }

    #[test]
    fn grid_worker_sees_phone_but_not_id_numbers() {
        let worker = Policy::built_in().role("grid_worker").unwrap();
        assert_eq!(worker.visibility(SensitiveField::Phone), Visibility::Full);
        assert_eq!(
            worker.visibility(SensitiveField::IdNumber),
            Visibility::Masked
        );
        assert_eq!(
            worker.visibility(SensitiveField::KeyPersonTag),
            Visibility::Absent
        );
    }

    #[test]
    fn only_the_anonymous_role_is_development_only_and_department_acts_for_one() {
        let policy = Policy::built_in();
        let flagged = |flag: fn(&Role) -> bool| {
            let mut names: Vec<_> = policy
                .roles()
                .filter(|(_, role)| flag(role))
                .map(|(name, _)| name.as_str())
                .collect();
            names.sort();
            names
        };
        assert_eq!(flagged(|r| r.development_only), ["anonymous"]);
        assert_eq!(flagged(|r| r.requires_department), ["department"]);
        assert_eq!(flagged(|r| r.metrics), ["admin"]);
        assert!(policy.purposes().iter().any(|p| p == "case_handling"));
    }

    #[test]
    fn unknown_fields_and_keys_are_refused() {
        let bad_field = r#"[roles.x]
description = "x"
read = []
default_field = "masked"
source_records = "none"
fields = { "person.shoeSize" = "full" }
"#;
        assert!(Policy::parse(bad_field)
            .unwrap_err()
            .to_string()
            .contains("person.shoeSize"));
        let bad_key = "[roles.x]\ndescription = \"x\"\nread = []\ndefault_field = \"masked\"\nsource_records = \"none\"\nsuperuser = true\n";
        assert!(Policy::parse(bad_key).is_err());
    }
}
