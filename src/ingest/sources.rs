//! Provenance of imported rows: every row taken stays as a source record (department, source
//! id, received at, raw payload, values under the hub's names) tied to its element. A record's
//! fingerprint is the SHA-256 of its values, so a re-imported row with the same values is
//! recognised and changes nothing.

use super::reader::Row;
use crate::entity::source_record;
use crate::entity::vocabulary::ElementType;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// A fact read from a row, with what its source record needs.
#[derive(Debug, Clone)]
pub struct Fingerprinted<T> {
    /// The record's id in the department's system.
    pub source_id: String,
    /// SHA-256 of the record's values.
    pub fingerprint: String,
    /// The row as received (JSON text).
    pub payload: String,
    /// The values under the hub's column names (JSON text).
    pub fields: String,
    /// The fact itself.
    pub fact: T,
}

impl<T> Fingerprinted<T> {
    /// `fact` read from `row`, whose values under the hub's names are `fields`.
    pub fn new(source_id: &str, row: &Row, fields: &Value, fact: T) -> Self {
        let fields = fields.to_string();
        Fingerprinted {
            source_id: source_id.to_string(),
            fingerprint: hex::encode(Sha256::digest(fields.as_bytes())),
            payload: Value::Object(row.raw.clone()).to_string(),
            fields,
            fact,
        }
    }

    /// The source record to write for it.
    pub fn record(&self, known: &HashMap<String, Known>) -> Record {
        Record {
            existing: known.get(&self.source_id).map(|k| k.id),
            source_id: self.source_id.clone(),
            fingerprint: self.fingerprint.clone(),
            payload: self.payload.clone(),
            fields: self.fields.clone(),
        }
    }
}

/// A source record already in the hub.
#[derive(Debug, Clone)]
pub struct Known {
    /// Its row id.
    pub id: i64,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// A source record to insert or update.
#[derive(Debug, Clone)]
pub struct Record {
    /// The row id when it exists already.
    pub existing: Option<i64>,
    /// Id in the department's system.
    pub source_id: String,
    /// SHA-256 of its values.
    pub fingerprint: String,
    /// As received.
    pub payload: String,
    /// Under the hub's names.
    pub fields: String,
}

/// The department's records with these source ids already in the hub.
pub async fn known<'a>(
    txn: &DatabaseTransaction,
    department_id: i64,
    source_ids: impl Iterator<Item = &'a str>,
) -> anyhow::Result<HashMap<String, Known>> {
    let ids: Vec<&str> = source_ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(source_record::Entity::find()
        .filter(source_record::Column::DepartmentId.eq(department_id))
        .filter(source_record::Column::SourceId.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| {
            let known = Known {
                id: r.id,
                fingerprint: r.fingerprint,
            };
            (r.source_id, known)
        })
        .collect())
}

/// The department's fingerprints as a batch is planned: those in the hub, then each row taken.
pub struct Seen {
    known: HashMap<String, Known>,
    taken: HashMap<String, String>,
}

impl Seen {
    /// What the hub has of the department's records with these source ids.
    pub async fn load<'a>(
        txn: &DatabaseTransaction,
        department_id: i64,
        source_ids: impl Iterator<Item = &'a str>,
    ) -> anyhow::Result<Seen> {
        Ok(Seen {
            known: known(txn, department_id, source_ids).await?,
            taken: HashMap::new(),
        })
    }

    /// Whether `item` repeats a record with the same values, in the hub or earlier in the batch.
    pub fn is_unchanged<T>(&self, item: &Fingerprinted<T>) -> bool {
        let latest = self
            .taken
            .get(&item.source_id)
            .or_else(|| self.known.get(&item.source_id).map(|k| &k.fingerprint));
        latest == Some(&item.fingerprint)
    }

    /// The source record to write for `item`, which is now taken.
    pub fn take<T>(&mut self, item: &Fingerprinted<T>) -> Record {
        self.taken
            .insert(item.source_id.clone(), item.fingerprint.clone());
        item.record(&self.known)
    }
}

/// The persons among `persons` for whom `department` has sent a record giving `field`.
pub async fn with_field(
    txn: &DatabaseTransaction,
    department: &Option<i64>,
    persons: impl Iterator<Item = i64>,
    field: &str,
) -> anyhow::Result<HashSet<i64>> {
    let persons: Vec<i64> = persons.collect();
    let Some(department) = department else {
        return Ok(HashSet::new());
    };
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(source_record::Entity::find()
        .select_only()
        .column(source_record::Column::ElementId)
        .filter(source_record::Column::DepartmentId.eq(*department))
        .filter(source_record::Column::ElementType.eq(ElementType::Person))
        .filter(source_record::Column::ElementId.is_in(persons))
        .filter(source_record::Column::Fields.like(format!("%\"{field}\":%")))
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .collect())
}

/// Writes records of `element_type`, each tied to its element (id 0: a record not linked to any
/// element yet, such as one waiting for an identity decision): new ones in multi-row
/// statements, changed ones one by one. A source id repeated in the batch is written once, with
/// its last values.
pub async fn write(
    txn: &DatabaseTransaction,
    department_id: i64,
    element_type: ElementType,
    records: Vec<(i64, Record)>,
) -> anyhow::Result<()> {
    let mut last: HashMap<String, (i64, Record)> = HashMap::new();
    let mut order = Vec::new();
    for (element, record) in records {
        if !last.contains_key(&record.source_id) {
            order.push(record.source_id.clone());
        }
        last.insert(record.source_id.clone(), (element, record));
    }
    let now = Utc::now();
    let mut inserts = Vec::new();
    for source_id in order {
        let Some((element, record)) = last.remove(&source_id) else {
            continue;
        };
        let row = source_record::ActiveModel {
            department_id: Set(department_id),
            source_id: Set(record.source_id),
            element_type: Set(element_type),
            element_id: Set(element),
            received_at: Set(now),
            payload: Set(record.payload),
            fields: Set(record.fields),
            fingerprint: Set(record.fingerprint),
            ..Default::default()
        };
        match record.existing {
            Some(id) => {
                source_record::Entity::update(source_record::ActiveModel { id: Set(id), ..row })
                    .exec(txn)
                    .await?;
            }
            None => inserts.push(row),
        }
    }
    for chunk in inserts.chunks(1000) {
        source_record::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}
