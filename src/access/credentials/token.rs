//! Staff members' JWT bearer tokens: verification with HS256 (shared secret) and RS256 (PEM public
//! key), chosen by the token header's `alg`, with the configured issuer and audience, `exp` and
//! `nbf` checked and an `iat` in the future refused, each within `auth.leeway_secs`; and issuing
//! HS256 tokens for the command line and tests.

use super::{validate_grant, AuthError};
use crate::access::principal::{Principal, PrincipalKind};
use crate::config::AuthSettings;
use anyhow::Context as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims of a staff token this hub reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The staff member, used as the principal's subject.
    pub sub: String,
    /// Role of the access policy.
    pub role: String,
    /// Department the staff member acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Grid whose subtree bounds what the staff member sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Stated purpose; a request's `X-Purpose` header may repeat it but not change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Case reference; a request's `X-Case-Id` header may repeat it but not change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
}

/// Claims as a token carries them, before the required ones are known to be there.
#[derive(Deserialize)]
struct ReceivedClaims {
    sub: Option<String>,
    role: Option<String>,
    department: Option<String>,
    grid: Option<String>,
    exp: Option<u64>,
    iat: Option<u64>,
    purpose: Option<String>,
    case_id: Option<String>,
}

impl ReceivedClaims {
    fn into_claims(self) -> Result<Claims, AuthError> {
        let missing = |claim: &str| AuthError::rejected(format!("token lacks the claim {claim:?}"));
        Ok(Claims {
            sub: self.sub.ok_or_else(|| missing("sub"))?,
            role: self.role.ok_or_else(|| missing("role"))?,
            department: self.department,
            grid: self.grid,
            exp: self.exp.ok_or_else(|| missing("exp"))?,
            purpose: trimmed(self.purpose),
            case_id: trimmed(self.case_id),
        })
    }
}

