//! Turns the credentials of a request into a [`Principal`]: API keys of department systems and
//! service accounts (`X-Api-Key: ghk_…` or `Authorization: Bearer ghk_…`) and staff members' JWT
//! bearer tokens (`Authorization: Bearer <jwt>`), plus the stated purpose and case reference
//! (`X-Purpose`, `X-Case-Id`). Without credentials a request acts as the anonymous development
//! principal until authentication is configured.

pub mod api_key;
pub mod token;

use crate::access::principal::{Principal, PrincipalKind};
use crate::config::AuthSettings;
use crate::domain::grid_code;
use axum::http::{header, HeaderMap, HeaderValue};
use sea_orm::DatabaseConnection;
use std::fmt;

pub use api_key::{create_key, list_keys, revoke_key, NewKey};
pub use token::{issue_hs256, Claims, TokenVerifier};

/// Codes of the departments a principal may act for.
pub const DEPARTMENTS: [&str; 4] = ["police", "civil_affairs", "property", "party"];

/// Header that carries an API key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Header that carries the stated purpose of a request.
pub const PURPOSE_HEADER: &str = "x-purpose";
/// Header that carries the case reference a request serves.
pub const CASE_ID_HEADER: &str = "x-case-id";

/// Why a request's credentials were not accepted. The message names the reason and never
/// repeats a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    message: String,
    internal: bool,
}

impl AuthError {
    /// The credentials were missing, malformed or not accepted.
    pub fn rejected(message: impl Into<String>) -> AuthError {
        AuthError {
            message: message.into(),
            internal: false,
        }
    }

    /// The credentials could not be checked (e.g. the database did not answer).
    pub fn internal(message: impl Into<String>) -> AuthError {
        AuthError {
            message: message.into(),
            internal: true,
        }
    }

    /// What went wrong, fit to show to the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the failure is the hub's, not the caller's.
    pub fn is_internal(&self) -> bool {
        self.internal
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AuthError {}

/// Checks the role, department and grid a key or token grants: a non-empty role, one of the
/// [`DEPARTMENTS`], and a well-formed grid code.
pub fn validate_grant(
    role: &str,
    department: Option<&str>,
    grid: Option<&str>,
) -> Result<(), String> {
    if role.trim().is_empty() {
        return Err("the role must not be empty".to_string());
    }
    if let Some(department) = department {
        if !DEPARTMENTS.contains(&department) {
            return Err(format!(
                "unknown department {department:?} (expected one of {})",
                DEPARTMENTS.join(", ")
            ));
        }
    }
    if let Some(grid) = grid {
        grid_code::level_of(grid)
            .map_err(|error| format!("invalid grid code {grid:?}: {error}"))?;
    }
    Ok(())
}

/// A credential found in the headers of a request.
#[derive(Debug, PartialEq, Eq)]
enum Credential<'a> {
    ApiKey(&'a str),
    Token(&'a str),
}

/// Authenticates requests against the API keys in the database and the configured token keys.
#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    required: bool,
    tokens: TokenVerifier,
}

impl Authenticator {
    /// An authenticator for `settings`; reads the RS256 public key file, so a bad file fails here
    /// rather than on the first request.
    pub fn new(db: DatabaseConnection, settings: &AuthSettings) -> anyhow::Result<Authenticator> {
        Ok(Authenticator {
            db,
            required: settings.required,
            tokens: TokenVerifier::new(settings)?,
        })
    }

    /// Whether requests must carry credentials: `required` is set or a token key is configured.
    pub fn configured(&self) -> bool {
        self.required || self.tokens.has_keys()
    }

    /// The principal of a request with these headers. Credentials, when present, are always
    /// checked; without them the request is anonymous unless authentication is configured.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let mut principal = match credential(headers)? {
            Some(Credential::ApiKey(key)) => self.api_key_principal(key).await?,
            Some(Credential::Token(token)) => self.tokens.verify(token)?,
            None if self.configured() => {
                return Err(AuthError::rejected(
                    "missing credentials: send an API key (X-Api-Key) or a bearer token (Authorization: Bearer …)",
                ))
            }
            None => Principal::anonymous(),
        };
        if let Some(purpose) = text_header(headers, PURPOSE_HEADER)? {
            principal.purpose = Some(purpose);
        }
        if let Some(case_id) = text_header(headers, CASE_ID_HEADER)? {
            principal.case_id = Some(case_id);
        }
        Ok(principal)
    }

    async fn api_key_principal(&self, key: &str) -> Result<Principal, AuthError> {
        let row = api_key::find_by_plaintext(&self.db, key).await?;
        if let Some(revoked_at) = row.revoked_at {
            return Err(AuthError::rejected(format!(
                "API key {:?} was revoked at {}",
                row.name,
                revoked_at.to_rfc3339()
            )));
        }
        Ok(Principal {
            subject: row.name,
            kind: PrincipalKind::ApiKey,
            role: row.role,
            department: row.department,
            grid_scope: row.grid_code,
            purpose: None,
            case_id: None,
        })
    }
}

