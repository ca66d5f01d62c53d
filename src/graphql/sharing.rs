//! Data-sharing requests 数据共享申请 in GraphQL: a department asks another for named fields
//! of named element types, with purpose, legal basis and an end date; the providing department
//! (or an admin) approves or rejects; an approved grant unmasks exactly those fields for the
//! requester from its next request until it ends or is revoked. Operations can be registered so
//! that a grant binds to them.

use super::error::{bad_input, coded, forbidden, not_found, Code, OrInternal};
use super::guard;
use crate::access::context::Action;
use crate::access::credentials::{vet_purpose, DEPARTMENTS};
use crate::access::field_policy::SensitiveField;
use crate::access::gate::operation_hash;
use crate::access::grant::{self, split_list};
use crate::access::policy::{GrantRights, Policy};
use crate::access::Access;
use crate::db::Database;
use crate::domain::sharing::{SharingAction, SharingStatus};
use crate::entity::{registered_operation, sharing_request};
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::sync::Arc;

/// Where a data-sharing request stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DataSharingStatus {
    /// Waiting for the providing department.
    Requested,
    /// Approved: a grant in force until `endsAt`.
    Approved,
    /// Rejected by the provider.
    Rejected,
    /// Approved, then revoked.
    Revoked,
    /// Approved, and `endsAt` has passed.
    Expired,
}

impl From<SharingStatus> for DataSharingStatus {
    fn from(status: SharingStatus) -> Self {
        match status {
            SharingStatus::Requested => DataSharingStatus::Requested,
            SharingStatus::Approved => DataSharingStatus::Approved,
            SharingStatus::Rejected => DataSharingStatus::Rejected,
            SharingStatus::Revoked => DataSharingStatus::Revoked,
            SharingStatus::Expired => DataSharingStatus::Expired,
        }
    }
}

/// A data-sharing request 数据共享申请 and, once approved, the grant it is.
pub struct DataSharingRequest(sharing_request::Model);

/// A data-sharing request 数据共享申请: who asks whom for which fields, why, until when, and
/// where it stands.
#[Object]
impl DataSharingRequest {
    /// Number of the request.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where it stands now (an approved request past its end shows EXPIRED).
    async fn status(&self) -> DataSharingStatus {
        SharingStatus::parse(&self.0.status)
            .unwrap_or(SharingStatus::Rejected)
            .at(self.0.ends_at, Utc::now())
            .into()
    }

    /// Department asking for the data.
    async fn requester(&self) -> &str {
        &self.0.requester
    }

    /// Department that holds the data.
    async fn provider(&self) -> &str {
        &self.0.provider
    }

    /// Element types asked for, e.g. `person`.
    async fn element_types(&self) -> Vec<String> {
        split_list(&self.0.element_types)
    }

    /// Fields asked for, e.g. `person.phone`.
    async fn fields(&self) -> Vec<String> {
        split_list(&self.0.fields)
    }

    /// Purposes the data may be read for; a read must state one of them in `X-Purpose`.
    async fn purposes(&self) -> Vec<String> {
        split_list(&self.0.purposes)
    }

    /// Legal basis of the request.
    async fn legal_basis(&self) -> &str {
        &self.0.legal_basis
    }

    /// Hashes of the registered operations the grant is bound to; empty for any operation.
    async fn operations(&self) -> Vec<String> {
        split_list(&self.0.operations)
    }

    /// The registered operations the grant is bound to, with their text, so that the providing
    /// department sees exactly what it is asked to approve; empty for any operation.
    async fn bound_operations(&self, ctx: &Context<'_>) -> Result<Vec<RegisteredOperation>> {
        let hashes = split_list(&self.0.operations);
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let db = &ctx.data::<Database>()?.conn;
        let found = registered_operation::Entity::find()
            .filter(registered_operation::Column::Hash.is_in(hashes))
            .order_by_asc(registered_operation::Column::Id)
            .all(db)
            .await
            .or_internal()?;
        Ok(found.into_iter().map(RegisteredOperation).collect())
    }

    /// When the grant ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// Who asked.
    async fn requested_by(&self) -> &str {
        &self.0.requested_by
    }

    /// When it was asked.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }

    /// Who approved, rejected or revoked it last.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    /// When it was last decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// The note given with the last decision.
    async fn decision_note(&self) -> Option<&str> {
        self.0.decision_note.as_deref()
    }
}

/// A registered (persisted) operation, known by the SHA-256 of its text.
pub struct RegisteredOperation(registered_operation::Model);

/// A registered operation: a GraphQL document a grant can be bound to. A request runs it by
/// sending exactly this text.
#[Object]
impl RegisteredOperation {
    /// Hex SHA-256 of the query text.
    async fn hash(&self) -> &str {
        &self.0.hash
    }

    /// Name given at registration.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The query text.
    async fn query(&self) -> &str {
        &self.0.query
    }

    /// Who registered it.
    async fn registered_by(&self) -> &str {
        &self.0.registered_by
    }
}

