//! Attack class: credentials a hub must not honour. Forged, expired, premature and misaddressed
//! tokens, algorithm tricks (`none`, HS256 signed with the RS256 public key), roles that do not
//! exist or exist only for development, a department role without a department, a grid scope
//! that is no grid, a purpose header overriding the token's claim, junk purposes and case
//! references, revoked and unknown keys, and `/metrics` read without a metrics role. A leak is
//! any data returned.

use crate::common::{backends, Backend, Hub};
use crate::probe::{bearer, claims, hardened, sign};
use crate::Probe;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gridhub::access::credentials::{create_key, revoke_key, NewKey};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const PERSONS: u64 = 60;
/// Rows of every kind a credential could read, with a sensitive field in full.
const READ: &str =
    "{ grids(first: 1) { nodes { code } } persons(first: 3) { totalCount nodes { id idNumber } } }";
const PURPOSE: &str = "public_security";
const CASE: &str = "CASE-2026-0042";

/// Whether an answer carries any data.
fn leaked(answer: &Value) -> bool {
    answer["data"]
        .as_object()
        .is_some_and(|data| data.values().any(|v| !v.is_null()))
}

/// Asks [`READ`] with `headers`; whether anything came back.
async fn reads(hub: &Hub, headers: &[(&str, &str)]) -> bool {
    let (_, _, answer) = hub.query_as(headers, json!({"query": READ})).await;
    leaked(&answer)
}

/// `claims` with `changes` laid over them (a `null` removes the claim).
fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().expect("an object") {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A JWT with header `header` and `claims`, signed with `sign` over the signing input.
fn forged(header: Value, claims: &Value, signature: &[u8]) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let signature = URL_SAFE_NO_PAD.encode(signature);
    format!("{}.{}.{signature}", encode(&header), encode(claims))
}

/// An RSA key pair made by `openssl` in `dir`: the private PEM and the public key file.
fn rsa_key_pair(dir: &Path) -> Option<(Vec<u8>, String)> {
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .output()
            .is_ok_and(|output| output.status.success())
    };
    let private_path = private.to_str()?;
    let public_path = public.to_str()?;
    let made = run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        private_path,
    ]) && run(&["pkey", "-in", private_path, "-pubout", "-out", public_path]);
    made.then(|| (std::fs::read(&private).unwrap(), public_path.to_string()))
}

fn rs256(private_pem: &[u8], claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem).expect("an RSA key");
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn hs256(secret: &[u8], claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("sign")
}

/// Tokens whose signature, time or address a hardened hub must refuse, by what they try.
fn bad_tokens(now: i64) -> Vec<(String, String)> {
    let admin = claims("mallory", "admin");
    let signed =
        |what: &str, changes: Value| (what.to_string(), sign(&with(admin.clone(), changes)));
    let mut tokens = vec![
        signed("expired an hour ago", json!({"exp": now - 3600})),
        signed("expired beyond the leeway", json!({"exp": now - 120})),
        signed("no exp", json!({"exp": null})),
        signed("nbf in an hour", json!({"nbf": now + 3600})),
        signed("nbf beyond the leeway", json!({"nbf": now + 120})),
        signed("iat in an hour", json!({"iat": now + 3600})),
        signed("iat beyond the leeway", json!({"iat": now + 120})),
        signed("wrong issuer", json!({"iss": "someone-else"})),
        signed("no issuer", json!({"iss": null})),
        signed("wrong audience", json!({"aud": "another-hub"})),
        signed("audience list without ours", json!({"aud": ["a", "b"]})),
        signed("no audience", json!({"aud": null})),
        signed("no subject", json!({"sub": null})),
        signed("empty subject", json!({"sub": " "})),
        signed("no role", json!({"role": null})),
        ("wrong secret".into(), hs256(b"guessed-secret", &admin)),
        ("empty secret".into(), hs256(b"", &admin)),
    ];
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        tokens.push((format!("alg {alg}"), forged(header.clone(), &admin, b"")));
        tokens.push((
            format!("alg {alg} with a signature"),
            forged(header, &admin, b"sig"),
        ));
    }
    for alg in ["HS384", "HS512", "ES256", "PS256", "EdDSA"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        tokens.push((format!("alg {alg}"), forged(header, &admin, b"signature")));
    }
    let honest = sign(&claims("mallory", "grid_worker"));
    let (head, rest) = honest.split_once('.').unwrap();
    let (_, signature) = rest.rsplit_once('.').unwrap();
    let elevated = URL_SAFE_NO_PAD.encode(admin.to_string());
    tokens.push((
        "a worker's signature under admin claims".into(),
        format!("{head}.{elevated}.{signature}"),
    ));
    tokens
}

