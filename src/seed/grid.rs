//! The departments and the grid tree: district → streets → communities → grids → micro-grids,
//! coded on the administrative code of Karamay district, plus its closure table.

use rand::Rng;
use std::ops::Range;

use super::names;
use super::plan::{apportion, Plan};
use super::random::{one_of, phase_rng, pick, SeedRng};
use super::sink::{Buffer, Writer};
use crate::entity::vocabulary::{GridKind, GridLevel};
use crate::entity::{department, grid, grid_closure};

/// Administrative code of Karamay district (克拉玛依区), the root of the tree.
pub const DISTRICT_CODE: &str = "650203";
/// Name of the district.
pub const DISTRICT_NAME: &str = "克拉玛依区";
/// Centre of the district (latitude, longitude).
const CENTRE: (f64, f64) = (45.596, 84.873);

/// The departments, in id order (ids 1-4).
pub const DEPARTMENTS: [(&str, &str); 4] = [
    ("police", "公安"),
    ("civil_affairs", "民政"),
    ("property", "物业"),
    ("party", "党组织"),
];
/// Id of the police department.
pub const POLICE: i64 = 1;
/// Id of the civil affairs department.
pub const CIVIL_AFFAIRS: i64 = 2;
/// Id of the property management department.
pub const PROPERTY: i64 = 3;
/// Id of the party organisation department.
pub const PARTY: i64 = 4;

/// A street, community or grid: an inner node of the tree.
pub struct Area {
    /// Grid id.
    pub id: i64,
    /// Chinese name.
    pub name: String,
    /// Index of the parent in the level above (0 for streets).
    pub parent: usize,
    /// What a grid covers (administrative above the grid level).
    pub kind: GridKind,
    /// Indexes of its micro-grids.
    pub leaves: Range<usize>,
    /// Ids of the persons living in the area (filled by the people phase).
    pub persons: Range<i64>,
}

/// A micro-grid: the leaf every element hangs on.
pub struct Leaf {
    /// Grid id.
    pub id: i64,
    /// Index of the grid it belongs to.
    pub grid: usize,
    /// Index of its community.
    pub community: usize,
    /// Index of its street.
    pub street: usize,
    /// Residential, business or mixed.
    pub kind: GridKind,
    /// Chinese name.
    pub name: String,
    /// Centre (latitude, longitude).
    pub centre: (f64, f64),
    /// Road the leaf lies on.
    pub road: &'static str,
    /// Door number on that road.
    pub door: u32,
    /// Number of residents to generate.
    pub target: u64,
    /// Ids of its residents (filled by the people phase).
    pub persons: Range<i64>,
    /// Ids of its houses (filled by the people phase).
    pub houses: Range<i64>,
    /// Ids of its places (filled by the places phase).
    pub places: Range<i64>,
    /// Index of the property company managing its compound, if any.
    pub property_company: Option<usize>,
}

impl Leaf {
    /// Street address of the leaf, e.g. 克拉玛依区准噶尔路88号.
    pub fn address(&self) -> String {
        format!("{DISTRICT_NAME}{}{}号", self.road, self.door)
    }

    /// Whether people live in the leaf.
    pub fn is_residential(&self) -> bool {
        self.kind != GridKind::Business
    }
}

/// The whole tree, kept in memory (it is small: one node per ~60 persons at most).
pub struct Territory {
    /// Streets 街道.
    pub streets: Vec<Area>,
    /// Communities 社区.
    pub communities: Vec<Area>,
    /// Grids 网格.
    pub grids: Vec<Area>,
    /// Micro-grids 微网格.
    pub leaves: Vec<Leaf>,
}

/// Writes the four departments.
pub async fn write_departments(writer: &mut Writer) -> anyhow::Result<()> {
    let mut buffer = Buffer::<department::Entity>::default();
    for (id, (code, name)) in (1..).zip(DEPARTMENTS) {
        buffer.push(department::Model {
            id,
            code: code.to_string(),
            name: name.to_string(),
        });
    }
    writer.write(&mut buffer)?;
    writer.send().await
}

