//! Person 人: a resident keyed by the ID number, with residences, memberships, staff roles,
//! events and provenance. Identifiers are shown through the access layer.

use super::connection::{page_complexity, paginate, Order, PageArgs};
use super::error::forbidden;
use super::event::{EventConnection, EventInvolvement};
use super::grid::Grid;
use super::guard::{self, in_full, show};
use super::id::{encode, NodeType};
use super::loader::{many, one};
use super::provenance::{conflicts_of, FieldConflict};
use super::relations::{DualRegistration, GridStaff, Membership, Residence};
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use super::volunteer::VolunteerParticipation;
use crate::access::context::{ElementRef, Resolution};
use crate::access::field_policy::SensitiveField;
use crate::domain::masking;
use crate::entity::vocabulary::{ElementType, Gender, PersonTag};
use crate::entity::{
    dual_registration, event as event_entity, event_involvement, grid, grid_staff, membership,
    person, person_tag, residence, volunteer_participation,
};
use async_graphql::{Context, InputObject, InputType, Object, Result, ID};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, LikeExpr, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A person 人 living or registered in the grid.
pub struct Person(pub person::Model);

impl From<person::Model> for Person {
    fn from(model: person::Model) -> Self {
        Person(model)
    }
}

crate::page_type!(PersonConnection, PersonEdge, Person, "persons");

/// Narrows a list of persons. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct PersonFilter {
    /// Only persons whose grid lies in the subtree of this grid code (e.g. a community's code
    /// selects all its grids and micro-grids).
    pub grid_code: Option<String>,
    /// Only persons whose name starts with this text, e.g. `王` or `王建`.
    pub name_prefix: Option<String>,
    /// Only persons carrying every one of these tags.
    pub tags: Option<Vec<PersonTag>>,
    /// Only persons of this gender.
    pub gender: Option<Gender>,
    /// Only floating population 流动人口 (`true`) or only registered residents (`false`).
    pub floating: Option<bool>,
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl PersonFilter {
    /// The filter as a condition on `persons`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(person::Column::GridId, code));
        }
        if let Some(prefix) = &self.name_prefix {
            all = all.add(name_starts_with(prefix));
        }
        for tag in self.tags.iter().flatten() {
            all = all.add(
                person::Column::Id.in_subquery(
                    Query::select()
                        .column(person_tag::Column::PersonId)
                        .from(person_tag::Entity)
                        .and_where(person_tag::Column::Tag.eq(*tag))
                        .to_owned(),
                ),
            );
        }
        if let Some(gender) = self.gender {
            all = all.add(person::Column::Gender.eq(gender));
        }
        if let Some(floating) = self.floating {
            all = all.add(person::Column::Floating.eq(floating));
        }
        all
    }
}

/// The smallest string greater than every string starting with `prefix` in code-point order
/// (the last character moved up by one), or `None` when there is no such bound.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `name` starts with `prefix`: a range on the name index (exact in code-point collations:
/// SQLite's BINARY, PostgreSQL's C and C.UTF-8) and the LIKE that defines the match.
fn name_starts_with(prefix: &str) -> Condition {
    let pattern = LikeExpr::new(format!("{}%", escape_like(prefix))).escape('\\');
    let mut all = Condition::all()
        .add(person::Column::Name.gte(prefix))
        .add(person::Column::Name.like(pattern));
    if let Some(upper) = prefix_upper_bound(prefix) {
        all = all.add(person::Column::Name.lt(upper));
    }
    all
}

/// A page of persons matching `filter` (and inside `extra`), ordered by id.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<PersonFilter>,
    args: PageArgs,
) -> Result<PersonConnection> {
    let filter = filter.unwrap_or_default();
    check_tag_filter(ctx, &filter)?;
    let base = person::Entity::find()
        .filter(extra)
        .filter(filter.condition());
    paginate(ctx, base, &Order::by(person::Column::Id), args).await
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
    today.year() - birth.year() - i32::from(!had_birthday)
}

/// The sensitive field a tag belongs to.
pub fn tag_field(tag: PersonTag) -> SensitiveField {
    match tag {
        PersonTag::KeyPerson => SensitiveField::KeyPersonTag,
        PersonTag::ElderlyLivingAlone | PersonTag::LowIncome | PersonTag::Disabled => {
            SensitiveField::WelfareStatus
        }
    }
}

/// FORBIDDEN when the filter selects by a tag the caller may not see in full: the answer would
/// disclose it.
fn check_tag_filter(ctx: &Context<'_>, filter: &PersonFilter) -> Result<()> {
    let access = guard::access(ctx)?;
    for tag in filter.tags.iter().flatten() {
        let field = tag_field(*tag);
        match access.resolution(field) {
            Resolution::Full => {}
            Resolution::Denied(why) => return Err(forbidden(why.clone())),
            _ => {
                return Err(forbidden(format!(
                    "filtering by {} needs the right to see {} in full",
                    tag.to_value(),
                    field.name()
                )))
            }
        }
    }
    Ok(())
}

impl Person {
    fn element(&self) -> ElementRef {
        ("person", self.0.id)
    }
}

