//! What the command line may issue a key or token for: a well-formed grant whose role the
//! policy in force lets a credential name, whose grid exists in the database, and whose purpose
//! and case reference a request could state.

use super::{validate_grant, vet_case_id, vet_purpose, vet_role, whole_match};
use crate::access::policy::Policy;
use crate::config::AuthSettings;
use crate::entity::grid;
use anyhow::{bail, Context as _};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// The role, department and grid of a key or token to issue.
pub struct Grant<'a> {
    /// Role of the access policy.
    pub role: &'a str,
    /// Department the credential acts for.
    pub department: Option<&'a str>,
    /// Grid whose subtree bounds what the credential sees.
    pub grid: Option<&'a str>,
}

/// Refuses a grant no request could use: an unknown or development-only role, a department role
/// without a department, a malformed grid code.
pub fn check_grant(policy: &Policy, grant: &Grant<'_>) -> anyhow::Result<()> {
    validate_grant(grant.role, grant.department, grant.grid).map_err(anyhow::Error::msg)?;
    vet_role(policy, grant.role, grant.department).map_err(anyhow::Error::msg)?;
    Ok(())
}

/// Refuses a grid code that is not a grid of `db`.
pub async fn check_grid(db: &DatabaseConnection, code: &str) -> anyhow::Result<()> {
    let found = grid::Entity::find()
        .filter(grid::Column::Code.eq(code))
        .count(db)
        .await
        .context("cannot look the grid up")?;
    if found == 0 {
        bail!("the grid {code:?} is not a grid of this hub");
    }
    Ok(())
}

/// Refuses a purpose the policy does not list or a case reference `auth.case_id_pattern` does
/// not match, as a request stating them would be refused.
pub fn check_statement(
    policy: &Policy,
    auth: &AuthSettings,
    purpose: Option<&str>,
    case_id: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(purpose) = purpose {
        vet_purpose(policy, purpose).map_err(anyhow::Error::msg)?;
    }
    if let Some(case_id) = case_id {
        vet_case_id(&whole_match(&auth.case_id_pattern)?, case_id).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}