/// Builds the tree for `plan`, writes it with its closure and returns it.
pub async fn write_territory(
    writer: &mut Writer,
    plan: &Plan,
    seed: u64,
) -> anyhow::Result<Territory> {
    let territory = build(plan, &mut phase_rng(seed, 1));
    let mut grids = Buffer::<grid::Entity>::default();
    let mut closure = Buffer::<grid_closure::Entity>::default();
    for row in territory.rows() {
        closure_rows(&row.ancestors, row.model.id).for_each(|link| closure.push(link));
        grids.push(row.model);
        if grids.is_full() || closure.is_full() {
            flush(writer, &mut grids, &mut closure).await?;
        }
    }
    flush(writer, &mut grids, &mut closure).await?;
    Ok(territory)
}

/// Sends grids, then their closure rows.
async fn flush(
    writer: &mut Writer,
    grids: &mut Buffer<grid::Entity>,
    closure: &mut Buffer<grid_closure::Entity>,
) -> anyhow::Result<()> {
    writer.write(grids)?;
    writer.write(closure)?;
    writer.send().await
}

/// One (ancestor, descendant, depth) row per ancestor of `id`, nearest first, after (id, id, 0).
fn closure_rows(ancestors: &[i64], id: i64) -> impl Iterator<Item = grid_closure::Model> + '_ {
    let chain = std::iter::once(id).chain(ancestors.iter().rev().copied());
    (0..)
        .zip(chain)
        .map(move |(depth, ancestor)| grid_closure::Model {
            ancestor_id: ancestor,
            descendant_id: id,
            depth,
        })
}

/// A grid row with its ancestors from the root down.
struct GridRow {
    model: grid::Model,
    ancestors: Vec<i64>,
}

/// Id of the district grid.
const DISTRICT_ID: i64 = 1;

impl Territory {
    /// Every grid row, parents before children.
    fn rows(&self) -> impl Iterator<Item = GridRow> + '_ {
        let district = GridRow {
            model: model(
                DISTRICT_ID,
                None,
                DISTRICT_CODE.into(),
                DISTRICT_NAME,
                GridLevel::District,
            ),
            ancestors: vec![],
        };
        let streets = self.streets.iter().enumerate().map(|(i, street)| GridRow {
            model: model(
                street.id,
                Some(DISTRICT_ID),
                self.street_code(i),
                &street.name,
                GridLevel::Street,
            ),
            ancestors: vec![DISTRICT_ID],
        });
        let communities = self.communities.iter().enumerate().map(|(i, community)| {
            let street = &self.streets[community.parent];
            GridRow {
                model: model(
                    community.id,
                    Some(street.id),
                    self.community_code(i),
                    &community.name,
                    GridLevel::Community,
                ),
                ancestors: vec![DISTRICT_ID, street.id],
            }
        });
        let grids = self.grids.iter().enumerate().map(|(i, area)| {
            let community = &self.communities[area.parent];
            let mut row = GridRow {
                model: model(
                    area.id,
                    Some(community.id),
                    self.grid_code(i),
                    &area.name,
                    GridLevel::Grid,
                ),
                ancestors: vec![DISTRICT_ID, self.streets[community.parent].id, community.id],
            };
            row.model.kind = area.kind;
            row
        });
        let leaves = self.leaves.iter().enumerate().map(|(i, leaf)| {
            let mut row = GridRow {
                model: model(
                    leaf.id,
                    Some(self.grids[leaf.grid].id),
                    self.leaf_code(i),
                    &leaf.name,
                    GridLevel::MicroGrid,
                ),
                ancestors: vec![
                    DISTRICT_ID,
                    self.streets[leaf.street].id,
                    self.communities[leaf.community].id,
                    self.grids[leaf.grid].id,
                ],
            };
            row.model.kind = leaf.kind;
            row
        });
        std::iter::once(district)
            .chain(streets)
            .chain(communities)
            .chain(grids)
            .chain(leaves)
    }

    /// Code of street `i`: the district code and a 3-digit number within the district.
    pub fn street_code(&self, i: usize) -> String {
        format!("{DISTRICT_CODE}{:03}", position(&self.streets, i))
    }

    /// Code of community `i`.
    pub fn community_code(&self, i: usize) -> String {
        let parent = self.communities[i].parent;
        format!(
            "{}{:03}",
            self.street_code(parent),
            position(&self.communities, i)
        )
    }

    /// Code of grid `i`.
    pub fn grid_code(&self, i: usize) -> String {
        let parent = self.grids[i].parent;
        format!(
            "{}{:03}",
            self.community_code(parent),
            position(&self.grids, i)
        )
    }

    /// Code of micro-grid `i`.
    pub fn leaf_code(&self, i: usize) -> String {
        let grid = self.leaves[i].grid;
        let number = 1 + self.leaves[..i]
            .iter()
            .rev()
            .take_while(|l| l.grid == grid)
            .count();
        format!("{}{:03}", self.grid_code(grid), number)
    }
}

