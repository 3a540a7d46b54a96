//! Number use cases: add, read, list, edit, and the moves of SPEC §3 (allocate, assign and
//! unassign, move to unit, release, unbind, delete). Each move is one transaction: read the
//! number, check scope and the domain rule, compare-and-set the new state, write the audit event.

use numberpool_domain::lifecycle::{self, Dest, Event, NumberState, transition};
use numberpool_domain::number::{
    apply_patch, check_assignee_capacity, check_customization, initial_type,
};
use std::collections::BTreeMap;

use numberpool_domain::{
    Account, AccountId, AccountKind, Assignee, Capabilities, CarrierId, CarrierKind, Customization,
    E164, EntitlementUse, ExchangeStatus, FineType, Number, NumberId, NumberPatch, NumberStatus,
    NumberType, Position, Product, Rule, RuleViolation, TrunkId, ViewPosition, now_ms,
};
use numberpool_store::{InventoryCounts, Lock, NumberFilter, NumberLookup, Page, Reader, Tx};
use serde::Serialize;

use super::{Actor, Result, Service, ServiceError, check_version, snapshot};

/// One number to add, parsed.
#[derive(Debug, Clone)]
pub struct AddNumber {
    pub phone_number: E164,
    pub fields: numberpool_domain::NewNumber,
}

/// What an allocation carries besides the target (SPEC §8.1 allocate body).
#[derive(Debug, Clone, Default)]
pub struct AllocateOptions {
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
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
    pub state: Option<String>,
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
    pub uploaded_by: AccountId,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Bumped by every change; the `ETag`.
    pub version: i64,
}

