//! Places and objects: compounds, streets, the "four small" shops along them, business
//! buildings, schools and public spaces; and the managed things (部件) in them: cameras, gates,
//! hydrants, manhole covers, e-bike sheds and chargers, vehicles and AEDs.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::grid::{Leaf, Territory, POLICE};
use super::names;
use super::orgs::Orgs;
use super::plan::{apportion, Plan};
use super::random::{anchor, anchor_day, one_of, phase_rng, pick, SeedRng};
use super::sink::{Buffer, Writer};
use super::sources::Sources;
use crate::entity::vocabulary::{ElementType, GridKind, ObjectKind, ObjectStatus, PlaceKind};
use crate::entity::{object, place};

/// Kinds of the "four small" units along streets, with weights.
const SMALL_UNITS: &[(PlaceKind, u32)] = &[
    (PlaceKind::Shop, 50),
    (PlaceKind::Restaurant, 35),
    (PlaceKind::Hotel, 8),
    (PlaceKind::Entertainment, 7),
];
/// Kinds of objects with weights.
const OBJECT_KINDS: &[(ObjectKind, u32)] = &[
    (ObjectKind::Camera, 30),
    (ObjectKind::ManholeCover, 20),
    (ObjectKind::AccessGate, 14),
    (ObjectKind::FireHydrant, 14),
    (ObjectKind::EbikeCharger, 8),
    (ObjectKind::EbikeShed, 7),
    (ObjectKind::Vehicle, 4),
    (ObjectKind::Aed, 3),
];
/// Residents per shop along the streets of a residential micro-grid.
const RESIDENTS_PER_SHOP: f64 = 150.0;

/// Writes the places of every leaf (recording each leaf's place range), then the objects.
pub async fn write_places_and_objects(
    writer: &mut Writer,
    territory: &mut Territory,
    orgs: &Orgs,
    plan: &Plan,
    seed: u64,
    sources: &mut Sources,
) -> anyhow::Result<()> {
    let mut rng = phase_rng(seed, 4);
    let mut places = Buffer::<place::Entity>::default();
    let mut next = 1;
    for index in 0..territory.leaves.len() {
        let first = next;
        for row in leaf_places(&mut rng, territory, index, &mut next) {
            places.push(row);
        }
        territory.leaves[index].places = first..next;
        if places.is_full() {
            writer.write(&mut places)?;
            writer.send().await?;
        }
    }
    writer.write(&mut places)?;
    writer.send().await?;
    write_objects(writer, territory, orgs, plan, &mut rng, sources).await
}

/// The places of leaf `index`, numbered from `next`.
fn leaf_places(
    rng: &mut SeedRng,
    t: &Territory,
    index: usize,
    next: &mut i64,
) -> Vec<place::Model> {
    let leaf = &t.leaves[index];
    let mut rows = Vec::new();
    let mut add = |rng: &mut SeedRng, kind: PlaceKind, name: String, boundary: Option<String>| {
        let (latitude, longitude) = jitter(rng, leaf.centre, 0.0008);
        let address = format!(
            "{}{}{}号",
            super::grid::DISTRICT_NAME,
            leaf.road,
            leaf.door + rows.len() as u32
        );
        rows.push(place::Model {
            id: *next,
            grid_id: leaf.id,
            kind,
            name,
            address,
            latitude,
            longitude,
            boundary,
        });
        *next += 1;
    };
    if t.grids[leaf.grid].leaves.start == index {
        add(
            rng,
            PlaceKind::Street,
            format!("{}（{}段）", leaf.road, t.grids[leaf.grid].name),
            None,
        );
    }
    if t.communities[leaf.community].leaves.start == index {
        let community = &t.communities[leaf.community].name;
        let school = format!("克拉玛依市第{}小学", leaf.community + 1);
        add(rng, PlaceKind::School, school, None);
        let space = format!(
            "{}{}",
            community.trim_end_matches("社区"),
            one_of(rng, names::PUBLIC_SPACES)
        );
        add(rng, PlaceKind::PublicSpace, space, None);
    }
    let shops = match leaf.kind {
        GridKind::Business => {
            add(
                rng,
                PlaceKind::BusinessBuilding,
                names::business_building(index),
                None,
            );
            rng.random_range(12..30)
        }
        _ => {
            add(
                rng,
                PlaceKind::Compound,
                names::compound(index),
                Some(boundary(leaf.centre)),
            );
            let factor = if leaf.kind == GridKind::Mixed {
                3.0
            } else {
                1.0
            };
            (leaf.target as f64 * factor / RESIDENTS_PER_SHOP * rng.random_range(0.6..1.4)).round()
                as u32
        }
    };
    for _ in 0..shops {
        let kind = pick(rng, SMALL_UNITS);
        let name = small_unit_name(rng, kind);
        add(rng, kind, name, None);
    }
    rows
}

/// A shop, restaurant, hotel or venue name such as 鑫源超市 or 王记拉面馆.
fn small_unit_name(rng: &mut SeedRng, kind: PlaceKind) -> String {
    let trade = names::trade_name(rng);
    match kind {
        PlaceKind::Restaurant => format!(
            "{}记{}",
            names::surname(rng),
            one_of(rng, names::RESTAURANTS)
        ),
        PlaceKind::Hotel => format!("{trade}{}", one_of(rng, names::HOTELS)),
        PlaceKind::Entertainment => format!("{trade}{}", one_of(rng, names::ENTERTAINMENT)),
        _ => format!("{trade}{}", one_of(rng, names::SHOPS)),
    }
}

