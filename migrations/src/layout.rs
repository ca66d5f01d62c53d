//! A small vocabulary for declaring tables: every table has a 64-bit `id`, every foreign key gets
//! an index, and extra indexes are listed beside the table so that nothing the API filters on is
//! left unindexed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

/// A table to create: columns, foreign keys (each indexed) and further indexes.
pub struct Table {
    name: &'static str,
    columns: Vec<ColumnDef>,
    foreign_keys: Vec<(&'static str, &'static str, bool)>,
    indexes: Vec<(Vec<&'static str>, bool)>,
    with_id: bool,
}

impl Table {
    /// A table with an auto-increment 64-bit primary key `id`.
    pub fn new(name: &'static str) -> Self {
        Table {
            name,
            columns: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            with_id: true,
        }
    }

    /// A table whose primary key is declared by a unique index instead of an `id` column.
    pub fn without_id(name: &'static str) -> Self {
        Table {
            with_id: false,
            ..Table::new(name)
        }
    }

    /// Adds a column.
    pub fn col(mut self, column: ColumnDef) -> Self {
        self.columns.push(column);
        self
    }

    /// Adds a required foreign key column `name` referencing `table(id)`.
    pub fn fk(self, name: &'static str, table: &'static str) -> Self {
        self.reference(name, table, false)
    }

    /// Adds an optional foreign key column `name` referencing `table(id)`.
    pub fn fk_null(self, name: &'static str, table: &'static str) -> Self {
        self.reference(name, table, true)
    }

    fn reference(mut self, name: &'static str, table: &'static str, nullable: bool) -> Self {
        let column = if nullable {
            schema::big_integer_null(Alias::new(name))
        } else {
            schema::big_integer(Alias::new(name))
        };
        self.columns.push(column);
        self.foreign_keys.push((name, table, nullable));
        self
    }

    /// Adds a (non-unique) index over `columns`.
    pub fn index(mut self, columns: &[&'static str]) -> Self {
        self.indexes.push((columns.to_vec(), false));
        self
    }

    /// Adds a unique index over `columns`.
    pub fn unique(mut self, columns: &[&'static str]) -> Self {
        self.indexes.push((columns.to_vec(), true));
        self
    }

    /// Creates the table and its indexes.
    pub async fn create(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager.create_table(self.statement()).await?;
        for index in self.index_statements() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    /// Drops the table.
    pub async fn drop(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .drop_table(
                sea_query::Table::drop()
                    .table(Alias::new(self.name))
                    .to_owned(),
            )
            .await
    }

    fn statement(&self) -> TableCreateStatement {
        let mut create = sea_query::Table::create();
        create.table(Alias::new(self.name));
        if self.with_id {
            create.col(schema::big_pk_auto(Alias::new("id")));
        }
        for column in &self.columns {
            create.col(column.clone());
        }
        for (column, target, nullable) in &self.foreign_keys {
            let mut key = ForeignKey::create();
            key.name(format!("fk_{}_{}", self.name, column))
                .from(Alias::new(self.name), Alias::new(*column))
                .to(Alias::new(*target), Alias::new("id"));
            if *nullable {
                key.on_delete(ForeignKeyAction::SetNull);
            }
            create.foreign_key(&mut key);
        }
        create.to_owned()
    }

    fn index_statements(&self) -> Vec<IndexCreateStatement> {
        let fk_indexes = self.foreign_keys.iter().map(|(c, _, _)| (vec![*c], false));
        let mut seen: Vec<Vec<&str>> = Vec::new();
        let mut statements = Vec::new();
        for (columns, unique) in self.indexes.iter().cloned().chain(fk_indexes) {
            if seen.iter().any(|s| s.starts_with(&columns)) {
                continue;
            }
            let mut index = Index::create();
            index
                .name(format!("ix_{}_{}", self.name, columns.join("_")))
                .table(Alias::new(self.name));
            for column in &columns {
                index.col(Alias::new(*column));
            }
            if unique {
                index.unique();
            }
            seen.push(columns);
            statements.push(index.to_owned());
        }
        statements
    }
}
