//! What one request may see and do: its principal, role, row scope, and how each sensitive
//! field is shown to it once departments, grants, purposes and the operation are considered.
//! Full reads, and full reads refused, are noted here and written to the audit log when the
//! request ends; while the audit log cannot be written, no field is shown in full.

use super::audit::AuditHealth;
use super::field_policy::SensitiveField;
use super::grant::Grant;
use super::lookup::LookupBudget;
use super::policy::{Role, Visibility};
use super::scope::RowScope;
use super::Principal;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// How a sensitive field is shown to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// In full; the read is audited.
    Full,
    /// Masked, shape kept.
    Masked,
    /// Left out.
    Absent,
    /// The request may see it in full but lacks what that needs (a purpose, a case reference,
    /// a purpose the grant allows); the message says what.
    Denied(String),
    /// The request may see it in full, but the audit log cannot be written just now, so the
    /// read would go unrecorded: refused until the log recovers.
    Unaudited,
}

/// What a client is told when a full read is refused because the audit log cannot be written.
pub const AUDIT_UNAVAILABLE: &str =
    "the audit log cannot be written just now, so fields are not shown in full (AUDIT_UNAVAILABLE); retry later";

/// An element, as named in the audit log: its type (`person`) and row id.
pub type ElementRef = (&'static str, i64);

/// Sensitive fields read in full, per element.
type Reads = BTreeMap<ElementRef, BTreeSet<&'static str>>;

/// Sensitive fields whose full read was refused, per element, with the reasons.
type Refusals = BTreeMap<ElementRef, BTreeMap<&'static str, String>>;

/// Something a request did that the audit log must hold: a mutation or a break-glass reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// A break-glass reveal (otherwise a mutation).
    pub break_glass: bool,
    /// The element acted on, if one.
    pub element: Option<ElementRef>,
    /// Fields concerned.
    pub fields: Vec<String>,
    /// What was done, in words (mutation name, arguments that matter, the stated reason).
    pub detail: String,
}

/// The access of one GraphQL request.
pub struct Access {
    /// Who calls.
    pub principal: Principal,
    /// The caller's role.
    pub role: Arc<Role>,
    /// Which rows it sees.
    pub scope: RowScope,
    /// SHA-256 (hex) of the request's query text.
    pub operation_hash: String,
    /// The lookups by a sensitive value the request may still make.
    pub lookups: LookupBudget,
    resolutions: [Resolution; SensitiveField::ALL.len()],
    audit: AuditHealth,
    reads: Mutex<Reads>,
    refusals: Mutex<Refusals>,
    actions: Mutex<Vec<Action>>,
}

impl Access {
    /// The access of a request running the query with `operation_hash`, given the grants the
    /// principal's department holds.
    pub fn new(
        principal: Principal,
        role: Arc<Role>,
        scope: RowScope,
        grants: &[Grant],
        operation_hash: String,
    ) -> Access {
        let now = Utc::now();
        let resolutions = SensitiveField::ALL
            .map(|field| resolve(&principal, &role, grants, &operation_hash, field, now));
        let lookups = LookupBudget::new(&role.limits, &principal.subject, None);
        Access {
            lookups,
            principal,
            role,
            scope,
            operation_hash,
            resolutions,
            audit: AuditHealth::default(),
            reads: Mutex::new(BTreeMap::new()),
            refusals: Mutex::new(BTreeMap::new()),
            actions: Mutex::new(Vec::new()),
        }
    }

    /// The access with `lookups` as its budget of lookups by a sensitive value (a new access
    /// may make none).
    pub fn with_lookups(self, lookups: LookupBudget) -> Access {
        Access { lookups, ..self }
    }

    /// This access, showing fields in full only while `health` says the audit log is written.
    pub fn audited_by(mut self, health: AuditHealth) -> Access {
        self.audit = health;
        self
    }

    /// Whether the audit log is being written, so that what this request reveals or does is
    /// recorded.
    pub fn audited(&self) -> bool {
        self.audit.is_healthy()
    }