/// The one credential of a request, if any.
fn credential(headers: &HeaderMap) -> Result<Option<Credential<'_>>, AuthError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .map(bearer_credential)
        .transpose()?;
    let api_key = headers
        .get(API_KEY_HEADER)
        .map(|value| ascii_header(value, "X-Api-Key"))
        .transpose()?;
    match (bearer, api_key) {
        (Some(_), Some(_)) => Err(AuthError::rejected(
            "send one credential: either Authorization or X-Api-Key, not both",
        )),
        (Some(bearer), None) => Ok(Some(bearer)),
        (None, Some(key)) => Ok(Some(Credential::ApiKey(key))),
        (None, None) => Ok(None),
    }
}

/// The credential of an `Authorization: Bearer …` header.
fn bearer_credential(value: &HeaderValue) -> Result<Credential<'_>, AuthError> {
    let value = ascii_header(value, "Authorization")?;
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::rejected(
            "unsupported Authorization scheme: use Bearer",
        ));
    }
    let credential = credential.trim();
    if credential.is_empty() {
        return Err(AuthError::rejected("empty bearer credential"));
    }
    Ok(if credential.starts_with(api_key::KEY_PREFIX) {
        Credential::ApiKey(credential)
    } else {
        Credential::Token(credential)
    })
}

fn ascii_header<'a>(value: &'a HeaderValue, name: &str) -> Result<&'a str, AuthError> {
    value
        .to_str()
        .map(str::trim)
        .map_err(|_| AuthError::rejected(format!("the {name} header is not printable ASCII")))
}

/// A free-text header such as `X-Purpose`: UTF-8, trimmed, `None` when absent or blank.
fn text_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, AuthError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AuthError::rejected(format!("the {name} header is not valid UTF-8")))?
        .trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn bearer_with_key_prefix_is_an_api_key_and_other_bearers_are_tokens() {
        let key = headers(&[("authorization", "Bearer ghk_abc")]);
        assert_eq!(
            credential(&key).unwrap(),
            Some(Credential::ApiKey("ghk_abc"))
        );
        let token = headers(&[("authorization", "bearer  a.b.c ")]);
        assert_eq!(
            credential(&token).unwrap(),
            Some(Credential::Token("a.b.c"))
        );
        let header_key = headers(&[("x-api-key", " ghk_xyz ")]);
        assert_eq!(
            credential(&header_key).unwrap(),
            Some(Credential::ApiKey("ghk_xyz"))
        );
        assert_eq!(credential(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn other_schemes_empty_bearers_and_two_credentials_are_rejected() {
        let basic = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
        assert!(credential(&basic)
            .unwrap_err()
            .message()
            .contains("use Bearer"));
        let empty = headers(&[("authorization", "Bearer ")]);
        assert!(credential(&empty).unwrap_err().message().contains("empty"));
        let both = headers(&[("authorization", "Bearer a.b.c"), ("x-api-key", "ghk_abc")]);
        assert!(credential(&both)
            .unwrap_err()
            .message()
            .contains("not both"));
    }

    #[test]
    fn text_headers_accept_utf8_trim_and_treat_blank_as_absent() {
        let mut map = HeaderMap::new();
        map.insert(
            PURPOSE_HEADER,
            HeaderValue::from_bytes(" 走访 独居老人 ".as_bytes()).unwrap(),
        );
        map.insert(CASE_ID_HEADER, HeaderValue::from_static("   "));
        assert_eq!(
            text_header(&map, PURPOSE_HEADER).unwrap().as_deref(),
            Some("走访 独居老人")
        );
        assert_eq!(text_header(&map, CASE_ID_HEADER).unwrap(), None);
        map.insert(
            CASE_ID_HEADER,
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert!(text_header(&map, CASE_ID_HEADER)
            .unwrap_err()
            .message()
            .contains("UTF-8"));
    }

    #[test]
    fn grants_need_a_role_a_known_department_and_a_well_formed_grid() {
        assert!(validate_grant("grid_worker", Some("police"), Some("650203")).is_ok());
        assert!(validate_grant("auditor", None, None).is_ok());
        assert!(validate_grant(" ", None, None)
            .unwrap_err()
            .contains("role"));
        assert!(validate_grant("department", Some("tax"), None)
            .unwrap_err()
            .contains("unknown department"));
        assert!(validate_grant("grid_worker", None, Some("65020"))
            .unwrap_err()
            .contains("invalid grid code"));
    }
}