/// What a department asks another for.
#[derive(InputObject)]
pub struct DataSharingRequestInput {
    /// Department that holds the data: police, civil_affairs, property or party.
    pub provider: String,
    /// Element types asked for, e.g. `["person"]`.
    pub element_types: Vec<String>,
    /// Fields asked for, each owned by the provider, e.g. `["person.phone"]`.
    pub fields: Vec<String>,
    /// Purposes the data will be read for (at least one).
    pub purposes: Vec<String>,
    /// Legal basis of the request.
    pub legal_basis: String,
    /// When the grant is to end (in the future).
    pub ends_at: DateTime<Utc>,
    /// Hashes of registered operations to bind the grant to; empty for any operation.
    #[graphql(default)]
    pub operations: Vec<String>,
}

fn clean(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks a request's fields and element types against the provider; BAD_USER_INPUT says what
/// is wrong.
fn check_input(input: &DataSharingRequestInput, requester: &str) -> Result<()> {
    let provider = input.provider.as_str();
    if !DEPARTMENTS.contains(&provider) {
        return Err(bad_input(format!(
            "unknown provider `{provider}`: one of {}",
            DEPARTMENTS.join(", ")
        )));
    }
    if provider == requester {
        return Err(bad_input(
            "a department does not need a grant for its own data",
        ));
    }
    let fields = clean(&input.fields);
    if fields.is_empty() || clean(&input.purposes).is_empty() || input.legal_basis.trim().is_empty()
    {
        return Err(bad_input(
            "a request names at least one field and one purpose, and a legal basis",
        ));
    }
    let types = clean(&input.element_types);
    for name in &fields {
        let field = SensitiveField::parse(name)
            .ok_or_else(|| bad_input(format!("unknown field `{name}`")))?;
        if field.owner() != Some(provider) {
            return Err(bad_input(format!("{name} is not held by {provider}")));
        }
        if !types.iter().any(|t| t == field.element()) {
            return Err(bad_input(format!(
                "{name} needs the element type `{}` in elementTypes",
                field.element()
            )));
        }
    }
    if input.ends_at <= Utc::now() {
        return Err(bad_input("endsAt must lie in the future"));
    }
    Ok(())
}

fn own_department(access: &Access) -> Result<&str> {
    match (&access.role.grants, access.principal.department.as_deref()) {
        (GrantRights::None, _) => Err(forbidden("this role may not take part in data sharing")),
        (_, Some(department)) => Ok(department),
        (_, None) => Err(forbidden("only a department can request data")),
    }
}

async fn find(ctx: &Context<'_>, id: &ID) -> Result<sharing_request::Model> {
    let number: i64 = id
        .parse()
        .map_err(|_| bad_input(format!("`{}` is not a request number", id.as_str())))?;
    let db = &ctx.data::<Database>()?.conn;
    sharing_request::Entity::find_by_id(number)
        .one(db)
        .await
        .or_internal()?
        .ok_or_else(|| not_found(format!("no data-sharing request {number}")))
}

fn may_decide(access: &Access, request: &sharing_request::Model) -> bool {
    match access.role.grants {
        GrantRights::Any => true,
        GrantRights::OwnDepartment => {
            access.principal.department.as_deref() == Some(request.provider.as_str())
        }
        GrantRights::None => false,
    }
}

async fn registered(ctx: &Context<'_>, hashes: &[String]) -> Result<()> {
    let db = &ctx.data::<Database>()?.conn;
    for hash in hashes {
        let known = registered_operation::Entity::find()
            .filter(registered_operation::Column::Hash.eq(hash.as_str()))
            .one(db)
            .await
            .or_internal()?;
        if known.is_none() {
            return Err(bad_input(format!(
                "no registered operation has the hash {hash}"
            )));
        }
    }
    Ok(())
}

/// Data-sharing requests in GraphQL queries.
#[derive(Default)]
pub struct SharingQuery;

/// Data-sharing requests.
#[Object]
impl SharingQuery {
    /// Data-sharing requests the caller may see, newest first: a department sees those it made
    /// and those addressed to it; an admin sees all.
    async fn data_sharing_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests in this status (stored status; EXPIRED is computed).")]
        status: Option<DataSharingStatus>,
    ) -> Result<Vec<DataSharingRequest>> {
        let access = guard::access(ctx)?;
        let mut select = sharing_request::Entity::find();
        if access.role.grants != GrantRights::Any {
            let department = own_department(access)?;
            select = select.filter(
                Condition::any()
                    .add(sharing_request::Column::Requester.eq(department))
                    .add(sharing_request::Column::Provider.eq(department)),
            );
        }
        let db = &ctx.data::<Database>()?.conn;
        let rows = select
            .order_by_desc(sharing_request::Column::Id)
            .all(db)
            .await
            .or_internal()?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(DataSharingRequest)
            .filter(|r| status.is_none_or(|s| current(&r.0, now) == s))
            .collect())
    }
}

fn current(request: &sharing_request::Model, now: DateTime<Utc>) -> DataSharingStatus {
    SharingStatus::parse(&request.status)
        .unwrap_or(SharingStatus::Rejected)
        .at(request.ends_at, now)
        .into()
}

/// Data-sharing mutations.
#[derive(Default)]
pub struct SharingMutation;

