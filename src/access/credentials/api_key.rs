//! API keys of department systems and service accounts: creating (the plaintext is shown once),
//! listing, revoking, and finding the key a request presents by its SHA-256 in one indexed query.

use super::{validate_grant, AuthError};
use crate::entity::api_key;
use anyhow::{bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::TryRngCore as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use sha2::{Digest, Sha256};

/// Every API key starts with this marker, so a key is recognisable in a bearer header or a leak.
pub const KEY_PREFIX: &str = "ghk_";
/// Random bytes in a key.
const KEY_BYTES: usize = 32;
/// Characters of a key's base64url body (32 bytes without padding).
const KEY_BODY_LEN: usize = 43;
/// Characters of the body kept as the key's visible prefix.
const VISIBLE_PREFIX_LEN: usize = 8;

/// What a new key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// Unique name of the key, used as the principal's subject.
    pub name: String,
    /// Role of the access policy.
    pub role: String,
    /// Department the key acts for.
    pub department: Option<String>,
    /// Grid whose subtree bounds what the key sees.
    pub grid_code: Option<String>,
}

/// A fresh random key: `ghk_` and 32 random bytes in base64url without padding.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; KEY_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .context("the operating system's random generator failed")?;
    Ok(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Hex SHA-256 of the whole key (marker included): the only form the database keeps.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The first characters after the marker, shown in listings to tell keys apart.
pub fn visible_prefix(key: &str) -> &str {
    let body = key.strip_prefix(KEY_PREFIX).unwrap_or(key);
    body.get(..VISIBLE_PREFIX_LEN).unwrap_or(body)
}

/// Whether `key` has the shape of a key this hub issues.
pub fn is_well_formed(key: &str) -> bool {
    key.strip_prefix(KEY_PREFIX).is_some_and(|body| {
        body.len() == KEY_BODY_LEN
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Stores a new key and returns its row and its plaintext, which is not kept anywhere.
pub async fn create_key(
    db: &DatabaseConnection,
    new: NewKey,
) -> anyhow::Result<(api_key::Model, String)> {
    if new.name.trim().is_empty() {
        bail!("the key name must not be empty");
    }
    validate_grant(
        &new.role,
        new.department.as_deref(),
        new.grid_code.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let key = generate()?;
    let row = api_key::ActiveModel {
        name: Set(new.name.clone()),
        key_hash: Set(hash(&key)),
        key_prefix: Set(visible_prefix(&key).to_string()),
        role: Set(new.role),
        department: Set(new.department),
        grid_code: Set(new.grid_code),
        created_at: Set(chrono::Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|error| match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            anyhow::anyhow!("an API key named {:?} already exists", new.name)
        }
        _ => anyhow::Error::new(error).context("cannot store the API key"),
    })?;
    Ok((row, key))
}

/// All keys, revoked ones included, by name.
pub async fn list_keys(db: &DatabaseConnection) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_asc(api_key::Column::Name)
        .all(db)
        .await
}

/// Revokes the key named `name`; it stops working on the next request.
pub async fn revoke_key(db: &DatabaseConnection, name: &str) -> anyhow::Result<api_key::Model> {
    let row = api_key::Entity::find()
        .filter(api_key::Column::Name.eq(name))
        .one(db)
        .await
        .context("cannot read the API keys")?
        .with_context(|| format!("no API key is named {name:?}"))?;
    if let Some(revoked_at) = row.revoked_at {
        bail!(
            "the API key {name:?} was already revoked at {}",
            revoked_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(chrono::Utc::now()));
    active.update(db).await.context("cannot revoke the API key")
}

/// The row of the key a request presents (revoked or not), by one indexed query on its hash.
pub async fn find_by_plaintext(
    db: &DatabaseConnection,
    key: &str,
) -> Result<api_key::Model, AuthError> {
    if !is_well_formed(key) {
        return Err(AuthError::rejected(
            "malformed API key: expected ghk_ and 43 base64url characters",
        ));
    }
    api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash(key)))
        .one(db)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot look up an API key");
            AuthError::internal("cannot check the API key: the database did not answer")
        })?
        .ok_or_else(|| AuthError::rejected("unknown API key"))
}

/// The key called `name`, revoked or not, if it exists.
pub async fn find_by_name(
    db: &DatabaseConnection,
    name: &str,
) -> Result<Option<api_key::Model>, AuthError> {
    api_key::Entity::find()
        .filter(api_key::Column::Name.eq(name))
        .one(db)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot look up an API key");
            AuthError::internal("cannot check the API key: the database did not answer")
        })
}

/// The keys as a plain-text table: name, prefix, role, department, grid, created, revoked.
pub fn render_table(keys: &[api_key::Model]) -> String {
    let header = [
        "NAME",
        "PREFIX",
        "ROLE",
        "DEPARTMENT",
        "GRID",
        "CREATED",
        "REVOKED",
    ];
    let rows: Vec<[String; 7]> = keys.iter().map(table_row).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header = header.map(str::to_string);
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| table_line(row, &widths))
        .collect()
}

fn table_row(key: &api_key::Model) -> [String; 7] {
    let timestamp =
        |at: &chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    [
        key.name.clone(),
        format!("{KEY_PREFIX}{}", key.key_prefix),
        key.role.clone(),
        key.department.clone().unwrap_or_else(|| "-".to_string()),
        key.grid_code.clone().unwrap_or_else(|| "-".to_string()),
        timestamp(&key.created_at),
        key.revoked_at
            .as_ref()
            .map_or_else(|| "-".to_string(), timestamp),
    ]
}

fn table_line(cells: &[String; 7], widths: &[usize]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect();
    format!("{}\n", padded.join("  ").trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(a.starts_with("ghk_"));
        assert_eq!(a.len(), 4 + 43);
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(visible_prefix(&a), &a[4..12]);
    }

    #[test]
    fn hash_is_hex_sha256_of_the_whole_key() {
        // SHA-256 of "abc" from FIPS 180-2.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let key = generate().unwrap();
        assert_eq!(hash(&key).len(), 64);
        assert_ne!(hash(&key), hash(&key[4..]));
    }

    #[test]
    fn malformed_keys_are_recognised() {
        let body = "A".repeat(43);
        assert!(is_well_formed(&format!("ghk_{body}")));
        assert!(!is_well_formed(&format!("ghk_{}", "A".repeat(42))));
        assert!(!is_well_formed(&format!("ghx_{body}")));
        assert!(!is_well_formed(&format!("ghk_{}+", "A".repeat(42))));
        assert!(!is_well_formed(&format!("ghk_{}=", "A".repeat(42))));
    }
}
