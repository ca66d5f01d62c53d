//! The credential commands of the binary on a temporary SQLite database: `keys create`, `list`
//! and `revoke` (the plaintext is printed once and never listed; a revoked key stops
//! authenticating), and `token issue`, whose output the authenticator accepts; both refuse
//! grants no request could use (unknown or development-only roles, a department role without a
//! department, grids the hub does not have, purposes the policy does not list).

use axum::http::{HeaderMap, HeaderValue};
use gridhub::access::credentials::Authenticator;
use gridhub::access::principal::PrincipalKind;
use gridhub::config::AuthSettings;
use std::path::Path;
use std::process::{Command, Output};

const SECRET: &str = "integration test secret";

/// Runs the binary in `dir` with `args` and the extra environment `env`.
fn gridhub(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridhub"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("GRIDHUB__AUTH__JWT_HS256_SECRET")
        .envs(env.iter().copied())
        .output()
        .expect("run gridhub")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", stderr(output));
    stdout(output)
}

fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", stdout(output));
    stderr(output)
}

fn auth_settings(secret: &str, issuer: &str) -> AuthSettings {
    AuthSettings {
        required: true,
        jwt_hs256_secret: secret.to_string(),
        jwt_rs256_public_key_file: String::new(),
        jwt_issuer: issuer.to_string(),
        jwt_audience: String::new(),
        ..gridhub::config::Settings::defaults().auth
    }
}

async fn authenticator(url: &str, settings: &AuthSettings) -> Authenticator {
    let db = sea_orm::Database::connect(url).await.unwrap();
    Authenticator::new(db, settings).unwrap()
}

/// A demo street seeded into an SQLite file in `dir`; its URL.
fn seeded(dir: &Path) -> String {
    let url = format!("sqlite://{}?mode=rwc", dir.join("hub.db").display());
    let seed = ["seed", "--persons", "20", "--database", url.as_str()];
    succeeded(&gridhub(dir, &seed, &[]));
    url
}

fn single_header(name: &'static str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    headers
}

/// The cells of the listed row whose first cell is `name`.
fn listed_row(listing: &str, name: &str) -> Vec<String> {
    listing
        .lines()
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .find(|cells: &Vec<String>| cells.first().map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("{name} not listed in:\n{listing}"))
}

#[tokio::test]
async fn keys_are_created_once_listed_without_plaintext_and_revoked_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let db = ["--database", url.as_str()];
    let create = [
        &[
            "keys",
            "create",
            "--name",
            "police-sync",
            "--role",
            "department",
        ][..],
        &["--department", "police", "--grid", "650203"],
        &db,
    ]
    .concat();

    let created = succeeded(&gridhub(dir.path(), &create, &[]));
    let keys: Vec<&str> = created
        .lines()
        .filter(|line| line.starts_with("ghk_"))
        .collect();
    assert_eq!(keys.len(), 1, "one key line in:\n{created}");
    let key = keys[0];
    assert!(created.contains("will not be shown again"), "{created}");

    let listing = succeeded(&gridhub(
        dir.path(),
        &[&["keys", "list"][..], &db].concat(),
        &[],
    ));
    assert!(!listing.contains(key), "plaintext listed:\n{listing}");
    let row = listed_row(&listing, "police-sync");
    assert_eq!(row[1], &key[..12], "prefix column");
    assert_eq!(&row[2..5], ["department", "police", "650203"]);
    assert_eq!(row[6], "-", "not revoked yet");

    let auth = authenticator(&url, &auth_settings("", "")).await;
    let principal = auth
        .authenticate(&single_header("x-api-key", key))
        .await
        .unwrap();
    assert_eq!(principal.subject, "police-sync");
    assert_eq!(principal.kind, PrincipalKind::ApiKey);

    let duplicate = failed(&gridhub(dir.path(), &create, &[]));
    assert!(duplicate.contains("already exists"), "{duplicate}");

    let revoke = [&["keys", "revoke", "--name", "police-sync"][..], &db].concat();
    succeeded(&gridhub(dir.path(), &revoke, &[]));
    let listing = succeeded(&gridhub(
        dir.path(),
        &[&["keys", "list"][..], &db].concat(),
        &[],
    ));
    let revoked_at = &listed_row(&listing, "police-sync")[6];
    assert!(
        chrono::DateTime::parse_from_rfc3339(revoked_at).is_ok(),
        "revoked column: {revoked_at}"
    );
    let error = auth
        .authenticate(&single_header("x-api-key", key))
        .await
        .unwrap_err();
    assert!(error.message().contains("was revoked"), "{error}");

    let again = failed(&gridhub(dir.path(), &revoke, &[]));
    assert!(again.contains("already revoked"), "{again}");
    let unknown = [&["keys", "revoke", "--name", "nobody"][..], &db].concat();
    let unknown = failed(&gridhub(dir.path(), &unknown, &[]));
    assert!(unknown.contains("no API key is named"), "{unknown}");
}

