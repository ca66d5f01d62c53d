//! Source records: what each department sent about an element, kept as its raw export (a JSON
//! payload with the department's own Chinese field names) and numbered per department.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::grid::{CIVIL_AFFAIRS, PARTY, POLICE, PROPERTY};
use super::sink::{Buffer, Writer};
use crate::entity::source_record;
use crate::entity::vocabulary::ElementType;

/// Prefix of the source ids of each department (police, civil affairs, property, party).
const PREFIXES: [(i64, &str); 4] = [
    (POLICE, "GA"),
    (CIVIL_AFFAIRS, "MZ"),
    (PROPERTY, "WY"),
    (PARTY, "DZ"),
];

/// Buffered source records, with the next source number of each department.
pub struct Sources {
    buffer: Buffer<source_record::Entity>,
    next_id: i64,
    next_number: [u64; 4],
}

impl Sources {
    /// No records yet.
    pub fn new() -> Self {
        Sources {
            buffer: Buffer::default(),
            next_id: 1,
            next_number: [1; 4],
        }
    }

    /// Records that `department` sent `payload` about an element at `received_at`.
    pub fn push(
        &mut self,
        department: i64,
        element: (ElementType, i64),
        received_at: DateTime<Utc>,
        payload: Value,
    ) {
        let slot = PREFIXES
            .iter()
            .position(|(id, _)| *id == department)
            .expect("one of the four departments");
        let number = self.next_number[slot];
        self.next_number[slot] += 1;
        self.buffer.push(source_record::Model {
            id: self.next_id,
            department_id: department,
            source_id: format!("{}{number:010}", PREFIXES[slot].1),
            element_type: element.0,
            element_id: element.1,
            received_at,
            payload: payload.to_string(),
            fields: "{}".to_string(),
            fingerprint: String::new(),
        });
        self.next_id += 1;
    }

    /// Whether a statement's worth of records is waiting.
    pub fn is_full(&self) -> bool {
        self.buffer.is_full()
    }

    /// Adds the waiting records to the writer's batch.
    pub fn write(&mut self, writer: &mut Writer) -> anyhow::Result<()> {
        writer.write(&mut self.buffer)
    }
}
