//! Civil affairs and party organisation imports through `gridhub import` (the real binary), on
//! SQLite and PostgreSQL: exact counts over the fixture files, re-imports that change nothing,
//! and one person (李秀英) whose facts come from all four departments, each formatted differently.

mod common;

use common::imports::{
    counts, fixture, import, import_twice, person_with_id_number, scalar, LI_XIUYING,
};
use common::{backends, Hub};
use serde_json::json;
use std::path::{Path, PathBuf};

async fn police_persons(hub: &Hub) {
    let (code, output) = import(hub, "police", "persons", &fixture("police/persons.csv")).await;
    assert_eq!(code, 0, "{:?}: {output}", hub.backend);
    assert_eq!(
        counts(&output),
        [15, 2, 1, 4],
        "{:?}: {output}",
        hub.backend
    );
}

const UNKNOWN_PERSON: &str = "no person with this ID number in the hub";

#[tokio::test]
async fn party_files_import_with_exact_counts_and_again_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        police_persons(&hub).await;
        let orgs = "SELECT COUNT(*) FROM organizations";
        let before = scalar(&hub, orgs).await;
        import_twice(
            &hub,
            "party",
            "organizations",
            "party/organizations.csv",
            [9, 0, 1, 3],
            &[12, 13, 14],
        )
        .await;
        assert_eq!(scalar(&hub, orgs).await, before + 9, "{backend:?}");
        let nested = "SELECT COUNT(*) FROM organizations c JOIN source_records sc ON sc.element_id = c.id AND sc.element_type = 'organization' JOIN source_records sp ON sp.element_id = c.parent_id AND sp.element_type = 'organization' WHERE sc.source_id = 'DZ2026000004' AND sp.source_id = 'DZ2026000002' AND c.kind = 'party_group'";
        assert_eq!(
            scalar(&hub, nested).await,
            1,
            "{backend:?}: 党小组 under its branch"
        );
        let dir = tempfile::tempdir().unwrap();
        let tree = write(
            dir.path(),
            "tree.csv",
            "org_code,parent_code,name,org_type\nDZ2026100002,DZ2026100001,子支部,党支部\nDZ2026100001,DZ0000000002,总支,党总支\nDZ2026100003,DZ2026100001,居委会,居委会\nDZ2026100004,DZ2026100001,第一党小组,党小组\nDZ2026100001,DZ0000000002,新总支,党总支\n",
        );
        let (_, output) = import(&hub, "party", "organizations", &tree).await;
        assert_eq!(counts(&output), [2, 1, 0, 2], "{backend:?}: {output}");
        assert!(
            output.contains("line 2: parent_code `DZ2026100001`"),
            "{backend:?}: a child before its parent: {output}"
        );
        assert!(
            output.contains("line 4: org_type `居委会`"),
            "{backend:?}: {output}"
        );

        let output = import_twice(
            &hub,
            "party",
            "members",
            "party/members.csv",
            [1, 0, 0, 11],
            &[3, 12, 13],
        )
        .await;
        assert!(output.contains(UNKNOWN_PERSON), "{backend:?}: {output}");

        let output = import_twice(
            &hub,
            "party",
            "dual_registrations",
            "party/dual_registrations.ndjson",
            [0, 0, 0, 11],
            &[1, 8, 9, 10, 11],
        )
        .await;
        assert!(
            output.contains("line 11: unit_org_code"),
            "{backend:?}: {output}"
        );
        let dir = tempfile::tempdir().unwrap();
        let serve = |hours: u32| {
            format!("{{\"身份证号\": \"{LI_XIUYING}\", \"姓名\": \"李秀英\", \"单位党组织编码\": \"DZ2026000006\", \"报到网格编码\": \"650203001001001001\", \"报到日期\": \"2026-03-05\", \"服务时长\": {hours}}}\n")
        };
        let file = write(dir.path(), "dual.ndjson", &(serve(4) + &serve(4)));
        let (_, output) = import(&hub, "party", "dual_registrations", &file).await;
        assert_eq!(counts(&output), [1, 0, 1, 0], "{backend:?}: {output}");
        let file = write(dir.path(), "dual.ndjson", &serve(9));
        let (_, output) = import(&hub, "party", "dual_registrations", &file).await;
        assert_eq!(counts(&output), [0, 1, 0, 0], "{backend:?}: {output}");
        let hours = "SELECT COUNT(*) FROM dual_registrations WHERE service_hours = 9";
        assert_eq!(scalar(&hub, hours).await, 1, "{backend:?}");

        let output = import_twice(
            &hub,
            "party",
            "volunteer_hours",
            "party/volunteer_hours.csv",
            [1, 0, 0, 13],
            &[2, 6, 13, 14, 15],
        )
        .await;
        assert!(
            output.contains("line 14: id_number"),
            "{backend:?}: {output}"
        );
        assert!(output.contains("line 15: hours"), "{backend:?}: {output}");
        let served = format!("SELECT COUNT(*) FROM volunteer_participations v JOIN persons p ON p.id = v.person_id JOIN volunteer_activities a ON a.id = v.activity_id WHERE p.id_number = '{LI_XIUYING}' AND a.category = 'traffic_guidance' AND v.hours = 2");
        assert_eq!(scalar(&hub, &served).await, 1, "{backend:?}");
    }
}

