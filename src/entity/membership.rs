//! A person's membership of an organization (party, employment, committee, volunteer team).

use super::vocabulary::{MembershipRole, PartyCategory};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub organization_id: i64,
    pub role: MembershipRole,
    pub party_category: Option<PartyCategory>,
    pub points: Option<i32>,
    pub since: Date,
    pub until: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
