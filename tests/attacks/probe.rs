//! A tally of one attack class: attempts and leaks, printed past the test harness's capture so
//! that CI's log shows every class, and a failure naming each leak.

use gridhub::config::Settings;
use serde_json::{json, Value};
use std::io::Write;

/// The JWT secret of a hardened hub.
pub const SECRET: &str = "attack-suite-secret";
/// A purpose of the policy's list, stated with full reads.
pub const PURPOSE: &str = "case_handling";
/// A well-formed case reference, stated with full reads.
pub const CASE_ID: &str = "CASE-2026-0042";

/// The issuer a hardened hub requires.
pub const ISSUER: &str = "gridhub-attack-suite";
/// The audience a hardened hub requires.
pub const AUDIENCE: &str = "gridhub";

/// Settings of a hub as a district runs it: credentials required, HS256 tokens of [`ISSUER`]
/// for [`AUDIENCE`], an audit key, production mode.
pub fn hardened(settings: &mut Settings) {
    settings.auth.required = true;
    settings.auth.jwt_hs256_secret = SECRET.into();
    settings.auth.jwt_issuer = ISSUER.into();
    settings.auth.jwt_audience = AUDIENCE.into();
    settings.audit.key = "attack-suite-audit-key".into();
    settings.access.production = true;
}

/// Claims of a staff token accepted by a hardened hub, valid for an hour; add or override
/// claims on the returned value.
pub fn claims(subject: &str, role: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": subject, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600})
}

/// `claims` signed with [`SECRET`].
pub fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign a token")
}

/// A bearer header value for `subject` in `role`, with `department` and `grid` when given.
pub fn bearer(subject: &str, role: &str, department: Option<&str>, grid: Option<&str>) -> String {
    let mut claims = claims(subject, role);
    if let Some(department) = department {
        claims["department"] = json!(department);
    }
    if let Some(grid) = grid {
        claims["grid"] = json!(grid);
    }
    format!("Bearer {}", sign(&claims))
}

/// The attempts and leaks of one attack class.
pub struct Probe {
    class: &'static str,
    attempts: u32,
    leaks: Vec<String>,
}

impl Probe {
    /// A tally for `class`, e.g. `lookup oracles`.
    pub fn new(class: &'static str) -> Probe {
        Probe {
            class,
            attempts: 0,
            leaks: Vec::new(),
        }
    }

    /// Counts one attempt; `leaked` says whether the attacker got what it must not, `what`
    /// describes the attempt for the failure message.
    pub fn attempt(&mut self, what: impl Into<String>, leaked: bool) {
        self.attempts += 1;
        if leaked {
            self.leaks.push(what.into());
        }
    }

    /// Prints `attack class CLASS: N attempts, M leaks` and fails when anything leaked.
    pub fn finish(self) {
        let line = format!(
            "attack class {}: {} attempts, {} leaks\n",
            self.class,
            self.attempts,
            self.leaks.len()
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        assert!(self.attempts > 0, "{}: no attempt was made", self.class);
        assert!(
            self.leaks.is_empty(),
            "{} leaked:\n{}",
            self.class,
            self.leaks.join("\n")
        );
    }
}