/// Claims with the issue time, issuer and audience a token is signed for.
#[derive(Serialize)]
struct SignedClaims<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// Signs `claims` with HS256, adding `iss` and `aud` when given.
pub fn issue_hs256(
    secret: &str,
    claims: &Claims,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> anyhow::Result<String> {
    anyhow::ensure!(!secret.is_empty(), "no HS256 secret is configured");
    let signed = SignedClaims {
        claims,
        iat: jsonwebtoken::get_current_timestamp(),
        iss: issuer,
        aud: audience,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &signed,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("cannot sign the token")
}

/// Verifies tokens with the configured keys, issuer and audience.
#[derive(Clone)]
pub struct TokenVerifier {
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
}

impl TokenVerifier {
    /// A verifier for `settings`; reads and parses the RS256 public key file when one is set.
    pub fn new(settings: &AuthSettings) -> anyhow::Result<TokenVerifier> {
        Ok(TokenVerifier {
            hs256: configured(&settings.jwt_hs256_secret)
                .map(|secret| DecodingKey::from_secret(secret.as_bytes())),
            rs256: configured(&settings.jwt_rs256_public_key_file)
                .map(read_rsa_public_key)
                .transpose()?,
            issuer: configured(&settings.jwt_issuer).map(str::to_string),
            audience: configured(&settings.jwt_audience).map(str::to_string),
            leeway: settings.leeway_secs,
        })
    }

    /// Whether any token key is configured.
    pub fn has_keys(&self) -> bool {
        self.hs256.is_some() || self.rs256.is_some()
    }

    /// The principal of a valid token, or why the token is not accepted.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = self.verified_claims(token)?;
        validate_grant(
            &claims.role,
            claims.department.as_deref(),
            claims.grid.as_deref(),
        )
        .map_err(|reason| AuthError::rejected(format!("token claims: {reason}")))?;
        if claims.sub.trim().is_empty() {
            return Err(AuthError::rejected("token claims: the subject is empty"));
        }
        Ok(Principal {
            subject: claims.sub,
            kind: PrincipalKind::Token,
            role: claims.role,
            department: claims.department,
            grid_scope: claims.grid,
            purpose: claims.purpose,
            case_id: claims.case_id,
            expires_at: Some(claims.exp),
        })
    }

    fn verified_claims(&self, token: &str) -> Result<Claims, AuthError> {
        let algorithm = header_algorithm(token)?;
        let (key, algorithm) = match algorithm.as_str() {
            "HS256" => (self.hs256.as_ref(), Algorithm::HS256),
            "RS256" => (self.rs256.as_ref(), Algorithm::RS256),
            other => {
                return Err(AuthError::rejected(format!(
                    "token algorithm {:?} is not accepted (HS256 or RS256 only)",
                    shorten(other)
                )))
            }
        };
        let key = key.ok_or_else(|| {
            AuthError::rejected(format!(
                "{algorithm:?} tokens are not accepted here: no key is configured"
            ))
        })?;
        let claims =
            jsonwebtoken::decode::<ReceivedClaims>(token, key, &self.validation(algorithm))
                .map_err(|error| AuthError::rejected(rejection(error.kind())))?
                .claims;
        self.check_issued_at(claims.iat)?;
        claims.into_claims()
    }

    /// Refuses a token whose `iat` lies in the future by more than the leeway.
    fn check_issued_at(&self, iat: Option<u64>) -> Result<(), AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        match iat {
            Some(iat) if iat > now.saturating_add(self.leeway) => Err(AuthError::rejected(
                "token was issued in the future (iat): check the issuer's clock",
            )),
            _ => Ok(()),
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

/// A setting's value, or `None` when it is the empty string (unset).
fn configured(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

/// A free-text claim, trimmed; `None` when blank.
fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
}

fn read_rsa_public_key(path: &str) -> anyhow::Result<DecodingKey> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the RS256 public key file {path}"))?;
    DecodingKey::from_rsa_pem(&pem)
        .with_context(|| format!("{path} does not hold a PEM RSA public key"))
}

/// The `alg` of a token's header, read without trusting anything else in it.
fn header_algorithm(token: &str) -> Result<String, AuthError> {
    #[derive(Deserialize)]
    struct JoseHeader {
        alg: String,
    }
    let malformed = || AuthError::rejected("malformed token: expected a JWT with a JSON header");
    let (header, _) = token.split_once('.').ok_or_else(malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| malformed())?;
    let header: JoseHeader = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    Ok(header.alg)
}

fn shorten(text: &str) -> String {
    text.chars().take(16).collect()
}

/// Why a token was not accepted, in words for the caller.
fn rejection(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "token has expired".to_string(),
        ErrorKind::ImmatureSignature => "token is not valid yet (nbf)".to_string(),
        ErrorKind::InvalidSignature => "token signature is invalid".to_string(),
        ErrorKind::InvalidIssuer => "token issuer is not accepted".to_string(),
        ErrorKind::InvalidAudience => "token audience is not accepted".to_string(),
        ErrorKind::MissingRequiredClaim(claim) => format!("token lacks the claim {claim:?}"),
        ErrorKind::Json(error) => format!("token claims are invalid: {error}"),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "malformed token".to_string()
        }
        _ => "token is not valid".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    const SECRET: &str = "test secret of the hub";

    fn settings() -> AuthSettings {
        AuthSettings {
            required: false,
            jwt_hs256_secret: SECRET.to_string(),
            jwt_rs256_public_key_file: String::new(),
            jwt_issuer: String::new(),
            jwt_audience: String::new(),
            ..crate::config::Settings::defaults().auth
        }
    }

    fn now() -> u64 {
        chrono::Utc::now().timestamp() as u64
    }

    fn claims() -> Claims {
        Claims {
            sub: "wang.li".to_string(),
            role: "grid_worker".to_string(),
            department: Some("civil_affairs".to_string()),
            grid: Some("650203001".to_string()),
            exp: now() + 600,
            purpose: Some("home visit".to_string()),
            case_id: Some("C-17".to_string()),
        }
    }

    fn verifier(settings: &AuthSettings) -> TokenVerifier {
        TokenVerifier::new(settings).unwrap()
    }

    fn rejected(verifier: &TokenVerifier, token: &str) -> String {
        verifier.verify(token).unwrap_err().message().to_string()
    }

    fn sign_json(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_valid_hs256_token_becomes_a_token_principal() {
        let token = issue_hs256(SECRET, &claims(), None, None).unwrap();
        let principal = verifier(&settings()).verify(&token).unwrap();
        assert_eq!(principal.subject, "wang.li");
        assert_eq!(principal.kind, PrincipalKind::Token);
        assert_eq!(principal.role, "grid_worker");
        assert_eq!(principal.department.as_deref(), Some("civil_affairs"));
        assert_eq!(principal.grid_scope.as_deref(), Some("650203001"));
        assert_eq!(principal.purpose.as_deref(), Some("home visit"));
        assert_eq!(principal.case_id.as_deref(), Some("C-17"));
    }

    #[test]
    fn blank_purpose_and_case_claims_count_as_absent() {
        let blank = Claims {
            purpose: Some("  ".to_string()),
            case_id: Some(" C-18 ".to_string()),
            ..claims()
        };
        let token = issue_hs256(SECRET, &blank, None, None).unwrap();
        let principal = verifier(&settings()).verify(&token).unwrap();
        assert_eq!(principal.purpose, None);
        assert_eq!(principal.case_id.as_deref(), Some("C-18"));
    }

    #[test]
    fn expired_tokens_are_rejected() {
        let expired = Claims {
            exp: now() - 3600,
            ..claims()
        };
        let token = issue_hs256(SECRET, &expired, None, None).unwrap();
        assert_eq!(
            rejected(&verifier(&settings()), &token),
            "token has expired"
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected_without_naming_the_secret() {
        let token = issue_hs256("another secret", &claims(), None, None).unwrap();
        let message = rejected(&verifier(&settings()), &token);
        assert_eq!(message, "token signature is invalid");
        assert!(!message.contains(SECRET));
    }

    #[test]
    fn unsigned_and_unknown_algorithms_are_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        let message = rejected(&verifier(&settings()), &format!("{header}.{body}."));
        assert!(message.contains(r#""none" is not accepted"#), "{message}");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let message = rejected(&verifier(&settings()), &hs512);
        assert!(message.contains(r#""HS512" is not accepted"#), "{message}");
    }

    #[test]
    fn garbage_is_a_malformed_token() {
        let message = rejected(&verifier(&settings()), "not-a-jwt");
        assert!(message.starts_with("malformed token"), "{message}");
    }

    #[test]
    fn missing_claims_are_named() {
        let exp = now() + 600;
        let no_role = sign_json(serde_json::json!({"sub": "a", "exp": exp}));
        let message = rejected(&verifier(&settings()), &no_role);
        assert_eq!(message, r#"token lacks the claim "role""#);
        let no_sub = sign_json(serde_json::json!({"role": "auditor", "exp": exp}));
        assert_eq!(
            rejected(&verifier(&settings()), &no_sub),
            r#"token lacks the claim "sub""#
        );
        let no_exp = sign_json(serde_json::json!({"sub": "a", "role": "auditor"}));
        assert_eq!(
            rejected(&verifier(&settings()), &no_exp),
            r#"token lacks the claim "exp""#
        );
    }

    #[test]
    fn claims_outside_the_grant_rules_are_rejected() {
        let bad_department = Claims {
            department: Some("tax".to_string()),
            ..claims()
        };
        let token = issue_hs256(SECRET, &bad_department, None, None).unwrap();
        let message = rejected(&verifier(&settings()), &token);
        assert!(message.contains("unknown department"), "{message}");
        let bad_grid = Claims {
            grid: Some("65x".to_string()),
            ..claims()
        };
        let token = issue_hs256(SECRET, &bad_grid, None, None).unwrap();
        let message = rejected(&verifier(&settings()), &token);
        assert!(message.contains("invalid grid code"), "{message}");
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let strict = verifier(&AuthSettings {
            jwt_issuer: "hub-idp".to_string(),
            jwt_audience: "gridhub".to_string(),
            ..settings()
        });
        let good = issue_hs256(SECRET, &claims(), Some("hub-idp"), Some("gridhub")).unwrap();
        assert!(strict.verify(&good).is_ok());
        let wrong_iss = issue_hs256(SECRET, &claims(), Some("other"), Some("gridhub")).unwrap();
        assert_eq!(
            rejected(&strict, &wrong_iss),
            "token issuer is not accepted"
        );
        let wrong_aud = issue_hs256(SECRET, &claims(), Some("hub-idp"), Some("other")).unwrap();
        assert_eq!(
            rejected(&strict, &wrong_aud),
            "token audience is not accepted"
        );
        let no_iss = issue_hs256(SECRET, &claims(), None, Some("gridhub")).unwrap();
        assert_eq!(rejected(&strict, &no_iss), r#"token lacks the claim "iss""#);
        let lenient = verifier(&settings());
        assert!(
            lenient.verify(&good).is_ok(),
            "iss/aud unchecked when unset"
        );
    }

    #[test]
    fn hs256_tokens_need_a_configured_secret() {
        let only_rs = verifier(&AuthSettings {
            jwt_hs256_secret: String::new(),
            ..settings()
        });
        assert!(!only_rs.has_keys());
        let token = issue_hs256(SECRET, &claims(), None, None).unwrap();
        assert!(rejected(&only_rs, &token).contains("no key is configured"));
        assert!(issue_hs256("", &claims(), None, None).is_err());
    }

    #[test]
    fn a_missing_rs256_key_file_fails_at_construction() {
        let result = TokenVerifier::new(&AuthSettings {
            jwt_rs256_public_key_file: "/nonexistent/key.pem".to_string(),
            ..settings()
        });
        let message = format!("{:#}", result.err().unwrap());
        assert!(
            message.contains("cannot read the RS256 public key file"),
            "{message}"
        );
    }

    /// An RSA key pair made by the `openssl` command, or `None` where it is not installed.
    fn rsa_key_pair(dir: &Path) -> Option<(Vec<u8>, String)> {
        let private = dir.join("private.pem");
        let public = dir.join("public.pem");
        let run = |args: &[&str]| {
            Command::new("openssl")
                .args(args)
                .output()
                .is_ok_and(|output| output.status.success())
        };
        let made = run(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            private.to_str()?,
        ]) && run(&[
            "pkey",
            "-in",
            private.to_str()?,
            "-pubout",
            "-out",
            public.to_str()?,
        ]);
        made.then(|| {
            (
                std::fs::read(&private).unwrap(),
                public.to_str().unwrap().to_string(),
            )
        })
    }

    #[test]
    fn rs256_tokens_verify_with_the_public_key_file_beside_hs256() {
        let dir = tempfile::tempdir().unwrap();
        let Some((private_pem, public_file)) = rsa_key_pair(dir.path()) else {
            eprintln!("openssl is not installed: RS256 not exercised");
            return;
        };
        let both = verifier(&AuthSettings {
            jwt_rs256_public_key_file: public_file,
            ..settings()
        });
        let rs = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &claims(),
            &EncodingKey::from_rsa_pem(&private_pem).unwrap(),
        )
        .unwrap();
        assert_eq!(both.verify(&rs).unwrap().subject, "wang.li");
        let hs = issue_hs256(SECRET, &claims(), None, None).unwrap();
        assert!(both.verify(&hs).is_ok());
        let (header, rest) = rs.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let admin = Claims {
            role: "admin".to_string(),
            ..claims()
        };
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin).unwrap());
        let forged = format!("{header}.{forged_body}.{signature}");
        assert_eq!(rejected(&both, &forged), "token signature is invalid");
    }

    #[test]
    fn a_file_without_an_rsa_key_fails_at_construction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pem");
        std::fs::write(&path, "not a key").unwrap();
        let result = TokenVerifier::new(&AuthSettings {
            jwt_rs256_public_key_file: path.to_str().unwrap().to_string(),
            ..settings()
        });
        assert!(result.is_err());
    }

    fn signed(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn not_before_and_issued_at_are_checked_within_the_leeway() {
        let verifier = verifier(&AuthSettings {
            leeway_secs: 10,
            ..settings()
        });
        let now = now();
        let token = |extra: serde_json::Value| {
            let mut claims = serde_json::json!({"sub": "s", "role": "admin", "exp": now + 600});
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            signed(&claims)
        };
        let refused = [
            (serde_json::json!({"nbf": now + 60}), "not valid yet"),
            (serde_json::json!({"iat": now + 60}), "issued in the future"),
            (serde_json::json!({"exp": now - 11}), "expired"),
        ];
        for (extra, reason) in refused {
            let error = verifier.verify(&token(extra.clone())).unwrap_err();
            assert!(error.message().contains(reason), "{extra}: {error}");
        }
        for extra in [
            serde_json::json!({"nbf": now + 5, "iat": now + 5}),
            serde_json::json!({"nbf": now - 60, "iat": now - 60}),
            serde_json::json!({"exp": now - 5}),
        ] {
            assert!(verifier.verify(&token(extra.clone())).is_ok(), "{extra}");
        }
        let principal = verifier.verify(&token(serde_json::json!({}))).unwrap();
        assert_eq!(principal.expires_at, Some(now + 600));
    }
}