    /// How `field` is shown to this request.
    pub fn resolution(&self, field: SensitiveField) -> &Resolution {
        let index = SensitiveField::ALL
            .iter()
            .position(|f| *f == field)
            .unwrap_or_default();
        match &self.resolutions[index] {
            Resolution::Full if !self.audit.is_healthy() => &Resolution::Unaudited,
            resolution => resolution,
        }
    }

    /// Notes that `field` of `element` was read in full.
    pub fn note_read(&self, field: SensitiveField, element: ElementRef) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.entry(element).or_default().insert(field.name());
        }
    }

    /// Notes that a full read of `field` of `element` was refused, and why.
    pub fn note_refusal(&self, field: SensitiveField, element: ElementRef, reason: &str) {
        if let Ok(mut refusals) = self.refusals.lock() {
            refusals
                .entry(element)
                .or_default()
                .entry(field.name())
                .or_insert_with(|| reason.to_string());
        }
    }

    /// The refused full reads noted so far, per element: the fields and the distinct reasons,
    /// emptying the record.
    pub fn take_refusals(&self) -> Vec<(ElementRef, Vec<&'static str>, Vec<String>)> {
        let refusals = self
            .refusals
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        refusals
            .into_iter()
            .map(|(element, fields)| {
                let reasons: BTreeSet<String> = fields.values().cloned().collect();
                (
                    element,
                    fields.into_keys().collect(),
                    reasons.into_iter().collect(),
                )
            })
            .collect()
    }

    /// Notes an action for the audit log.
    pub fn note_action(&self, action: Action) {
        if let Ok(mut actions) = self.actions.lock() {
            actions.push(action);
        }
    }

    /// The actions noted so far, emptying the record.
    pub fn take_actions(&self) -> Vec<Action> {
        self.actions
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    /// The full reads noted so far, per element, emptying the record.
    pub fn take_reads(&self) -> Vec<(ElementRef, Vec<&'static str>)> {
        let reads = self
            .reads
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        reads
            .into_iter()
            .map(|(element, fields)| (element, fields.into_iter().collect()))
            .collect()
    }
}

/// How `field` is shown to `principal` in `role` holding `grants`, for an operation.
pub fn resolve(
    principal: &Principal,
    role: &Role,
    grants: &[Grant],
    operation_hash: &str,
    field: SensitiveField,
    now: DateTime<Utc>,
) -> Resolution {
    let own = role.own_department_fields
        && (field.owner().is_none() || field.owner() == principal.department.as_deref());
    if role.visibility(field) == Visibility::Full || own {
        return needs_purpose(principal, field);
    }
    let covering: Vec<&Grant> = grants
        .iter()
        .filter(|g| g.covers(field, operation_hash, now))
        .collect();
    if covering.is_empty() {
        return match role.visibility(field) {
            Visibility::Absent => Resolution::Absent,
            _ => Resolution::Masked,
        };
    }
    let purpose = principal.purpose.as_deref().unwrap_or_default();
    if covering.iter().any(|g| g.allows_purpose(purpose)) {
        return needs_purpose(principal, field);
    }
    let allowed: BTreeSet<&str> = covering
        .iter()
        .flat_map(|g| g.purposes.iter().map(String::as_str))
        .collect();
    Resolution::Denied(format!(
        "{} is shared with your department only for the purposes {}; this request states {}",
        field.name(),
        allowed.into_iter().collect::<Vec<_>>().join(", "),
        if purpose.is_empty() {
            "none (send X-Purpose)".to_string()
        } else {
            format!("`{purpose}`")
        }
    ))
}

/// Full, when the principal states a purpose and a case reference; otherwise denied saying
/// which is missing.
fn needs_purpose(principal: &Principal, field: SensitiveField) -> Resolution {
    let missing: Vec<&str> = [
        (principal.purpose.is_none(), "a purpose (X-Purpose header)"),
        (
            principal.case_id.is_none(),
            "a case reference (X-Case-Id header)",
        ),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    if missing.is_empty() {
        Resolution::Full
    } else {
        Resolution::Denied(format!(
            "reading {} in full needs {}",
            field.name(),
            missing.join(" and ")
        ))
    }
}