impl NumberView {
    pub fn of(n: &Number, viewer: AccountId) -> NumberView {
        NumberView {
            id: n.id,
            phone_number: n.phone_number.as_str().to_string(),
            country: n.phone_number.country().as_str(),
            number_type: n.number_type,
            fine_type: n.fine_type,
            state: n.region_state.clone(),
            city: n.city.clone(),
            status: n.status,
            product: n.product,
            // The one definition the list filter and the inventory count by, too.
            position: ViewPosition::of(n, viewer),
            holder_id: n.holder_id,
            customer_id: n.customer_id,
            assignees: n.assignees.clone(),
            sip_trunk_id: n.sip_trunk_id,
            billing_reference: n.billing_reference.clone(),
            service_info: n.service_info.clone(),
            capabilities: n.capabilities,
            voice_carrier_id: n.voice_carrier_id,
            sms_carrier_id: n.sms_carrier_id,
            customization: n.customization,
            call_purpose: n.call_purpose.clone(),
            display_name: n.display_name.clone(),
            program_duration: n.program_duration.clone(),
            attributes: n.attributes.clone(),
            source: n.source.clone(),
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

/// The source of a provider's number; its voice carrier's name follows.
const BYOC: &str = "BYOC - Cloud";

/// What an add's named carriers are called (for the number's `source`).
#[derive(Default)]
struct NamedResources {
    carrier_names: std::collections::HashMap<CarrierId, String>,
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

    pub(crate) async fn acting_account(&self, tx: &mut Tx, actor: &Actor) -> Result<Account> {
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
        let n = self.scoped_number(&mut tx, actor, lookup).await?;
        let me = self.acting_account(&mut tx, actor).await?;
        Ok((tx, n, me))
    }

    /// Compare-and-set `next` over `before`, record the move in the same transaction, commit.
    async fn commit_move(
        &self,
        mut tx: Tx,
        actor: &Actor,
        before: &Number,
        mut next: Number,
        action: &'static str,
        rule: Option<Rule>,
    ) -> Result<Number> {
        next.updated_at = now_ms();
        let stored = tx.update_number_cas(&next).await?;
        tx.insert_audit(&[actor.audit(
            "number",
            before.id.to_string(),
            action,
            rule,
            snapshot(before),
            snapshot(&stored),
        )])
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Adds numbers to the actor's pool (or, for a customer with R-ACC-2, as its own), all in
    /// one transaction: every number is added or none is.
    pub async fn add_numbers(&self, actor: &Actor, adds: Vec<AddNumber>) -> Result<Vec<Number>> {
        if adds.is_empty() {
            return Ok(vec![]);
        }
        let mut seen = std::collections::HashSet::with_capacity(adds.len());
        for a in &adds {
            if !seen.insert(a.phone_number.as_str()) {
                return Err(ServiceError::NumberAlreadyExists(format!(
                    "{} (given twice in one request)",
                    a.phone_number
                )));
            }
            let f = &a.fields;
            check_free_text("billing_reference", &f.billing_reference)?;
            check_free_text("service_info", &f.service_info)?;
            check_free_text("call_purpose", &f.call_purpose)?;
            check_free_text("display_name", &f.display_name)?;
            check_free_text("program_duration", &f.program_duration)?;
            check_free_text("state", &f.region_state)?;
            check_free_text("city", &f.city)?;
        }
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        // The account and those above it, share-locked and active: a deactivation in the chain
        // (R-OFF-1) waits for this add and counts its numbers, or is seen here.
        let above = tx.ancestors(me.id).await?;
        // The root of the tree owns what a pool adds (SPEC §3: the owner is the root).
        let root = above.last().copied().unwrap_or(me.id);
        let mut chain = above;
        chain.push(me.id);
        chain.sort();
        if !tx.lock_inactive_among(&chain).await?.is_empty() {
            return Err(RuleViolation::new(
                Rule::Off1,
                "the account, or an account above it, is deactivated",
            )
            .into());
        }
        // SPEC §2: a capability that is on gets the provider's default carrier of its kind (the
        // add names none); a customer's own numbers have no provider, so no carrier.
        let (dest, owner, source, default_voice, default_sms) = if me.kind.holds_pool() {
            let owner = root;
            let voice = tx
                .default_carrier(owner, CarrierKind::Voice.as_str())
                .await?;
            let sms = tx.default_carrier(owner, CarrierKind::Sms.as_str()).await?;
            let source = match &voice {
                Some((_, name)) => format!("{BYOC} {name}"),
                None => BYOC.to_string(),
            };
            (
                Dest::Pool,
                owner,
                source,
                voice.map(|(id, _)| id),
                sms.map(|(id, _)| id),
            )
        } else if me.kind == AccountKind::Customer && me.allow_external_numbers {
            (Dest::Customer, me.id, "external".to_string(), None, None)
        } else {
            return Err(RuleViolation::new(
                Rule::Acc2,
                "this account cannot add numbers: only providers, resellers and customers allowed external numbers can",
            )
            .into());
        };
        self.check_number_attributes(&mut tx, owner, adds.iter().map(|a| &a.fields.attributes))
            .await?;
        let named = self.named_resources(&mut tx, owner, dest, &adds).await?;
        let state = transition(NumberState::Absent, Event::Add(dest)).map_err(|e| e.violation())?;
        let position = state.position().unwrap_or(Position::Free);
        let now = now_ms();
        let add_event = numberpool_domain::AuditId::new();
        let mut numbers = Vec::with_capacity(adds.len());
        for a in adds {
            let f = a.fields;
            let product = f.product.unwrap_or(Product::Unallocated);
            let customization = f.customization.unwrap_or_default();
            let capabilities = f.capabilities.unwrap_or(Capabilities {
                voice: true,
                ..Default::default()
            });
            check_customization(product, &customization).map_err(|v| {
                RuleViolation::new(v.rule, format!("{}: {}", a.phone_number, v.message))
            })?;
            for (on, named, field, what) in [
                (
                    capabilities.voice,
                    f.voice_carrier_id,
                    "voice_carrier_id",
                    "voice",
                ),
                (capabilities.sms, f.sms_carrier_id, "sms_carrier_id", "sms"),
            ] {
                if !on && named.is_some() {
                    return Err(ServiceError::Invalid(format!(
                        "{}: {field}: the number's {what} capability is off; turn it on or leave the carrier out",
                        a.phone_number
                    )));
                }
            }
            let voice_carrier = f
                .voice_carrier_id
                .or(default_voice.filter(|_| capabilities.voice));
            // The source names the number's voice carrier, the named one or the default.
            let source = match (dest, capabilities.voice, f.voice_carrier_id) {
                (Dest::Pool, false, _) => BYOC.to_string(),
                (Dest::Pool, true, Some(v)) => named
                    .carrier_names
                    .get(&v)
                    .map(|name| format!("{BYOC} {name}"))
                    .unwrap_or_else(|| source.clone()),
                _ => source.clone(),
            };
            numbers.push(Number {
                id: NumberId::new(),
                number_type: initial_type(&a.phone_number, f.number_type),
                fine_type: a.phone_number.fine_type(),
                phone_number: a.phone_number,
                region_state: f.region_state,
                city: f.city,
                product,
                status: f.status.unwrap_or(NumberStatus::Normal),
                position,
                holder_id: me.id,
                customer_id: (dest == Dest::Customer).then_some(me.id),
                allocated_from: None,
                owner_id: owner,
                uploaded_by: me.id,
                assignees: vec![],
                sip_trunk_id: f.sip_trunk_id,
                billing_reference: f.billing_reference,
                service_info: f.service_info,
                capabilities,
                voice_carrier_id: voice_carrier,
                sms_carrier_id: f
                    .sms_carrier_id
                    .or(default_sms.filter(|_| capabilities.sms)),
                customization,
                call_purpose: f.call_purpose,
                display_name: f.display_name,
                program_duration: f.program_duration,
                attributes: f.attributes,
                source,
                block_id: None,
                port_order_id: None,
                add_event_id: Some(add_event),
                created_at: now,
                updated_at: now,
                version: 1,
            });
        }
        // Rows go in in E.164 order, so two batches that share numbers take the unique index's
        // entries in the same order: one waits for the other and then gets R-NUM-1, where request
        // order could deadlock them on PostgreSQL. The answer keeps the request's order.
        let order: std::collections::HashMap<NumberId, usize> =
            numbers.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        numbers.sort_unstable_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()));
        tx.insert_numbers(&numbers).await?;
        numbers.sort_unstable_by_key(|n| order.get(&n.id).copied().unwrap_or(usize::MAX));
        // One event for the batch, which every added number points at (`add_event_id`); the
        // number's history starts with it.
        let after = serde_json::json!({
            "count": numbers.len(),
            "holder_id": me.id,
            "position": position,
            // Each number's source (its voice carrier may be named per row), once each.
            "sources": numbers
                .iter()
                .map(|n| n.source.as_str())
                .collect::<std::collections::BTreeSet<_>>(),
            "phone_numbers": numbers.iter().map(|n| n.phone_number.as_str()).collect::<Vec<_>>(),
        });
        let event = actor.audit(
            "number_batch",
            add_event.to_string(),
            "number.add",
            Some(Rule::Num1),
            None,
            Some(after),
        );
        tx.insert_audit_as(add_event, &event).await?;
        tx.commit().await?;
        Ok(numbers)
    }

    pub async fn get_number(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        let mut r = self.store.read().await?;
        self.scoped_number(&mut r, actor, lookup).await
    }

    pub async fn list_numbers(
        &self,
        actor: &Actor,
        filter: &NumberFilter,
        after: Option<NumberId>,
        limit: u32,
    ) -> Result<Page<Number>> {
        let mut r = self.store.read().await?;
        Ok(
            r.list_numbers(actor.account, filter, after, limit.clamp(1, 1000))
                .await?,
        )
    }

    /// Counts of the numbers the actor sees (R-SEC-1) that pass `filter`, by position as the
    /// actor sees it, status, product, type and country.
    pub async fn inventory(&self, actor: &Actor, filter: &NumberFilter) -> Result<InventoryCounts> {
        let mut r = self.store.read().await?;
        Ok(r.inventory(actor.account, filter).await?)
    }

    /// Edits a number (R-EDIT-1 and the field rules). `if_version` guards against lost updates.
    pub async fn update_number(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        patch: &NumberPatch,
        if_version: Option<i64>,
    ) -> Result<Number> {
        let mut tx = self.store.begin().await?;
        let n = self.scoped_number(&mut tx, actor, lookup).await?;
        check_version("number", n.version, if_version)?;
        check_free_text(
            "billing_reference",
            &patch.billing_reference.clone().flatten(),
        )?;
        check_free_text("service_info", &patch.service_info.clone().flatten())?;
        check_free_text("call_purpose", &patch.call_purpose.clone().flatten())?;
        check_free_text("display_name", &patch.display_name.clone().flatten())?;
        check_free_text(
            "program_duration",
            &patch.program_duration.clone().flatten(),
        )?;
        if let Some(Some(trunk)) = patch.sip_trunk_id
            && tx.trunk_provider(trunk).await? != Some(n.owner_id)
        {
            return Err(ServiceError::NotFound("SIP trunk"));
        }
        for (carrier, kind) in [
            (patch.voice_carrier_id, "voice"),
            (patch.sms_carrier_id, "sms"),
        ] {
            if let Some(Some(id)) = carrier
                && tx.carrier_owner(id).await? != Some((n.owner_id, kind.to_string()))
            {
                return Err(ServiceError::NotFound(if kind == "voice" {
                    "voice carrier"
                } else {
                    "SMS carrier profile"
                }));
            }
        }
        if let Some(attrs) = &patch.attributes {
            self.check_number_attributes(&mut tx, n.owner_id, [attrs])
                .await?;
        }
        let mut next = apply_patch(&n, patch)?;
        // R-ACC-3 binds the numbers allocated to a customer, not its own (R-ACC-2).
        if let Some(customer) = n.customer_id.filter(|c| *c != n.owner_id) {
            let (was, will) = (licences_of(&n), licences_of(&next));
            let more = EntitlementUse {
                toll_free: (will.toll_free - was.toll_free).max(0),
                contact_center: (will.contact_center - was.contact_center).max(0),
            };
            self.check_entitlements(&mut tx, customer, more).await?;
        }
        if patch.capabilities.is_some()
            || patch.voice_carrier_id.is_some()
            || patch.sms_carrier_id.is_some()
        {
            self.settle_carriers(&mut tx, &n, &mut next, patch).await?;
        }
        self.commit_move(tx, actor, &n, next, "number.update", Some(Rule::Edit1))
            .await
            .map_err(super::lost_race_with_version(if_version))
    }

    /// SPEC §2 on an edit of capabilities or carriers: a capability that this edit turns on (or
    /// whose carrier it clears with `null`) and that has no carrier gets the owner's default of
    /// its kind; one that is off has
    /// none, and naming a carrier for it is refused. R-CAP-1 then applies to the outcome, not
    /// only to what was named: turning a capability on or off changes the number's carriers too.
    async fn settle_carriers(
        &self,
        tx: &mut Tx,
        before: &Number,
        next: &mut Number,
        patch: &NumberPatch,
    ) -> Result<()> {
        for kind in CarrierKind::ALL {
            let (on, was_on, named, slot, field) = match kind {
                CarrierKind::Voice => (
                    next.capabilities.voice,
                    before.capabilities.voice,
                    patch.voice_carrier_id,
                    &mut next.voice_carrier_id,
                    "voice_carrier_id",
                ),
                CarrierKind::Sms => (
                    next.capabilities.sms,
                    before.capabilities.sms,
                    patch.sms_carrier_id,
                    &mut next.sms_carrier_id,
                    "sms_carrier_id",
                ),
            };
            if !on {
                if let Some(Some(_)) = named {
                    return Err(ServiceError::Invalid(format!(
                        "{field}: the number's {} capability is off; turn it on or send null",
                        kind.as_str()
                    )));
                }
                *slot = None;
            } else if slot.is_none() && (!was_on || named == Some(None)) {
                // Only when this edit turns the capability on or clears the carrier: an edit that
                // resends the capabilities as they are changes nothing (R-CAP-1 would refuse it
                // on an assigned number that predates its provider's default).
                *slot = tx
                    .default_carrier(before.owner_id, kind.as_str())
                    .await?
                    .map(|(id, _)| id);
            }
        }
        let changed = next.voice_carrier_id != before.voice_carrier_id
            || next.sms_carrier_id != before.sms_carrier_id;
        // A provider's number shows its voice carrier in its source (SPEC §2): keep it true.
        if next.voice_carrier_id != before.voice_carrier_id && next.source.starts_with(BYOC) {
            next.source = match next.voice_carrier_id {
                Some(id) => match tx.get_carrier(id).await? {
                    Some(c) => format!("{BYOC} {}", c.name),
                    None => BYOC.to_string(),
                },
                None => BYOC.to_string(),
            };
        }
        if changed && !before.assignees.is_empty() {
            return Err(RuleViolation::new(
                Rule::Cap1,
                "this changes the number's carriers (a capability turned on or off), which \
                 can change only while it has no assignee; unassign it first",
            )
            .into());
        }
        Ok(())
    }

    /// Allocate a free number from the actor's pool to a direct child or connected customer
    /// (R-MOVE-1, R-ALLOC-1).
    pub async fn allocate(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        target: AccountId,
        opts: AllocateOptions,
    ) -> Result<Number> {
        check_free_text("billing_reference", &opts.billing_reference)?;
        check_free_text("service_info", &opts.service_info)?;
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let target = self.account_in_scope(&mut tx, actor, target).await?;
        // Read again under the target's row lock: a deactivation of the target (R-OFF-1) waits
        // for this allocation and then counts its number, or has committed and is seen here.
        let target = tx
            .get_account_locked(target.id, Lock::Update)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        let relation = tx.relation(&me, &target).await?;
        let dest = lifecycle::check_allocate(&n, &me, &target, relation)?;
        if dest == Dest::Customer {
            self.check_entitlements(&mut tx, target.id, licences_of(&n))
                .await?;
        }
        let mut next = n.clone();
        let trunk = opts.sip_trunk_id.or(n.sip_trunk_id);
        if let Some(t) = trunk
            && tx.trunk_provider(t).await? != Some(n.owner_id)
        {
            return Err(ServiceError::NotFound("SIP trunk"));
        }
        if dest == Dest::Customer && trunk.is_none() {
            return Err(ServiceError::Invalid(
                "sip_trunk_id is required when a number goes to a customer".into(),
            ));
        }
        next.sip_trunk_id = trunk;
        next.holder_id = target.id;
        next.allocated_from = Some(me.id);
        next.position = match dest {
            Dest::Pool => Position::Free,
            Dest::Customer => Position::Held,
        };
        next.customer_id = (dest == Dest::Customer).then_some(target.id);
        if opts.billing_reference.is_some() {
            next.billing_reference = opts.billing_reference;
        }
        if opts.service_info.is_some() {
            next.service_info = opts.service_info;
        }
        self.commit_move(tx, actor, &n, next, "number.allocate", Some(Rule::Move1))
            .await
    }

    /// The trunks and carriers an add names, checked once each (a 10,000-row batch names a few):
    /// each must be the owner's, of the right kind, and a customer's own numbers name none.
    async fn named_resources(
        &self,
        tx: &mut Tx,
        owner: AccountId,
        dest: Dest,
        adds: &[AddNumber],
    ) -> Result<NamedResources> {
        let mut out = NamedResources::default();
        let mut trunks = std::collections::BTreeSet::new();
        let mut carriers = std::collections::HashSet::new();
        for a in adds {
            let f = &a.fields;
            trunks.extend(f.sip_trunk_id);
            carriers.extend(f.voice_carrier_id.map(|c| (c, CarrierKind::Voice)));
            carriers.extend(f.sms_carrier_id.map(|c| (c, CarrierKind::Sms)));
        }
        if dest == Dest::Customer && (!trunks.is_empty() || !carriers.is_empty()) {
            return Err(ServiceError::Invalid(
                "sip_trunk_id, voice_carrier_id, sms_carrier_id: a customer's own numbers use no \
                 provider's trunk or carrier"
                    .into(),
            ));
        }
        for t in trunks {
            if tx.trunk_provider(t).await? != Some(owner) {
                return Err(ServiceError::NotFound("SIP trunk"));
            }
        }
        for (id, kind) in carriers {
            match tx.get_carrier(id).await? {
                Some(c) if c.provider_id == owner && c.kind == kind => {
                    out.carrier_names.insert(id, c.name);
                }
                _ => {
                    return Err(ServiceError::NotFound(match kind {
                        CarrierKind::Voice => "voice carrier",
                        CarrierKind::Sms => "SMS carrier profile",
                    }));
                }
            }
        }
        Ok(out)
    }

    /// R-ACC-1: a provider's number with a connected (root) customer is assigned only while
    /// the connection is `connected`. The connection is share-locked, so a disconnect request
    /// waits for this assignment and then counts it, or has committed and is seen here.
    async fn check_exchange_open(&self, tx: &mut Tx, n: &Number) -> Result<()> {
        let Some(customer) = n.customer_id else {
            return Ok(());
        };
        if n.owner_id == customer {
            return Ok(());
        }
        let Some(conn) = tx
            .get_connection_locked(n.owner_id, customer, Lock::Share)
            .await?
        else {
            return Ok(());
        };
        if conn.status != ExchangeStatus::Connected {
            return Err(RuleViolation::new(
                Rule::Acc1,
                "disconnection from this number's provider has been requested; its numbers can \
                 no longer be assigned",
            )
            .into());
        }
        Ok(())
    }

    /// Ancestors of the holder when the actor is not the holder itself (units), for R-MOVE-2.
    async fn holder_path(&self, tx: &mut Tx, actor: &Actor, n: &Number) -> Result<Vec<AccountId>> {
        if n.holder_id == actor.account {
            Ok(vec![])
        } else {
            Ok(tx.ancestors(n.holder_id).await?)
        }
    }

    /// Assign the number to a user, call queue, … (R-MOVE-2, R-ASG-1).
    pub async fn assign(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        assignee: Assignee,
    ) -> Result<Number> {
        if assignee.id.trim().is_empty() || assignee.id.len() > 200 {
            return Err(ServiceError::Invalid(
                "assignee_id: give a non-empty id of at most 200 characters".into(),
            ));
        }
        check_free_text("display_name", &assignee.display_name)?;
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let path = self.holder_path(&mut tx, actor, &n).await?;
        lifecycle::check_customer_holds(&n, &me, &path)?;
        transition(NumberState::of(&n), Event::Assign).map_err(|e| e.violation())?;
        self.check_exchange_open(&mut tx, &n).await?;
        if n.assignees
            .iter()
            .any(|a| a.kind == assignee.kind && a.id == assignee.id)
        {
            return Err(ServiceError::Invalid(
                "the number is already assigned to that assignee".into(),
            ));
        }
        check_assignee_capacity(n.customization.capacity, n.assignees.len())?;
        let mut next = n.clone();
        next.assignees.push(assignee);
        self.commit_move(tx, actor, &n, next, "number.assign", Some(Rule::Asg1))
            .await
    }

    /// Remove an assignee; `assignee_id` is needed only when there are several.
    pub async fn unassign(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        assignee_id: Option<&str>,
    ) -> Result<Number> {
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let path = self.holder_path(&mut tx, actor, &n).await?;
        lifecycle::check_customer_holds(&n, &me, &path)?;
        let idx = match assignee_id {
            Some(id) => n
                .assignees
                .iter()
                .position(|a| a.id == id)
                .ok_or(ServiceError::NotFound("assignee"))?,
            None if n.assignees.len() == 1 => 0,
            None if n.assignees.is_empty() => {
                return Err(
                    transition(NumberState::of(&n), Event::Unassign { last: true })
                        .err()
                        .map(|e| ServiceError::Rule(e.violation()))
                        .unwrap_or(ServiceError::NotFound("assignee")),
                );
            }
            None => {
                return Err(ServiceError::Invalid(
                    "assignee_id: the number has several assignees; say which to remove".into(),
                ));
            }
        };
        transition(
            NumberState::of(&n),
            Event::Unassign {
                last: n.assignees.len() == 1,
            },
        )
        .map_err(|e| e.violation())?;
        let mut next = n.clone();
        next.assignees.remove(idx);
        self.commit_move(tx, actor, &n, next, "number.unassign", Some(Rule::Move2))
            .await
    }

    /// "View assignments" (seed 004) for a number in the actor's scope: its business, the
    /// units down to where it sits (those of them in the actor's scope), and its
    /// business-registration fields and assignees.
    pub async fn number_assignments(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<AssignmentsView> {
        let mut r = self.store.read().await?;
        let n = self.scoped_number(&mut r, actor, lookup).await?;
        // The path from the business down to the holder, each level named only when the
        // caller may see it (R-SEC-1): a unit's admin sees its own unit and below, not the
        // business or the units above it.
        let mut levels: Vec<Option<AccountRef>> = Vec::new();
        if let Some(customer) = n.customer_id {
            // A number with a customer is held by it or one of its units.
            let mut path = path_up_to(&mut r, n.holder_id, customer)
                .await?
                .unwrap_or_else(|| vec![n.holder_id]);
            path.reverse();
            for id in path {
                let level = if r.in_scope(actor.account, id).await? {
                    r.get_account(id).await?.map(|a| AccountRef {
                        id: a.id,
                        name: a.name,
                    })
                } else {
                    None
                };
                levels.push(level);
            }
        }
        let level = |i: usize| levels.get(i).cloned().flatten();
        let (business, business_unit, program) = (level(0), level(1), level(2));
        let units: Vec<AccountRef> = levels.iter().skip(1).flatten().cloned().collect();
        Ok(AssignmentsView {
            id: n.id,
            phone_number: n.phone_number.as_str().to_string(),
            business,
            business_unit,
            program,
            units,
            display_name: n.display_name,
            call_purpose: n.call_purpose,
            program_duration: n.program_duration,
            assignees: n.assignees,
        })
    }

    /// Move a number into a unit of the customer holding it, or back to the customer (R-MOVE-5).
    pub async fn move_to_unit(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        unit: AccountId,
    ) -> Result<Number> {
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let path = self.holder_path(&mut tx, actor, &n).await?;
        lifecycle::check_customer_holds(&n, &me, &path)?;
        transition(NumberState::of(&n), Event::MoveToUnit).map_err(|e| e.violation())?;
        let target = self.account_in_scope(&mut tx, actor, unit).await?;
        let customer = n
            .customer_id
            .ok_or_else(|| RuleViolation::new(Rule::Move5, "the number is not with a customer"))?;
        // The target, and the units above it up to the customer: it must be inside.
        let inside = target.id == customer || target.kind == AccountKind::Unit;
        let Some(mut path) = path_up_to(&mut tx, target.id, customer)
            .await?
            .filter(|_| inside)
        else {
            return Err(RuleViolation::new(
                Rule::Move5,
                "the unit is not inside the customer holding the number",
            )
            .into());
        };
        if target.id == n.holder_id {
            // Already there: nothing to change, nothing to record.
            return Ok(n);
        }
        // That path share-locked and active: a deactivation anywhere on it (R-OFF-1) waits for
        // this move and counts the number, or has committed and is seen here.
        path.sort();
        if !tx.lock_inactive_among(&path).await?.is_empty() {
            return Err(RuleViolation::new(
                Rule::Move5,
                "the unit, or a unit above it, is deactivated",
            )
            .into());
        }
        let mut next = n.clone();
        next.holder_id = target.id;
        self.commit_move(
            tx,
            actor,
            &n,
            next,
            "number.move_to_unit",
            Some(Rule::Move5),
        )
        .await
    }

    /// Release ("delete" on the customer side): back to the pool that allocated it, which
    /// sees it `returned` (R-MOVE-3).
    pub async fn release(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let path = self.holder_path(&mut tx, actor, &n).await?;
        let to = lifecycle::check_release(&n, &me, &path)?;
        // Share-locked and active: R-OFF-1 keeps a deactivated account empty, and a pool's
        // deactivation counts this number wherever it is, so this holds; the lock makes sure.
        let pool = tx
            .get_account_locked(to, Lock::Share)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        if pool.status != numberpool_domain::AccountStatus::Active {
            return Err(RuleViolation::new(
                Rule::Off1,
                "the pool the number would return to is deactivated",
            )
            .into());
        }
        let mut next = n.clone();
        next.holder_id = pool.id;
        next.position = Position::Returned;
        next.customer_id = None;
        // What the customer set for its own use leaves with it: the next customer must not
        // see the last one's display name or call purpose (R-SEC-1). The pool's settings
        // (trunk, billing, capabilities, carriers, attributes) stay until the unbind.
        next.display_name = None;
        next.call_purpose = None;
        next.program_duration = None;
        next.customization = Customization::default();
        // The pool's own allocator: none if it brought the number in, else its parent.
        next.allocated_from = if pool.id == n.uploaded_by {
            None
        } else {
            pool.parent_id
        };
        self.commit_move(tx, actor, &n, next, "number.release", Some(Rule::Move3))
            .await
    }

    /// Unbind a returned number: free again in the actor's pool (R-MOVE-4).
    pub async fn unbind(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        let (tx, n, me) = self.open_move(actor, lookup).await?;
        lifecycle::check_unbind(&n, &me)?;
        let mut next = n.clone();
        next.position = Position::Free;
        next.sip_trunk_id = None;
        next.billing_reference = None;
        next.service_info = None;
        self.commit_move(tx, actor, &n, next, "number.unbind", Some(Rule::Move4))
            .await
    }

    /// Remove a number from the platform (R-DEL-1, R-DEL-2); its history stays in the audit log.
    /// `if_version` (If-Match) guards against deleting a number changed since it was read.
    pub async fn delete_number(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        if_version: Option<i64>,
    ) -> Result<Number> {
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        check_version("number", n.version, if_version)?;
        lifecycle::check_delete(&n, &me)?;
        tx.delete_number_cas(n.id, n.version)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.insert_audit(&[actor.audit(
            "number",
            n.id.to_string(),
            "number.delete",
            Some(Rule::Del2),
            snapshot(&n),
            None,
        )])
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The number's history: its audit events, oldest first.
    pub async fn number_history(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<Vec<numberpool_store::AuditEvent>> {
        let mut r = self.store.read().await?;
        let n = self.scoped_number(&mut r, actor, lookup).await?;
        let mut events = r.number_history(n.id).await?;
        if actor.account == n.owner_id || actor.account == n.uploaded_by {
            return Ok(events);
        }
        // Anyone else sees the number's life since it was allocated into their branch: what
        // earlier holders did with it (their assignees, their billing) is theirs (R-SEC-1).
        let mut branch = r.ancestors(actor.account).await?;
        branch.push(actor.account);
        let branch: Vec<String> = branch.iter().map(ToString::to_string).collect();
        let start = events.iter().rposition(|e| {
            e.action == "number.allocate"
                && e.after
                    .as_ref()
                    .and_then(|a| a.get("holder_id"))
                    .and_then(|h| h.as_str())
                    .is_some_and(|h| branch.iter().any(|b| b == h))
        });
        Ok(match start {
            Some(i) => {
                let mut mine = events.split_off(i);
                // The state before the allocation into the viewer's branch was someone else's.
                if let Some(first) = mine.first_mut() {
                    first.before = None;
                }
                mine
            }
            None => vec![],
        })
    }
}
