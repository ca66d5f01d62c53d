//! The seed drops secondary indexes for its bulk load and builds them again: a seeded database
//! must end up with exactly the indexes the migrations declare, on SQLite and on PostgreSQL.

mod common;

use common::{backends, Backend, Hub};
use sea_orm::{ConnectionTrait, Statement};

/// Name and definition of every index in the hub's database.
async fn indexes(hub: &Hub) -> Vec<(String, String)> {
    let sql = match hub.backend {
        Backend::Sqlite => {
            "SELECT name, COALESCE(sql, '') AS definition FROM sqlite_master \
             WHERE type = 'index' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname::text AS name, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() ORDER BY indexname"
        }
    };
    let conn = &hub.db.conn;
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("list indexes");
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "name").unwrap(),
                row.try_get::<String>("", "definition").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_seeded_database_has_every_index_the_migrations_declare() {
    for backend in backends() {
        let migrated = indexes(&Hub::start(backend, 0).await).await;
        let seeded = indexes(&Hub::start(backend, 200).await).await;
        assert!(migrated.len() > 20, "{backend:?}: {migrated:?}");
        assert_eq!(seeded, migrated, "{backend:?}");
    }
}