/// 1-based number of area `i` among the children of its parent.
fn position(areas: &[Area], i: usize) -> usize {
    let parent = areas[i].parent;
    1 + areas[..i]
        .iter()
        .rev()
        .take_while(|a| a.parent == parent)
        .count()
}

/// An administrative grid row (kinds of lower levels are set by the caller).
fn model(
    id: i64,
    parent_id: Option<i64>,
    code: String,
    name: &str,
    level: GridLevel,
) -> grid::Model {
    grid::Model {
        id,
        parent_id,
        code,
        name: name.to_string(),
        level,
        kind: GridKind::Administrative,
    }
}

/// Random weights around 1 (±30 %), so that sizes vary like real ones.
fn jittered(rng: &mut SeedRng, count: u64) -> Vec<f64> {
    (0..count).map(|_| rng.random_range(0.7..1.3)).collect()
}

/// A point within `spread` degrees of `centre`.
fn near(rng: &mut SeedRng, centre: (f64, f64), spread: f64) -> (f64, f64) {
    (
        centre.0 + rng.random_range(-spread..spread),
        centre.1 + rng.random_range(-spread..spread) * 1.4,
    )
}

/// Lays out the tree for `plan` (ids: district 1, then streets, communities, grids, leaves).
fn build(plan: &Plan, rng: &mut SeedRng) -> Territory {
    let mut ids = DISTRICT_ID + 1..;
    let street_sizes = apportion(&vec![1.0; plan.streets as usize], plan.communities);
    let community_sizes = apportion(&jittered(rng, plan.communities), plan.grids);
    let grid_sizes = apportion(&jittered(rng, plan.grids), plan.micro_grids);
    let mut territory = Territory {
        streets: Vec::with_capacity(plan.streets as usize),
        communities: Vec::with_capacity(plan.communities as usize),
        grids: Vec::with_capacity(plan.grids as usize),
        leaves: Vec::with_capacity(plan.micro_grids as usize),
    };
    for (street, &communities) in street_sizes.iter().enumerate() {
        let street_centre = near(rng, CENTRE, 0.05);
        territory
            .streets
            .push(area(&mut ids, names::street(street), 0));
        for _ in 0..communities {
            let community = territory.communities.len();
            let community_centre = near(rng, street_centre, 0.012);
            let name = names::community(community);
            territory.communities.push(area(&mut ids, name, street));
            for number in 1..=community_sizes[community] {
                let grid = territory.grids.len();
                let lineage = Lineage {
                    grid,
                    community,
                    street,
                };
                territory
                    .grids
                    .push(area(&mut ids, format!("第{number}网格"), community));
                let grid_centre = near(rng, community_centre, 0.003);
                for n in 0..grid_sizes[grid] {
                    let leaf = leaf(
                        rng,
                        &mut ids,
                        lineage,
                        n,
                        grid_centre,
                        territory.leaves.len(),
                    );
                    territory.leaves.push(leaf);
                }
                territory.grids[grid].kind = grid_kind(&territory.leaves, grid);
                territory.grids[grid].leaves = leaves_of(&territory.leaves, |l| l.grid == grid);
            }
            territory.communities[community].leaves =
                leaves_of(&territory.leaves, |l| l.community == community);
        }
        territory.streets[street].leaves = leaves_of(&territory.leaves, |l| l.street == street);
    }
    let weights: Vec<f64> = territory
        .leaves
        .iter()
        .map(|l| person_weight(rng, l.kind))
        .collect();
    for (leaf, target) in territory
        .leaves
        .iter_mut()
        .zip(apportion(&weights, plan.persons))
    {
        leaf.target = target;
    }
    territory
}

