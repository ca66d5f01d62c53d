//! Access control through HTTP, on SQLite and (when configured) PostgreSQL: staff tokens,
//! roles, grid scopes, masked and full sensitive fields, purposes and case references, the
//! audit log, data-sharing grants (also bound to registered operations) and break-glass reveals.
//!
//! Fixture data is discovered as an administrator first; every other principal's view is then
//! compared with what the administrator sees.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::imports::scalar;
use common::{backends, first_error_code, Backend, Hub};
use gridhub::entity::audit_entry;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Headers sent, headers the message must name, headers it must not name.
type PurposeCase<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a [&'a str]);

/// What is wrong, the headers sent, and words one of which the message must contain.
type CredentialCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);

const PERSONS: u64 = 400;
const SECRET: &str = "access-test-secret";
const PURPOSE: &str = "public_security";
const CASE: &str = "CASE-2026-0042";
const WITH_PURPOSE: [(&str, &str); 2] = [("X-Purpose", PURPOSE), ("X-Case-Id", CASE)];

// ---------------------------------------------------------------------------------------------
// Principals and requests

/// Who calls: the claims of a staff token.
#[derive(Debug, Clone)]
struct Who {
    sub: String,
    role: &'static str,
    department: Option<&'static str>,
    grid: Option<String>,
}

fn admin() -> Who {
    Who {
        sub: "admin-01".into(),
        role: "admin",
        department: None,
        grid: None,
    }
}

fn command_centre(community: &str) -> Who {
    Who {
        sub: "screen-01".into(),
        role: "command_centre",
        department: None,
        grid: Some(community.to_string()),
    }
}

fn grid_worker(grid: &str) -> Who {
    Who {
        sub: "worker-01".into(),
        role: "grid_worker",
        department: None,
        grid: Some(grid.to_string()),
    }
}

fn department(code: &'static str) -> Who {
    Who {
        sub: format!("{code}-officer-01"),
        role: "department",
        department: Some(code),
        grid: None,
    }
}

