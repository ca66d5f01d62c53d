//! Break-glass: a role allowed to may reveal named sensitive fields of one element in its scope
//! with a stated reason. The reveal is written to the audit log as such, for the auditor.

use super::error::{bad_input, not_found};
use super::guard;
use super::id::{decode, NodeType};
use super::loader::one;
use crate::access::context::Action;
use crate::access::field_policy::SensitiveField;
use crate::entity::{house, person};
use async_graphql::{Context, Object, Result, SimpleObject, ID};

/// One field revealed by break-glass.
#[derive(SimpleObject)]
pub struct RevealedField {
    /// The field, e.g. `person.idNumber`.
    pub field: String,
    /// Its value in full; null when the element has none.
    pub value: Option<String>,
}

/// The break-glass mutation.
#[derive(Default)]
pub struct BreakGlassMutation;

/// The stored value of `field` of the element, if the element is visible to the caller.
async fn value_of(
    ctx: &Context<'_>,
    node_type: NodeType,
    id: i64,
    field: SensitiveField,
) -> Result<Option<Option<String>>> {
    match (node_type, field) {
        (NodeType::Person, SensitiveField::IdNumber) => {
            let row = one::<person::Entity>(ctx, person::Column::Id, id).await?;
            Ok(row.map(|p| Some(p.id_number)))
        }
        (NodeType::Person, SensitiveField::Phone) => {
            let row = one::<person::Entity>(ctx, person::Column::Id, id).await?;
            Ok(row.map(|p| p.phone))
        }
        (NodeType::Person, SensitiveField::BirthDate) => {
            let row = one::<person::Entity>(ctx, person::Column::Id, id).await?;
            Ok(row.map(|p| Some(p.birth_date.format("%Y-%m-%d").to_string())))
        }
        (NodeType::House, SensitiveField::RoomNumber) => {
            let row = one::<house::Entity>(ctx, house::Column::Id, id).await?;
            Ok(row.map(|h| Some(h.address)))
        }
        _ => Err(bad_input(format!(
            "break-glass reveals person.idNumber, person.phone, person.birthDate of a person or \
             house.roomNumber of a house, not {} of a {}",
            field.name(),
            node_type.name()
        ))),
    }
}

/// Break-glass.
#[Object]
impl BreakGlassMutation {
    /// Reveals named fields of one element in full, for an emergency, with a stated reason and a
    /// case reference (`X-Case-Id`). Only roles allowed to may do it; the element must lie in the
    /// caller's scope. Every reveal is reported to the auditor.
    async fn break_glass(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of a person or a house.")] id: ID,
        #[graphql(desc = "Fields to reveal, e.g. `person.idNumber`.")] fields: Vec<String>,
        #[graphql(desc = "Why the fields must be seen now.")] reason: String,
    ) -> Result<Vec<RevealedField>> {
        let access = guard::access(ctx)?;
        guard::require(access.role.break_glass, "this role may not break the glass")?;
        guard::require_audited(ctx)?;
        if reason.trim().is_empty() || fields.is_empty() {
            return Err(bad_input("break-glass needs the fields and a reason"));
        }
        if access.principal.case_id.is_none() {
            return Err(bad_input(
                "break-glass needs a case reference: send X-Case-Id (or a token's case_id)",
            ));
        }
        let (node_type, row) = decode(&id)?;
        let mut revealed = Vec::new();
        for name in &fields {
            let field = SensitiveField::parse(name)
                .ok_or_else(|| bad_input(format!("unknown field `{name}`")))?;
            let value = value_of(ctx, node_type, row, field)
                .await?
                .ok_or_else(|| not_found(format!("no {} with this id", node_type.name())))?;
            revealed.push(RevealedField {
                field: name.clone(),
                value,
            });
        }
        access.note_action(Action {
            break_glass: true,
            element: Some((element_name(node_type), row)),
            fields,
            detail: reason.trim().to_string(),
        });
        Ok(revealed)
    }
}

fn element_name(node_type: NodeType) -> &'static str {
    match node_type {
        NodeType::House => "house",
        _ => "person",
    }
}
