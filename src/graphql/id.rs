//! Opaque global ids (Relay): the type name and the row id, base64url-encoded, so that
//! `node(id:)` can find any element and clients never build ids by hand.

use super::error::bad_input;
use async_graphql::{Error, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Types that have a global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    /// A grid.
    Grid,
    /// A person.
    Person,
    /// A house (compound, building, unit or room).
    House,
    /// A place.
    Place,
    /// An event.
    Event,
    /// A managed object.
    ManagedObject,
    /// An organization.
    Organization,
    /// A department.
    Department,
    /// A volunteer activity.
    VolunteerActivity,
    /// A source record.
    SourceRecord,
}

const ALL: [NodeType; 10] = [
    NodeType::Grid,
    NodeType::Person,
    NodeType::House,
    NodeType::Place,
    NodeType::Event,
    NodeType::ManagedObject,
    NodeType::Organization,
    NodeType::Department,
    NodeType::VolunteerActivity,
    NodeType::SourceRecord,
];

impl NodeType {
    /// The GraphQL type name.
    pub fn name(self) -> &'static str {
        match self {
            NodeType::Grid => "Grid",
            NodeType::Person => "Person",
            NodeType::House => "House",
            NodeType::Place => "Place",
            NodeType::Event => "Event",
            NodeType::ManagedObject => "ManagedObject",
            NodeType::Organization => "Organization",
            NodeType::Department => "Department",
            NodeType::VolunteerActivity => "VolunteerActivity",
            NodeType::SourceRecord => "SourceRecord",
        }
    }

    fn from_name(name: &str) -> Option<NodeType> {
        ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Encodes the global id of row `id` of `node_type`.
pub fn encode(node_type: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node_type.name())))
}

/// Decodes a global id into its type and row id.
pub fn decode(id: &ID) -> Result<(NodeType, i64), Error> {
    let invalid = || bad_input(format!("`{}` is not a valid gridhub id", id.as_str()));
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (name, row) = text.split_once(':').ok_or_else(invalid)?;
    let node_type = NodeType::from_name(name).ok_or_else(invalid)?;
    let row = row.parse::<i64>().map_err(|_| invalid())?;
    Ok((node_type, row))
}

/// Decodes a global id that must be of `expected` type.
pub fn decode_as(id: &ID, expected: NodeType) -> Result<i64, Error> {
    match decode(id)? {
        (node_type, row) if node_type == expected => Ok(row),
        _ => Err(bad_input(format!(
            "`{}` is not the id of a {}",
            id.as_str(),
            expected.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_type() {
        for node_type in ALL {
            assert_eq!(decode(&encode(node_type, 42)).unwrap(), (node_type, 42));
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "!!", "UGVyc29u", "Tm9wZTox", "UGVyc29uOng"] {
            assert!(decode(&ID(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_the_expected_type() {
        let id = encode(NodeType::Grid, 1);
        assert!(decode_as(&id, NodeType::Person).is_err());
        assert_eq!(decode_as(&id, NodeType::Grid).unwrap(), 1);
    }
}
