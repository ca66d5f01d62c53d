//! Imports bounded by the pushing principal's grid scope, through `POST /ingest/{department}`
//! and GraphQL, on SQLite and PostgreSQL: a grid-scoped key writes inside its grid only and gets
//! one answer for persons outside it and persons the hub does not have, `gridhub import` stays
//! unscoped, rejected rows are masked unless read in full with a purpose (and then audited),
//! and identity candidates outside the scope look missing.

mod common;

use chrono::NaiveDate;
use common::imports::{counts, import, scalar};
use common::tokens::{secured, token};
use common::{backends, Hub};
use gridhub::access::credentials::{create_key, NewKey};
use gridhub::domain::id_number::{compose, Gender};
use gridhub::entity::vocabulary::{ElementType, GridLevel};
use gridhub::entity::{department, grid, grid_closure, identity_candidate, person, source_record};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};
use std::collections::HashSet;

/// A community with persons inside and outside it.
struct Split {
    code: String,
    insider: person::Model,
    outsider: person::Model,
}

async fn split(hub: &Hub) -> Split {
    let db = &hub.db.conn;
    let persons = person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(db)
        .await
        .unwrap();
    let communities = grid::Entity::find()
        .filter(grid::Column::Level.eq(GridLevel::Community))
        .order_by_asc(grid::Column::Code)
        .all(db)
        .await
        .unwrap();
    for community in communities {
        let inside: HashSet<i64> = grid_closure::Entity::find()
            .filter(grid_closure::Column::AncestorId.eq(community.id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.descendant_id)
            .collect();
        let insider = persons.iter().find(|p| inside.contains(&p.grid_id));
        let outsider = persons.iter().find(|p| !inside.contains(&p.grid_id));
        if let (Some(insider), Some(outsider)) = (insider, outsider) {
            return Split {
                code: community.code,
                insider: insider.clone(),
                outsider: outsider.clone(),
            };
        }
    }
    panic!("no community with persons inside and outside")
}

async fn key(hub: &Hub, name: &str, department: &str, grid: Option<&str>) -> String {
    let new = NewKey {
        name: name.into(),
        role: "department".into(),
        department: Some(department.into()),
        grid_code: grid.map(str::to_string),
    };
    create_key(&hub.db.conn, new).await.unwrap().1
}

async fn push(hub: &Hub, key: &str, department: &str, kind: &str, csv: String) -> Value {
    reqwest::Client::new()
        .post(format!(
            "{}/ingest/{department}?format=csv&kind={kind}",
            hub.base
        ))
        .header("X-Api-Key", key)
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn nobody() -> String {
    compose(
        "650203",
        NaiveDate::from_ymd_opt(1977, 7, 7).unwrap(),
        777,
        Gender::Male,
    )
}

async fn name_of(hub: &Hub, id: i64) -> String {
    person::Entity::find_by_id(id)
        .one(&hub.db.conn)
        .await
        .unwrap()
        .unwrap()
        .name
}

#[tokio::test]
async fn a_grid_scoped_key_writes_inside_its_grid_and_answers_outside_like_missing() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 300, |s| s.auth.required = true).await;
        let Split {
            code,
            insider,
            outsider,
        } = split(&hub).await;
        let grid_of = |p: &person::Model| p.grid_id;
        let own_grid: String = grid::Entity::find_by_id(grid_of(&insider))
            .one(&hub.db.conn)
            .await
            .unwrap()
            .unwrap()
            .code;
        let scoped = key(&hub, "police-community", "police", Some(&code)).await;
        let csv = format!(
            "id_number,name,grid_code\n{},改名甲,{own_grid}\n{},改名乙,{own_grid}\n{},改名丙,{own_grid}\n",
            insider.id_number,
            outsider.id_number,
            nobody()
        );
        let summary = push(&hub, &scoped, "police", "persons", csv.clone()).await;
        assert_eq!(
            (
                &summary["updated"],
                &summary["inserted"],
                &summary["rejected"]
            ),
            (&json!(1), &json!(0), &json!(2)),
            "{backend:?}: {summary}"
        );
        let reasons: Vec<&str> = summary["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            vec!["no person with this ID number in your grid scope"; 2],
            "{backend:?}: an outside person and a missing one get the same answer"
        );
        assert_eq!(name_of(&hub, insider.id).await, "改名甲");
        assert_eq!(
            name_of(&hub, outsider.id).await,
            outsider.name,
            "{backend:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("persons.csv");
        std::fs::write(&file, &csv).unwrap();
        let (code, output) = import(&hub, "police", "persons", &file).await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        assert_eq!(
            counts(&output),
            [1, 1, 1, 0],
            "{backend:?}: gridhub import is unscoped: {output}"
        );
        assert_eq!(name_of(&hub, outsider.id).await, "改名乙");
    }
}

