//! Place 地: compounds, streets, shops along streets, business buildings, schools and public
//! spaces, with a point location and an optional boundary.

use super::connection::{paginate, Order, PageArgs};
use super::event::Event;
use super::grid::Grid;
use super::id::{encode, NodeType};
use super::loader::{many, one};
use super::object::ManagedObject;
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use crate::entity::vocabulary::{ElementType, PlaceKind};
use crate::entity::{event, grid, object, place};
use async_graphql::{Context, InputObject, Object, Result, ID};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A place 地.
pub struct Place(pub place::Model);

impl From<place::Model> for Place {
    fn from(model: place::Model) -> Self {
        Place(model)
    }
}

crate::page_type!(PlaceConnection, PlaceEdge, Place, "places");

/// Narrows a list of places. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct PlaceFilter {
    /// Only places in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only places of these kinds (e.g. the "four small" units 四小单位).
    pub kinds: Option<Vec<PlaceKind>>,
}

impl PlaceFilter {
    /// The filter as a condition on `places`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(place::Column::GridId, code));
        }
        if let Some(kinds) = &self.kinds {
            all = all.add(place::Column::Kind.is_in(kinds.clone()));
        }
        all
    }
}

/// A page of places matching `filter` (and inside `extra`), by id.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<PlaceFilter>,
    args: PageArgs,
) -> Result<PlaceConnection> {
    let base = place::Entity::find()
        .filter(extra)
        .filter(filter.unwrap_or_default().condition());
    paginate(ctx, base, &Order::by(place::Column::Id), args).await
}

/// A place 地: a compound, street, shop, business building, school or public space.
#[Object]
impl Place {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::Place, self.0.id)
    }

    /// Kind of place.
    async fn kind(&self) -> PlaceKind {
        self.0.kind
    }

    /// Name, e.g. 百花小区 or 友谊路12号便利店.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Street address.
    async fn address(&self) -> &str {
        &self.0.address
    }

    /// Latitude of the point location (WGS 84).
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }

    /// Longitude of the point location (WGS 84).
    async fn longitude(&self) -> f64 {
        self.0.longitude
    }

    /// Boundary as a GeoJSON geometry, when surveyed.
    async fn boundary(&self) -> Option<&str> {
        self.0.boundary.as_deref()
    }

    /// The grid the place belongs to.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// Events that happened at the place, newest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<Event>> {
        let rows = many::<event::Entity>(ctx, event::Column::PlaceId, self.0.id).await?;
        let mut events: Vec<_> = rows.iter().cloned().map(Event).collect();
        events.sort_by_key(|e| std::cmp::Reverse((e.0.reported_at, e.0.id)));
        Ok(events)
    }

    /// Managed objects at the place.
    async fn objects(&self, ctx: &Context<'_>) -> Result<Vec<ManagedObject>> {
        let rows = many::<object::Entity>(ctx, object::Column::PlaceId, self.0.id).await?;
        Ok(rows.iter().cloned().map(ManagedObject).collect())
    }

    /// The department records this place was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::Place, self.0.id).await
    }
}