/// Claims naming roles, departments and grids no request may act as.
fn bad_grants() -> Vec<(&'static str, Value)> {
    let as_role = |role: &str| claims("mallory", role);
    vec![
        ("role anonymous", as_role("anonymous")),
        (
            "role anonymous with a grid",
            with(as_role("anonymous"), json!({"grid": "650203"})),
        ),
        (
            "role anonymous for police",
            with(as_role("anonymous"), json!({"department": "police"})),
        ),
        ("role root", as_role("root")),
        ("role superuser", as_role("superuser")),
        ("role ADMIN", as_role("ADMIN")),
        ("role admin with a space", as_role("admin ")),
        ("role empty", as_role("")),
        (
            "role departmnet",
            with(as_role("departmnet"), json!({"department": "police"})),
        ),
        ("department without department", as_role("department")),
        (
            "department without department, with a grid",
            with(as_role("department"), json!({"grid": "650203"})),
        ),
        (
            "department of tax",
            with(as_role("department"), json!({"department": "tax"})),
        ),
        (
            "department of an empty name",
            with(as_role("department"), json!({"department": ""})),
        ),
        (
            "grid worker of a nonexistent grid",
            with(as_role("grid_worker"), json!({"grid": "650203999999"})),
        ),
        (
            "admin of a nonexistent district",
            with(as_role("admin"), json!({"grid": "110101"})),
        ),
        (
            "grid worker of a malformed grid",
            with(as_role("grid_worker"), json!({"grid": "65020"})),
        ),
        (
            "junk purpose claim",
            with(as_role("admin"), json!({"purpose": "x", "case_id": CASE})),
        ),
        (
            "junk case claim",
            with(
                as_role("admin"),
                json!({"purpose": PURPOSE, "case_id": "x"}),
            ),
        ),
    ]
}

