//! Property houses, e-bike sheds and service requests imported through `gridhub import`, on
//! SQLite and PostgreSQL: exact counts of each fixture file in a hub seeded with 300 persons,
//! the house tree the houses file completes, and re-imports that change nothing.

mod common;

use common::imports::{self, counts, fixture, scalar};
use common::{backends, Backend, Hub};

/// Imports `file` as property `kind`; returns the counts of its summary line.
async fn import(hub: &Hub, kind: &str, file: &str) -> [u64; 4] {
    let (code, output) = imports::import(hub, "property", kind, &fixture(file)).await;
    assert_eq!(code, 0, "{kind}: {output}");
    counts(&output)
}

async fn check(backend: Backend) {
    let hub = Hub::start(backend, 300).await;
    let houses = scalar(&hub, "SELECT COUNT(*) FROM houses").await;
    assert_eq!(
        import(&hub, "houses", "property/houses.csv").await,
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
        import(&hub, "houses", "property/houses.csv").await,
        [0, 0, 11, 3],
        "{backend:?} houses again"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM houses").await - houses,
        added
    );

    assert_eq!(
        import(&hub, "ebike_sheds", "property/ebike_sheds.ndjson").await,
        [9, 0, 0, 2],
        "{backend:?} sheds"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM objects WHERE code LIKE 'CP2026%' AND kind = 'ebike_shed' AND status = 'in_service'").await,
        9
    );
    assert_eq!(
        import(&hub, "ebike_sheds", "property/ebike_sheds.ndjson").await,
        [0, 0, 9, 2],
        "{backend:?} sheds again"
    );

    let events = scalar(&hub, "SELECT COUNT(*) FROM events").await;
    assert_eq!(
        import(&hub, "service_requests", "property/service_requests.csv").await,
        [9, 0, 1, 2],
        "{backend:?} service requests"
    );
    assert_eq!(
        scalar(&hub, "SELECT COUNT(*) FROM events").await - events,
        9
    );
    assert_eq!(
        import(&hub, "service_requests", "property/service_requests.csv").await,
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