/// A point within `spread` degrees of `centre`.
fn jitter(rng: &mut SeedRng, centre: (f64, f64), spread: f64) -> (f64, f64) {
    (
        centre.0 + rng.random_range(-spread..spread),
        centre.1 + rng.random_range(-spread..spread) * 1.4,
    )
}

/// A GeoJSON square of about 200 m around `centre`.
fn boundary(centre: (f64, f64)) -> String {
    let (lat, lng) = centre;
    let (dlat, dlng) = (0.0009, 0.0013);
    let ring = [
        (-1.0, -1.0),
        (1.0, -1.0),
        (1.0, 1.0),
        (-1.0, 1.0),
        (-1.0, -1.0),
    ]
    .map(|(a, b)| [round6(lng + b * dlng), round6(lat + a * dlat)]);
    json!({"type": "Polygon", "coordinates": [ring]}).to_string()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Objects spread over the leaves by population (business leaves get a fixed share).
async fn write_objects(
    writer: &mut Writer,
    t: &Territory,
    orgs: &Orgs,
    plan: &Plan,
    rng: &mut SeedRng,
    sources: &mut Sources,
) -> anyhow::Result<()> {
    let weights: Vec<f64> = t
        .leaves
        .iter()
        .map(|l| {
            l.target as f64
                + if l.kind == GridKind::Business {
                    150.0
                } else {
                    20.0
                }
        })
        .collect();
    let mut objects = Buffer::<object::Entity>::default();
    let mut next = 1;
    for (index, count) in apportion(&weights, plan.objects).into_iter().enumerate() {
        let leaf = &t.leaves[index];
        let code = t.leaf_code(index);
        for n in 1..=count {
            let row = object_row(rng, leaf, orgs, next, &code, n);
            if matches!(row.kind, ObjectKind::Camera | ObjectKind::AccessGate) {
                report_object(rng, &row, sources);
            }
            objects.push(row);
            next += 1;
            if objects.is_full() || sources.is_full() {
                flush(writer, &mut objects, sources).await?;
            }
        }
    }
    flush(writer, &mut objects, sources).await
}

async fn flush(
    writer: &mut Writer,
    objects: &mut Buffer<object::Entity>,
    sources: &mut Sources,
) -> anyhow::Result<()> {
    writer.write(objects)?;
    sources.write(writer)?;
    writer.send().await
}

/// The `n`th object of a leaf whose grid code is `code`.
fn object_row(
    rng: &mut SeedRng,
    leaf: &Leaf,
    orgs: &Orgs,
    id: i64,
    code: &str,
    n: u64,
) -> object::Model {
    let kind = pick(rng, OBJECT_KINDS);
    let (label, prefix) = object_label(kind);
    let compound_object = matches!(
        kind,
        ObjectKind::AccessGate
            | ObjectKind::EbikeShed
            | ObjectKind::EbikeCharger
            | ObjectKind::Vehicle
    );
    let company = leaf.property_company.map(|c| orgs.property_companies[c].0);
    let owner = match kind {
        ObjectKind::Camera => Some(orgs.police_stations[leaf.street]),
        _ if compound_object => company,
        _ => None,
    };
    let place_id = if leaf.places.is_empty() || !rng.random_bool(0.8) {
        None
    } else {
        Some(rng.random_range(leaf.places.clone()))
    };
    let (latitude, longitude) = jitter(rng, leaf.centre, 0.001);
    object::Model {
        id,
        grid_id: leaf.id,
        place_id,
        owner_id: owner,
        kind,
        code: format!("{prefix}{code}{n:04}"),
        name: format!("{}{label}{n}号", leaf.name.trim_end_matches("微网格")),
        status: pick(
            rng,
            &[
                (ObjectStatus::InService, 92),
                (ObjectStatus::Faulty, 6),
                (ObjectStatus::Retired, 2),
            ],
        ),
        latitude,
        longitude,
        installed_on: Some(anchor_day() - Duration::days(rng.random_range(30..5_000))),
    }
}

/// Chinese label and code prefix of an object kind.
fn object_label(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::FireHydrant => ("消防栓", "XFS"),
        ObjectKind::Camera => ("摄像头", "SXT"),
        ObjectKind::AccessGate => ("门禁", "MJ"),
        ObjectKind::EbikeShed => ("电动车棚", "CP"),
        ObjectKind::EbikeCharger => ("充电桩", "CDZ"),
        ObjectKind::Vehicle => ("巡逻车", "CL"),
        ObjectKind::ManholeCover => ("井盖", "JG"),
        ObjectKind::Aed => ("AED", "AED"),
    }
}

/// The police report cameras (雪亮工程) and access gates.
fn report_object(rng: &mut SeedRng, row: &object::Model, sources: &mut Sources) {
    let payload = json!({
        "设备编号": row.code,
        "设备名称": row.name,
        "设备类型": object_label(row.kind).0,
        "经度": round6(row.longitude),
        "纬度": round6(row.latitude),
        "在线状态": if row.status == ObjectStatus::InService { "在线" } else { "离线" },
    });
    let at = anchor() - Duration::minutes(rng.random_range(10..500_000));
    sources.push(POLICE, (ElementType::Object, row.id), at, payload);
}