/// A person 人: one resident, however many departments report them.
#[Object]
impl Person {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Person, self.0.id)
    }

    /// Resident ID number 公民身份号码 (GB 11643, 18 characters). Masked (`6502**********123X`)
    /// unless the caller may see it in full; null when its role may not see it at all.
    async fn id_number(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        show(
            ctx,
            SensitiveField::IdNumber,
            self.element(),
            &self.0.id_number,
        )
    }

    /// Full name 姓名.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Gender, as encoded in the ID number.
    async fn gender(&self) -> Gender {
        self.0.gender
    }

    /// Date of birth `YYYY-MM-DD`, as encoded in the ID number. Masked to the year
    /// (`1985-**-**`) unless the caller may see it in full; null when not shown at all.
    async fn birth_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let date = self.0.birth_date.format("%Y-%m-%d").to_string();
        show(ctx, SensitiveField::BirthDate, self.element(), &date)
    }

    /// Age in whole years today.
    async fn age(&self) -> i32 {
        age_on(self.0.birth_date, Utc::now().date_naive())
    }

    /// Ethnicity 民族, e.g. 汉族.
    async fn ethnicity(&self) -> &str {
        &self.0.ethnicity
    }

    /// Mobile phone number. Masked (`138****5678`) unless the caller may see it in full; null
    /// when there is none or the caller may not see it at all.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self.0.phone.as_deref() {
            Some(phone) => show(ctx, SensitiveField::Phone, self.element(), phone),
            None => Ok(None),
        }
    }

    /// Address of household registration 户籍地址. A room number in it is masked
    /// (`2单元***室`) unless the caller may see room numbers (`house.roomNumber`) in full.
    async fn household_address(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(address) = self.0.household_address.as_deref() else {
            return Ok(None);
        };
        let full = in_full(ctx, SensitiveField::RoomNumber, self.element())?;
        Ok(Some(if full {
            address.to_string()
        } else {
            masking::mask_address(address)
        }))
    }

    /// Whether the household registration 户籍 is in this district.
    async fn local_household(&self) -> bool {
        self.0.local_household
    }

    /// Whether the person belongs to the floating population 流动人口.
    async fn floating(&self) -> bool {
        self.0.floating
    }

    /// Care and risk tags (独居老人, 低保户, 残疾人, 重点人员). Welfare tags and the key-person
    /// tag are sensitive: tags the caller may not see in full are left out.
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<PersonTag>> {
        let rows = many::<person_tag::Entity>(ctx, person_tag::Column::PersonId, self.0.id).await?;
        let mut shown = Vec::with_capacity(rows.len());
        for tag in rows.iter().map(|r| r.tag) {
            if in_full(ctx, tag_field(tag), self.element())? {
                shown.push(tag);
            }
        }
        Ok(shown)
    }

    /// The grid where the person actually lives.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// Houses the person owns, rents or lives in, with the role and dates.
    async fn residences(&self, ctx: &Context<'_>) -> Result<Vec<Residence>> {
        let rows = many::<residence::Entity>(ctx, residence::Column::PersonId, self.0.id).await?;
        Ok(rows.iter().cloned().map(Residence).collect())
    }

    /// Organizations the person belongs to: party branches, employers, committees, teams.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let rows = many::<membership::Entity>(ctx, membership::Column::PersonId, self.0.id).await?;
        Ok(rows.iter().cloned().map(Membership).collect())
    }

    /// Roles the person holds in grid staff 网格力量.
    async fn staff_roles(&self, ctx: &Context<'_>) -> Result<Vec<GridStaff>> {
        let rows = many::<grid_staff::Entity>(ctx, grid_staff::Column::PersonId, self.0.id).await?;
        Ok(rows.iter().cloned().map(GridStaff).collect())
    }

    /// 双报到 registrations: where this in-service party member serves the community.
    async fn dual_registrations(&self, ctx: &Context<'_>) -> Result<Vec<DualRegistration>> {
        let rows =
            many::<dual_registration::Entity>(ctx, dual_registration::Column::PersonId, self.0.id)
                .await?;
        Ok(rows.iter().cloned().map(DualRegistration).collect())
    }

    /// Events the person is involved in (as reporter, party, witness or handler).
    async fn event_involvements(&self, ctx: &Context<'_>) -> Result<Vec<EventInvolvement>> {
        let rows =
            many::<event_involvement::Entity>(ctx, event_involvement::Column::PersonId, self.0.id)
                .await?;
        Ok(rows.iter().cloned().map(EventInvolvement).collect())
    }

    /// Events the person is involved in, newest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        #[graphql(desc = "The first n items (at most the configured page size).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The last n items (at most the configured page size).")] last: Option<i32>,
    ) -> Result<EventConnection> {
        let involved = Query::select()
            .column(event_involvement::Column::EventId)
            .from(event_involvement::Entity)
            .and_where(event_involvement::Column::PersonId.eq(self.0.id))
            .to_owned();
        let scope = Condition::all().add(event_entity::Column::Id.in_subquery(involved));
        let args = PageArgs::new(after, before, first, last);
        super::event::list(ctx, scope, None, None, args).await
    }

    /// Volunteer activities 志愿服务 the person took part in.
    async fn volunteer_participations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<VolunteerParticipation>> {
        let rows = many::<volunteer_participation::Entity>(
            ctx,
            volunteer_participation::Column::PersonId,
            self.0.id,
        )
        .await?;
        Ok(rows.iter().cloned().map(VolunteerParticipation).collect())
    }

    /// The department records this person was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::Person, self.0.id).await
    }

    /// Fields on which departments' records of this person disagree: who says what since when,
    /// beside the value shown here (a field's owner department wins, else the latest record).
    async fn conflicts(&self, ctx: &Context<'_>) -> Result<Vec<FieldConflict>> {
        conflicts_of(ctx, &self.0).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_whole_years() {
        let birth = NaiveDate::from_ymd_opt(1990, 6, 15).unwrap();
        assert_eq!(
            age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()),
            35
        );
        assert_eq!(
            age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()),
            36
        );
    }

    #[test]
    fn prefix_bounds_follow_code_points() {
        assert_eq!(prefix_upper_bound("王建").as_deref(), Some("王廻"));
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("\u{d7ff}").as_deref(), Some("\u{e000}"));
        assert_eq!(prefix_upper_bound(""), None);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_\\"), "50\\%\\_\\\\");
    }
}