#[tokio::test]
async fn rejected_rows_are_masked_unless_read_in_full_with_a_purpose_and_then_audited() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 100, secured).await;
        let Split { code, .. } = split(&hub).await;
        let police = key(&hub, "police-system", "police", None).await;
        let wrong = "650203198501015654";
        let csv =
            format!("id_number,name,grid_code,phone\n{wrong},张三,650203001001001,13987654321\n");
        let summary = push(&hub, &police, "police", "persons", csv).await;
        assert_eq!(summary["rejected"], 1, "{backend:?}: {summary}");
        let query = json!({"query": "{ imports { rejections { reason raw } } }"});
        let officer = format!(
            "Bearer {}",
            token("officer", "department", Some("police"), None)
        );
        let read = |headers: Vec<(&'static str, String)>| {
            let query = query.clone();
            let hub = &hub;
            async move {
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                hub.query_as(&headers, query).await.2
            }
        };
        let masked = read(vec![("Authorization", officer.clone())]).await;
        let rejection = &masked["data"]["imports"][0]["rejections"][0];
        let text = rejection.to_string();
        assert!(
            !text.contains(wrong) && !text.contains("13987654321"),
            "{backend:?}: {masked}"
        );
        assert!(
            text.contains("6502**********5654") && text.contains("139****4321"),
            "{backend:?}: {masked}"
        );

        let before = scalar(&hub, "SELECT COUNT(*) FROM audit_entries").await;
        let full = read(vec![
            ("Authorization", officer.clone()),
            ("X-Purpose", "data_quality".into()),
            ("X-Case-Id", "DQ-0007".into()),
        ])
        .await;
        let raw = full["data"]["imports"][0]["rejections"][0]["raw"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(raw.contains(wrong), "{backend:?}: {full}");
        let sql = "SELECT COUNT(*) FROM audit_entries WHERE element_type = 'import_rejection'";
        let mut audited = 0;
        for _ in 0..50 {
            audited = scalar(&hub, sql).await;
            if audited > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(audited > 0, "{backend:?}: the full read is audited");
        assert!(scalar(&hub, "SELECT COUNT(*) FROM audit_entries").await > before);

        let scoped = format!(
            "Bearer {}",
            token(
                "officer-community",
                "department",
                Some("police"),
                Some(&code)
            )
        );
        let theirs = read(vec![("Authorization", scoped)]).await;
        assert_eq!(
            theirs["data"]["imports"],
            json!([]),
            "{backend:?}: a scoped principal sees only its own imports: {theirs}"
        );
    }
}

#[tokio::test]
async fn identity_candidates_outside_the_scope_look_missing() {
    for backend in backends() {
        let hub = Hub::start_with(backend, 100, secured).await;
        let Split { code, outsider, .. } = split(&hub).await;
        let db = &hub.db.conn;
        let property = department::Entity::find()
            .filter(department::Column::Code.eq("property"))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let fields = json!({"name": outsider.name, "role": "tenant"}).to_string();
        let record = source_record::ActiveModel {
            department_id: Set(property.id),
            source_id: Set("resident:test".into()),
            element_type: Set(ElementType::Person),
            element_id: Set(0),
            received_at: Set(chrono::Utc::now()),
            payload: Set(fields.clone()),
            fields: Set(fields),
            fingerprint: Set("test".into()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let candidate = identity_candidate::ActiveModel {
            source_record_id: Set(record.id),
            person_id: Set(outsider.id),
            score: Set(0.6),
            status: Set(identity_candidate::OPEN.into()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id;
        let as_token = |grid: Option<&str>| {
            format!(
                "Bearer {}",
                token("property-app", "department", Some("property"), grid)
            )
        };
        let ask = |auth: String, query: String| {
            let hub = &hub;
            async move {
                hub.query_as(&[("Authorization", auth.as_str())], json!({"query": query}))
                    .await
                    .2
            }
        };
        let list = "{ identityCandidates { id } }".to_string();
        let everyone = ask(as_token(None), list.clone()).await;
        assert_eq!(
            everyone["data"]["identityCandidates"],
            json!([{"id": candidate.to_string()}]),
            "{backend:?}: {everyone}"
        );
        let scoped = ask(as_token(Some(&code)), list).await;
        assert_eq!(
            scoped["data"]["identityCandidates"],
            json!([]),
            "{backend:?}: {scoped}"
        );
        let merge =
            |id: i64| format!("mutation {{ mergeIdentity(candidateId: \"{id}\") {{ id }} }}");
        let outside = ask(as_token(Some(&code)), merge(candidate)).await;
        let missing = ask(as_token(Some(&code)), merge(candidate + 1000)).await;
        let error = |v: &Value, id: i64| {
            (
                v["errors"][0]["extensions"]["code"].clone(),
                v["errors"][0]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .replace(&id.to_string(), "N"),
            )
        };
        assert_eq!(
            error(&outside, candidate).0,
            "NOT_FOUND",
            "{backend:?}: {outside}"
        );
        assert_eq!(
            error(&outside, candidate),
            error(&missing, candidate + 1000),
            "{backend:?}"
        );
        let status = identity_candidate::Entity::find_by_id(candidate)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .status;
        assert_eq!(status, identity_candidate::OPEN, "{backend:?}");
    }
}
