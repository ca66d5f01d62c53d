//! Police grid police and device imports through `gridhub import` (the real binary), on SQLite
//! and PostgreSQL: exact counts over the fixture files, re-imports that change nothing, grid
//! posts of officers the hub has, and devices updated by their device id.

mod common;

use common::imports::{counts, fixture, import, import_twice, scalar, LI_XIUYING};
use common::{backends, Hub};
use std::path::{Path, PathBuf};

const UNKNOWN_PERSON: &str = "no person with this ID number in the hub";

/// Writes `text` to a file named `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn grid_police_import_with_exact_counts_and_again_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        let (code, output) =
            import(&hub, "police", "persons", &fixture("police/persons.csv")).await;
        assert_eq!(code, 0, "{backend:?}: {output}");
        let posts = "SELECT COUNT(*) FROM grid_staff WHERE role = 'grid_police'";
        let before = scalar(&hub, posts).await;
        let output = import_twice(
            &hub,
            "police",
            "grid_police",
            "police/grid_police.csv",
            [0, 0, 0, 10],
            &[2, 9, 10, 11],
        )
        .await;
        assert!(output.contains(UNKNOWN_PERSON), "{backend:?}: {output}");
        assert!(
            output.contains("line 10: officer_id_number"),
            "{backend:?}: {output}"
        );
        assert!(
            output.contains("line 11: grid_code"),
            "{backend:?}: {output}"
        );
        assert_eq!(scalar(&hub, posts).await, before, "{backend:?}");

        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "grid_police.csv",
            &format!(
                "officer_id_number,name,grid_code,since\n {LI_XIUYING} ,李秀英,650203001001001,2025-01-02\n{LI_XIUYING},李秀英,650203001001002,\n{LI_XIUYING},李秀英,650203001001001,2025-05-06\n"
            ),
        );
        let (_, output) = import(&hub, "police", "grid_police", &file).await;
        assert_eq!(counts(&output), [2, 0, 1, 0], "{backend:?}: {output}");
        let (_, output) = import(&hub, "police", "grid_police", &file).await;
        assert_eq!(counts(&output), [0, 0, 3, 0], "{backend:?}: {output}");
        let hers = format!("SELECT COUNT(*) FROM grid_staff s JOIN persons p ON p.id = s.person_id WHERE p.id_number = '{LI_XIUYING}' AND s.role = 'grid_police'");
        assert_eq!(scalar(&hub, &hers).await, 2, "{backend:?}");
        let since = format!("SELECT COUNT(*) FROM grid_staff s JOIN persons p ON p.id = s.person_id JOIN grids g ON g.id = s.grid_id WHERE p.id_number = '{LI_XIUYING}' AND g.code = '650203001001001' AND s.since = '2025-01-02'");
        assert_eq!(
            scalar(&hub, &since).await,
            1,
            "{backend:?}: the first since"
        );
        let record = format!("SELECT COUNT(*) FROM source_records WHERE source_id = 'grid_police:{LI_XIUYING}:650203001001002' AND element_type = 'person'");
        assert_eq!(scalar(&hub, &record).await, 1, "{backend:?}");
    }
}

#[tokio::test]
async fn devices_import_with_exact_counts_and_again_change_nothing() {
    for backend in backends() {
        let hub = Hub::start(backend, 300).await;
        let devices = "SELECT COUNT(*) FROM objects WHERE kind IN ('camera', 'access_gate')";
        let before = scalar(&hub, devices).await;
        let output = import_twice(
            &hub,
            "police",
            "devices",
            "police/devices.ndjson",
            [9, 0, 1, 2],
            &[11, 12],
        )
        .await;
        assert!(
            output.contains("line 11: grid_code"),
            "{backend:?}: {output}"
        );
        assert!(
            output.contains("line 12: device_type"),
            "{backend:?}: {output}"
        );
        assert_eq!(scalar(&hub, devices).await, before + 9, "{backend:?}");
        let faulty = "SELECT COUNT(*) FROM objects o JOIN grids g ON g.id = o.grid_id WHERE o.code = 'SXT65020300100100200192' AND o.kind = 'camera' AND o.status = 'faulty' AND g.code = '650203001001002001' AND o.installed_on = '2024-04-12'";
        assert_eq!(scalar(&hub, faulty).await, 1, "{backend:?}");
        let retired = "SELECT COUNT(*) FROM objects WHERE code = 'MJ65020300100100300295' AND kind = 'access_gate' AND status = 'retired'";
        assert_eq!(scalar(&hub, retired).await, 1, "{backend:?}");
        let records = "SELECT COUNT(*) FROM source_records s JOIN objects o ON o.id = s.element_id WHERE s.element_type = 'object' AND s.source_id = o.code AND o.code LIKE 'MJ650203001%'";
        assert_eq!(scalar(&hub, records).await, 4, "{backend:?}");

        let dir = tempfile::tempdir().unwrap();
        let device = |status: &str, latitude: &str| {
            format!("device_id,device_type,grid_code,latitude,longitude,status\nSXT65020300100100100190,camera,650203001001001001,{latitude},84.897062,{status}\n")
        };
        let file = write(dir.path(), "devices.csv", &device("故障", "45.602807"));
        let (_, output) = import(&hub, "police", "devices", &file).await;
        assert_eq!(counts(&output), [0, 1, 0, 0], "{backend:?}: {output}");
        let changed = "SELECT COUNT(*) FROM objects WHERE code = 'SXT65020300100100100190' AND status = 'faulty' AND name = '摄像头SXT65020300100100100190' AND installed_on IS NULL";
        assert_eq!(scalar(&hub, changed).await, 1, "{backend:?}");
        assert_eq!(scalar(&hub, devices).await, before + 9, "{backend:?}");
        let file = write(dir.path(), "devices.csv", &device("维修中", "45.6"));
        let (_, output) = import(&hub, "police", "devices", &file).await;
        assert!(output.contains("line 2: status"), "{backend:?}: {output}");
        let file = write(dir.path(), "devices.csv", &device("正常", "95.1"));
        let (_, output) = import(&hub, "police", "devices", &file).await;
        assert!(output.contains("line 2: latitude"), "{backend:?}: {output}");
        let file = write(dir.path(), "devices.csv", &device("正常", "北纬45"));
        let (_, output) = import(&hub, "police", "devices", &file).await;
        assert_eq!(counts(&output), [0, 0, 0, 1], "{backend:?}: {output}");
    }
}
