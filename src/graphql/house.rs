//! House 房: compounds 小区, buildings 楼栋, units 单元 and rooms 室 as one tree, with the persons
//! tied to each room.

use super::connection::{paginate, Order, PageArgs};
use super::event::Event;
use super::grid::Grid;
use super::guard::show;
use super::id::{encode, NodeType};
use super::loader::{many, maybe, one};
use super::relations::Residence;
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use crate::access::field_policy::SensitiveField;
use crate::domain::masking;
use crate::entity::vocabulary::{ElementType, HouseKind, HouseUsage};
use crate::entity::{event, grid, house, residence};
use async_graphql::{Context, InputObject, Object, Result, ID};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A house 房.
pub struct House(pub house::Model);

impl From<house::Model> for House {
    fn from(model: house::Model) -> Self {
        House(model)
    }
}

crate::page_type!(HouseConnection, HouseEdge, House, "houses");

/// Narrows a list of houses. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct HouseFilter {
    /// Only houses in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only houses of these kinds (e.g. `[ROOM]` for dwellings).
    pub kinds: Option<Vec<HouseKind>>,
    /// Only rooms with this usage.
    pub usage: Option<HouseUsage>,
}

impl HouseFilter {
    /// The filter as a condition on `houses`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(house::Column::GridId, code));
        }
        if let Some(kinds) = &self.kinds {
            all = all.add(house::Column::Kind.is_in(kinds.clone()));
        }
        if let Some(usage) = self.usage {
            all = all.add(house::Column::Usage.eq(usage));
        }
        all
    }
}

/// A page of houses matching `filter` (and inside `extra`), by id.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<HouseFilter>,
    args: PageArgs,
) -> Result<HouseConnection> {
    let base = house::Entity::find()
        .filter(extra)
        .filter(filter.unwrap_or_default().condition());
    paginate(ctx, base, &Order::by(house::Column::Id), args).await
}

impl House {
    /// `text` with the room number shown as the caller may see it (rooms only).
    fn room_shown(&self, ctx: &Context<'_>, text: &str) -> Result<String> {
        if self.0.kind != HouseKind::Room {
            return Ok(text.to_string());
        }
        let field = SensitiveField::RoomNumber;
        let shown = show(ctx, field, ("house", self.0.id), text)?;
        Ok(shown.unwrap_or_else(|| masking::mask_room(text)))
    }
}

/// A house 房: a compound 小区, building 楼栋, unit 单元 or room 室. Rooms are dwellings; the levels
/// above group them.
#[Object]
impl House {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::House, self.0.id)
    }

    /// Level in the compound → building → unit → room tree.
    async fn kind(&self) -> HouseKind {
        self.0.kind
    }

    /// Name at its level, e.g. 3号楼, 2单元, 502室. A room's number is masked (`***室`) unless
    /// the caller may see room numbers in full.
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        self.room_shown(ctx, &self.0.name)
    }

    /// Full address down to this level; a room's number is masked like in `name`.
    async fn address(&self, ctx: &Context<'_>) -> Result<String> {
        self.room_shown(ctx, &self.0.address)
    }

    /// How a room is used (rooms only).
    async fn usage(&self) -> Option<HouseUsage> {
        self.0.usage
    }

    /// Floor area in square metres (rooms only).
    async fn area_sqm(&self) -> Option<f64> {
        self.0.area_sqm
    }

    /// The house one level up (the unit of a room, the building of a unit …).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<House>> {
        Ok(
            maybe::<house::Entity>(ctx, house::Column::Id, self.0.parent_id)
                .await?
                .map(House),
        )
    }

    /// The houses one level down.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<House>> {
        let rows = many::<house::Entity>(ctx, house::Column::ParentId, self.0.id).await?;
        Ok(rows.iter().cloned().map(House).collect())
    }

    /// The grid the house belongs to.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// Persons tied to the house: owners, tenants, residents, the household head.
    async fn residences(&self, ctx: &Context<'_>) -> Result<Vec<Residence>> {
        let rows = many::<residence::Entity>(ctx, residence::Column::HouseId, self.0.id).await?;
        Ok(rows.iter().cloned().map(Residence).collect())
    }

    /// Events concerning the house, newest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<Event>> {
        let rows = many::<event::Entity>(ctx, event::Column::HouseId, self.0.id).await?;
        let mut events: Vec<_> = rows.iter().cloned().map(Event).collect();
        events.sort_by_key(|e| std::cmp::Reverse((e.0.reported_at, e.0.id)));
        Ok(events)
    }

    /// The department records this house was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::House, self.0.id).await
    }
}
