//! Demo data: a deterministic, realistic street (or district) of the one network, generated
//! from a number of persons and a random seed, and written in chunks so that it scales to
//! millions of rows.
//!
//! Phases run in foreign-key order: departments, the grid tree and its closure, organizations,
//! houses and people, places and objects, memberships and grid staff, events, volunteer
//! activities. Source records are written alongside each phase.

mod affiliations;
pub(crate) mod events;
mod grid;
mod names;
mod orgs;
mod people;
mod places;
mod plan;
mod random;
mod sink;
mod sources;
mod staff;
mod volunteer;

use sea_orm::{DatabaseConnection, EntityTrait};
use std::time::{Duration, Instant};

use crate::entity;
use plan::Plan;
use sink::Writer;
use sources::Sources;

/// Rows written per person, roughly (to size the progress bar).
const ROWS_PER_PERSON: u64 = 20;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    /// Number of residents; everything else scales with it.
    pub persons: u64,
    /// Seed of the random generators: the same options always give the same rows.
    pub rng_seed: u64,
    /// Whether to draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for SeedOptions {
    /// A street of 5,000 persons, seed 2026, no progress bar.
    fn default() -> Self {
        SeedOptions {
            persons: 5_000,
            rng_seed: 2026,
            progress: false,
        }
    }
}

/// What a seed run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Total rows written over all tables.
    pub rows: u64,
    /// Persons written.
    pub persons: u64,
    /// Grids written (all levels).
    pub grids: u64,
    /// Events written.
    pub events: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

/// Whether the database already holds a grid (and so must not be seeded again).
pub async fn is_seeded(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(entity::grid::Entity::find().one(db).await?.is_some())
}

/// Fills an empty, migrated database with demo data for `options`.
///
/// Fails without writing anything if the database already holds grids: seeding never mixes
/// into existing data.
pub async fn seed(db: &DatabaseConnection, options: &SeedOptions) -> anyhow::Result<SeedReport> {
    if is_seeded(db).await? {
        anyhow::bail!("the database already holds grids; seed only an empty database");
    }
    let started = Instant::now();
    let plan = Plan::new(options.persons);
    let seed = options.rng_seed;
    let mut writer = Writer::open(db, plan.persons * ROWS_PER_PERSON, options.progress).await?;
    let mut sources = Sources::new();
    writer.phase("departments, grids");
    grid::write_departments(&mut writer).await?;
    let mut territory = grid::write_territory(&mut writer, &plan, seed).await?;
    writer.phase("organizations");
    let orgs =
        orgs::write_organizations(&mut writer, &mut territory, &plan, seed, &mut sources).await?;
    writer.phase("houses, persons");
    let people =
        people::write_people(&mut writer, &mut territory, &orgs, seed, &mut sources).await?;
    writer.phase("places, objects");
    places::write_places_and_objects(
        &mut writer,
        &mut territory,
        &orgs,
        &plan,
        seed,
        &mut sources,
    )
    .await?;
    writer.phase("grid staff");
    let staff = staff::write_staff(&mut writer, &territory, &orgs, &people, seed).await?;
    writer.phase("events");
    let events =
        events::write_events(&mut writer, &territory, &people, &staff, &plan, seed).await?;
    writer.phase("volunteer activities");
    volunteer::write_activities(&mut writer, &territory, &orgs, &people, &plan, seed).await?;
    sources.write(&mut writer)?;
    let rows = writer.finish().await?;
    sink::reset_sequences(db, &tables()).await?;
    crate::tally::refresh(db).await?;
    let grids = 1
        + territory.streets.len()
        + territory.communities.len()
        + territory.grids.len()
        + territory.leaves.len();
    tracing::info!(rows, persons = people.len(), "seeded demo data");
    Ok(SeedReport {
        rows,
        persons: people.len() as u64,
        grids: grids as u64,
        events,
        elapsed: started.elapsed(),
    })
}

