//! Number use cases: add (through the batch planner), read, list, edit, and the moves of SPEC §3
//! (allocate, assign and unassign, move to unit, release, unbind, delete). Each move is one
//! transaction: load the number in the actor's scope and what the move needs, let the domain's
//! move function (`numberpool_domain::moves`) say what changes, then compare-and-set it with
//! its audit event.
//!
//! - `add.rs`: the planner (rows in, per-row outcomes out) and the commit of a plan;
//! - `moves.rs`: allocate, assign, unassign, move to unit, release, unbind, delete;
//! - `edit.rs`: the PATCH of a number's fields;
//! - `views.rs`: the assignments view and a number's history;
//! - `available.rs`, `provision.rs`, `blocks.rs`: getting numbers (SPEC §5).

mod add;
mod available;
mod blocks;
mod edit;
mod moves;
mod porting;
mod provision;
mod reservations;
mod self_service;
mod views;

use std::collections::BTreeMap;

use numberpool_domain::moves::MoveError;
use numberpool_domain::{
    Account, AccountId, Action, Assignee, BlockId, Capabilities, CarrierId, CarrierKind,
    Customization, E164, EntitlementUse, FineType, Number, NumberId, NumberStatus, NumberType,
    Product, ReservationId, Rule, TrunkId, ViewPosition,
};
use numberpool_store::{
    InventoryCounts, NumberCursor, NumberFilter, NumberLookup, Page, Reader, Tx,
};
use serde::Serialize;

use super::{Actor, Permission, Result, Service, ServiceError, snapshot};

pub(in crate::service) use add::chain_deactivated;
pub(crate) use add::check_attribute_map;
pub use add::{AddMode, AddOutcome, PlannedRow, RowRejection};
pub(in crate::service) use add::{FactsAsk, PlanFacts, add_event_body, plan_with};
pub use available::{
    AvailableNumber, AvailableParams, AvailableQuery, DEFAULT_QUANTITY, MAX_QUANTITY,
};
pub use blocks::BlockView;
pub use numberpool_domain::moves::Allocation as AllocateOptions;
pub use porting::{
    AttachmentView, NewPortOrder, PortCheck, PortHistoryEntry, PortOrderView, PortPatch,
    PortValidation,
};
pub use provision::MAX_PROVISION;
pub use reservations::ReservationView;

/// One number to add, parsed.
#[derive(Debug, Clone)]
pub struct AddNumber {
    pub phone_number: E164,
    pub fields: numberpool_domain::NewNumber,
}

/// A number as one account sees it: pools see `free`, `in_use`, `returned`; customers see
/// `assigned`, `unassigned` (SPEC §3). The API's number resource.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NumberView {
    pub id: NumberId,
    /// E.164.
    pub phone_number: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    /// Coarse type (R-NUM-3).
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: NumberType,
    /// libphonenumber's type.
    pub fine_type: FineType,
    /// State or province (`CA`); a US or Canadian number's is derived from it unless the add
    /// gave one.
    pub state: Option<String>,
    /// A US or Canadian number's is derived from it unless the add gave one.
    pub city: Option<String>,
    pub status: NumberStatus,
    pub product: Product,
    /// Where the number is, as the caller sees it.
    pub position: ViewPosition,
    /// The account the number is with now.
    pub holder_id: AccountId,
    /// The customer it is with (also while it sits in one of the customer's units).
    pub customer_id: Option<AccountId>,
    pub assignees: Vec<Assignee>,
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Capabilities,
    pub voice_carrier_id: Option<CarrierId>,
    pub sms_carrier_id: Option<CarrierId>,
    pub customization: Customization,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    pub program_duration: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// Where it came from: `BYOC - Cloud <carrier>`, `external`, a port order, a block.
    pub source: String,
    /// The number block it was added in, if any.
    pub block_id: Option<BlockId>,
    /// The reservation holding this free number for an account, while it does (R-RES-2).
    pub reservation_id: Option<ReservationId>,
    /// When that reservation ends. RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reserved_until: Option<i64>,
    pub uploaded_by: AccountId,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    /// Bumped by every change; the `ETag`.
    pub version: i64,
}

