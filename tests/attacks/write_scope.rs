//! Attack class `write scope`: a department credential scoped to one community pushes rows about
//! what lies outside it (persons of another community, their tags, phones, welfare, party and
//! grid posts, houses, devices and events of other grids), probes whether an ID number exists
//! outside its scope, lists and decides identity candidates of other communities, and reads the
//! raw text of rejected rows. A leak is any change outside the scope, two answers that tell an
//! out-of-scope person from a missing one, or a full ID number or phone in a rejected row.

use crate::common::{backends, Backend, Hub};
use crate::probe::{bearer, hardened, Probe};
use chrono::NaiveDate;
use gridhub::access::credentials::api_key::{create_key, NewKey};
use gridhub::domain::id_number::{self, Gender};
use gridhub::entity::vocabulary::{ElementType, GridLevel, HouseKind};
use gridhub::entity::{
    department, dual_registration, event, grid, grid_closure, grid_staff, house,
    identity_candidate, membership, object, organization, person, person_tag, place, residence,
    source_record, volunteer_participation,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{json, Value};
use std::collections::HashSet;

/// What the attack needs to know of the seeded street.
struct World {
    /// The attacker's community and the grid ids of its subtree.
    scope_code: String,
    inside: HashSet<i64>,
    /// A leaf grid inside the scope and one outside.
    own_leaf: String,
    other_leaf: String,
    /// A person inside the scope and one outside.
    insider: person::Model,
    outsider: person::Model,
    /// Address parts (compound, building, unit, room) of a room inside and one outside.
    own_room: [String; 4],
    other_room: [String; 4],
    other_room_id: i64,
    /// The code of an object outside the scope.
    other_object: Option<String>,
    /// A valid ID number of nobody.
    nobody: String,
}

async fn subtree(db: &DatabaseConnection, root: i64) -> HashSet<i64> {
    grid_closure::Entity::find()
        .filter(grid_closure::Column::AncestorId.eq(root))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.descendant_id)
        .collect()
}

async fn address(db: &DatabaseConnection, room: &house::Model) -> [String; 4] {
    let mut names = vec![room.name.clone()];
    let mut parent = room.parent_id;
    while let Some(id) = parent {
        let level = house::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        names.push(level.name.clone());
        parent = level.parent_id;
    }
    names.reverse();
    [
        names[0].clone(),
        names[1].clone(),
        names[2].clone(),
        names[3].clone(),
    ]
}