/// Every table with an `id` sequence.
fn tables() -> Vec<&'static str> {
    use entity::*;
    use sea_orm::EntityName;
    vec![
        department::Entity.table_name(),
        grid::Entity.table_name(),
        person::Entity.table_name(),
        house::Entity.table_name(),
        place::Entity.table_name(),
        organization::Entity.table_name(),
        event::Entity.table_name(),
        event_action::Entity.table_name(),
        object::Entity.table_name(),
        residence::Entity.table_name(),
        membership::Entity.table_name(),
        grid_staff::Entity.table_name(),
        dual_registration::Entity.table_name(),
        event_involvement::Entity.table_name(),
        volunteer_activity::Entity.table_name(),
        volunteer_participation::Entity.table_name(),
        source_record::Entity.table_name(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::id_number::IdNumber;
    use crate::entity::vocabulary::EventStatus;
    use crate::entity::{event, grid, grid_closure, person, source_record};
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{ColumnTrait, Database, Iterable, PaginatorTrait, QueryFilter, QueryOrder};
    use std::collections::{HashMap, HashSet};

    /// A migrated SQLite database in `dir`.
    async fn fresh(dir: &tempfile::TempDir, name: &str) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
        let db = Database::connect(url).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db
    }

    async fn persons(db: &DatabaseConnection) -> Vec<person::Model> {
        person::Entity::find()
            .order_by_asc(person::Column::Id)
            .all(db)
            .await
            .unwrap()
    }

    /// Every (ancestor, descendant, depth) triple of the tree, walking parents.
    fn expected_closure(grids: &[grid::Model]) -> HashSet<(i64, i64, i32)> {
        let parents: HashMap<i64, Option<i64>> =
            grids.iter().map(|g| (g.id, g.parent_id)).collect();
        let mut pairs = HashSet::new();
        for g in grids {
            let (mut current, mut depth) = (Some(g.id), 0);
            while let Some(ancestor) = current {
                pairs.insert((ancestor, g.id, depth));
                current = parents[&ancestor];
                depth += 1;
            }
        }
        pairs
    }

    #[tokio::test]
    async fn seeds_a_small_consistent_reproducible_street() {
        let dir = tempfile::tempdir().unwrap();
        let options = SeedOptions {
            persons: 300,
            ..SeedOptions::default()
        };
        let db = fresh(&dir, "first.db").await;
        assert!(!is_seeded(&db).await.unwrap());
        let report = seed(&db, &options).await.unwrap();
        assert_eq!(report.persons, 300);
        assert!(is_seeded(&db).await.unwrap());

        let first = persons(&db).await;
        assert_eq!(first.len(), 300);
        for p in &first {
            let id = IdNumber::parse(&p.id_number).unwrap();
            assert_eq!(id.birth_date(), p.birth_date, "{}", p.id_number);
        }

        let grids = grid::Entity::find().all(&db).await.unwrap();
        assert_eq!(grids.len() as u64, report.grids);
        let closure: HashSet<_> = grid_closure::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.ancestor_id, r.descendant_id, r.depth))
            .collect();
        assert_eq!(closure, expected_closure(&grids));

        for department in 1..=4 {
            let records = source_record::Entity::find()
                .filter(source_record::Column::DepartmentId.eq(department))
                .count(&db)
                .await
                .unwrap();
            assert!(records > 0, "department {department} has no source records");
        }

        for status in EventStatus::iter() {
            let events = event::Entity::find()
                .filter(event::Column::Status.eq(status))
                .count(&db)
                .await
                .unwrap();
            assert!(events > 0, "no {status:?} event");
        }

        let again = seed(&db, &options).await.unwrap_err().to_string();
        assert!(again.contains("already"), "{again}");

        let other = fresh(&dir, "second.db").await;
        seed(&other, &options).await.unwrap();
        assert_eq!(persons(&other).await, first);
    }
}
