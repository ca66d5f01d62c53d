//! The one-network store: the grid tree, the six elements (person, house, place, event, object,
//! organization), the relations between them, and the source records that say where each fact
//! came from.

use crate::layout::Table;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn c(name: &'static str) -> Alias {
    Alias::new(name)
}

/// Tables in creation order: every table comes after the tables it references.
fn tables() -> Vec<Table> {
    vec![
        Table::new("departments")
            .col(string_uniq(c("code")))
            .col(string(c("name"))),
        Table::new("grids")
            .fk_null("parent_id", "grids")
            .col(string_uniq(c("code")))
            .col(string(c("name")))
            .col(string(c("level")))
            .col(string(c("kind")))
            .index(&["level"]),
        Table::without_id("grid_closure")
            .fk("ancestor_id", "grids")
            .fk("descendant_id", "grids")
            .col(integer(c("depth")))
            .unique(&["ancestor_id", "descendant_id"])
            .index(&["descendant_id", "depth"]),
        Table::new("persons")
            .col(string_uniq(c("id_number")))
            .col(string(c("name")))
            .col(string(c("gender")))
            .col(date(c("birth_date")))
            .col(string(c("ethnicity")))
            .col(string_null(c("phone")))
            .col(string_null(c("household_address")))
            .col(boolean(c("local_household")))
            .col(boolean(c("floating")))
            .fk("grid_id", "grids")
            .col(timestamp_with_time_zone(c("updated_at")))
            .index(&["grid_id", "id"])
            .index(&["grid_id", "name"])
            .index(&["name"]),
        Table::without_id("person_tags")
            .fk("person_id", "persons")
            .col(string(c("tag")))
            .unique(&["person_id", "tag"])
            .index(&["tag", "person_id"]),
        Table::new("houses")
            .fk_null("parent_id", "houses")
            .fk("grid_id", "grids")
            .col(string(c("kind")))
            .col(string(c("name")))
            .col(string(c("address")))
            .col(string_null(c("usage")))
            .col(double_null(c("area_sqm")))
            .index(&["grid_id", "kind", "id"])
            .index(&["parent_id", "id"])
            .index(&["kind", "usage"]),
        Table::new("places")
            .fk("grid_id", "grids")
            .col(string(c("kind")))
            .col(string(c("name")))
            .col(string(c("address")))
            .col(double(c("latitude")))
            .col(double(c("longitude")))
            .col(text_null(c("boundary")))
            .index(&["grid_id", "id"])
            .index(&["kind"]),
        Table::new("organizations")
            .fk_null("parent_id", "organizations")
            .fk_null("grid_id", "grids")
            .fk_null("department_id", "departments")
            .col(string(c("kind")))
            .col(string(c("name")))
            .col(string_null(c("credit_code")))
            .col(string_null(c("address")))
            .index(&["grid_id", "kind"])
            .index(&["parent_id", "id"])
            .index(&["kind"])
            .index(&["credit_code"]),
        Table::new("events")
            .fk("grid_id", "grids")
            .fk_null("place_id", "places")
            .fk_null("house_id", "houses")
            .fk_null("department_id", "departments")
            .col(string(c("category")))
            .col(string(c("priority")))
            .col(string(c("status")))
            .col(string(c("channel")))
            .col(string(c("title")))
            .col(text(c("description")))
            .col(double_null(c("latitude")))
            .col(double_null(c("longitude")))
            .col(timestamp_with_time_zone(c("reported_at")))
            .col(timestamp_with_time_zone(c("respond_by")))
            .col(timestamp_with_time_zone(c("resolve_by")))
            .col(timestamp_with_time_zone_null(c("resolved_at")))
            .col(timestamp_with_time_zone_null(c("closed_at")))
            .col(integer_null(c("satisfaction")))
            .index(&["grid_id", "reported_at"])
            .index(&["grid_id", "status", "resolve_by"])
            .index(&["status", "reported_at"])
            .index(&["category", "reported_at"])
            .index(&["priority"])
            .index(&["reported_at"]),
        Table::new("event_actions")
            .fk("event_id", "events")
            .fk_null("department_id", "departments")
            .col(string(c("action")))
            .col(string_null(c("from_status")))
            .col(string(c("to_status")))
            .col(string(c("actor")))
            .col(text(c("note")))
            .col(text(c("attachments")))
            .col(timestamp_with_time_zone(c("at")))
            .index(&["event_id", "at"]),
        Table::new("objects")
            .fk("grid_id", "grids")
            .fk_null("place_id", "places")
            .fk_null("owner_id", "organizations")
            .col(string(c("kind")))
            .col(string_uniq(c("code")))
            .col(string(c("name")))
            .col(string(c("status")))
            .col(double(c("latitude")))
            .col(double(c("longitude")))
            .col(date_null(c("installed_on")))
            .index(&["grid_id", "kind"])
            .index(&["kind", "status"]),
        Table::new("residences")
            .fk("person_id", "persons")
            .fk("house_id", "houses")
            .col(string(c("role")))
            .col(date(c("since")))
            .col(date_null(c("until")))
            .index(&["house_id", "role"]),
        Table::new("memberships")
            .fk("person_id", "persons")
            .fk("organization_id", "organizations")
            .col(string(c("role")))
            .col(string_null(c("party_category")))
            .col(integer_null(c("points")))
            .col(date(c("since")))
            .col(date_null(c("until"))),
        Table::new("grid_staff")
            .fk("grid_id", "grids")
            .fk("person_id", "persons")
            .col(string(c("role")))
            .col(date(c("since")))
            .col(date_null(c("until"))),
        Table::new("dual_registrations")
            .fk("person_id", "persons")
            .fk("organization_id", "organizations")
            .fk("grid_id", "grids")
            .col(date(c("registered_on")))
            .col(double(c("service_hours"))),
        Table::new("event_involvements")
            .fk("event_id", "events")
            .fk("person_id", "persons")
            .col(string(c("role"))),
        Table::new("volunteer_activities")
            .fk("organization_id", "organizations")
            .fk("grid_id", "grids")
            .col(string(c("category")))
            .col(string(c("title")))
            .col(date(c("held_on")))
            .col(double(c("hours")))
            .index(&["grid_id", "held_on"])
            .index(&["category"]),
        Table::new("volunteer_participations")
            .fk("activity_id", "volunteer_activities")
            .fk("person_id", "persons")
            .col(double(c("hours"))),
        Table::new("source_records")
            .fk("department_id", "departments")
            .col(string(c("source_id")))
            .col(string(c("element_type")))
            .col(big_integer(c("element_id")))
            .col(timestamp_with_time_zone(c("received_at")))
            .col(text(c("payload")))
            .unique(&["department_id", "source_id"])
            .index(&["element_type", "element_id"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            table.create(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().into_iter().rev() {
            table.drop(manager).await?;
        }
        Ok(())
    }
}
