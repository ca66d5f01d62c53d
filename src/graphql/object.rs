//! Object 物: managed physical things (部件) such as fire hydrants, cameras, access gates and
//! e-bike sheds. Named `ManagedObject` in the schema so that it cannot clash with a client
//! language's own `Object`.

use super::connection::{paginate, Order, PageArgs};
use super::grid::Grid;
use super::id::{encode, NodeType};
use super::loader::{maybe, one};
use super::organization::Organization;
use super::place::Place;
use super::scope::within_code;
use super::source_record::{sources_of, SourceRecord};
use crate::entity::vocabulary::{ElementType, ObjectKind, ObjectStatus};
use crate::entity::{grid, object, organization, place};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A managed object 物.
pub struct ManagedObject(pub object::Model);

impl From<object::Model> for ManagedObject {
    fn from(model: object::Model) -> Self {
        ManagedObject(model)
    }
}

crate::page_type!(
    ManagedObjectConnection,
    ManagedObjectEdge,
    ManagedObject,
    "managed objects"
);

/// Narrows a list of objects. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct ObjectFilter {
    /// Only objects in the subtree of this grid code.
    pub grid_code: Option<String>,
    /// Only objects of these kinds.
    pub kinds: Option<Vec<ObjectKind>>,
    /// Only objects in these working states.
    pub statuses: Option<Vec<ObjectStatus>>,
}

impl ObjectFilter {
    /// The filter as a condition on `objects`.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all();
        if let Some(code) = &self.grid_code {
            all = all.add(within_code(object::Column::GridId, code));
        }
        if let Some(kinds) = &self.kinds {
            all = all.add(object::Column::Kind.is_in(kinds.clone()));
        }
        if let Some(statuses) = &self.statuses {
            all = all.add(object::Column::Status.is_in(statuses.clone()));
        }
        all
    }
}

/// A page of objects matching `filter` (and inside `extra`), by id.
pub async fn list(
    ctx: &Context<'_>,
    extra: Condition,
    filter: Option<ObjectFilter>,
    args: PageArgs,
) -> Result<ManagedObjectConnection> {
    let base = object::Entity::find()
        .filter(extra)
        .filter(filter.unwrap_or_default().condition());
    paginate(ctx, base, &Order::by(object::Column::Id), args).await
}

/// A managed object 物 (部件): a fire hydrant, camera, access gate, e-bike shed, AED …
#[Object]
impl ManagedObject {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(NodeType::ManagedObject, self.0.id)
    }

    /// Kind of object.
    async fn kind(&self) -> ObjectKind {
        self.0.kind
    }

    /// Asset code painted or tagged on the object.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name or short description.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Working state.
    async fn status(&self) -> ObjectStatus {
        self.0.status
    }

    /// Latitude (WGS 84).
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }

    /// Longitude (WGS 84).
    async fn longitude(&self) -> f64 {
        self.0.longitude
    }

    /// Day of installation, when known.
    async fn installed_on(&self) -> Option<NaiveDate> {
        self.0.installed_on
    }

    /// The grid the object belongs to.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        Ok(one::<grid::Entity>(ctx, grid::Column::Id, self.0.grid_id)
            .await?
            .map(Grid))
    }

    /// The place where the object stands, if any.
    async fn place(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        Ok(
            maybe::<place::Entity>(ctx, place::Column::Id, self.0.place_id)
                .await?
                .map(Place),
        )
    }

    /// The organization that owns or maintains the object, if known.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(
            maybe::<organization::Entity>(ctx, organization::Column::Id, self.0.owner_id)
                .await?
                .map(Organization),
        )
    }

    /// The department records this object was built from.
    async fn source_records(&self, ctx: &Context<'_>) -> Result<Vec<SourceRecord>> {
        sources_of(ctx, ElementType::Object, self.0.id).await
    }
}
