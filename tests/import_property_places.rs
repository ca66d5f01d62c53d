//! Property houses, e-bike sheds and service requests imported through `gridhub import`, on
//! SQLite and PostgreSQL: exact counts of each fixture file in a hub seeded with 300 persons,
//! the house tree the houses file completes, and re-imports that change nothing.

mod common;

use common::{backends, Backend, Hub};
use sea_orm::{ConnectionTrait, Statement};
use std::path::{Path, PathBuf};
use std::process::Command;

const GRIDHUB: &str = env!("CARGO_BIN_EXE_gridhub");

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// Imports `file` as property `kind`; returns the counts of its summary line.
fn import(hub: &Hub, kind: &str, file: &str) -> [u64; 4] {
    let output = Command::new(GRIDHUB)
        .args(["import", "--department", "property", "--kind", kind])
        .args(["--database", &hub.url, "--file"])
        .arg(fixture(file))
        .env("GRIDHUB__SEED__PERSONS_ON_FIRST_START", "0")
        .output()
        .expect("run gridhub import");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{kind}: {text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("import "))
        .unwrap_or_else(|| panic!("no summary in: {text}"));
    let numbers: Vec<u64> = line
        .split(": ")
        .nth(1)
        .expect("counts")
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

async fn scalar(hub: &Hub, sql: &str) -> i64 {
    let backend = hub.db.conn.get_database_backend();
    let row = hub
        .db
        .conn
        .query_one_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn check(backend: Backend) {
    let hub = Hub::start(backend, 300).await;
    let houses = scalar(&hub, "SELECT COUNT(*) FROM houses").await;
    assert_eq!(
        import(&hub, "houses", "property/houses.csv"),
        [10, 0, 1, 3],
        "{backend:?} houses"
    );
    let added = scalar(&hub, "SELECT COUNT(*) FROM houses").await - houses;
    let rooms_added = scalar(
        &hub,
        "SELECT COUNT(*) FROM houses h JOIN source_records s ON s.element_id = h.id \
         WHERE s.element_type = 'house' AND s.source_id LIKE 'WYF%' AND h.kind = 'room'",
    )
    .await;
    assert_eq!(rooms_added, 10, "{backend:?}");
    assert!(added >= 10, "{backend:?}: {added} houses added");
    let named = scalar(
        &hub,
        "SELECT COUNT(*) FROM houses WHERE name = '2单元' AND address LIKE '%石化小区1号楼2单元'",
    )
    .await;
    assert_eq!(named, 1, "{backend:?}: 石化小区 1号楼 2单元 created once");
    assert_eq!(
        import(&hub, "houses", "property/houses.csv"),
        [0, 0, 11, 3],
        "{backend:?} houses again"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM houses").await - houses,
        added
    );

    assert_eq!(
        import(&hub, "ebike_sheds", "property/ebike_sheds.ndjson"),
        [9, 0, 0, 2],
        "{backend:?} sheds"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM objects WHERE code LIKE 'CP2026%' AND kind = 'ebike_shed' AND status = 'in_service'").await,
        9
    );
    assert_eq!(
        import(&hub, "ebike_sheds", "property/ebike_sheds.ndjson"),
        [0, 0, 9, 2],
        "{backend:?} sheds again"
    );

    let events = scalar(&hub, "SELECT COUNT(*) FROM events").await;
    assert_eq!(
        import(&hub, "service_requests", "property/service_requests.csv"),
        [9, 0, 1, 2],
        "{backend:?} service requests"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM events").await - events,
        9
    );
    assert_eq!(
        import(&hub, "service_requests", "property/service_requests.csv"),
        [0, 0, 10, 2],
        "{backend:?} service requests again"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM events").await - events,
        9
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn property_places_import_with_exact_counts_on_every_backend() {
    for backend in backends() {
        check(backend).await;
    }
}