async fn room_in(db: &DatabaseConnection, grids: &HashSet<i64>, inside: bool) -> house::Model {
    house::Entity::find()
        .filter(house::Column::Kind.eq(HouseKind::Room))
        .order_by_asc(house::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .find(|h| grids.contains(&h.grid_id) == inside)
        .expect("a room")
}

async fn world(hub: &Hub) -> World {
    let db = &hub.db.conn;
    let communities = grid::Entity::find()
        .filter(grid::Column::Level.eq(GridLevel::Community))
        .order_by_asc(grid::Column::Code)
        .all(db)
        .await
        .unwrap();
    let persons = person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(db)
        .await
        .unwrap();
    let rooms = all::<house::Entity>(db).await;
    let mut chosen = None;
    for community in &communities {
        let inside = subtree(db, community.id).await;
        let split = |grids: Vec<i64>| {
            grids.iter().any(|g| inside.contains(g)) && grids.iter().any(|g| !inside.contains(g))
        };
        let room_grids = rooms
            .iter()
            .filter(|h| h.kind == HouseKind::Room)
            .map(|h| h.grid_id)
            .collect();
        if split(persons.iter().map(|p| p.grid_id).collect()) && split(room_grids) {
            chosen = Some((community.clone(), inside));
            break;
        }
    }
    let (community, inside) = chosen.expect("a community with persons and rooms on both sides");
    let insider = persons
        .iter()
        .find(|p| inside.contains(&p.grid_id))
        .expect("a person inside")
        .clone();
    let outsider = persons
        .iter()
        .find(|p| !inside.contains(&p.grid_id))
        .expect("a person outside")
        .clone();
    let leaves = grid::Entity::find()
        .filter(grid::Column::Level.is_in([GridLevel::Grid, GridLevel::MicroGrid]))
        .order_by_asc(grid::Column::Code)
        .all(db)
        .await
        .unwrap();
    let leaf = |within: bool| {
        leaves
            .iter()
            .find(|g| inside.contains(&g.id) == within)
            .expect("a leaf grid")
            .code
            .clone()
    };
    let own = room_in(db, &inside, true).await;
    let other = room_in(db, &inside, false).await;
    let other_object = object::Entity::find()
        .order_by_asc(object::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| !inside.contains(&o.grid_id))
        .map(|o| o.code);
    let birth = NaiveDate::from_ymd_opt(1977, 7, 7).unwrap();
    World {
        scope_code: community.code.clone(),
        own_leaf: leaf(true),
        other_leaf: leaf(false),
        insider,
        outsider,
        own_room: address(db, &own).await,
        other_room: address(db, &other).await,
        other_room_id: other.id,
        other_object,
        nobody: id_number::compose("650203", birth, 777, Gender::Male),
        inside,
    }
}

/// Everything outside the scope that an import could change, as text: persons and what hangs
/// on them, houses, objects, events, places, organizations, their source records and the
/// identity candidates of outside persons.
async fn outside(db: &DatabaseConnection, inside: &HashSet<i64>) -> String {
    let persons: Vec<person::Model> = person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| !inside.contains(&p.grid_id))
        .collect();
    let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
    let by_person = |ids: &Vec<i64>| ids.clone();
    let tags = person_tag::Entity::find()
        .filter(person_tag::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let residences = residence::Entity::find()
        .filter(residence::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let memberships = membership::Entity::find()
        .filter(membership::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let posts = grid_staff::Entity::find()
        .filter(grid_staff::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let duals = dual_registration::Entity::find()
        .filter(dual_registration::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let hours = volunteer_participation::Entity::find()
        .filter(volunteer_participation::Column::PersonId.is_in(by_person(&ids)))
        .all(db)
        .await
        .unwrap();
    let candidates = identity_candidate::Entity::find()
        .filter(identity_candidate::Column::PersonId.is_in(by_person(&ids)))
        .order_by_asc(identity_candidate::Column::Id)
        .all(db)
        .await
        .unwrap();
    let out = |grid: i64| !inside.contains(&grid);
    let houses: Vec<house::Model> = all::<house::Entity>(db).await;
    let houses: Vec<_> = houses.into_iter().filter(|h| out(h.grid_id)).collect();
    let objects: Vec<_> = all::<object::Entity>(db).await;
    let objects: Vec<_> = objects.into_iter().filter(|o| out(o.grid_id)).collect();
    let events: Vec<_> = all::<event::Entity>(db).await;
    let events: Vec<_> = events.into_iter().filter(|e| out(e.grid_id)).collect();
    let places: Vec<_> = all::<place::Entity>(db).await;
    let places: Vec<_> = places.into_iter().filter(|p| out(p.grid_id)).collect();
    let orgs: Vec<_> = all::<organization::Entity>(db).await;
    let orgs: Vec<_> = orgs
        .into_iter()
        .filter(|o| o.grid_id.is_none_or(out))
        .collect();
    let elements: HashSet<(ElementType, i64)> = persons
        .iter()
        .map(|p| (ElementType::Person, p.id))
        .chain(houses.iter().map(|h| (ElementType::House, h.id)))
        .chain(objects.iter().map(|o| (ElementType::Object, o.id)))
        .chain(events.iter().map(|e| (ElementType::Event, e.id)))
        .chain(places.iter().map(|p| (ElementType::Place, p.id)))
        .chain(orgs.iter().map(|o| (ElementType::Organization, o.id)))
        .collect();
    let records: Vec<_> = all::<source_record::Entity>(db).await;
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| elements.contains(&(r.element_type, r.element_id)))
        .map(|r| (r.id, r.source_id, r.element_id, r.fingerprint))
        .collect();
    format!(
        "{persons:?}{tags:?}{residences:?}{memberships:?}{posts:?}{duals:?}{hours:?}\
         {candidates:?}{houses:?}{objects:?}{events:?}{places:?}{orgs:?}{records:?}"
    )
}

async fn all<E: EntityTrait>(db: &DatabaseConnection) -> Vec<E::Model> {
    E::find().all(db).await.unwrap()
}

/// POSTs `csv` as `kind` of `department` with the credential header `auth`; returns the status
/// and the summary (or error) as JSON.
async fn push(hub: &Hub, auth: (&str, &str), department: &str, kind: &str, csv: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/ingest/{department}?format=csv&kind={kind}",
            hub.base
        ))
        .header(auth.0, auth.1)
        .body(csv.to_string())
        .send()
        .await
        .expect("push");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    json!({"status": status, "body": body})
}

/// The rejection reasons of a push's summary, by line.
fn reasons(pushed: &Value) -> Vec<(u64, String)> {
    pushed["body"]["rejections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["line"].as_u64().unwrap_or(0),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// One attack row set: department, kind, CSV.
struct Attack {
    what: String,
    department: &'static str,
    kind: &'static str,
    csv: String,
}

fn attacks(w: &World) -> Vec<Attack> {
    let o = &w.outsider;
    let i = &w.insider;
    let [oc, ob, ou, or] = &w.own_room;
    let [xc, xb, xu, xr] = &w.other_room;
    let (own, other) = (&w.own_leaf, &w.other_leaf);
    let attack = |what: &str, department, kind, csv: String| Attack {
        what: what.to_string(),
        department,
        kind,
        csv,
    };
    let mut list = vec![
        attack("police: move an outside person into the own grid", "police", "persons",
            format!("id_number,name,grid_code\n{},{},{own}\n", o.id_number, o.name)),
        attack("police: tag an outside person as key person, where it lives", "police", "persons",
            format!("id_number,name,grid_code,key_person,phone\n{},{},{other},是,13900000001\n", o.id_number, o.name)),
        attack("police: move an own person out of the scope", "police", "persons",
            format!("id_number,name,grid_code\n{},{},{other}\n", i.id_number, i.name)),
        attack("police: post an outside person as grid police of the own grid", "police", "grid_police",
            format!("officer_id_number,name,grid_code\n{},{},{own}\n", o.id_number, o.name)),
        attack("police: post an own person as grid police of another grid", "police", "grid_police",
            format!("officer_id_number,name,grid_code\n{},{},{other}\n", i.id_number, i.name)),
        attack("police: a camera in another grid", "police", "devices",
            format!("device_id,device_type,grid_code\nATTACK-CAM-1,摄像头,{other}\n")),
        attack("civil affairs: tag an outside person low-income", "civil_affairs", "welfare",
            format!("id_number,name,welfare_type\n{},{},低保\n", o.id_number, o.name)),
        attack("civil affairs: end an outside person's welfare", "civil_affairs", "welfare",
            format!("id_number,name,welfare_type,until\n{},{},独居老人,2000-01-01\n", o.id_number, o.name)),
        attack("civil affairs: an outside person as grid leader of the own grid", "civil_affairs", "community_workers",
            format!("id_number,name,grid_code,post\n{},{},{own},网格长\n", o.id_number, o.name)),
        attack("civil affairs: an own person as grid leader of another grid", "civil_affairs", "community_workers",
            format!("id_number,name,grid_code,post\n{},{},{other},网格长\n", i.id_number, i.name)),
        attack("property: overwrite an outside person's phone by ID number", "property", "residents",
            format!("compound,building,unit,room,name,role,id_number,phone\n{oc},{ob},{ou},{or},{},租户,{},13900000002\n", o.name, o.id_number)),
        attack("property: overwrite an outside person's phone by name and birth date", "property", "residents",
            format!("compound,building,unit,room,name,role,birth_date,phone\n{oc},{ob},{ou},{or},{},租户,{},13900000003\n", o.name, o.birth_date)),
        attack("property: an own person into a room of another grid", "property", "residents",
            format!("compound,building,unit,room,name,role,id_number\n{xc},{xb},{xu},{xr},{},租户,{}\n", i.name, i.id_number)),
        attack("property: change a house of another grid", "property", "houses",
            format!("compound,building,unit,room,grid_code,usage,area_sqm\n{xc},{xb},{xu},{xr},{other},空置,1\n")),
        attack("property: take a house of another grid into the own grid", "property", "houses",
            format!("compound,building,unit,room,grid_code,usage,area_sqm\n{xc},{xb},{xu},{xr},{own},空置,2\n")),
        attack("property: an e-bike shed in another grid", "property", "ebike_sheds",
            format!("shed_id,name,grid_code\nATTACK-SHED,车棚,{other}\n")),
        attack("property: a service request in another grid", "property", "service_requests",
            format!("request_id,title,reported_at,grid_code\nATTACK-REQ,漏水,2026-01-01 10:00,{other}\n")),
        attack("party: an outside person as member", "party", "members",
            format!("id_number,name,org_code,points\n{},{},ATTACK-ORG,99\n", o.id_number, o.name)),
        attack("party: an outside person's 双报到 in the own grid", "party", "dual_registrations",
            format!("id_number,name,unit_org_code,grid_code\n{},{},ATTACK-ORG,{own}\n", o.id_number, o.name)),
        attack("party: an own person's 双报到 in another grid", "party", "dual_registrations",
            format!("id_number,name,unit_org_code,grid_code\n{},{},ATTACK-ORG,{other}\n", i.id_number, i.name)),
        attack("party: volunteer hours of an outside person", "party", "volunteer_hours",
            format!("activity_id,title,held_on,grid_code,id_number,hours\nATTACK-ACT,巡逻,2026-01-01,{own},{},8\n", o.id_number)),
        attack("party: volunteer hours in another grid", "party", "volunteer_hours",
            format!("activity_id,title,held_on,grid_code,id_number,hours\nATTACK-ACT2,巡逻,2026-01-01,{other},{},8\n", i.id_number)),
        attack("party: a branch in another grid", "party", "organizations",
            format!("org_code,name,org_type,grid_code\nATTACK-BRANCH,支部,党支部,{other}\n")),
        attack("police: take over the outside person's record by its source id", "police", "persons",
            format!("record_id,id_number,name,grid_code\nR-OUTSIDE,{},{},{own}\n", i.id_number, i.name)),
    ];
    if let Some(code) = &w.other_object {
        list.push(attack(
            "police: move an outside camera into the own grid by its code",
            "police",
            "devices",
            format!("device_id,device_type,grid_code\n{code},摄像头,{own}\n"),
        ));
    }
    list
}

/// The person kinds probed for existence: department, kind, header, and a row whose `ID` is
/// replaced by the probed ID number.
fn probes(w: &World) -> Vec<(&'static str, &'static str, &'static str, String)> {
    let own = &w.own_leaf;
    let [c, b, u, r] = &w.own_room;
    vec![
        (
            "police",
            "persons",
            "id_number,name,grid_code",
            format!("ID,某人,{own}"),
        ),
        (
            "police",
            "grid_police",
            "officer_id_number,name,grid_code",
            format!("ID,某人,{own}"),
        ),
        (
            "civil_affairs",
            "welfare",
            "id_number,name,welfare_type",
            "ID,某人,低保".into(),
        ),
        (
            "civil_affairs",
            "community_workers",
            "id_number,name,grid_code,post",
            format!("ID,某人,{own},网格长"),
        ),
        (
            "property",
            "residents",
            "compound,building,unit,room,name,role,id_number",
            format!("{c},{b},{u},{r},某人,租户,ID"),
        ),
        (
            "party",
            "members",
            "id_number,name,org_code",
            "ID,某人,ORG".into(),
        ),
        (
            "party",
            "dual_registrations",
            "id_number,name,unit_org_code,grid_code",
            format!("ID,某人,ORG,{own}"),
        ),
    ]
}

/// A department token scoped to the attacker's community.
fn scoped(w: &World, department: &str) -> String {
    bearer(
        &format!("{department}-community"),
        "department",
        Some(department),
        Some(&w.scope_code),
    )
}

/// Plants an open identity candidate of the outside person whose record names a room outside;
/// returns its number.
async fn planted_candidate(hub: &Hub, w: &World) -> i64 {
    let db = &hub.db.conn;
    let property = department::Entity::find()
        .filter(department::Column::Code.eq("property"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let fields = json!({"name": w.outsider.name, "house_id": w.other_room_id, "role": "tenant",
                        "phone": "13900000009"});
    let record = source_record::ActiveModel {
        department_id: Set(property.id),
        source_id: Set("attack:candidate".into()),
        element_type: Set(ElementType::Person),
        element_id: Set(0),
        received_at: Set(chrono::Utc::now()),
        payload: Set(fields.to_string()),
        fields: Set(fields.to_string()),
        fingerprint: Set("attack".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    identity_candidate::ActiveModel {
        source_record_id: Set(record.id),
        person_id: Set(w.outsider.id),
        score: Set(0.6),
        status: Set(identity_candidate::OPEN.into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn identity_attacks(hub: &Hub, w: &World, probe: &mut Probe) {
    let candidate = planted_candidate(hub, w).await;
    let missing = candidate + 100_000;
    let db = &hub.db.conn;
    let auth = format!("Bearer {}", scoped_token(w, "property"));
    let (_, key) = create_key(
        db,
        NewKey {
            name: "property-community-key".into(),
            role: "department".into(),
            department: Some("property".into()),
            grid_code: Some(w.scope_code.clone()),
        },
    )
    .await
    .unwrap();
    for (header, value) in [
        ("Authorization", auth.as_str()),
        ("X-Api-Key", key.as_str()),
    ] {
        let listed = hub
            .query_as(
                &[(header, value)],
                json!({"query": "{ identityCandidates { id person { id } } }"}),
            )
            .await
            .2;
        let ids: Vec<String> = listed["data"]["identityCandidates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        probe.attempt(
            format!("{header}: identityCandidates lists an outside candidate"),
            ids.contains(&candidate.to_string()),
        );
        for mutation in ["mergeIdentity", "keepIdentitiesApart"] {
            let before = outside(db, &w.inside).await;
            let out = decide(hub, (header, value), mutation, candidate).await;
            let changed = outside(db, &w.inside).await != before;
            let none = decide(hub, (header, value), mutation, missing).await;
            let text = |v: &Value, id: i64| {
                (
                    v["errors"][0]["extensions"]["code"].clone(),
                    v["errors"][0]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .replace(&id.to_string(), "N"),
                )
            };
            probe.attempt(
                format!("{header}: {mutation} of an outside candidate changes it: {out}"),
                changed || out["data"][mutation].is_object(),
            );
            probe.attempt(
                format!("{header}: {mutation} tells an outside candidate from a missing one: {out} / {none}"),
                text(&out, candidate) != text(&none, missing),
            );
        }
    }
}

/// Runs the identity decision `mutation` on candidate `id` with the credential header `auth`.
async fn decide(hub: &Hub, auth: (&str, &str), mutation: &str, id: i64) -> Value {
    let query = format!("mutation {{ {mutation}(candidateId: \"{id}\") {{ id status }} }}");
    hub.query_as(&[auth], json!({"query": query})).await.2
}

/// A police token scoped to the attacker's community that pushed nothing itself.
fn reader(w: &World) -> String {
    bearer(
        "police-community-reader",
        "department",
        Some("police"),
        Some(&w.scope_code),
    )
}

/// A department token's text (without `Bearer `).
fn scoped_token(w: &World, department: &str) -> String {
    scoped(w, department)
        .trim_start_matches("Bearer ")
        .to_string()
}

async fn rejection_attacks(hub: &Hub, w: &World, probe: &mut Probe) {
    let (_, police_key) = create_key(
        &hub.db.conn,
        NewKey {
            name: "police-system".into(),
            role: "department".into(),
            department: Some("police".into()),
            grid_code: None,
        },
    )
    .await
    .unwrap();
    let o = &w.outsider;
    let mut wrong = o.id_number.clone();
    let last = if wrong.ends_with('1') { '2' } else { '1' };
    wrong.replace_range(17..18, &last.to_string());
    let csv = format!(
        "id_number,name,grid_code,phone\n{wrong},{},{},13987654321\n{},{},NOT-A-GRID,13987654321\n",
        o.name, w.other_leaf, o.id_number, o.name
    );
    let pushed = push(hub, ("X-Api-Key", &police_key), "police", "persons", &csv).await;
    assert_eq!(pushed["body"]["rejected"], 2, "{pushed}");
    let query = json!({"query": "{ imports { id rejections { line reason raw } } }"});
    let secrets = [o.id_number.as_str(), wrong.as_str(), "13987654321"];
    let readers = [
        (
            "the pushing key, no purpose",
            ("X-Api-Key".to_string(), police_key.clone()),
        ),
        (
            "a police token, no purpose",
            (
                "Authorization".to_string(),
                bearer("police-officer", "department", Some("police"), None),
            ),
        ),
        (
            "a community-scoped police token",
            ("Authorization".to_string(), reader(w)),
        ),
        (
            "a community-scoped police token with a purpose",
            ("Authorization".to_string(), reader(w)),
        ),
        (
            "a community-scoped admin with a purpose",
            (
                "Authorization".to_string(),
                bearer("admin-community", "admin", None, Some(&w.scope_code)),
            ),
        ),
    ];
    for (who, (header, value)) in readers {
        let mut headers = vec![(header.as_str(), value.as_str())];
        if who.ends_with("with a purpose") {
            headers.extend([("X-Purpose", "public_security"), ("X-Case-Id", "CASE-0001")]);
        }
        let answer = hub.query_as(&headers, query.clone()).await.2;
        let text = answer["data"].to_string();
        let shown: Vec<&str> = secrets
            .iter()
            .copied()
            .filter(|s| text.contains(s))
            .collect();
        probe.attempt(
            format!("{who} reads full identifiers in rejected rows: {shown:?}"),
            !shown.is_empty(),
        );
    }
}

#[tokio::test]
async fn scoped_department_credentials_cannot_write_or_probe_outside_their_grid() {
    for backend in backends() {
        run(backend).await;
    }
}

async fn run(backend: Backend) {
    let hub = Hub::start_with(backend, 400, hardened).await;
    let w = world(&hub).await;
    let db = &hub.db.conn;
    let mut probe = Probe::new("write scope");
    let (_, police_key) = create_key(
        db,
        NewKey {
            name: "police-hq".into(),
            role: "department".into(),
            department: Some("police".into()),
            grid_code: None,
        },
    )
    .await
    .unwrap();
    let planted = format!(
        "record_id,id_number,name,grid_code\nR-OUTSIDE,{},{},{}\n",
        w.outsider.id_number, w.outsider.name, w.other_leaf
    );
    let taken = push(
        &hub,
        ("X-Api-Key", &police_key),
        "police",
        "persons",
        &planted,
    )
    .await;
    assert_eq!(taken["status"], 200, "{backend:?}: {taken}");
    for attack in attacks(&w) {
        let token = scoped(&w, attack.department);
        let before = outside(db, &w.inside).await;
        let pushed = push(
            &hub,
            ("Authorization", &token),
            attack.department,
            attack.kind,
            &attack.csv,
        )
        .await;
        let after = outside(db, &w.inside).await;
        assert_eq!(
            pushed["status"], 200,
            "{backend:?} {}: {pushed}",
            attack.what
        );
        probe.attempt(
            format!("{backend:?} {}: {pushed}", attack.what),
            before != after,
        );
    }
    for (department, kind, header, template) in probes(&w) {
        let token = scoped(&w, department);
        let row = |number: &str| template.replace("ID", number);
        let csv = format!(
            "{header}\n{}\n{}\n",
            row(&w.outsider.id_number),
            row(&w.nobody)
        );
        let before = outside(db, &w.inside).await;
        let pushed = push(&hub, ("Authorization", &token), department, kind, &csv).await;
        let reasons = reasons(&pushed);
        let same = reasons.len() == 2 && reasons[0].1 == reasons[1].1;
        probe.attempt(
            format!("{backend:?} {department} {kind}: outside and unknown ID numbers answered alike: {pushed}"),
            !same || outside(db, &w.inside).await != before,
        );
    }
    identity_attacks(&hub, &w, &mut probe).await;
    rejection_attacks(&hub, &w, &mut probe).await;
    probe.finish();
}
