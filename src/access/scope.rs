//! Row scope: which rows a principal sees. A principal scoped to a grid sees only rows that lie
//! in that grid's subtree, and only rows of the kinds its role may read; everything else behaves
//! exactly like a missing row. The scope is applied inside the SQL of every list, count and
//! DataLoader batch, so no path (node, nested relation, totalCount, search) can go around it.

use super::policy::{Kind, Role, SourceRecords};
use crate::entity::vocabulary::ElementType;
use crate::entity::{
    department, dual_registration, event, event_action, event_involvement, grid, grid_closure,
    grid_staff, grid_tally, house, membership, object, organization, person, person_tag, place,
    residence, source_record, volunteer_activity, volunteer_participation,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait};
use std::sync::Arc;

/// `SELECT descendant_id FROM grid_closure WHERE ancestor_id = grid_id`: the subtree of a grid.
pub fn descendants_of(grid_id: i64) -> SelectStatement {
    Query::select()
        .column(grid_closure::Column::DescendantId)
        .from(grid_closure::Entity)
        .and_where(grid_closure::Column::AncestorId.eq(grid_id))
        .to_owned()
}

/// `column` names a grid inside the subtree of grid `grid_id`.
pub fn within_grid(column: impl ColumnTrait, grid_id: i64) -> SimpleExpr {
    column.in_subquery(descendants_of(grid_id))
}

/// What one request may see of the rows.
#[derive(Debug, Clone)]
pub struct RowScope {
    /// Id of the grid whose subtree bounds the rows; `None` for the whole hub.
    pub root: Option<i64>,
    /// The principal's role.
    pub role: Arc<Role>,
    /// Id of the principal's department, for `own_department` source records.
    pub department_id: Option<i64>,
}

fn nothing() -> SimpleExpr {
    Expr::cust("1 = 0")
}

impl RowScope {
    /// Whether rows of `kind` can be seen at all.
    pub fn reads(&self, kind: Kind) -> bool {
        self.role.reads(kind)
    }

    /// The condition for rows of `kind` placed in the grid named by `grid_column`.
    fn placed(&self, kind: Kind, grid_column: impl ColumnTrait) -> Option<SimpleExpr> {
        if !self.reads(kind) {
            return Some(nothing());
        }
        self.root.map(|root| within_grid(grid_column, root))
    }

    /// The condition on source records: readable, from the right department, and about an
    /// element inside the scope.
    fn source_records(&self) -> Option<SimpleExpr> {
        if !self.reads(Kind::SourceRecord) {
            return Some(nothing());
        }
        let department = match (self.role.source_records, self.department_id) {
            (SourceRecords::All, _) => None,
            (SourceRecords::OwnDepartment, Some(id)) => {
                Some(source_record::Column::DepartmentId.eq(id))
            }
            _ => return Some(nothing()),
        };
        let within = self.root.map(source_records_within);
        match (department, within) {
            (Some(d), Some(w)) => Some(d.and(w)),
            (d, w) => d.or(w),
        }
    }
}

/// Source records whose element lies in the subtree of `root` (the bound of a scoped import's
/// writes as well as of reads).
pub fn source_records_within(root: i64) -> SimpleExpr {
    let part = |element: ElementType, ids: SelectStatement| {
        source_record::Column::ElementType
            .eq(element)
            .and(source_record::Column::ElementId.in_subquery(ids))
    };
    part(
        ElementType::Person,
        ids_within::<person::Entity>(person::Column::Id, person::Column::GridId, root),
    )
    .or(part(
        ElementType::House,
        ids_within::<house::Entity>(house::Column::Id, house::Column::GridId, root),
    ))
    .or(part(
        ElementType::Place,
        ids_within::<place::Entity>(place::Column::Id, place::Column::GridId, root),
    ))
    .or(part(
        ElementType::Event,
        ids_within::<event::Entity>(event::Column::Id, event::Column::GridId, root),
    ))
    .or(part(
        ElementType::Object,
        ids_within::<object::Entity>(object::Column::Id, object::Column::GridId, root),
    ))
    .or(part(
        ElementType::Organization,
        ids_within::<organization::Entity>(
            organization::Column::Id,
            organization::Column::GridId,
            root,
        ),
    ))
}

