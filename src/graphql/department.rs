//! Department 部门: a source of data (police, civil affairs, property management, party
//! organisation) and a target of dispatched events.

use super::id::{encode, NodeType};
use crate::entity::department;
use async_graphql::{Object, ID};

/// A department 部门.
pub struct Department(pub department::Model);

impl From<department::Model> for Department {
    fn from(model: department::Model) -> Self {
        Department(model)
    }
}

/// A department 部门 that brings data into the hub and takes dispatched events: police 公安,
/// civil affairs 民政, property management 物业 or party organisation 党组织.
#[Object]
impl Department {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Department, self.0.id)
    }

    /// Short stable code: `police`, `civil_affairs`, `property` or `party`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name, e.g. 公安.
    async fn name(&self) -> &str {
        &self.0.name
    }
}
