//! Turns the credentials of a request into a [`Principal`]: API keys of department systems and
//! service accounts (`X-Api-Key: ghk_…` or `Authorization: Bearer ghk_…`) and staff members' JWT
//! bearer tokens (`Authorization: Bearer <jwt>`), plus the stated purpose and case reference
//! (`X-Purpose`, `X-Case-Id`; a header may not change what a token's claim states, and a case
//! reference must match `auth.case_id_pattern`). Without credentials a request acts as the
//! anonymous development principal until authentication is configured. [`vet_role`] and
//! [`vet_principal`] hold a grant to the policy in force, when a key or token is issued and at
//! every request.

pub mod api_key;
pub mod issuance;
pub mod token;

use crate::access::policy::{Policy, Role};
use crate::access::principal::{Principal, PrincipalKind};
use crate::config::AuthSettings;
use crate::domain::grid_code;
use axum::http::{header, HeaderMap, HeaderValue};
use regex::Regex;
use sea_orm::DatabaseConnection;
use std::fmt;
use std::sync::Arc;

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

/// The role a key or token may name: one the policy defines, not a development-only one, and
/// acting for a department when the role requires one.
pub fn vet_role(
    policy: &Policy,
    role: &str,
    department: Option<&str>,
) -> Result<Arc<Role>, String> {
    let defined = policy.role(role).ok_or_else(|| {
        let mut known: Vec<_> = policy
            .roles()
            .filter(|(_, r)| !r.development_only)
            .map(|(name, _)| name.as_str())
            .collect();
        known.sort_unstable();
        format!(
            "the role `{role}` is not defined by the access policy (expected one of {})",
            known.join(", ")
        )
    })?;
    if defined.development_only {
        return Err(format!(
            "the role `{role}` exists only for development without authentication: no API key or token may name it"
        ));
    }
    if defined.requires_department && department.is_none() {
        return Err(format!(
            "the role `{role}` acts for a department: the credential must name one"
        ));
    }
    Ok(defined)
}

/// The role of `principal` as the policy in force defines it, or why the principal may not act:
/// a credential's role must pass [`vet_role`] (only the anonymous principal, which exists while
/// no authentication is configured, has a development-only role) and a stated purpose must be
/// one the policy lists.
pub fn vet_principal(policy: &Policy, principal: &Principal) -> Result<Arc<Role>, String> {
    let role = match principal.kind {
        PrincipalKind::AnonymousDevelopment => policy.role(&principal.role).ok_or_else(|| {
            format!(
                "the role `{}` is not defined by the access policy",
                principal.role
            )
        })?,
        PrincipalKind::ApiKey | PrincipalKind::Token => {
            vet_role(policy, &principal.role, principal.department.as_deref())?
        }
    };
    if let Some(purpose) = &principal.purpose {
        vet_purpose(policy, purpose)?;
    }
    Ok(role)
}

/// Refuses a purpose the policy does not list.
pub fn vet_purpose(policy: &Policy, purpose: &str) -> Result<(), String> {
    if policy.purposes().iter().any(|p| p == purpose) {
        return Ok(());
    }
    Err(format!(
        "the purpose {:?} is not one of the access policy's purposes ({})",
        shorten(purpose),
        policy.purposes().join(", ")
    ))
}

/// Refuses a case reference that `pattern` (from [`whole_match`]) does not match.
fn vet_case_id(pattern: &Regex, case_id: &str) -> Result<(), String> {
    if pattern.is_match(case_id) {
        return Ok(());
    }
    Err(format!(
        "the case reference {:?} does not match the pattern {}",
        shorten(case_id),
        pattern.as_str()
    ))
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
    case_id: Regex,
}