/// Writes `text` to a file named `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn civil_affairs_files_import_with_exact_counts_and_again_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        police_persons(&hub).await;
        let output = import_twice(
            &hub,
            "civil_affairs",
            "welfare",
            "civil_affairs/welfare.ndjson",
            [1, 0, 0, 11],
            &[2, 11, 12],
        )
        .await;
        assert!(output.contains(UNKNOWN_PERSON), "{backend:?}: {output}");
        let tags = format!("SELECT COUNT(*) FROM person_tags t JOIN persons p ON p.id = t.person_id WHERE p.id_number = '{LI_XIUYING}' AND t.tag = 'low_income'");
        assert_eq!(scalar(&hub, &tags).await, 1, "{backend:?}");
        let phone = format!("SELECT COUNT(*) FROM persons WHERE id_number = '{LI_XIUYING}' AND phone = '13899001234'");
        assert_eq!(
            scalar(&hub, &phone).await,
            1,
            "{backend:?}: the police phone stays"
        );

        let social = "SELECT COUNT(*) FROM organizations WHERE kind = 'social_organization'";
        let before = scalar(&hub, social).await;
        let output = import_twice(
            &hub,
            "civil_affairs",
            "social_organizations",
            "civil_affairs/social_organizations.csv",
            [8, 0, 1, 3],
            &[10, 12, 13],
        )
        .await;
        assert!(
            output.contains("52650203MJ0K331844"),
            "{backend:?}: {output}"
        );
        assert_eq!(scalar(&hub, social).await, before + 8, "{backend:?}");

        let output = import_twice(
            &hub,
            "civil_affairs",
            "community_workers",
            "civil_affairs/community_workers.csv",
            [0, 0, 0, 12],
            &[2, 11, 12, 13],
        )
        .await;
        assert!(output.contains("line 12: post"), "{backend:?}: {output}");
        assert!(
            output.contains("line 13: grid_code"),
            "{backend:?}: {output}"
        );

        let dir = tempfile::tempdir().unwrap();
        let posts = write(
            dir.path(),
            "posts.csv",
            &format!("id_number,name,grid_code,post\n{LI_XIUYING},李秀英,650203001001001,楼道长\n{LI_XIUYING},李秀英,650203001001001,楼道长\n65020319620308184x,李秀英,650203001001002,网格长\n"),
        );
        let (_, output) = import(&hub, "civil_affairs", "community_workers", &posts).await;
        assert_eq!(counts(&output), [2, 0, 1, 0], "{backend:?}: {output}");
        let staff = format!("SELECT COUNT(*) FROM grid_staff s JOIN persons p ON p.id = s.person_id WHERE p.id_number = '{LI_XIUYING}'");
        assert_eq!(scalar(&hub, &staff).await, 2, "{backend:?}");

        let ended = write(
            dir.path(),
            "ended.ndjson",
            &format!("{{\"救助编号\": \"MZ2026119999\", \"身份证号\": \"{LI_XIUYING}\", \"姓名\": \"李秀英\", \"救助类型\": \"低保\", \"终止日期\": \"2025-12-31\"}}\n"),
        );
        let (_, output) = import(&hub, "civil_affairs", "welfare", &ended).await;
        assert_eq!(counts(&output), [0, 1, 0, 0], "{backend:?}: {output}");
        assert_eq!(
            scalar(&hub, &tags).await,
            0,
            "{backend:?}: an ended status removes the tag"
        );
    }
}

#[tokio::test]
async fn li_xiuying_is_one_person_with_records_from_all_four_departments() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        police_persons(&hub).await;
        for (department, kind, path) in [
            ("civil_affairs", "welfare", "civil_affairs/welfare.ndjson"),
            ("property", "residents", "property/residents.csv"),
            ("party", "organizations", "party/organizations.csv"),
            ("party", "members", "party/members.csv"),
        ] {
            let (code, output) = import(&hub, department, kind, &fixture(path)).await;
            assert_eq!(code, 0, "{backend:?} {path}: {output}");
        }
        let fields = "name tags sourceRecords { department { code } }";
        let person = &person_with_id_number(&hub, LI_XIUYING, fields).await;
        assert_eq!(person["name"], "李秀英", "{backend:?}: {person}");
        let mut departments: Vec<&str> = person["sourceRecords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["department"]["code"].as_str().unwrap())
            .collect();
        departments.sort();
        assert_eq!(
            departments,
            ["civil_affairs", "party", "police", "property"],
            "{backend:?}: one record from each department, each formatted differently: {person}"
        );
        assert!(
            !person["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("LOW_INCOME")),
            "{backend:?}: welfare status is hidden from the anonymous caller: {person}"
        );
        let tag = format!("SELECT COUNT(*) FROM person_tags t JOIN persons p ON p.id = t.person_id WHERE p.id_number = '{LI_XIUYING}' AND t.tag = 'low_income'");
        assert_eq!(scalar(&hub, &tag).await, 1, "{backend:?}");
        let membership = format!("SELECT COUNT(*) FROM memberships m JOIN persons p ON p.id = m.person_id JOIN source_records s ON s.element_id = m.organization_id AND s.element_type = 'organization' WHERE p.id_number = '{LI_XIUYING}' AND m.role = 'party_member' AND m.party_category = 'C' AND m.points = 86 AND s.source_id = 'DZ2026000002'");
        assert_eq!(scalar(&hub, &membership).await, 1, "{backend:?}");
        let persons = format!("SELECT COUNT(*) FROM persons WHERE id_number = '{LI_XIUYING}'");
        assert_eq!(scalar(&hub, &persons).await, 1, "{backend:?}");
    }
}
