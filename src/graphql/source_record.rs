//! Source records: provenance as data. Each record a department sent is kept as it arrived
//! (department, source id, received at, raw payload), and every element lists its records.

use super::audit::element_name;
use super::department::Department;
use super::guard::{self, show};
use super::id::{encode, NodeType};
use super::loader::{many, one};
use super::node::{load_node, Node};
use crate::access::context::Resolution;
use crate::access::field_policy::{show_payload, SensitiveField};
use crate::entity::vocabulary::ElementType;
use crate::entity::{department, source_record};
use async_graphql::{Context, Json, Object, Result, ID};
use chrono::{DateTime, Utc};

/// A source record.
pub struct SourceRecord(pub source_record::Model);

impl From<source_record::Model> for SourceRecord {
    fn from(model: source_record::Model) -> Self {
        SourceRecord(model)
    }
}

/// The source records of one element, oldest first.
pub async fn sources_of(
    ctx: &Context<'_>,
    element_type: ElementType,
    element_id: i64,
) -> Result<Vec<SourceRecord>> {
    let rows =
        many::<source_record::Entity>(ctx, source_record::Column::ElementId, element_id).await?;
    let mut records: Vec<_> = rows
        .iter()
        .filter(|r| r.element_type == element_type)
        .cloned()
        .map(SourceRecord)
        .collect();
    records.sort_by_key(|r| (r.0.received_at, r.0.id));
    Ok(records)
}

fn node_type_of(element_type: ElementType) -> NodeType {
    match element_type {
        ElementType::Person => NodeType::Person,
        ElementType::House => NodeType::House,
        ElementType::Place => NodeType::Place,
        ElementType::Event => NodeType::Event,
        ElementType::Object => NodeType::ManagedObject,
        ElementType::Organization => NodeType::Organization,
    }
}

/// A record as a department sent it: where a fact in the hub came from.
#[Object]
impl SourceRecord {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::SourceRecord, self.0.id)
    }

    /// The department that sent it.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(
            one::<department::Entity>(ctx, department::Column::Id, self.0.department_id)
                .await?
                .map(Department),
        )
    }

    /// The record's id in the department's own system.
    async fn source_id(&self) -> &str {
        &self.0.source_id
    }

    /// Which of the six elements the record describes.
    async fn element_type(&self) -> ElementType {
        self.0.element_type
    }

    /// The element the record describes.
    async fn element(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        load_node(ctx, node_type_of(self.0.element_type), self.0.element_id).await
    }

    /// When the hub received it.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }

    /// The record as received (JSON), in full when the caller may see source payloads in full
    /// (its own department's records, or an admin). Otherwise each value is shown as the field
    /// it carries is shown to the caller: ID numbers, phones, birth dates and room numbers in
    /// full or masked, tags, welfare status and points in full or left out; other strings that
    /// read as an ID number or a mobile number are masked. Null when payloads are not shown. A
    /// full read is audited as a read of the element the record describes (the person, for a
    /// person's record), so that it shows in that person's data access report.
    async fn payload(&self, ctx: &Context<'_>) -> Result<Option<Json<serde_json::Value>>> {
        let access = guard::access(ctx)?;
        let element = (
            element_name(node_type_of(self.0.element_type)),
            self.0.element_id,
        );
        let text = match access.resolution(SensitiveField::SourcePayload) {
            Resolution::Absent => return Ok(None),
            Resolution::Masked => {
                let (text, full) =
                    show_payload(&self.0.payload, |field| access.resolution(field).clone());
                for field in full {
                    access.note_read(field, element);
                }
                text
            }
            _ => match show(ctx, SensitiveField::SourcePayload, element, &self.0.payload)? {
                Some(text) => text,
                None => return Ok(None),
            },
        };
        Ok(Some(Json(
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )))
    }
}
