//! The Relay `Node` interface: any element can be fetched again by its global id with
//! `node(id:)`, or many at once with `nodes(ids:)` (one SQL statement per type).

use super::department::Department;
use super::error::bad_input;
use super::event::Event;
use super::grid::Grid;
use super::house::House;
use super::id::{decode, NodeType};
use super::loader::one;
use super::object::ManagedObject;
use super::organization::Organization;
use super::person::Person;
use super::place::Place;
use super::source_record::SourceRecord;
use super::volunteer::VolunteerActivity;
use crate::entity::{
    department, event, grid, house, object, organization, person, place, source_record,
    volunteer_activity,
};
use async_graphql::futures_util::future::try_join_all;
use async_graphql::{Context, Interface, Result, ID};

/// Anything with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    /// A grid.
    Grid(Grid),
    /// A person.
    Person(Person),
    /// A house.
    House(House),
    /// A place.
    Place(Place),
    /// An event.
    Event(Event),
    /// A managed object.
    ManagedObject(ManagedObject),
    /// An organization.
    Organization(Organization),
    /// A department.
    Department(Department),
    /// A volunteer activity.
    VolunteerActivity(VolunteerActivity),
    /// A source record.
    SourceRecord(SourceRecord),
}

/// Loads row `id` of `node_type`, batched with the other loads of the request.
pub async fn load_node(ctx: &Context<'_>, node_type: NodeType, id: i64) -> Result<Option<Node>> {
    Ok(match node_type {
        NodeType::Grid => one::<grid::Entity>(ctx, grid::Column::Id, id)
            .await?
            .map(|m| Node::Grid(Grid(m))),
        NodeType::Person => one::<person::Entity>(ctx, person::Column::Id, id)
            .await?
            .map(|m| Node::Person(Person(m))),
        NodeType::House => one::<house::Entity>(ctx, house::Column::Id, id)
            .await?
            .map(|m| Node::House(House(m))),
        NodeType::Place => one::<place::Entity>(ctx, place::Column::Id, id)
            .await?
            .map(|m| Node::Place(Place(m))),
        NodeType::Event => one::<event::Entity>(ctx, event::Column::Id, id)
            .await?
            .map(|m| Node::Event(Event(m))),
        NodeType::ManagedObject => one::<object::Entity>(ctx, object::Column::Id, id)
            .await?
            .map(|m| Node::ManagedObject(ManagedObject(m))),
        NodeType::Organization => one::<organization::Entity>(ctx, organization::Column::Id, id)
            .await?
            .map(|m| Node::Organization(Organization(m))),
        NodeType::Department => one::<department::Entity>(ctx, department::Column::Id, id)
            .await?
            .map(|m| Node::Department(Department(m))),
        NodeType::VolunteerActivity => {
            one::<volunteer_activity::Entity>(ctx, volunteer_activity::Column::Id, id)
                .await?
                .map(|m| Node::VolunteerActivity(VolunteerActivity(m)))
        }
        NodeType::SourceRecord => one::<source_record::Entity>(ctx, source_record::Column::Id, id)
            .await?
            .map(|m| Node::SourceRecord(SourceRecord(m))),
    })
}

/// Loads every id, in order; unknown ids give null. Fails on a malformed id or too many ids.
pub async fn load_nodes(ctx: &Context<'_>, ids: &[ID], max: usize) -> Result<Vec<Option<Node>>> {
    if ids.len() > max {
        return Err(bad_input(format!(
            "`ids` may hold at most {max} ids (got {})",
            ids.len()
        )));
    }
    let decoded = ids.iter().map(decode).collect::<Result<Vec<_>>>()?;
    try_join_all(decoded.into_iter().map(|(t, id)| load_node(ctx, t, id))).await
}