/// Ids of the rows of `E` whose grid lies in the subtree of `root`.
fn ids_within<E: EntityTrait>(id: E::Column, grid: E::Column, root: i64) -> SelectStatement {
    Query::select()
        .column(id)
        .from(E::default())
        .and_where(within_grid(grid, root))
        .to_owned()
}

/// A table whose rows the row scope governs.
pub trait Scoped: EntityTrait {
    /// The kind of its rows, when a role's `read` list governs them (relations between elements
    /// have none: they are reached from a visible element, and their far end is scoped itself).
    const KIND: Option<Kind>;

    /// The condition its rows must meet in `scope`; `None` when every row is visible.
    fn visible_in(scope: &RowScope) -> Option<SimpleExpr>;
}

macro_rules! placed {
    ($($module:ident: $kind:ident by $column:ident;)+) => {$(
        impl Scoped for $module::Entity {
            const KIND: Option<Kind> = Some(Kind::$kind);
            fn visible_in(scope: &RowScope) -> Option<SimpleExpr> {
                scope.placed(Kind::$kind, $module::Column::$column)
            }
        }
    )+};
}

placed! {
    grid: Grid by Id;
    person: Person by GridId;
    house: House by GridId;
    place: Place by GridId;
    event: Event by GridId;
    object: Object by GridId;
    organization: Organization by GridId;
    volunteer_activity: VolunteerActivity by GridId;
}

impl Scoped for source_record::Entity {
    const KIND: Option<Kind> = Some(Kind::SourceRecord);
    fn visible_in(scope: &RowScope) -> Option<SimpleExpr> {
        scope.source_records()
    }
}

impl Scoped for department::Entity {
    const KIND: Option<Kind> = Some(Kind::Department);
    fn visible_in(scope: &RowScope) -> Option<SimpleExpr> {
        (!scope.reads(Kind::Department)).then(nothing)
    }
}

impl RowScope {
    /// The condition on a relation's `person_id`: the person at its end must be visible, so
    /// that a relation never walks out of scope. A correlated `EXISTS` (two index probes per
    /// relation row), since relations are always looked up by a key of their own.
    fn person_end<E: EntityTrait>(&self, person_column: E::Column) -> Option<SimpleExpr> {
        if !self.reads(Kind::Person) {
            return Some(nothing());
        }
        let root = self.root?;
        let closure = |column| Expr::col((grid_closure::Entity, column));
        Some(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(person::Entity)
                .inner_join(
                    grid_closure::Entity,
                    closure(grid_closure::Column::DescendantId)
                        .equals((person::Entity, person::Column::GridId)),
                )
                .and_where(
                    Expr::col((person::Entity, person::Column::Id))
                        .equals((E::default(), person_column)),
                )
                .and_where(closure(grid_closure::Column::AncestorId).eq(root))
                .to_owned(),
        ))
    }
}

macro_rules! tied_to_person {
    ($($module:ident),+) => {$(
        impl Scoped for $module::Entity {
            const KIND: Option<Kind> = None;
            fn visible_in(scope: &RowScope) -> Option<SimpleExpr> {
                scope.person_end::<$module::Entity>($module::Column::PersonId)
            }
        }
    )+};
}

tied_to_person!(
    residence,
    membership,
    grid_staff,
    dual_registration,
    event_involvement,
    person_tag,
    volunteer_participation
);

macro_rules! unscoped {
    ($($module:ident),+) => {$(
        impl Scoped for $module::Entity {
            const KIND: Option<Kind> = None;
            fn visible_in(_: &RowScope) -> Option<SimpleExpr> {
                None
            }
        }
    )+};
}

unscoped!(event_action, grid_tally);