/// Mixed when grid `grid` (whose leaves are the last ones built) has business or mixed
/// micro-grids, residential otherwise.
fn grid_kind(leaves: &[Leaf], grid: usize) -> GridKind {
    let commercial = leaves
        .iter()
        .rev()
        .take_while(|leaf| leaf.grid == grid)
        .any(|leaf| leaf.kind != GridKind::Residential);
    if commercial {
        GridKind::Mixed
    } else {
        GridKind::Residential
    }
}

/// Indexes of the trailing leaves that satisfy `belongs` (the leaves of the area just built).
fn leaves_of(leaves: &[Leaf], belongs: impl Fn(&Leaf) -> bool) -> Range<usize> {
    let count = leaves.iter().rev().take_while(|l| belongs(l)).count();
    leaves.len() - count..leaves.len()
}

/// An administrative area with no residents yet, taking the next id.
fn area(ids: &mut impl Iterator<Item = i64>, name: String, parent: usize) -> Area {
    Area {
        id: ids.next().expect("ids never run out"),
        name,
        parent,
        kind: GridKind::Administrative,
        leaves: 0..0,
        persons: 0..0,
    }
}

/// Where a micro-grid sits in the tree: indexes of its grid, community and street.
#[derive(Clone, Copy)]
struct Lineage {
    grid: usize,
    community: usize,
    street: usize,
}

/// The `n`th micro-grid of a grid (the first is always residential); `index` counts all leaves.
fn leaf(
    rng: &mut SeedRng,
    ids: &mut impl Iterator<Item = i64>,
    lineage: Lineage,
    n: u64,
    centre: (f64, f64),
    index: usize,
) -> Leaf {
    let kind = if n == 0 {
        GridKind::Residential
    } else {
        pick(
            rng,
            &[
                (GridKind::Residential, 70),
                (GridKind::Mixed, 17),
                (GridKind::Business, 13),
            ],
        )
    };
    let name = match kind {
        GridKind::Business => format!("{}商务楼宇微网格", names::business_building(index)),
        _ => format!("{}号楼群微网格", index + 1),
    };
    Leaf {
        id: ids.next().expect("ids never run out"),
        grid: lineage.grid,
        community: lineage.community,
        street: lineage.street,
        kind,
        name,
        centre: near(rng, centre, 0.0012),
        road: one_of(rng, names::ROADS),
        door: rng.random_range(1..300),
        target: 0,
        persons: 0..0,
        houses: 0..0,
        places: 0..0,
        property_company: None,
    }
}

/// How many residents a leaf of `kind` gets relative to others.
fn person_weight(rng: &mut SeedRng, kind: GridKind) -> f64 {
    match kind {
        GridKind::Business => 0.0,
        GridKind::Mixed => rng.random_range(0.4..0.8),
        _ => rng.random_range(0.7..1.3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tree_matches_the_plan() {
        let plan = Plan::new(5_000);
        let territory = build(&plan, &mut phase_rng(2026, 1));
        assert_eq!(territory.streets.len(), 1);
        assert_eq!(territory.communities.len(), 4);
        assert_eq!(territory.grids.len(), 30);
        assert_eq!(territory.leaves.len(), 81);
        assert_eq!(
            territory.leaves.iter().map(|l| l.target).sum::<u64>(),
            5_000
        );
        assert_eq!(territory.leaf_code(0), "650203001001001001");
        assert_eq!(territory.rows().count(), 1 + 1 + 4 + 30 + 81);
    }

    #[test]
    fn closure_has_a_row_per_ancestor() {
        let rows: Vec<_> = closure_rows(&[1, 2, 5], 9)
            .map(|r| (r.ancestor_id, r.descendant_id, r.depth))
            .collect();
        assert_eq!(rows, vec![(9, 9, 0), (5, 9, 1), (2, 9, 2), (1, 9, 3)]);
    }
}