impl Authenticator {
    /// An authenticator for `settings`; reads the RS256 public key file, so a bad file fails here
    /// rather than on the first request.
    pub fn new(db: DatabaseConnection, settings: &AuthSettings) -> anyhow::Result<Authenticator> {
        Ok(Authenticator {
            db,
            required: settings.required,
            tokens: TokenVerifier::new(settings)?,
            case_id: whole_match(&settings.case_id_pattern)?,
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
        stated(&mut principal.purpose, headers, PURPOSE_HEADER)?;
        stated(&mut principal.case_id, headers, CASE_ID_HEADER)?;
        if let Some(case_id) = &principal.case_id {
            vet_case_id(&self.case_id, case_id).map_err(AuthError::rejected)?;
        }
        Ok(principal)
    }

    /// Whether `principal`'s credential is still in force: a token until its expiry has passed
    /// (its expiry is read again by the caller), an API key until it is revoked.
    pub async fn still_valid(&self, principal: &Principal) -> Result<(), AuthError> {
        match principal.kind {
            PrincipalKind::ApiKey => self.key_in_force(&principal.subject).await,
            PrincipalKind::Token | PrincipalKind::AnonymousDevelopment => Ok(()),
        }
    }

    async fn key_in_force(&self, name: &str) -> Result<(), AuthError> {
        match api_key::find_by_name(&self.db, name).await? {
            Some(row) if row.revoked_at.is_none() => Ok(()),
            Some(_) => Err(AuthError::rejected(format!("API key {name:?} was revoked"))),
            None => Err(AuthError::rejected(format!(
                "API key {name:?} no longer exists"
            ))),
        }
    }

    async fn api_key_principal(&self, key: &str) -> Result<Principal, AuthError> {
        let row = api_key::find_by_plaintext(&self.db, key).await?;
        if let Some(revoked_at) = row.revoked_at {
            return Err(AuthError::rejected(format!(
                "API key {:?} was revoked at {}",
                row.name,
                revoked_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
            expires_at: None,
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

/// A pattern that must match a whole value.
fn whole_match(pattern: &str) -> anyhow::Result<Regex> {
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|error| anyhow::anyhow!("auth.case_id_pattern is not a valid pattern: {error}"))
}

/// Lays the `name` header over a claim: a header may state what a token does not, or repeat
/// it, but never change it.
fn stated(claim: &mut Option<String>, headers: &HeaderMap, name: &str) -> Result<(), AuthError> {
    let Some(header) = text_header(headers, name)? else {
        return Ok(());
    };
    match claim {
        Some(claimed) if *claimed != header => Err(AuthError::rejected(format!(
            "the token states {claimed:?}: the {name} header may not change it"
        ))),
        _ => {
            *claim = Some(header);
            Ok(())
        }
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
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
    use migrations::{Migrator, MigratorTrait};

    const SECRET: &str = "unit test secret";

    /// A migrated SQLite database in `dir`.
    async fn fresh(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let db = sea_orm::Database::connect(url).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db
    }

    fn settings(required: bool, secret: &str) -> AuthSettings {
        AuthSettings {
            required,
            jwt_hs256_secret: secret.to_string(),
            jwt_rs256_public_key_file: String::new(),
            jwt_issuer: String::new(),
            jwt_audience: String::new(),
            ..crate::config::Settings::defaults().auth
        }
    }

    fn police_key() -> NewKey {
        NewKey {
            name: "police-sync".to_string(),
            role: "department".to_string(),
            department: Some("police".to_string()),
            grid_code: Some("650203".to_string()),
        }
    }

    fn claims(purpose: Option<&str>) -> Claims {
        Claims {
            sub: "li.na".to_string(),
            role: "grid_worker".to_string(),
            department: None,
            grid: Some("650203001".to_string()),
            exp: chrono::Utc::now().timestamp() as u64 + 600,
            purpose: purpose.map(str::to_string),
            case_id: Some("claim-case".to_string()),
        }
    }

    fn staff_token(purpose: Option<&str>) -> String {
        issue_hs256(SECRET, &claims(purpose), None, None).unwrap()
    }

    #[tokio::test]
    async fn without_credentials_a_request_is_anonymous_until_authentication_is_configured() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        let open = Authenticator::new(db.clone(), &settings(false, "")).unwrap();
        assert!(!open.configured());
        let principal = open.authenticate(&HeaderMap::new()).await.unwrap();
        assert_eq!(principal, Principal::anonymous());
        for configured in [settings(true, ""), settings(false, SECRET)] {
            let auth = Authenticator::new(db.clone(), &configured).unwrap();
            assert!(auth.configured());
            let error = auth.authenticate(&HeaderMap::new()).await.unwrap_err();
            assert!(error.message().starts_with("missing credentials"));
            assert!(!error.is_internal());
        }
    }

    #[tokio::test]
    async fn an_api_key_authenticates_until_it_is_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        let (row, key) = create_key(&db, police_key()).await.unwrap();
        assert_eq!(row.key_hash, api_key::hash(&key));
        assert_eq!(row.key_prefix, api_key::visible_prefix(&key));
        let auth = Authenticator::new(db.clone(), &settings(false, "")).unwrap();
        let by_header = headers(&[("x-api-key", &key)]);
        let principal = auth.authenticate(&by_header).await.unwrap();
        assert_eq!(principal.subject, "police-sync");
        assert_eq!(principal.kind, PrincipalKind::ApiKey);
        assert_eq!(principal.role, "department");
        assert_eq!(principal.department.as_deref(), Some("police"));
        assert_eq!(principal.grid_scope.as_deref(), Some("650203"));
        let by_bearer = headers(&[("authorization", &format!("Bearer {key}"))]);
        assert_eq!(auth.authenticate(&by_bearer).await.unwrap(), principal);

        revoke_key(&db, "police-sync").await.unwrap();
        let error = auth.authenticate(&by_header).await.unwrap_err();
        assert!(error.message().contains("was revoked"), "{error}");
        assert!(!error.message().contains(&key));
    }

    #[tokio::test]
    async fn unknown_and_malformed_keys_are_rejected_even_when_not_configured() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        let auth = Authenticator::new(db, &settings(false, "")).unwrap();
        let unknown = api_key::generate().unwrap();
        let error = auth
            .authenticate(&headers(&[("x-api-key", &unknown)]))
            .await
            .unwrap_err();
        assert_eq!(error.message(), "unknown API key");
        let error = auth
            .authenticate(&headers(&[("x-api-key", "ghk_short")]))
            .await
            .unwrap_err();
        assert!(error.message().starts_with("malformed API key"), "{error}");
        let error = auth
            .authenticate(&headers(&[("authorization", "Bearer not-a-jwt")]))
            .await
            .unwrap_err();
        assert!(error.message().starts_with("malformed token"), "{error}");
    }

    #[tokio::test]
    async fn headers_state_what_a_token_does_not_and_never_change_its_claims() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        let auth = Authenticator::new(db, &settings(false, SECRET)).unwrap();
        let bearer = format!("Bearer {}", staff_token(Some("case_handling")));
        let from_claims = auth
            .authenticate(&headers(&[("authorization", &bearer)]))
            .await
            .unwrap();
        assert_eq!(from_claims.kind, PrincipalKind::Token);
        assert_eq!(from_claims.purpose.as_deref(), Some("case_handling"));
        assert_eq!(from_claims.case_id.as_deref(), Some("claim-case"));
        let repeated = auth
            .authenticate(&headers(&[
                ("authorization", &bearer),
                ("x-purpose", " case_handling "),
                ("x-case-id", "claim-case"),
            ]))
            .await
            .unwrap();
        assert_eq!(repeated, from_claims);
        for (name, value) in [("x-purpose", "public_security"), ("x-case-id", "OTHER-9")] {
            let error = auth
                .authenticate(&headers(&[("authorization", &bearer), (name, value)]))
                .await
                .unwrap_err();
            assert!(error.message().contains("may not change it"), "{error}");
        }
        let unclaimed = format!("Bearer {}", staff_token(None));
        let stated = auth
            .authenticate(&headers(&[
                ("authorization", &unclaimed),
                ("x-purpose", "data_quality"),
            ]))
            .await
            .unwrap();
        assert_eq!(stated.purpose.as_deref(), Some("data_quality"));
        let blank_header = auth
            .authenticate(&headers(&[("authorization", &bearer), ("x-purpose", "  ")]))
            .await
            .unwrap();
        assert_eq!(blank_header.purpose.as_deref(), Some("case_handling"));
    }

    #[tokio::test]
    async fn case_references_must_match_the_configured_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        let auth = Authenticator::new(db, &settings(false, SECRET)).unwrap();
        let claims = Claims {
            case_id: None,
            ..claims(None)
        };
        let bearer = format!(
            "Bearer {}",
            issue_hs256(SECRET, &claims, None, None).unwrap()
        );
        for bad in ["x", "H-9", "CASE 2026", "../../etc", "案件-2026-01"] {
            let error = auth
                .authenticate(&headers(&[("authorization", &bearer), ("x-case-id", bad)]))
                .await
                .unwrap_err();
            assert!(error.message().contains("does not match"), "{bad}: {error}");
        }
        let fine = headers(&[("authorization", &bearer), ("x-case-id", "CASE-2026-0042")]);
        assert!(auth.authenticate(&fine).await.is_ok());
    }

    #[tokio::test]
    async fn key_management_errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir).await;
        create_key(&db, police_key()).await.unwrap();
        let duplicate = create_key(&db, police_key()).await.unwrap_err();
        assert!(
            duplicate.to_string().contains("already exists"),
            "{duplicate:#}"
        );
        let bad = NewKey {
            department: Some("tax".to_string()),
            name: "tax-sync".to_string(),
            ..police_key()
        };
        let error = create_key(&db, bad).await.unwrap_err();
        assert!(error.to_string().contains("unknown department"));
        let error = revoke_key(&db, "nobody").await.unwrap_err();
        assert!(error.to_string().contains("no API key is named"));
        revoke_key(&db, "police-sync").await.unwrap();
        let error = revoke_key(&db, "police-sync").await.unwrap_err();
        assert!(error.to_string().contains("already revoked"));
        let keys = list_keys(&db).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].revoked_at.is_some());
    }

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

    #[test]
    fn credentials_name_defined_roles_of_production_with_their_department() {
        let policy = Policy::built_in();
        assert!(vet_role(&policy, "department", Some("police")).is_ok());
        assert!(vet_role(&policy, "grid_worker", None).is_ok());
        let refusals = [
            ("anonymous", None, "development"),
            ("root", None, "not defined"),
            ("departmnet", Some("police"), "not defined"),
            ("department", None, "must name one"),
        ];
        for (role, department, reason) in refusals {
            let error = vet_role(&policy, role, department).unwrap_err();
            assert!(error.contains(reason), "{role}: {error}");
        }
        let mut principal = Principal {
            kind: PrincipalKind::Token,
            ..Principal::anonymous()
        };
        assert!(vet_principal(&policy, &principal)
            .unwrap_err()
            .contains("development"));
        assert!(vet_principal(&policy, &Principal::anonymous()).is_ok());
        principal.role = "admin".to_string();
        principal.purpose = Some("x".to_string());
        assert!(vet_principal(&policy, &principal)
            .unwrap_err()
            .contains("not one of"));
        principal.purpose = Some("welfare_assessment".to_string());
        assert!(vet_principal(&policy, &principal).is_ok());
    }
}