async fn hardened_hub(backend: Backend, public_key: Option<String>) -> Hub {
    Hub::start_with(backend, PERSONS, |s| {
        hardened(s);
        if let Some(file) = public_key {
            s.auth.jwt_rs256_public_key_file = file;
        }
    })
    .await
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_read_nothing() {
    let mut probe = Probe::new("credentials: tokens");
    let dir = tempfile::tempdir().unwrap();
    let pair = rsa_key_pair(dir.path());
    for backend in backends() {
        let hub = hardened_hub(backend, pair.as_ref().map(|(_, file)| file.clone())).await;
        let now = chrono::Utc::now().timestamp();
        for (what, token) in bad_tokens(now) {
            let header = format!("Bearer {token}");
            let leak = reads(&hub, &[("Authorization", &header)]).await;
            probe.attempt(format!("{backend:?}: {what}"), leak);
        }
        let Some((private_pem, public_file)) = &pair else {
            eprintln!("openssl is not installed: RS256 attacks not exercised");
            continue;
        };
        let public_pem = std::fs::read(public_file).unwrap();
        let admin = claims("mallory", "admin");
        let confused = [
            (
                "HS256 signed with the RS256 public key",
                hs256(&public_pem, &admin),
            ),
            (
                "HS256 signed with the trimmed public key",
                hs256(
                    String::from_utf8_lossy(&public_pem).trim().as_bytes(),
                    &admin,
                ),
            ),
            (
                "RS256 as role anonymous",
                rs256(private_pem, &claims("m", "anonymous")),
            ),
            (
                "RS256 expired",
                rs256(
                    private_pem,
                    &with(admin.clone(), json!({"exp": now - 3600})),
                ),
            ),
            (
                "RS256 nbf in the future",
                rs256(
                    private_pem,
                    &with(admin.clone(), json!({"nbf": now + 3600})),
                ),
            ),
            (
                "RS256 wrong audience",
                rs256(private_pem, &with(admin.clone(), json!({"aud": "x"}))),
            ),
        ];
        for (what, token) in confused {
            let header = format!("Bearer {token}");
            let leak = reads(&hub, &[("Authorization", &header)]).await;
            probe.attempt(format!("{backend:?}: {what}"), leak);
        }
        // An RS256-only hub takes no HS256 token, whatever its secret.
        let rs_only = Hub::start_with(backend, PERSONS, |s| {
            hardened(s);
            s.auth.jwt_hs256_secret = String::new();
            s.auth.jwt_rs256_public_key_file = public_file.clone();
        })
        .await;
        for (what, secret) in [
            ("public key", public_pem.as_slice()),
            ("empty", b"".as_slice()),
        ] {
            let header = format!("Bearer {}", hs256(secret, &admin));
            let leak = reads(&rs_only, &[("Authorization", &header)]).await;
            probe.attempt(
                format!("{backend:?}: RS256-only hub, HS256 with the {what} secret"),
                leak,
            );
        }
        let honest = format!("Bearer {}", rs256(private_pem, &admin));
        assert!(
            reads(&rs_only, &[("Authorization", &honest)]).await,
            "{backend:?}: an honest RS256 token reads"
        );
    }
    probe.finish();
}

#[tokio::test]
async fn roles_departments_and_grids_no_request_may_act_as_read_nothing() {
    let mut probe = Probe::new("credentials: grants");
    for backend in backends() {
        let hub = hardened_hub(backend, None).await;
        for (what, claims) in bad_grants() {
            let header = format!("Bearer {}", sign(&claims));
            let leak = reads(&hub, &[("Authorization", &header)]).await;
            probe.attempt(format!("{backend:?}: token {what}"), leak);
        }
        // Keys stored before the command line refused such grants.
        let legacy = [
            ("legacy-anonymous", "anonymous", None, None),
            ("legacy-root", "root", None, None),
            ("legacy-department", "department", None, None),
            (
                "legacy-ghost-grid",
                "grid_worker",
                None,
                Some("650203999999"),
            ),
        ];
        for (name, role, department, grid) in legacy {
            let new = NewKey {
                name: name.to_string(),
                role: role.to_string(),
                department: department.map(str::to_string),
                grid_code: grid.map(str::to_string),
            };
            let (_, key) = create_key(&hub.db.conn, new).await.expect("a key");
            let leak = reads(&hub, &[("X-Api-Key", &key)]).await;
            probe.attempt(format!("{backend:?}: key {name}"), leak);
            let by_bearer = format!("Bearer {key}");
            let leak = reads(&hub, &[("Authorization", &by_bearer)]).await;
            probe.attempt(format!("{backend:?}: key {name} as a bearer"), leak);
        }
    }
    probe.finish();
}

#[tokio::test]
async fn purposes_case_references_and_keys_are_held_to_what_was_granted() {
    let mut probe = Probe::new("credentials: purposes and keys");
    for backend in backends() {
        let hub = hardened_hub(backend, None).await;
        let admin = bearer("admin-purposes", "admin", None, None);
        let mut claimed = claims("police-claimed", "department");
        claimed["department"] = json!("police");
        claimed["purpose"] = json!("welfare_assessment");
        claimed["case_id"] = json!(CASE);
        let claimed = format!("Bearer {}", sign(&claimed));
        let overrides: [(&str, &[(&str, &str)]); 4] = [
            ("another purpose over the claim", &[("X-Purpose", PURPOSE)]),
            (
                "another case over the claim",
                &[("X-Case-Id", "CASE-9999-0001")],
            ),
            (
                "both over the claims",
                &[("X-Purpose", PURPOSE), ("X-Case-Id", "CASE-9999-0001")],
            ),
            ("a junk purpose over the claim", &[("X-Purpose", "x")]),
        ];
        for (what, extra) in overrides {
            let headers = [&[("Authorization", claimed.as_str())][..], extra].concat();
            probe.attempt(format!("{backend:?}: {what}"), reads(&hub, &headers).await);
        }
        let junk: [(&str, &str, &str); 8] = [
            ("purpose x", "x", CASE),
            ("case x", PURPOSE, "x"),
            ("both x", "x", "x"),
            ("free-text purpose", "just looking", CASE),
            ("purpose with padding inside", "public _security", CASE),
            ("purpose of another case", "PUBLIC_SECURITY", CASE),
            ("case with spaces", PURPOSE, "CASE 2026 0042"),
            ("case with a path", PURPOSE, "../../audit"),
        ];
        for (what, purpose, case) in junk {
            let headers = [
                ("Authorization", admin.as_str()),
                ("X-Purpose", purpose),
                ("X-Case-Id", case),
            ];
            probe.attempt(format!("{backend:?}: {what}"), reads(&hub, &headers).await);
        }
        let long_case = "C".repeat(65);
        let headers = [
            ("Authorization", admin.as_str()),
            ("X-Purpose", PURPOSE),
            ("X-Case-Id", long_case.as_str()),
        ];
        probe.attempt(
            format!("{backend:?}: case of 65 characters"),
            reads(&hub, &headers).await,
        );

        let new = NewKey {
            name: "revoked-police".to_string(),
            role: "department".to_string(),
            department: Some("police".to_string()),
            grid_code: None,
        };
        let (_, key) = create_key(&hub.db.conn, new).await.expect("a key");
        assert!(
            reads(&hub, &[("X-Api-Key", &key)]).await,
            "{backend:?}: the key reads before revocation"
        );
        revoke_key(&hub.db.conn, "revoked-police")
            .await
            .expect("revoke");
        let by_bearer = format!("Bearer {key}");
        let unknown = format!("ghk_{}", "A".repeat(43));
        let keys: [(&str, &str, &str); 5] = [
            ("revoked key", "X-Api-Key", &key),
            ("revoked key as a bearer", "Authorization", &by_bearer),
            ("unknown key", "X-Api-Key", &unknown),
            ("malformed key", "X-Api-Key", "ghk_short"),
            ("key without its prefix", "X-Api-Key", &key[4..]),
        ];
        for (what, header, value) in keys {
            probe.attempt(
                format!("{backend:?}: {what}"),
                reads(&hub, &[(header, value)]).await,
            );
        }

        let worker = bearer("metrics-worker", "grid_worker", None, None);
        let glass = break_glass_without_a_case(&hub, &worker).await;
        probe.attempt(
            format!("{backend:?}: break-glass without a case reference"),
            glass,
        );

        let auditor = bearer("metrics-auditor", "auditor", None, None);
        for (what, headers) in [
            ("no credential", vec![]),
            ("grid worker", vec![("Authorization", worker.as_str())]),
            ("auditor", vec![("Authorization", auditor.as_str())]),
            ("revoked key", vec![("X-Api-Key", key.as_str())]),
        ] {
            let metrics = metrics(&hub, &headers).await;
            probe.attempt(
                format!("{backend:?}: /metrics as {what}"),
                metrics.contains("gridhub_"),
            );
        }
        assert!(
            metrics(&hub, &[("Authorization", admin.as_str())])
                .await
                .contains("gridhub_"),
            "{backend:?}: an admin reads the metrics"
        );
    }
    probe.finish();
}

/// Whether `breakGlass` revealed anything to `worker` stating a purpose but no case reference.
async fn break_glass_without_a_case(hub: &Hub, worker: &str) -> bool {
    let list = json!({"query": "{ persons(first: 1) { nodes { id } } }"});
    let (_, _, answer) = hub.query_as(&[("Authorization", worker)], list).await;
    let id = answer["data"]["persons"]["nodes"][0]["id"].clone();
    assert!(id.is_string(), "a person for the worker: {answer}");
    let mutation = json!({
        "query": "mutation($id: ID!) { breakGlass(id: $id, fields: [\"person.idNumber\"], reason: \"fire on floor 3\") { value } }",
        "variables": {"id": id},
    });
    let headers = [
        ("Authorization", worker),
        ("X-Purpose", "emergency_response"),
    ];
    let (_, _, answer) = hub.query_as(&headers, mutation).await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("case reference")),
        "{answer}"
    );
    leaked(&answer)
}

/// The body of `/metrics` fetched with `headers`.
async fn metrics(hub: &Hub, headers: &[(&str, &str)]) -> String {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", hub.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .expect("request")
        .text()
        .await
        .unwrap_or_default()
}