impl NumberView {
    pub fn of(n: &Number, viewer: AccountId) -> NumberView {
        Self::from_number(n.clone(), viewer)
    }

    /// [`NumberView::of`] taking the number: a list page's rows move into their views
    /// instead of being copied field by field.
    pub fn from_number(n: Number, viewer: AccountId) -> NumberView {
        // The one definition the list filter and the inventory count by, too.
        let position = ViewPosition::of(&n, viewer);
        let country = n.phone_number.country().as_str();
        NumberView {
            id: n.id,
            phone_number: n.phone_number.into_string(),
            country,
            number_type: n.number_type,
            fine_type: n.fine_type,
            state: n.region_state,
            city: n.city,
            status: n.status,
            product: n.product,
            position,
            holder_id: n.holder_id,
            customer_id: n.customer_id,
            assignees: n.assignees,
            sip_trunk_id: n.sip_trunk_id,
            billing_reference: n.billing_reference,
            service_info: n.service_info,
            capabilities: n.capabilities,
            voice_carrier_id: n.voice_carrier_id,
            sms_carrier_id: n.sms_carrier_id,
            customization: n.customization,
            call_purpose: n.call_purpose,
            display_name: n.display_name,
            program_duration: n.program_duration,
            attributes: n.attributes,
            source: n.source,
            block_id: n.block_id,
            reservation_id: n.reservation.map(|h| h.reservation_id),
            reserved_until: n.reservation.map(|h| h.until),
            uploaded_by: n.uploaded_by,
            created_at: n.created_at,
            updated_at: n.updated_at,
            version: n.version,
        }
    }
}

/// An account named in a view: id and name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountRef {
    pub id: AccountId,
    pub name: String,
}

/// "View assignments" (seed 004): where a number sits in a business and who uses it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignmentsView {
    pub id: NumberId,
    pub phone_number: String,
    /// The customer (business) the number is with; absent while it is in a pool, or when it
    /// is above the caller (a unit's admin does not see its business).
    pub business: Option<AccountRef>,
    /// The first unit below the business on the way to the number, if any (and if the caller
    /// may see it).
    pub business_unit: Option<AccountRef>,
    /// The unit below that (a program), if any (and if the caller may see it).
    pub program: Option<AccountRef>,
    /// The units from the business down to the one holding the number that the caller may see.
    pub units: Vec<AccountRef>,
    pub display_name: Option<String>,
    pub call_purpose: Option<String>,
    pub program_duration: Option<String>,
    pub assignees: Vec<Assignee>,
}

impl From<MoveError> for ServiceError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::Rule(v) => ServiceError::Rule(v),
            MoveError::NotFound(what) => ServiceError::NotFound(what),
            MoveError::Invalid(m) => ServiceError::Invalid(m),
        }
    }
}

