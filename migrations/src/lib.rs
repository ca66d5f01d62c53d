//! The gridhub database schema. Migrations here are the only place that changes the database's
//! shape; the same statements run unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod layout;
mod m20261123_000001_one_network;
mod m20261124_000001_grid_tallies;
mod m20261124_000002_access;
mod m20261124_000003_ingest;
mod m20261124_000004_event_loop;
mod m20261124_000005_aggregates;

/// Runs every gridhub migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_one_network::Migration),
            Box::new(m20261124_000001_grid_tallies::Migration),
            Box::new(m20261124_000002_access::Migration),
            Box::new(m20261124_000003_ingest::Migration),
            Box::new(m20261124_000004_event_loop::Migration),
            Box::new(m20261124_000005_aggregates::Migration),
        ]
    }
}