impl SharingMutation {
    async fn apply(
        ctx: &Context<'_>,
        id: ID,
        action: SharingAction,
        note: Option<String>,
    ) -> Result<DataSharingRequest> {
        let access = guard::access(ctx)?;
        let request = find(ctx, &id).await?;
        guard::require(
            may_decide(access, &request),
            "only the providing department or an admin decides this request",
        )?;
        let db = &ctx.data::<Database>()?.conn;
        let decided = grant::decide(db, request, action, &access.principal.subject, note)
            .await
            .or_internal()?
            .map_err(|refusal| coded(Code::Conflict, refusal))?;
        access.note_action(Action {
            break_glass: false,
            element: None,
            fields: split_list(&decided.fields),
            detail: format!("{action:?} data-sharing request {}", decided.id),
        });
        Ok(DataSharingRequest(decided))
    }
}

/// Data-sharing mutations.
#[Object]
impl SharingMutation {
    /// Asks another department for named fields; the request waits for the provider's decision.
    async fn request_data_sharing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What is asked for, why and until when.")] input: DataSharingRequestInput,
    ) -> Result<DataSharingRequest> {
        let access = guard::access(ctx)?;
        let requester = own_department(access)?.to_string();
        check_input(&input, &requester)?;
        let policy = ctx.data::<Arc<Policy>>()?;
        for purpose in clean(&input.purposes) {
            vet_purpose(policy, &purpose).map_err(bad_input)?;
        }
        let operations = clean(&input.operations);
        registered(ctx, &operations).await?;
        let row = sharing_request::ActiveModel {
            requester: Set(requester),
            provider: Set(input.provider.clone()),
            element_types: Set(clean(&input.element_types).join(",")),
            fields: Set(clean(&input.fields).join(",")),
            purposes: Set(clean(&input.purposes).join(",")),
            legal_basis: Set(input.legal_basis.trim().to_string()),
            operations: Set(operations.join(",")),
            ends_at: Set(input.ends_at),
            status: Set(SharingStatus::Requested.as_str().to_string()),
            requested_by: Set(access.principal.subject.clone()),
            requested_at: Set(Utc::now()),
            ..Default::default()
        };
        let db = &ctx.data::<Database>()?.conn;
        let saved = row.insert(db).await.or_internal()?;
        access.note_action(Action {
            break_glass: false,
            element: None,
            fields: split_list(&saved.fields),
            detail: format!(
                "requested data sharing {} from {}",
                saved.id, saved.provider
            ),
        });
        Ok(DataSharingRequest(saved))
    }

    /// Approves a request: the grant is in force from the requester's next request.
    async fn approve_data_sharing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Request number.")] id: ID,
        #[graphql(desc = "Note kept with the decision.")] note: Option<String>,
    ) -> Result<DataSharingRequest> {
        Self::apply(ctx, id, SharingAction::Approve, note).await
    }

    /// Rejects a request.
    async fn reject_data_sharing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Request number.")] id: ID,
        #[graphql(desc = "Note kept with the decision.")] note: Option<String>,
    ) -> Result<DataSharingRequest> {
        Self::apply(ctx, id, SharingAction::Reject, note).await
    }

    /// Revokes a grant: from the requester's next request the fields are masked again.
    async fn revoke_data_sharing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Request number.")] id: ID,
        #[graphql(desc = "Note kept with the decision.")] note: Option<String>,
    ) -> Result<DataSharingRequest> {
        Self::apply(ctx, id, SharingAction::Revoke, note).await
    }

    /// Registers an operation (a document holding exactly one operation) so that grants can be
    /// bound to it; registering the same text again returns the existing registration.
    async fn register_operation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name for people, e.g. `elderly-care-visit-card`.")] name: String,
        #[graphql(desc = "The GraphQL document, exactly as it will be sent.")] query: String,
    ) -> Result<RegisteredOperation> {
        let access = guard::access(ctx)?;
        guard::require(
            access.role.register_operations,
            "this role may not register operations",
        )?;
        let document = async_graphql::parser::parse_query(&query)
            .map_err(|e| bad_input(format!("the operation does not parse: {e}")))?;
        let operations = document.operations.iter().count();
        if operations != 1 {
            return Err(bad_input(format!(
                "a registered operation is a document with exactly one operation, so that a grant \
                 bound to it covers nothing else; this one has {operations}"
            )));
        }
        let hash = operation_hash(&query);
        let db = &ctx.data::<Database>()?.conn;
        let existing = registered_operation::Entity::find()
            .filter(registered_operation::Column::Hash.eq(hash.as_str()))
            .one(db)
            .await
            .or_internal()?;
        if let Some(existing) = existing {
            return Ok(RegisteredOperation(existing));
        }
        let saved = registered_operation::ActiveModel {
            hash: Set(hash.clone()),
            name: Set(name),
            query: Set(query),
            registered_by: Set(access.principal.subject.clone()),
            registered_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .or_internal()?;
        access.note_action(Action {
            break_glass: false,
            element: None,
            fields: Vec::new(),
            detail: format!("registered operation {hash}"),
        });
        Ok(RegisteredOperation(saved))
    }
}
