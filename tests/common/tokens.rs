//! Staff tokens for tests: HS256 JWTs signed with the secret a secured hub is started with.

use serde_json::{json, Value};

/// The JWT secret of hubs started with [`secured`].
pub const SECRET: &str = "integration-test-secret";

/// Settings of a hub that requires credentials and accepts tokens signed with [`SECRET`].
pub fn secured(settings: &mut gridhub::config::Settings) {
    settings.auth.required = true;
    settings.auth.jwt_hs256_secret = SECRET.into();
}

/// A token for `subject` in `role`, acting for `department`, scoped to the subtree of `grid`.
pub fn token(subject: &str, role: &str, department: Option<&str>, grid: Option<&str>) -> String {
    let mut claims: Value = json!({
        "sub": subject,
        "role": role,
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    if let Some(department) = department {
        claims["department"] = json!(department);
    }
    if let Some(grid) = grid {
        claims["grid"] = json!(grid);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign a token")
}
