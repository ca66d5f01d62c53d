//! Organizations (组织): party organisations as a tree, resident units, companies, social organisations.

use super::vocabulary::OrganizationKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub department_id: Option<i64>,
    pub kind: OrganizationKind,
    pub name: String,
    pub credit_code: Option<String>,
    pub address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
