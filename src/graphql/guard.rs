//! The access layer as resolvers use it: the request's [`Access`], sensitive values shown
//! through it (noting full reads for the audit log), and checks that answer FORBIDDEN.

use super::error::{coded, forbidden, Code};
use crate::access::context::{ElementRef, Resolution, AUDIT_UNAVAILABLE};
use crate::access::field_policy::SensitiveField;
use crate::access::policy::Kind;
use crate::access::Access;
use async_graphql::{Context, Result};
use std::sync::Arc;

/// The access of the request.
pub fn access<'a>(ctx: &'a Context<'_>) -> Result<&'a Access> {
    Ok(ctx.data::<Arc<Access>>()?.as_ref())
}

/// `value` of `field` of `element` as the request may see it: in full (noted for the audit
/// log), masked, or not at all; FORBIDDEN when a full read lacks a purpose or case reference,
/// INTERNAL while the audit log cannot be written (refusals are noted too).
pub fn show(
    ctx: &Context<'_>,
    field: SensitiveField,
    element: ElementRef,
    value: &str,
) -> Result<Option<String>> {
    let access = access(ctx)?;
    match access.resolution(field) {
        Resolution::Full => {
            access.note_read(field, element);
            Ok(Some(value.to_string()))
        }
        Resolution::Masked => Ok(field.mask(value)),
        Resolution::Absent => Ok(None),
        refused => Err(refusal(access, field, element, refused)),
    }
}

/// Whether the request sees `field` of `element` in full (noting the read); FORBIDDEN when it
/// would but lacks a purpose or case reference. For values with no masked form (tags, points).
pub fn in_full(ctx: &Context<'_>, field: SensitiveField, element: ElementRef) -> Result<bool> {
    let access = access(ctx)?;
    match access.resolution(field) {
        Resolution::Full => {
            access.note_read(field, element);
            Ok(true)
        }
        Resolution::Masked | Resolution::Absent => Ok(false),
        refused => Err(refusal(access, field, element, refused)),
    }
}

/// Lets the request look an element up by the value of `field`, which discloses the value as a
/// full read does: FORBIDDEN unless the request may read `field` in full (with its purpose and
/// case reference), TOO_MANY_REQUESTS once its or its principal's lookup budget is spent. The
/// caller notes the read of the element found.
pub fn sensitive_lookup(ctx: &Context<'_>, field: SensitiveField) -> Result<()> {
    let access = access(ctx)?;
    match access.resolution(field) {
        Resolution::Full => {}
        Resolution::Denied(why) => return Err(forbidden(why.clone())),
        Resolution::Unaudited => return Err(unaudited()),
        Resolution::Masked | Resolution::Absent => {
            return Err(forbidden(format!(
                "looking up by {} needs the right to read it in full",
                field.name()
            )))
        }
    }
    access
        .lookups
        .charge()
        .map_err(|over| coded(Code::TooManyRequests, over.to_string()))
}

/// The error of a refused full read of `field` of `element`, noted for the audit log.
fn refusal(
    access: &Access,
    field: SensitiveField,
    element: ElementRef,
    resolution: &Resolution,
) -> async_graphql::Error {
    let error = match resolution {
        Resolution::Denied(why) => forbidden(why.clone()),
        _ => unaudited(),
    };
    access.note_refusal(field, element, &error.message);
    error
}

/// INTERNAL naming `AUDIT_UNAVAILABLE` while the audit log cannot be written: for what reveals
/// sensitive values outside the field resolutions (break-glass).
pub fn require_audited(ctx: &Context<'_>) -> Result<()> {
    if access(ctx)?.audited() {
        Ok(())
    } else {
        Err(unaudited())
    }
}

/// The error of a full read or reveal while the audit log cannot be written.
fn unaudited() -> async_graphql::Error {
    coded(Code::Internal, AUDIT_UNAVAILABLE)
}

/// FORBIDDEN unless the role may read rows of `kind`.
pub fn require_reads(ctx: &Context<'_>, kind: Kind) -> Result<()> {
    let access = access(ctx)?;
    if access.scope.reads(kind) {
        Ok(())
    } else {
        Err(forbidden(format!(
            "the role `{}` may not read {} rows",
            access.principal.role,
            kind.name()
        )))
    }
}

/// FORBIDDEN with `message` unless `allowed`.
pub fn require(allowed: bool, message: &str) -> Result<()> {
    if allowed {
        Ok(())
    } else {
        Err(forbidden(message))
    }
}