fn auditor() -> Who {
    Who {
        sub: "auditor-01".into(),
        role: "auditor",
        department: None,
        grid: None,
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An HS256 JWT of `claims` signed with `secret`.
fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a token")
}

impl Who {
    fn claims(&self) -> Value {
        let mut claims = json!({"sub": self.sub, "role": self.role, "exp": now_secs() + 3600});
        if let Some(department) = self.department {
            claims["department"] = json!(department);
        }
        if let Some(grid) = &self.grid {
            claims["grid"] = json!(grid);
        }
        claims
    }

    fn token(&self) -> String {
        sign(&self.claims(), SECRET)
    }
}

async fn secured_hub(backend: Backend) -> Hub {
    Hub::start_with(backend, PERSONS, |s| {
        s.auth.required = true;
        s.auth.jwt_hs256_secret = SECRET.into();
    })
    .await
}

/// Posts `query` as `who` with `extra` headers; returns the status and the JSON body.
async fn call(
    hub: &Hub,
    who: &Who,
    extra: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> (u16, Value) {
    call_with_token(hub, &who.token(), extra, query, variables).await
}

/// Posts `query` with bearer `token` and `extra` headers; returns the status and the JSON body.
async fn call_with_token(
    hub: &Hub,
    token: &str,
    extra: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("Authorization", bearer.as_str())];
    headers.extend_from_slice(extra);
    let (status, _, body) = hub
        .query_as(&headers, json!({"query": query, "variables": variables}))
        .await;
    (status, body)
}

/// Like [`call`], asserting HTTP 200 and no errors; returns `data`.
async fn data_as(hub: &Hub, who: &Who, extra: &[(&str, &str)], query: &str, vars: Value) -> Value {
    let (status, body) = call(hub, who, extra, query, vars).await;
    assert!(
        status == 200 && body.get("errors").is_none(),
        "{:?} as {}: unexpected status {status} or errors: {body:#}\nquery: {query}",
        hub.backend,
        who.role
    );
    body["data"].clone()
}

fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn first_message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The row id inside a global id (base64url of `Type:rowid`).
fn row_id(global: &str) -> i64 {
    let bytes = URL_SAFE_NO_PAD.decode(global).expect("a global id");
    let text = String::from_utf8(bytes).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

fn global_id(type_name: &str, row: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{row}"))
}

// ---------------------------------------------------------------------------------------------
// Expected masks, written independently of the hub's own masking code

fn masked_id_number(full: &str) -> String {
    let chars: Vec<char> = full.chars().collect();
    assert_eq!(
        chars.len(),
        18,
        "seeded ID numbers have 18 characters: {full}"
    );
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[14..].iter().collect();
    format!("{head}**********{tail}")
}

fn masked_phone(full: &str) -> String {
    assert_eq!(full.len(), 11, "seeded phones are mobile numbers: {full}");
    format!("{}****{}", &full[..3], &full[7..])
}

fn masked_date(full: &str) -> String {
    assert_eq!(full.len(), 10, "a date YYYY-MM-DD: {full}");
    format!("{}-**-**", &full[..4])
}

fn star_digits(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

/// Digits after the last 单元 hidden (all digits when there is no 单元).
fn masked_room(full: &str) -> String {
    match full.rfind("单元") {
        Some(at) => {
            let (head, tail) = full.split_at(at + "单元".len());
            format!("{head}{}", star_digits(tail))
        }
        None => star_digits(full),
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture discovery (as admin, with a purpose and a case reference)

#[derive(Debug, Clone)]
struct Room {
    id: String,
    name: String,
    address: String,
}

#[derive(Debug, Clone)]
struct PersonFacts {
    id: String,
    id_number: String,
    phone: Option<String>,
    birth_date: String,
    tags: Vec<String>,
    grid_code: String,
    room: Option<Room>,
    party_points: Vec<Value>,
    police_record: Option<String>,
}

#[derive(Debug, Clone)]
struct Fixture {
    /// A GRID-level grid: the grid worker's scope.
    grid: String,
    /// Its community: the command centre's scope.
    community: String,
    /// A person of the grid with a phone and a room in the grid.
    inside: PersonFacts,
    /// A person of the grid tagged KEY_PERSON.
    key_person: PersonFacts,
    /// A person of the grid with party points.
    member: PersonFacts,
    /// A person of another community with a phone and a room.
    outside: PersonFacts,
    /// A person tagged LOW_INCOME (anywhere).
    low_income: PersonFacts,
    /// Persons in the whole hub.
    total_persons: i64,
}

const DISCOVER: &str = r#"
query Discover($after: String) {
  persons(first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id idNumber phone birthDate tags grid { code }
      residences { house { id kind name address grid { code } } }
      memberships { role points }
      sourceRecords { id department { code } }
    }
  }
}"#;

fn facts_of(node: &Value) -> PersonFacts {
    let grid_code = node["grid"]["code"].as_str().unwrap().to_string();
    let room = node["residences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["house"])
        .find(|h| {
            h["kind"] == "ROOM"
                && h["grid"]["code"].as_str().is_some_and(|c| {
                    c.len() >= 15 && grid_code.len() >= 15 && c[..15] == grid_code[..15]
                })
        })
        .map(|h| Room {
            id: h["id"].as_str().unwrap().to_string(),
            name: h["name"].as_str().unwrap().to_string(),
            address: h["address"].as_str().unwrap().to_string(),
        });
    let party_points = node["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "PARTY_MEMBER" && !m["points"].is_null())
        .map(|m| m["points"].clone())
        .collect();
    let police_record = node["sourceRecords"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["department"]["code"] == "police")
        .map(|r| r["id"].as_str().unwrap().to_string());
    PersonFacts {
        id: node["id"].as_str().unwrap().to_string(),
        id_number: node["idNumber"].as_str().unwrap().to_string(),
        phone: node["phone"].as_str().map(str::to_string),
        birth_date: node["birthDate"].as_str().unwrap().to_string(),
        tags: node["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect(),
        grid_code,
        room,
        party_points,
        police_record,
    }
}

async fn discover(hub: &Hub) -> Fixture {
    let (mut persons, mut after) = (Vec::new(), Value::Null);
    let total = loop {
        let page = data_as(
            hub,
            &admin(),
            &WITH_PURPOSE,
            DISCOVER,
            json!({"after": after}),
        )
        .await["persons"]
            .clone();
        persons.extend(page["nodes"].as_array().unwrap().iter().map(facts_of));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break page["totalCount"].as_i64().unwrap();
        }
        after = page["pageInfo"]["endCursor"].clone();
    };
    assert_eq!(persons.len() as i64, total, "{:?}", hub.backend);
    let ok_id = |p: &PersonFacts| p.id_number.len() == 18 && !p.id_number.contains('*');
    assert!(
        persons.iter().all(ok_id),
        "admin with a purpose sees ID numbers in full"
    );

    let mut by_grid: BTreeMap<String, Vec<&PersonFacts>> = BTreeMap::new();
    for person in persons.iter().filter(|p| p.grid_code.len() >= 15) {
        by_grid
            .entry(person.grid_code[..15].to_string())
            .or_default()
            .push(person);
    }
    let key_persons = persons
        .iter()
        .filter(|p| p.tags.iter().any(|t| t == "KEY_PERSON"))
        .count();
    assert!(
        key_persons > 0,
        "no KEY_PERSON among {PERSONS} seeded persons: raise PERSONS"
    );
    let usable =
        |p: &&&PersonFacts| p.phone.is_some() && p.room.is_some() && p.police_record.is_some();
    for (grid, members) in &by_grid {
        let key_person = members
            .iter()
            .find(|p| p.tags.iter().any(|t| t == "KEY_PERSON"));
        let inside = members.iter().find(usable);
        let member = members.iter().find(|p| !p.party_points.is_empty());
        let (Some(key_person), Some(inside), Some(member)) = (key_person, inside, member) else {
            continue;
        };
        let community = grid[..12].to_string();
        let outside = persons
            .iter()
            .filter(|p| !p.grid_code.starts_with(&community))
            .find(|p| p.phone.is_some() && p.room.is_some() && p.police_record.is_some())
            .expect("a person of another community");
        return Fixture {
            grid: grid.clone(),
            community,
            inside: (*inside).clone(),
            key_person: (*key_person).clone(),
            member: (*member).clone(),
            outside: outside.clone(),
            low_income: persons
                .iter()
                .find(|p| p.tags.iter().any(|t| t == "LOW_INCOME"))
                .expect("a LOW_INCOME person: raise PERSONS")
                .clone(),
            total_persons: total,
        };
    }
    panic!(
        "no GRID-level grid holds a key person, a party member with points and a housed person \
         with a phone among {PERSONS} persons: raise PERSONS"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. The table: role × element × field → full, masked, hidden or no row

#[derive(Debug, Clone, Copy)]
enum Field {
    IdNumber,
    Phone,
    BirthDate,
    KeyPersonTag,
    /// The LOW_INCOME welfare tag (civil affairs).
    LowIncomeTag,
    RoomName,
    PartyPoints,
    SourcePayload,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Inside,
    KeyPerson,
    Member,
    Outside,
    LowIncome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The value as the admin sees it.
    Full,
    /// The shape-keeping mask of that value.
    Masked,
    /// The element is there but the field is null (or the tag left out).
    Hidden,
    /// The element itself is not there (null in `node`), with no error.
    NoRow,
}

struct Row {
    who: Who,
    target: Target,
    field: Field,
    expect: Expect,
}

fn row(who: &Who, target: Target, field: Field, expect: Expect) -> Row {
    Row {
        who: who.clone(),
        target,
        field,
        expect,
    }
}

fn target(fixture: &Fixture, target: Target) -> &PersonFacts {
    match target {
        Target::Inside => &fixture.inside,
        Target::KeyPerson => &fixture.key_person,
        Target::Member => &fixture.member,
        Target::Outside => &fixture.outside,
        Target::LowIncome => &fixture.low_income,
    }
}

const PERSON_FIELDS: &str = r#"query($id: ID!) { node(id: $id) { id ... on Person {
    idNumber phone birthDate tags memberships { role points } } } }"#;
const ROOM_FIELDS: &str =
    r#"query($id: ID!) { node(id: $id) { id ... on House { kind name address } } }"#;
const RECORD_FIELDS: &str =
    r#"query($id: ID!) { node(id: $id) { id ... on SourceRecord { payload } } }"#;

async fn check_row(hub: &Hub, fixture: &Fixture, row: &Row) {
    let person = target(fixture, row.target);
    let (query, id) = match row.field {
        Field::RoomName => (ROOM_FIELDS, person.room.as_ref().unwrap().id.clone()),
        Field::SourcePayload => (RECORD_FIELDS, person.police_record.clone().unwrap()),
        _ => (PERSON_FIELDS, person.id.clone()),
    };
    let what = format!(
        "{:?}: {} {:?} reading {:?} of {:?} {id}",
        hub.backend, row.who.role, row.who.grid, row.field, row.target
    );
    let data = data_as(hub, &row.who, &WITH_PURPOSE, query, json!({"id": id})).await;
    let node = &data["node"];
    if row.expect == Expect::NoRow {
        assert!(node.is_null(), "{what}: expected no row, got {node}");
        return;
    }
    assert_eq!(
        node["id"],
        json!(id),
        "{what}: expected the row, got {node}"
    );
    let (full, masked, seen): (Value, Value, Value) = match row.field {
        Field::IdNumber => (
            json!(person.id_number),
            json!(masked_id_number(&person.id_number)),
            node["idNumber"].clone(),
        ),
        Field::Phone => {
            let phone = person.phone.as_deref().unwrap();
            (
                json!(phone),
                json!(masked_phone(phone)),
                node["phone"].clone(),
            )
        }
        Field::BirthDate => (
            json!(person.birth_date),
            json!(masked_date(&person.birth_date)),
            node["birthDate"].clone(),
        ),
        Field::KeyPersonTag | Field::LowIncomeTag => {
            let tag = match row.field {
                Field::KeyPersonTag => "KEY_PERSON",
                _ => "LOW_INCOME",
            };
            assert!(person.tags.iter().any(|t| t == tag), "{what}: fixture");
            let has_tag = node["tags"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: tags is a list: {node}"))
                .contains(&json!(tag));
            let expected = row.expect == Expect::Full;
            assert_eq!(has_tag, expected, "{what}: {tag} shown? {node}");
            return;
        }
        Field::RoomName => {
            let room = person.room.as_ref().unwrap();
            assert_eq!(node["kind"], "ROOM", "{what}");
            let (name, address) = match row.expect {
                Expect::Full => (room.name.clone(), room.address.clone()),
                _ => (masked_room(&room.name), masked_room(&room.address)),
            };
            assert!(
                room.name.chars().any(|c| c.is_ascii_digit()),
                "{what}: a room number"
            );
            assert_eq!(node["name"], json!(name), "{what}: name");
            assert_eq!(node["address"], json!(address), "{what}: address");
            return;
        }
        Field::PartyPoints => {
            let points: Vec<Value> = node["memberships"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: memberships is a list: {node}"))
                .iter()
                .filter(|m| m["role"] == "PARTY_MEMBER")
                .map(|m| m["points"].clone())
                .collect();
            match row.expect {
                Expect::Full => assert_eq!(points, person.party_points, "{what}"),
                _ => {
                    assert!(
                        !points.is_empty(),
                        "{what}: the membership is listed: {node}"
                    );
                    assert!(points.iter().all(Value::is_null), "{what}: {points:?}");
                }
            }
            return;
        }
        Field::SourcePayload => {
            let payload = &node["payload"];
            let payload: Value = match payload {
                Value::String(text) => serde_json::from_str(text).unwrap_or(payload.clone()),
                other => other.clone(),
            };
            (
                json!(person.id_number),
                json!(masked_id_number(&person.id_number)),
                payload["公民身份号码"].clone(),
            )
        }
    };
    let expected = match row.expect {
        Expect::Full => full,
        Expect::Masked => masked,
        Expect::Hidden => Value::Null,
        Expect::NoRow => unreachable!(),
    };
    assert_eq!(seen, expected, "{what}: {node}");
}

fn table(fixture: &Fixture) -> Vec<Row> {
    use Expect::*;
    use Field::*;
    use Target::*;
    let admin = admin();
    let screen = command_centre(&fixture.community);
    let worker = grid_worker(&fixture.grid);
    let police = department("police");
    let property = department("property");
    let party = department("party");
    let civil = department("civil_affairs");
    let auditor = auditor();
    vec![
        // admin: every row, every field in full
        row(&admin, Inside, IdNumber, Full),
        row(&admin, Inside, Phone, Full),
        row(&admin, Inside, BirthDate, Full),
        row(&admin, KeyPerson, KeyPersonTag, Full),
        row(&admin, Inside, RoomName, Full),
        row(&admin, Member, PartyPoints, Full),
        row(&admin, Inside, SourcePayload, Full),
        row(&admin, Outside, IdNumber, Full),
        row(&admin, Outside, RoomName, Full),
        row(&admin, LowIncome, LowIncomeTag, Full),
        // command centre on the community: no persons at all, rooms masked, nothing outside
        row(&screen, Inside, IdNumber, NoRow),
        row(&screen, Inside, Phone, NoRow),
        row(&screen, Inside, BirthDate, NoRow),
        row(&screen, KeyPerson, KeyPersonTag, NoRow),
        row(&screen, Member, PartyPoints, NoRow),
        row(&screen, Inside, RoomName, Masked),
        row(&screen, Inside, SourcePayload, NoRow),
        row(&screen, Outside, IdNumber, NoRow),
        row(&screen, Outside, RoomName, NoRow),
        // grid worker on one grid: phone and room in full, identifiers masked, no key-person tag
        row(&worker, Inside, IdNumber, Masked),
        row(&worker, Inside, Phone, Full),
        row(&worker, Inside, BirthDate, Masked),
        row(&worker, KeyPerson, KeyPersonTag, Hidden),
        row(&worker, Inside, RoomName, Full),
        row(&worker, Member, PartyPoints, Hidden),
        row(&worker, Inside, SourcePayload, NoRow),
        row(&worker, Outside, IdNumber, NoRow),
        row(&worker, Outside, Phone, NoRow),
        row(&worker, Outside, BirthDate, NoRow),
        row(&worker, Outside, RoomName, NoRow),
        row(&worker, Outside, SourcePayload, NoRow),
        // police: its own fields and records in full, property's and party's masked
        row(&police, Inside, IdNumber, Full),
        row(&police, Inside, BirthDate, Full),
        row(&police, KeyPerson, KeyPersonTag, Full),
        row(&police, Inside, Phone, Masked),
        row(&police, Inside, RoomName, Masked),
        row(&police, Member, PartyPoints, Hidden),
        row(&police, Inside, SourcePayload, Full),
        row(&police, Outside, IdNumber, Full),
        row(&police, Outside, Phone, Masked),
        row(&police, LowIncome, LowIncomeTag, Hidden),
        // property: phone and room in full, police fields masked, police records absent
        row(&property, Inside, IdNumber, Masked),
        row(&property, Inside, BirthDate, Masked),
        row(&property, KeyPerson, KeyPersonTag, Hidden),
        row(&property, Inside, Phone, Full),
        row(&property, Inside, RoomName, Full),
        row(&property, Member, PartyPoints, Hidden),
        row(&property, Inside, SourcePayload, NoRow),
        row(&property, Outside, Phone, Full),
        row(&property, Outside, RoomName, Full),
        row(&property, LowIncome, LowIncomeTag, Hidden),
        // civil affairs: welfare status in full, the rest masked
        row(&civil, LowIncome, LowIncomeTag, Full),
        row(&civil, KeyPerson, KeyPersonTag, Hidden),
        row(&civil, Inside, Phone, Masked),
        row(&civil, Inside, IdNumber, Masked),
        // party: points in full, the rest masked
        row(&party, Member, PartyPoints, Full),
        row(&party, Inside, IdNumber, Masked),
        row(&party, Inside, Phone, Masked),
        // auditor: no rows at all
        row(&auditor, Inside, IdNumber, NoRow),
        row(&auditor, KeyPerson, KeyPersonTag, NoRow),
        row(&auditor, Inside, RoomName, NoRow),
        row(&auditor, Inside, SourcePayload, NoRow),
    ]
}

#[tokio::test]
async fn each_role_sees_each_field_as_the_policy_says() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let fixture = discover(&hub).await;
        assert!(
            fixture.inside.grid_code.starts_with(&fixture.grid)
                && !fixture.outside.grid_code.starts_with(&fixture.community),
            "{backend:?}: {fixture:?}"
        );
        for row in table(&fixture) {
            check_row(&hub, &fixture, &row).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1b. Bypass attempts: aliases, fragments, node/nodes, nested relations, counts, filters,
//     lookups by ID number, batched requests

/// Every `grid { code }` anywhere in `value`, with the path to it.
fn grid_codes(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}.{key}");
                if key == "grid" || key == "parent" {
                    if let Some(code) = child.get("code").and_then(Value::as_str) {
                        out.push((here.clone(), code.to_string()));
                    }
                }
                grid_codes(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                grid_codes(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

const WALK: &str = r#"
query Walk($id: ID!) { node(id: $id) { id ... on Person {
  grid { code parent { code parent { code } } ancestors { code } }
  residences { house { grid { code } parent { grid { code } }
    residences { person { id grid { code } } } } }
  memberships { organization { grid { code } memberships { person { id grid { code } } } } }
  eventInvolvements { event { grid { code } involvements { person { id grid { code } } } } }
} } }"#;

async fn scoped_total(hub: &Hub, who: &Who, list: &str) -> i64 {
    let query = format!("{{ {list}(first: 1) {{ totalCount }} }}");
    data_as(hub, who, &WITH_PURPOSE, &query, json!({})).await[list]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn filtered_total(hub: &Hub, list: &str, code: &str) -> i64 {
    let query = format!(
        "query($c: String!) {{ {list}(filter: {{gridCode: $c}}, first: 1) {{ totalCount }} }}"
    );
    data_as(hub, &admin(), &WITH_PURPOSE, &query, json!({"c": code})).await[list]["totalCount"]
        .as_i64()
        .unwrap()
}

/// The message of an error about `code`, with the code itself replaced.
fn message_without(body: &Value, code: &str) -> String {
    first_message(body).replace(code, "<code>")
}

#[tokio::test]
async fn scopes_hold_through_every_path() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let worker = grid_worker(&f.grid);
        let inside_room = f.inside.room.clone().unwrap().id;
        let outside_room = f.outside.room.clone().unwrap().id;

        // Aliases: each alias is masked the same way; without a purpose a full read is refused
        // under every alias.
        let aliases = r#"query($id: ID!) { node(id: $id) { ... on Person {
            a: idNumber b: idNumber p: phone } } }"#;
        let data = data_as(
            &hub,
            &worker,
            &WITH_PURPOSE,
            aliases,
            json!({"id": f.inside.id}),
        )
        .await;
        let masked = json!(masked_id_number(&f.inside.id_number));
        assert_eq!(data["node"]["a"], masked, "{backend:?}: {data}");
        assert_eq!(data["node"]["b"], masked, "{backend:?}: {data}");
        assert_eq!(data["node"]["p"], json!(f.inside.phone), "{backend:?}");
        let police = department("police");
        let (_, body) = call(&hub, &police, &[], aliases, json!({"id": f.inside.id})).await;
        assert!(body["data"]["node"]["a"].is_null(), "{backend:?}: {body}");
        assert!(body["data"]["node"]["b"].is_null(), "{backend:?}: {body}");
        let codes = error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "FORBIDDEN"),
            "{backend:?}: {body}"
        );
        assert!(
            !body.to_string().contains(&f.inside.id_number),
            "{backend:?}: {body}"
        );

        // Named and inline fragments over a list: only the grid's persons, masked.
        let fragments = r#"query { persons(first: 50) { nodes { ...P } } }
            fragment P on Person { id grid { code } ... on Person { idNumber } }"#;
        let data = data_as(&hub, &worker, &WITH_PURPOSE, fragments, json!({})).await;
        let nodes = data["persons"]["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty(), "{backend:?}");
        for node in nodes {
            let code = node["grid"]["code"].as_str().unwrap();
            assert!(
                code.starts_with(&f.grid),
                "{backend:?}: {code} outside {}",
                f.grid
            );
            let id = node["idNumber"].as_str().unwrap();
            assert_eq!(&id[4..14], "**********", "{backend:?}: {id}");
        }

        // node and nodes mixing ids in and out of scope: out-of-scope ids are null, no error.
        let node_query = "query($id: ID!) { node(id: $id) { id } }";
        for (id, visible) in [
            (&f.inside.id, true),
            (&f.outside.id, false),
            (&inside_room, true),
            (&outside_room, false),
        ] {
            let data = data_as(&hub, &worker, &WITH_PURPOSE, node_query, json!({"id": id})).await;
            assert_eq!(
                !data["node"].is_null(),
                visible,
                "{backend:?}: node({id}) {data}"
            );
        }
        let nodes_query = r#"query($ids: [ID!]!) { nodes(ids: $ids) { id
            ... on Person { idNumber phone } ... on House { name } } }"#;
        let ids = json!([
            f.inside.id,
            f.outside.id,
            inside_room,
            outside_room,
            f.key_person.id
        ]);
        let data = data_as(
            &hub,
            &worker,
            &WITH_PURPOSE,
            nodes_query,
            json!({"ids": ids}),
        )
        .await;
        let found = data["nodes"].as_array().unwrap();
        assert_eq!(found.len(), 5, "{backend:?}: {data}");
        assert_eq!(found[0]["id"], json!(f.inside.id), "{backend:?}");
        assert_eq!(found[0]["idNumber"], masked, "{backend:?}");
        assert!(found[1].is_null(), "{backend:?}: out of scope {}", found[1]);
        assert_eq!(found[2]["id"], json!(inside_room), "{backend:?}");
        assert!(found[3].is_null(), "{backend:?}: out of scope {}", found[3]);
        assert_eq!(found[4]["id"], json!(f.key_person.id), "{backend:?}");
        let admin_nodes = data_as(
            &hub,
            &admin(),
            &WITH_PURPOSE,
            nodes_query,
            json!({"ids": ids}),
        )
        .await;
        assert!(
            admin_nodes["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| !n.is_null()),
            "{backend:?}: every id exists: {admin_nodes}"
        );

        // Nested relations never lead out of the subtree (the admin's walk does).
        let mut admin_codes = Vec::new();
        let walk_admin = data_as(
            &hub,
            &admin(),
            &WITH_PURPOSE,
            WALK,
            json!({"id": f.inside.id}),
        )
        .await;
        grid_codes(&walk_admin, "", &mut admin_codes);
        assert!(
            admin_codes
                .iter()
                .any(|(_, code)| !code.starts_with(&f.grid)),
            "{backend:?}: the walk leaves the grid for the admin: {admin_codes:?}"
        );
        let walk = data_as(
            &hub,
            &worker,
            &WITH_PURPOSE,
            WALK,
            json!({"id": f.inside.id}),
        )
        .await;
        let mut codes = Vec::new();
        grid_codes(&walk, "", &mut codes);
        assert!(!codes.is_empty(), "{backend:?}: {walk}");
        for (path, code) in &codes {
            assert!(
                code.starts_with(&f.grid),
                "{backend:?}: {path} = {code} is outside the scope {}",
                f.grid
            );
        }
        assert!(
            walk["node"]["grid"]["parent"].is_null() || f.inside.grid_code.len() > 15,
            "{backend:?}: the scope root's parent is out of scope: {walk}"
        );
        let root = data_as(
            &hub,
            &worker,
            &WITH_PURPOSE,
            "query($c: String!) { grid(code: $c) { code parent { code } ancestors { code } } }",
            json!({"c": f.grid}),
        )
        .await;
        assert_eq!(root["grid"]["code"], json!(f.grid), "{backend:?}");
        assert!(root["grid"]["parent"].is_null(), "{backend:?}: {root}");
        assert_eq!(root["grid"]["ancestors"], json!([]), "{backend:?}: {root}");

        // totalCount: the subtree's rows, all of them pageable.
        for list in ["persons", "houses", "events"] {
            let scoped = scoped_total(&hub, &worker, list).await;
            let expected = filtered_total(&hub, list, &f.grid).await;
            let everything = scoped_total(&hub, &admin(), list).await;
            assert_eq!(scoped, expected, "{backend:?}: {list} in scope");
            assert!(
                scoped < everything,
                "{backend:?}: {list}: {scoped} < {everything}"
            );
        }
        assert!(f.total_persons == PERSONS as i64);
        let page = r#"query($after: String) { persons(first: 50, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { id grid { code } } } }"#;
        let (mut seen, mut after, total) = (
            Vec::new(),
            Value::Null,
            scoped_total(&hub, &worker, "persons").await,
        );
        loop {
            let data = data_as(&hub, &worker, &WITH_PURPOSE, page, json!({"after": after})).await;
            let p = &data["persons"];
            assert_eq!(p["totalCount"].as_i64().unwrap(), total, "{backend:?}");
            for node in p["nodes"].as_array().unwrap() {
                assert!(node["grid"]["code"].as_str().unwrap().starts_with(&f.grid));
                seen.push(node["id"].as_str().unwrap().to_string());
            }
            if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = p["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(
            seen.len() as i64,
            total,
            "{backend:?}: pageable rows = totalCount"
        );

        // personByIdNumber needs the right to read ID numbers in full: a grid worker has none;
        // for a grid-scoped police officer, out of scope looks like no such person.
        let by_number = "query($n: String!) { personByIdNumber(idNumber: $n) { id } }";
        let (_, body) = call(
            &hub,
            &worker,
            &WITH_PURPOSE,
            by_number,
            json!({"n": f.inside.id_number}),
        )
        .await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{backend:?}: {body}");
        let officer = Who {
            sub: "police-grid-01".into(),
            role: "department",
            department: Some("police"),
            grid: worker.grid.clone(),
        };
        let data = data_as(
            &hub,
            &officer,
            &WITH_PURPOSE,
            by_number,
            json!({"n": f.outside.id_number}),
        )
        .await;
        assert!(data["personByIdNumber"].is_null(), "{backend:?}: {data}");
        let data = data_as(
            &hub,
            &officer,
            &WITH_PURPOSE,
            by_number,
            json!({"n": f.inside.id_number}),
        )
        .await;
        assert_eq!(
            data["personByIdNumber"]["id"],
            json!(f.inside.id),
            "{backend:?}"
        );

        // grid(code:) and gridCode filters outside the scope: the same error as a missing code.
        let outside_grid = f.outside.grid_code[..15].to_string();
        let missing_grid = format!("{}999", &f.outside.grid_code[..12]);
        let grid_query = "query($c: String!) { grid(code: $c) { code name } }";
        let filter_query =
            "query($c: String!) { persons(filter: {gridCode: $c}, first: 5) { totalCount nodes { id } } }";
        for query in [grid_query, filter_query] {
            let (s1, absent) = call(
                &hub,
                &worker,
                &WITH_PURPOSE,
                query,
                json!({"c": missing_grid}),
            )
            .await;
            assert_eq!(
                first_error_code(&absent).as_deref(),
                Some("NOT_FOUND"),
                "{backend:?}: {absent}"
            );
            for hidden in [&outside_grid, &f.community] {
                let (s2, body) =
                    call(&hub, &worker, &WITH_PURPOSE, query, json!({"c": hidden})).await;
                assert_eq!(s1, s2, "{backend:?}: {query} {hidden}");
                assert_eq!(
                    first_error_code(&body),
                    first_error_code(&absent),
                    "{backend:?}: {hidden}: {body} vs {absent}"
                );
                assert_eq!(
                    message_without(&body, hidden),
                    message_without(&absent, &missing_grid),
                    "{backend:?}: {hidden}"
                );
                assert_eq!(body["data"], absent["data"], "{backend:?}: {hidden}");
            }
        }

        // Batched requests: each query of the batch is scoped.
        let bearer = format!("Bearer {}", worker.token());
        let mut headers = vec![("Authorization", bearer.as_str())];
        headers.extend_from_slice(&WITH_PURPOSE);
        let batch = json!([
            {"query": node_query, "variables": {"id": f.inside.id}},
            {"query": "query($id: ID!) { node(id: $id) { id ... on Person { idNumber } } }",
             "variables": {"id": f.outside.id}},
        ]);
        let (status, _, body) = hub.query_as(&headers, batch).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let answers = body
            .as_array()
            .unwrap_or_else(|| panic!("{backend:?}: {body}"));
        assert_eq!(answers.len(), 2, "{backend:?}");
        assert_eq!(
            answers[0]["data"]["node"]["id"],
            json!(f.inside.id),
            "{backend:?}"
        );
        assert!(answers[1]["data"]["node"].is_null(), "{backend:?}: {body}");
        assert!(
            !body.to_string().contains(&f.outside.id_number),
            "{backend:?}"
        );

        // Command centre: no persons at all, events of its community only.
        let screen = command_centre(&f.community);
        let (_, body) = call(
            &hub,
            &screen,
            &WITH_PURPOSE,
            "{ persons(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: {body}"
        );
        let events = r#"{ events(first: 50) { totalCount nodes { grid { code }
            involvements { person { id idNumber } } } } }"#;
        let data = data_as(&hub, &screen, &WITH_PURPOSE, events, json!({})).await;
        assert_eq!(
            data["events"]["totalCount"].as_i64().unwrap(),
            filtered_total(&hub, "events", &f.community).await,
            "{backend:?}"
        );
        for event in data["events"]["nodes"].as_array().unwrap() {
            assert!(event["grid"]["code"]
                .as_str()
                .unwrap()
                .starts_with(&f.community));
            for involvement in event["involvements"].as_array().unwrap() {
                assert!(
                    involvement["person"].is_null(),
                    "{backend:?}: {involvement}"
                );
            }
        }
        let points = r#"query($c: String!) { organizations(filter: {gridCode: $c}, first: 50) {
            nodes { memberships { points person { id } } } } }"#;
        let vars = json!({"c": f.community});
        let data = data_as(&hub, &admin(), &WITH_PURPOSE, points, vars.clone()).await;
        let with_points = data["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["memberships"].as_array().unwrap())
            .filter(|m| !m["points"].is_null())
            .count();
        assert!(
            with_points > 0,
            "{backend:?}: the community has members with points"
        );
        let data = data_as(&hub, &screen, &WITH_PURPOSE, points, vars).await;
        let memberships: Vec<&Value> = data["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["memberships"].as_array().unwrap())
            .collect();
        for m in &memberships {
            assert!(
                m["points"].is_null() && m["person"].is_null(),
                "{backend:?}: {m}"
            );
        }

        // Filtering on a tag the caller may not see must not tell who carries it: the filter
        // either fails, matches nobody, or matches everyone the caller sees.
        let tagged = "query($t: [PersonTag!]) { persons(filter: {tags: $t}, first: 50) { totalCount nodes { id } } }";
        let property = department("property");
        for (who, tag, seer) in [
            (&worker, "KEY_PERSON", department("police")),
            (&property, "KEY_PERSON", department("police")),
            (&property, "LOW_INCOME", department("civil_affairs")),
        ] {
            let vars = json!({"t": [tag]});
            let seen = data_as(&hub, &seer, &WITH_PURPOSE, tagged, vars.clone()).await;
            let carriers = seen["persons"]["totalCount"].as_i64().unwrap();
            let everyone = scoped_total(&hub, &seer, "persons").await;
            assert!(
                carriers > 0 && carriers < everyone,
                "{backend:?}: {tag}: {carriers}"
            );
            // Filtering on a tag is a full read of it: it needs a purpose too.
            let (_, unstated) = call(&hub, &seer, &[], tagged, vars.clone()).await;
            assert_eq!(
                first_error_code(&unstated).as_deref(),
                Some("FORBIDDEN"),
                "{backend:?}: {unstated}"
            );
            assert!(
                first_message(&unstated).contains("X-Purpose"),
                "{backend:?}: {unstated}"
            );
            let (_, body) = call(&hub, who, &WITH_PURPOSE, tagged, vars).await;
            if body.get("errors").is_some() {
                assert_eq!(
                    first_error_code(&body).as_deref(),
                    Some("FORBIDDEN"),
                    "{backend:?}: {body}"
                );
                assert!(
                    !body.to_string().contains(&f.key_person.id),
                    "{backend:?}: {body}"
                );
            } else {
                let n = body["data"]["persons"]["totalCount"].as_i64().unwrap();
                let visible = scoped_total(&hub, who, "persons").await;
                assert!(
                    n == 0 || n == visible,
                    "{backend:?}: {} {:?} filtering on {tag} finds {n} of {visible} persons, \
                     which tells who carries a tag it may not see: {body}",
                    who.role,
                    who.department
                );
            }
        }

        // Auditor: no lists of rows at all.
        for list in ["persons", "houses", "events"] {
            let query = format!("{{ {list}(first: 1) {{ totalCount }} }}");
            let (_, body) = call(&hub, &auditor(), &WITH_PURPOSE, &query, json!({})).await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{backend:?}: {list}: {body}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Purpose binding

#[tokio::test]
async fn full_reads_need_a_purpose_and_a_case_reference() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let police = department("police");
        let query = "query($id: ID!) { node(id: $id) { id ... on Person { idNumber phone } } }";
        let vars = json!({"id": f.inside.id});
        let masked_phone = json!(masked_phone(f.inside.phone.as_deref().unwrap()));

        let cases: [PurposeCase; 3] = [
            (&[], &["X-Purpose", "X-Case-Id"], &[]),
            (&[("X-Purpose", PURPOSE)], &["X-Case-Id"], &["X-Purpose"]),
            (&[("X-Case-Id", CASE)], &["X-Purpose"], &["X-Case-Id"]),
        ];
        for (headers, named, not_named) in cases {
            let (status, body) = call(&hub, &police, headers, query, vars.clone()).await;
            assert_eq!(status, 200, "{backend:?}: {body}");
            assert_eq!(
                body["data"]["node"]["id"],
                json!(f.inside.id),
                "{backend:?}: {body}"
            );
            assert!(
                body["data"]["node"]["idNumber"].is_null(),
                "{backend:?}: {body}"
            );
            assert_eq!(
                body["data"]["node"]["phone"], masked_phone,
                "{backend:?}: masked reads need nothing"
            );
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{backend:?}: {body}"
            );
            let message = first_message(&body);
            assert!(
                message.contains("person.idNumber"),
                "{backend:?}: {message}"
            );
            for header in named {
                assert!(
                    message.contains(header),
                    "{backend:?} {headers:?}: `{message}` names {header}"
                );
            }
            for header in not_named {
                assert!(
                    !message.contains(header),
                    "{backend:?} {headers:?}: `{message}` names {header}, which was given"
                );
            }
            assert!(
                !body.to_string().contains(&f.inside.id_number),
                "{backend:?}"
            );
        }

        let data = data_as(&hub, &police, &WITH_PURPOSE, query, vars.clone()).await;
        assert_eq!(
            data["node"]["idNumber"],
            json!(f.inside.id_number),
            "{backend:?}"
        );
        assert_eq!(data["node"]["phone"], masked_phone, "{backend:?}");

        // Purpose and case reference as token claims serve too.
        let mut claims = police.claims();
        claims["purpose"] = json!(PURPOSE);
        claims["case_id"] = json!(CASE);
        let bearer = format!("Bearer {}", sign(&claims, SECRET));
        let (_, _, body) = hub
            .query_as(
                &[("Authorization", &bearer)],
                json!({"query": query, "variables": vars}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{backend:?}: {body}");
        assert_eq!(
            body["data"]["node"]["idNumber"],
            json!(f.inside.id_number),
            "{backend:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Authentication

#[tokio::test]
async fn requests_without_valid_credentials_get_401_saying_why() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 20, |s| {
            s.auth.required = true;
            s.auth.jwt_hs256_secret = SECRET.into();
        })
        .await;
        let body = json!({"query": "{ departments { code } }"});
        let mut expired = admin().claims();
        expired["exp"] = json!(now_secs() - 600);
        let expired = format!("Bearer {}", sign(&expired, SECRET));
        let forged = format!("Bearer {}", sign(&admin().claims(), "some-other-secret"));
        let cases: [CredentialCase; 5] = [
            (
                "no token",
                vec![],
                &["missing", "no credential", "required", "authorization"],
            ),
            (
                "garbage",
                vec![("Authorization", "Bearer not.a.jwt")],
                &["malformed", "invalid", "decode", "not a"],
            ),
            (
                "not bearer",
                vec![("Authorization", "Basic YWRtaW46YWRtaW4=")],
                &["bearer", "scheme", "unsupported", "malformed", "invalid"],
            ),
            (
                "expired",
                vec![("Authorization", expired.as_str())],
                &["expired"],
            ),
            (
                "wrong secret",
                vec![("Authorization", forged.as_str())],
                &["signature"],
            ),
        ];
        let mut messages = Vec::new();
        for (case, headers, reasons) in cases {
            let (status, _, answer) = hub.query_as(&headers, body.clone()).await;
            assert_eq!(status, 401, "{backend:?}: {case}: {answer}");
            assert_eq!(
                first_error_code(&answer).as_deref(),
                Some("UNAUTHENTICATED"),
                "{backend:?}: {case}: {answer}"
            );
            assert!(
                answer.get("data").is_none_or(Value::is_null),
                "{backend:?}: {case}: {answer}"
            );
            let message = first_message(&answer).to_lowercase();
            assert!(
                reasons.iter().any(|r| message.contains(r)),
                "{backend:?}: {case}: `{message}` should say why (one of {reasons:?})"
            );
            messages.push((case, message));
        }
        let (_, expired_message) = &messages[3];
        let (_, forged_message) = &messages[4];
        assert_ne!(expired_message, forged_message, "{backend:?}");

        let (status, _, answer) = hub
            .query_as(
                &[("Authorization", &format!("Bearer {}", admin().token()))],
                body.clone(),
            )
            .await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        assert_eq!(answer["data"]["departments"].as_array().unwrap().len(), 4);

        // Over the role's rate (auditor: 600 a minute): 429 with Retry-After.
        let who = Who {
            sub: "rate-probe".into(),
            ..auditor()
        };
        let bearer = format!("Bearer {}", who.token());
        let mut limited = None;
        for i in 0..3000 {
            let (status, headers, _) = hub
                .query_as(
                    &[("Authorization", &bearer)],
                    json!({"query": "{ __typename }"}),
                )
                .await;
            if status == 429 {
                limited = Some((i, headers));
                break;
            }
            assert_eq!(status, 200, "{backend:?}: request {i}");
        }
        let (at, headers) = limited.unwrap_or_else(|| panic!("{backend:?}: never limited"));
        assert!(at >= 590, "{backend:?}: limited after {at} requests");
        let retry: u64 = headers
            .get("retry-after")
            .expect("Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=60).contains(&retry),
            "{backend:?}: Retry-After {retry}"
        );
        // Another subject of the same role is not limited.
        let (status, _, _) = hub
            .query_as(
                &[("Authorization", &format!("Bearer {}", auditor().token()))],
                json!({"query": "{ __typename }"}),
            )
            .await;
        assert_eq!(status, 200, "{backend:?}: the limit is per principal");
    }
}

// ---------------------------------------------------------------------------------------------
// Audit log

async fn audit_entries(hub: &Hub) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .all(&hub.db.conn)
        .await
        .expect("read audit_entries")
}

/// Polls the audit log (up to 3 s) until an entry satisfies `wanted`; returns it.
async fn await_audit(
    hub: &Hub,
    what: &str,
    wanted: impl Fn(&audit_entry::Model) -> bool,
) -> audit_entry::Model {
    let start = Instant::now();
    loop {
        let entries = audit_entries(hub).await;
        if let Some(found) = entries.iter().find(|e| wanted(e)) {
            return found.clone();
        }
        if start.elapsed() > Duration::from_secs(3) {
            let shown: Vec<String> = entries
                .iter()
                .rev()
                .take(15)
                .map(|e| {
                    format!(
                        "{} {} {} {:?} {:?} {:?}#{:?} [{}] {}",
                        e.kind,
                        e.subject,
                        e.role,
                        e.purpose,
                        e.case_id,
                        e.element_type,
                        e.element_id,
                        e.fields,
                        e.detail
                    )
                })
                .collect();
            panic!(
                "{:?}: no audit entry for {what} after 3 s; {} entries, latest:\n{}",
                hub.backend,
                entries.len(),
                shown.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn fields_of(entry: &audit_entry::Model) -> Vec<&str> {
    entry.fields.split(',').map(str::trim).collect()
}

#[tokio::test]
async fn full_reads_are_audited_once_per_element_with_purpose_and_case() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let police = Who {
            sub: "police-audit-probe".into(),
            ..department("police")
        };
        let query = r#"query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Person { idNumber birthDate phone } } }"#;
        let ids = json!([f.inside.id, f.outside.id]);
        // The headers may repeat the purpose and case reference of the token.
        let mut claims = police.claims();
        claims["purpose"] = json!(PURPOSE);
        claims["case_id"] = json!(CASE);
        let token = sign(&claims, SECRET);
        let (status, body) =
            call_with_token(&hub, &token, &WITH_PURPOSE, query, json!({"ids": ids})).await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "{backend:?}: {body}"
        );
        let data = &body["data"];
        assert_eq!(
            data["nodes"][0]["idNumber"],
            json!(f.inside.id_number),
            "{backend:?}"
        );
        assert_eq!(
            data["nodes"][1]["idNumber"],
            json!(f.outside.id_number),
            "{backend:?}"
        );
        for person in [&f.inside, &f.outside] {
            let row = row_id(&person.id);
            let entry = await_audit(&hub, "police's full read", |e| {
                e.kind == "read"
                    && e.subject == police.sub
                    && e.element_type.as_deref() == Some("person")
                    && e.element_id == Some(row)
            })
            .await;
            let fields = fields_of(&entry);
            assert!(
                fields.contains(&"person.idNumber"),
                "{backend:?}: {fields:?}"
            );
            assert!(
                fields.contains(&"person.birthDate"),
                "{backend:?}: {fields:?}"
            );
            assert!(
                !fields.contains(&"person.phone"),
                "{backend:?}: phone was masked: {fields:?}"
            );
            assert_eq!(entry.role, "department", "{backend:?}");
            assert_eq!(entry.department.as_deref(), Some("police"), "{backend:?}");
            assert_eq!(entry.purpose.as_deref(), Some(PURPOSE), "{backend:?}");
            assert_eq!(entry.case_id.as_deref(), Some(CASE), "{backend:?}");
            let hash = hex::encode(Sha256::digest(query.as_bytes()));
            assert_eq!(
                entry.operation_hash.as_deref(),
                Some(hash.as_str()),
                "{backend:?}"
            );
        }
        // One entry per element read, not one per field.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let entries = audit_entries(&hub).await;
        for person in [&f.inside, &f.outside] {
            let row = row_id(&person.id);
            let reads = entries
                .iter()
                .filter(|e| {
                    e.kind == "read" && e.subject == police.sub && e.element_id == Some(row)
                })
                .count();
            assert_eq!(reads, 1, "{backend:?}: entries for {}", person.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Data-sharing grants

const REQUEST: &str = r#"mutation($input: DataSharingRequestInput!) {
  requestDataSharing(input: $input) { id status requester provider fields purposes endsAt } }"#;
const CARE: &str = "welfare_assessment";

fn grant_input(ends_at: chrono::DateTime<chrono::Utc>, operations: Vec<String>) -> Value {
    json!({"input": {
        "provider": "property",
        "elementTypes": ["person"],
        "fields": ["person.phone"],
        "purposes": [CARE],
        "legalBasis": "社区居家养老服务管理办法 第十二条",
        "endsAt": ends_at.to_rfc3339(),
        "operations": operations,
    }})
}

async fn request_grant(hub: &Hub, requester: &Who, input: Value) -> String {
    let data = data_as(hub, requester, &[], REQUEST, input).await;
    let request = &data["requestDataSharing"];
    assert_eq!(
        request["status"], "REQUESTED",
        "{:?}: {request}",
        hub.backend
    );
    assert_eq!(request["provider"], "property", "{:?}", hub.backend);
    assert_eq!(request["requester"], "police", "{:?}", hub.backend);
    assert_eq!(
        request["fields"],
        json!(["person.phone"]),
        "{:?}",
        hub.backend
    );
    assert_eq!(request["purposes"], json!([CARE]), "{:?}", hub.backend);
    request["id"].as_str().unwrap().to_string()
}

/// Runs `approve`, `reject` or `revoke` on request `id` as `who`; returns the body.
async fn decide(hub: &Hub, who: &Who, action: &str, id: &str) -> Value {
    let query = format!(
        "mutation($id: ID!, $note: String) {{ {action}DataSharing(id: $id, note: $note) {{ id status }} }}"
    );
    call(hub, who, &[], &query, json!({"id": id, "note": "checked"}))
        .await
        .1
}

async fn decide_ok(hub: &Hub, who: &Who, action: &str, id: &str, status: &str) {
    let body = decide(hub, who, action, id).await;
    assert!(
        body.get("errors").is_none(),
        "{:?}: {action}: {body}",
        hub.backend
    );
    assert_eq!(
        body["data"][format!("{action}DataSharing")]["status"],
        status,
        "{:?}: {body}",
        hub.backend
    );
}

const PHONE: &str = "query($id: ID!) { node(id: $id) { id ... on Person { phone } } }";

/// The phone of `person` as `who` reads it for `purpose`: the value, and the body.
async fn phone_for(hub: &Hub, who: &Who, person: &PersonFacts, purpose: &str) -> (Value, Value) {
    let headers = [("X-Purpose", purpose), ("X-Case-Id", CASE)];
    let (status, body) = call(hub, who, &headers, PHONE, json!({"id": person.id})).await;
    assert_eq!(status, 200, "{:?}: {body}", hub.backend);
    assert_eq!(
        body["data"]["node"]["id"],
        json!(person.id),
        "{:?}: {body}",
        hub.backend
    );
    (body["data"]["node"]["phone"].clone(), body)
}

async fn assert_phone_masked(hub: &Hub, who: &Who, person: &PersonFacts, when: &str) {
    let (phone, body) = phone_for(hub, who, person, CARE).await;
    assert_eq!(
        phone,
        json!(masked_phone(person.phone.as_deref().unwrap())),
        "{:?}: {when}: {body}",
        hub.backend
    );
    assert!(
        body.get("errors").is_none(),
        "{:?}: {when}: {body}",
        hub.backend
    );
}

async fn assert_phone_full(hub: &Hub, who: &Who, person: &PersonFacts, when: &str) {
    let (phone, body) = phone_for(hub, who, person, CARE).await;
    assert_eq!(
        phone,
        json!(person.phone),
        "{:?}: {when}: {body}",
        hub.backend
    );
    assert!(
        body.get("errors").is_none(),
        "{:?}: {when}: {body}",
        hub.backend
    );
}

async fn statuses(hub: &Hub, who: &Who) -> BTreeMap<String, String> {
    let data = data_as(
        hub,
        who,
        &[],
        "{ dataSharingRequests { id status requester provider } }",
        json!({}),
    )
    .await;
    data["dataSharingRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_grant_is_asked_only_for_purposes_the_policy_lists() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let police = department("police");
        let far = chrono::Utc::now() + chrono::Duration::days(30);
        for purpose in [
            "x",
            "elderly care visit",
            "WELFARE_ASSESSMENT",
            " ",
            "case_handling;drop",
        ] {
            let mut input = grant_input(far, vec![]);
            input["input"]["purposes"] = json!([CARE, purpose]);
            let (status, body) = call(&hub, &police, &[], REQUEST, input).await;
            assert_eq!(status, 200, "{backend:?}: {body}");
            if purpose.trim().is_empty() {
                assert!(
                    body.get("errors").is_none(),
                    "{backend:?}: blanks are dropped: {body}"
                );
                continue;
            }
            assert_eq!(
                error_codes(&body),
                ["BAD_USER_INPUT"],
                "{backend:?} {purpose:?}: {body}"
            );
            assert!(
                first_message(&body).contains("welfare_assessment"),
                "{backend:?}: the refusal lists the purposes: {body}"
            );
        }
        let requests = scalar(&hub, "SELECT COUNT(*) FROM sharing_requests").await;
        assert_eq!(
            requests, 1,
            "{backend:?}: only the request with listed purposes is kept"
        );
    }
}

#[tokio::test]
async fn a_grant_unmasks_its_fields_for_its_purposes_until_it_ends() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let police = department("police");
        let property = department("property");
        let party = department("party");
        let person = &f.inside;
        let far = chrono::Utc::now() + chrono::Duration::days(30);

        assert_phone_masked(&hub, &police, person, "before any request").await;
        let id = request_grant(&hub, &police, grant_input(far, vec![])).await;
        assert_phone_masked(&hub, &police, person, "requested, not approved").await;

        // Neither a third department nor the requester may decide.
        for who in [&party, &police] {
            for action in ["approve", "reject"] {
                let body = decide(&hub, who, action, &id).await;
                assert_eq!(
                    first_error_code(&body).as_deref(),
                    Some("FORBIDDEN"),
                    "{backend:?}: {} may not {action}: {body}",
                    who.sub
                );
            }
        }
        assert_eq!(
            statuses(&hub, &police).await.get(&id).map(String::as_str),
            Some("REQUESTED")
        );

        decide_ok(&hub, &property, "approve", &id, "APPROVED").await;
        assert_phone_full(&hub, &police, person, "approved").await;
        // The grant covers the phone only.
        let data = data_as(
            &hub,
            &police,
            &[("X-Purpose", CARE), ("X-Case-Id", CASE)],
            "query($id: ID!) { node(id: $id) { ... on Person { memberships { points } } } }",
            json!({"id": f.member.id}),
        )
        .await;
        assert!(
            data["node"]["memberships"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["points"].is_null()),
            "{backend:?}: {data}"
        );
        // Another purpose: refused, naming the purposes allowed.
        let (phone, body) = phone_for(&hub, &police, person, "party_affairs").await;
        assert!(phone.is_null(), "{backend:?}: {body}");
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: {body}"
        );
        assert!(first_message(&body).contains(CARE), "{backend:?}: {body}");
        // Property and civil affairs are unaffected: property already sees it, party does not.
        assert_phone_masked(&hub, &party, person, "party holds no grant").await;

        // The audit log: the read, the request and the approval.
        let row = row_id(&person.id);
        let read = await_audit(&hub, "the granted read", |e| {
            e.kind == "read"
                && e.subject == police.sub
                && e.element_type.as_deref() == Some("person")
                && e.element_id == Some(row)
                && fields_of(e).contains(&"person.phone")
        })
        .await;
        assert_eq!(read.purpose.as_deref(), Some(CARE), "{backend:?}");
        assert_eq!(read.case_id.as_deref(), Some(CASE), "{backend:?}");
        assert_eq!(read.department.as_deref(), Some("police"), "{backend:?}");
        await_audit(&hub, "the request", |e| {
            e.kind == "mutation" && e.subject == police.sub
        })
        .await;
        await_audit(&hub, "the approval", |e| {
            e.kind == "mutation" && e.subject == property.sub
        })
        .await;

        // Revoked: masked again on the next request.
        let body = decide(&hub, &party, "revoke", &id).await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: {body}"
        );
        decide_ok(&hub, &property, "revoke", &id, "REVOKED").await;
        assert_phone_masked(&hub, &police, person, "revoked").await;

        // A grant ending in a few seconds: full, then masked and EXPIRED.
        let ends = chrono::Utc::now() + chrono::Duration::seconds(3);
        let short = request_grant(&hub, &police, grant_input(ends, vec![])).await;
        decide_ok(&hub, &property, "approve", &short, "APPROVED").await;
        assert_phone_full(&hub, &police, person, "short grant in force").await;
        let wait =
            (ends - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(600);
        tokio::time::sleep(wait).await;
        assert_phone_masked(&hub, &police, person, "short grant ended").await;
        let seen = statuses(&hub, &police).await;
        assert_eq!(
            seen.get(&short).map(String::as_str),
            Some("EXPIRED"),
            "{backend:?}: {seen:?}"
        );
        assert_eq!(
            seen.get(&id).map(String::as_str),
            Some("REVOKED"),
            "{backend:?}: {seen:?}"
        );
        // The provider sees the requests addressed to it; a third department sees neither.
        let provider_view = statuses(&hub, &property).await;
        assert!(
            provider_view.contains_key(&id) && provider_view.contains_key(&short),
            "{backend:?}"
        );
        let party_view = statuses(&hub, &party).await;
        assert!(
            !party_view.contains_key(&id) && !party_view.contains_key(&short),
            "{backend:?}: {party_view:?}"
        );

        // Rejected: never unmasks.
        let rejected = request_grant(&hub, &police, grant_input(far, vec![])).await;
        decide_ok(&hub, &property, "reject", &rejected, "REJECTED").await;
        assert_phone_masked(&hub, &police, person, "rejected").await;
        let body = decide(&hub, &property, "approve", &rejected).await;
        assert!(
            body.get("errors").is_some(),
            "{backend:?}: a rejected request stays rejected: {body}"
        );
        assert_phone_masked(&hub, &police, person, "approve after reject").await;
        assert_eq!(
            statuses(&hub, &police)
                .await
                .get(&rejected)
                .map(String::as_str),
            Some("REJECTED")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Grants bound to registered operations

#[tokio::test]
async fn a_grant_bound_to_an_operation_applies_to_that_query_text_only() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let police = department("police");
        let property = department("property");
        let person = &f.inside;
        let register = "mutation($name: String!, $query: String!) { registerOperation(name: $name, query: $query) { hash name } }";

        // Grid workers may not register operations; departments and admins may.
        let (_, body) = call(
            &hub,
            &grid_worker(&f.grid),
            &[],
            register,
            json!({"name": "care", "query": PHONE}),
        )
        .await;
        assert_eq!(
            first_error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{backend:?}: {body}"
        );

        let data = data_as(
            &hub,
            &police,
            &[],
            register,
            json!({"name": "care-visit-phone", "query": PHONE}),
        )
        .await;
        let hash = hex::encode(Sha256::digest(PHONE.as_bytes()));
        assert_eq!(
            data["registerOperation"]["hash"],
            json!(hash),
            "{backend:?}"
        );
        assert_eq!(
            data["registerOperation"]["name"], "care-visit-phone",
            "{backend:?}"
        );

        let far = chrono::Utc::now() + chrono::Duration::days(30);
        let id = request_grant(&hub, &police, grant_input(far, vec![hash.clone()])).await;
        decide_ok(&hub, &property, "approve", &id, "APPROVED").await;

        assert_phone_full(&hub, &police, person, "the registered operation").await;
        let other = "query($id: ID!) { node(id: $id) { id ... on Person { name phone } } }";
        let headers = [("X-Purpose", CARE), ("X-Case-Id", CASE)];
        let (_, body) = call(&hub, &police, &headers, other, json!({"id": person.id})).await;
        assert_eq!(
            body["data"]["node"]["phone"],
            json!(masked_phone(person.phone.as_deref().unwrap())),
            "{backend:?}: another query text: {body}"
        );
        assert!(
            !body.to_string().contains(person.phone.as_deref().unwrap()),
            "{backend:?}"
        );
        // Same query, different text (one more space): not the registered operation.
        let respaced = PHONE.replacen("{ id", "{  id", 1);
        assert_ne!(respaced, PHONE);
        let (_, body) = call(&hub, &police, &headers, &respaced, json!({"id": person.id})).await;
        assert!(
            !body.to_string().contains(person.phone.as_deref().unwrap()),
            "{backend:?}: the grant is bound to the exact text: {body}"
        );
        let row = row_id(&person.id);
        let entry = await_audit(&hub, "the bound read", |e| {
            e.kind == "read" && e.subject == police.sub && e.element_id == Some(row)
        })
        .await;
        assert_eq!(
            entry.operation_hash.as_deref(),
            Some(hash.as_str()),
            "{backend:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Break-glass

const BREAK_GLASS: &str = r#"mutation($id: ID!, $reason: String!) {
  breakGlass(id: $id, fields: ["person.idNumber"], reason: $reason) { field value } }"#;

#[tokio::test]
async fn break_glass_reveals_in_scope_only_and_is_audited() {
    for backend in backends() {
        let hub = secured_hub(backend).await;
        let f = discover(&hub).await;
        let worker = grid_worker(&f.grid);
        let reason = "resident collapsed on the stairs; ambulance needs the ID number";

        let data = data_as(
            &hub,
            &worker,
            &WITH_PURPOSE,
            BREAK_GLASS,
            json!({"id": f.inside.id, "reason": reason}),
        )
        .await;
        assert_eq!(
            data["breakGlass"],
            json!([{"field": "person.idNumber", "value": f.inside.id_number}]),
            "{backend:?}"
        );
        let row = row_id(&f.inside.id);
        let entry = await_audit(&hub, "the break-glass reveal", |e| {
            e.kind == "break_glass" && e.subject == worker.sub && e.element_id == Some(row)
        })
        .await;
        assert!(
            entry.detail.contains(reason),
            "{backend:?}: detail `{}`",
            entry.detail
        );
        assert!(
            fields_of(&entry).contains(&"person.idNumber"),
            "{backend:?}: {}",
            entry.fields
        );
        assert_eq!(entry.element_type.as_deref(), Some("person"), "{backend:?}");
        assert_eq!(entry.role, "grid_worker", "{backend:?}");

        // Out of scope: looks exactly like a person that does not exist; nothing revealed.
        let missing = global_id("Person", 987_654_321);
        let (_, absent) = call(
            &hub,
            &worker,
            &WITH_PURPOSE,
            BREAK_GLASS,
            json!({"id": missing, "reason": reason}),
        )
        .await;
        let (_, outside) = call(
            &hub,
            &worker,
            &WITH_PURPOSE,
            BREAK_GLASS,
            json!({"id": f.outside.id, "reason": reason}),
        )
        .await;
        assert!(
            !outside.to_string().contains(&f.outside.id_number),
            "{backend:?}: {outside}"
        );
        assert!(
            outside["data"]["breakGlass"].is_null() || outside["data"]["breakGlass"] == json!([]),
            "{backend:?}: {outside}"
        );
        assert_eq!(
            first_error_code(&outside),
            first_error_code(&absent),
            "{backend:?}: {outside} vs {absent}"
        );
        assert_eq!(
            message_without(&outside, &f.outside.id),
            message_without(&absent, &missing),
            "{backend:?}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let out_row = row_id(&f.outside.id);
        assert!(
            !audit_entries(&hub)
                .await
                .iter()
                .any(|e| e.kind == "break_glass" && e.element_id == Some(out_row)),
            "{backend:?}: no reveal, no break-glass entry"
        );

        // Roles without break-glass are refused.
        for who in [command_centre(&f.community), department("property")] {
            let (_, body) = call(
                &hub,
                &who,
                &WITH_PURPOSE,
                BREAK_GLASS,
                json!({"id": f.inside.id, "reason": reason}),
            )
            .await;
            assert_eq!(
                first_error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{backend:?}: {}: {body}",
                who.role
            );
            assert!(
                !body.to_string().contains(&f.inside.id_number),
                "{backend:?}"
            );
        }
    }
}