/// The accounts from `from` up to `top`, both included, nearest first; `None` when `top` is not
/// `from` or above it.
async fn path_up_to(
    tx: &mut Reader,
    from: AccountId,
    top: AccountId,
) -> Result<Option<Vec<AccountId>>> {
    let mut path = vec![from];
    if from == top {
        return Ok(Some(path));
    }
    for a in tx.ancestors(from).await? {
        path.push(a);
        if a == top {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// R-ACC-3: the licences a number takes while it is with a customer.
fn licences_of(n: &Number) -> EntitlementUse {
    EntitlementUse {
        toll_free: i64::from(n.number_type == NumberType::TollFree),
        contact_center: i64::from(n.product == Product::ContactCenter),
    }
}

/// A named carrier that is not the number owner's, or not of the kind named (R-SEC-1).
fn carrier_not_found(kind: CarrierKind) -> ServiceError {
    ServiceError::NotFound(match kind {
        CarrierKind::Voice => "voice carrier",
        CarrierKind::Sms => "SMS carrier profile",
    })
}

fn check_free_text(field: &'static str, v: &Option<String>) -> Result<()> {
    if let Some(s) = v {
        numberpool_domain::number::check_text(field, s, 500).map_err(ServiceError::Invalid)?;
    }
    Ok(())
}

impl Service {
    /// The number named by `lookup`, if the actor may see it (R-SEC-1: otherwise not found).
    async fn scoped_number(
        &self,
        tx: &mut Reader,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<Number> {
        tx.get_number_in_scope(actor.account, lookup)
            .await?
            .ok_or(ServiceError::NotFound("number"))
    }

    pub(crate) async fn acting_account(&self, tx: &mut Reader, actor: &Actor) -> Result<Account> {
        tx.get_account(actor.account)
            .await?
            .ok_or(ServiceError::NotFound("account"))
    }

    /// Opens a move: the write transaction, the number (if the actor may see it) and the
    /// acting account.
    async fn open_move(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<(Tx, Number, Account)> {
        let mut tx = self.store.begin().await?;
        // A reservation whose time has come holds nothing, whether or not the expiry job has
        // been by: the move sees the number free (and its write clears the reservation).
        let n = self
            .scoped_number(&mut tx, actor, lookup)
            .await?
            .lapsed_at(self.now());
        let me = self.acting_account(&mut tx, actor).await?;
        Ok((tx, n, me))
    }

    /// [`Service::open_move`] for the moves a holder makes (R-MOVE-2), with the holder's
    /// ancestors when the actor is not the holder itself (a customer acting on a number that
    /// sits in one of its units): what a [`Mover`](numberpool_domain::moves::Mover) needs.
    async fn open_holder_move(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<(Tx, Number, Account, Vec<AccountId>)> {
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let path = if n.holder_id == actor.account {
            vec![]
        } else {
            tx.ancestors(n.holder_id).await?
        };
        Ok((tx, n, me, path))
    }

    /// Compare-and-set `next` over `before`, record the move (under the rule that allowed it)
    /// in the same transaction, commit.
    async fn commit_move(
        &self,
        mut tx: Tx,
        actor: &Actor,
        before: &Number,
        mut next: Number,
        action: Action,
        rule: Rule,
    ) -> Result<Number> {
        next.updated_at = self.now();
        let stored = tx.update_number_cas(&next).await?;
        tx.record(&actor.event(
            action,
            before.id.to_string(),
            Some(rule),
            snapshot(before),
            snapshot(&stored),
        ))
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_number(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        self.scoped_number(&mut r, actor, lookup).await
    }

    pub async fn list_numbers(
        &self,
        actor: &Actor,
        filter: &NumberFilter,
        after: Option<NumberCursor>,
        limit: u32,
    ) -> Result<Page<Number>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(
            r.list_numbers(actor.account, filter, after, limit.clamp(1, 1000))
                .await?,
        )
    }

    /// Counts of the numbers the actor sees (R-SEC-1) that pass `filter`, by position as the
    /// actor sees it, status, product, type and country.
    pub async fn inventory(&self, actor: &Actor, filter: &NumberFilter) -> Result<InventoryCounts> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        Ok(r.inventory(actor.account, filter).await?)
    }
}

/// Removes `n` from the platform if it is still at the version read, with its `number.delete`
/// audit event (R-DEL-2) in the same transaction; `lost` says what a lost compare-and-set means
/// to the caller.
pub(in crate::service) async fn delete_recorded(
    tx: &mut Tx,
    actor: &Actor,
    n: &Number,
    lost: impl FnOnce(numberpool_store::StoreError) -> ServiceError,
) -> Result<()> {
    tx.delete_number_cas(n.id, n.version).await.map_err(lost)?;
    tx.record(&actor.event(
        Action::NumberDelete,
        n.id.to_string(),
        Some(Rule::Del2),
        snapshot(n),
        None,
    ))
    .await?;
    Ok(())
}