#[tokio::test]
async fn issued_tokens_authenticate_and_need_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let args = [
        "token",
        "issue",
        "--subject",
        "zhang.wei",
        "--role",
        "grid_worker",
        "--department",
        "civil_affairs",
        "--grid",
        "650203001",
        "--purpose",
        "welfare_assessment",
        "--case-id",
        "C-2026-7",
        "--expires-in",
        "120",
        "--database",
        url.as_str(),
    ];
    let env = [
        ("GRIDHUB__AUTH__JWT_HS256_SECRET", SECRET),
        ("GRIDHUB__AUTH__JWT_ISSUER", "gridhub-cli"),
    ];
    let token = succeeded(&gridhub(dir.path(), &args, &env));
    let token = token.trim();

    let auth = authenticator(&url, &auth_settings(SECRET, "gridhub-cli")).await;
    let bearer = single_header("authorization", &format!("Bearer {token}"));
    let principal = auth.authenticate(&bearer).await.unwrap();
    assert_eq!(principal.subject, "zhang.wei");
    assert_eq!(principal.kind, PrincipalKind::Token);
    assert_eq!(principal.role, "grid_worker");
    assert_eq!(principal.department.as_deref(), Some("civil_affairs"));
    assert_eq!(principal.grid_scope.as_deref(), Some("650203001"));
    assert_eq!(principal.purpose.as_deref(), Some("welfare_assessment"));
    assert_eq!(principal.case_id.as_deref(), Some("C-2026-7"));

    let other_secret = authenticator(&url, &auth_settings("another secret", "")).await;
    let error = other_secret.authenticate(&bearer).await.unwrap_err();
    assert_eq!(error.message(), "token signature is invalid");

    let unset = failed(&gridhub(dir.path(), &args, &[]));
    assert!(unset.contains("jwt_hs256_secret is not set"), "{unset}");
    let bad_grid = [&args[..6], &["--grid", "12x"]].concat();
    let bad_grid = failed(&gridhub(dir.path(), &bad_grid, &env));
    assert!(bad_grid.contains("invalid grid code"), "{bad_grid}");
}

#[tokio::test]
async fn keys_and_tokens_are_refused_for_grants_no_request_could_use() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let env = [("GRIDHUB__AUTH__JWT_HS256_SECRET", SECRET)];
    let refusals: [(&[&str], &str); 9] = [
        (&["--role", "anonymous"], "development"),
        (&["--role", "root"], "not defined"),
        (
            &["--role", "departmnet", "--department", "police"],
            "not defined",
        ),
        (&["--role", "department"], "must name one"),
        (
            &["--role", "department", "--department", "tax"],
            "unknown department",
        ),
        (
            &["--role", "grid_worker", "--grid", "650203999"],
            "not a grid of this hub",
        ),
        (
            &["--role", "grid_worker", "--grid", "110101"],
            "not a grid of this hub",
        ),
        (&["--role", "admin", "--purpose", "x"], "not one of"),
        (&["--role", "admin", "--case-id", "x"], "does not match"),
    ];
    for (grant, reason) in refusals {
        let token = [
            &["token", "issue", "--subject", "s", "--database", &url][..],
            grant,
        ]
        .concat();
        let error = failed(&gridhub(dir.path(), &token, &env));
        assert!(error.contains(reason), "token {grant:?}: {error}");
        if grant.contains(&"--purpose") || grant.contains(&"--case-id") {
            continue;
        }
        let key = [
            &["keys", "create", "--name", "k", "--database", &url][..],
            grant,
        ]
        .concat();
        let error = failed(&gridhub(dir.path(), &key, &[]));
        assert!(error.contains(reason), "key {grant:?}: {error}");
    }
    let listing = succeeded(&gridhub(
        dir.path(),
        &["keys", "list", "--database", &url],
        &[],
    ));
    assert!(!listing.contains(" k "), "no key was stored:\n{listing}");
}
