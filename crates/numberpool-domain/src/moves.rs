//! The moves of SPEC §3 as pure functions. Each takes the number, who is moving it and from
//! where, and the target, and returns the changed [`Number`] (or why not). The service loads
//! what a move needs (under the locks it needs), calls one of these, and persists the result
//! with its compare-and-set and audit event: which fields a move changes is decided here and
//! nowhere else. A new state (reservations, porting) needs a row in the lifecycle table and a
//! function here.

use std::collections::{BTreeMap, HashMap};

use crate::E164;
use crate::account::{Account, AccountKind, AccountStatus};
use crate::exchange::ExchangeStatus;
use crate::ids::{AccountId, AuditId, CarrierId, NumberId, TrunkId};
use crate::lifecycle::{
    self, Dest, Event, NumberState, Relation, check_customer_holds, transition,
};
use crate::number::{
    Assignee, Capabilities, Customization, Held, NewNumber, Number, NumberPatch, NumberStatus,
    Position, Product, apply_patch, check_assignee_capacity, check_customization, initial_type,
};
use crate::provider::CarrierKind;
use crate::rules::{Rule, RuleViolation};

/// Why a move is refused: a rule, something it names that the mover cannot see, or input that
/// makes no sense for this number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveError {
    Rule(RuleViolation),
    /// Named but absent or out of the mover's scope (R-SEC-1): "account", "assignee", …
    NotFound(&'static str),
    /// The message names the field.
    Invalid(String),
}

impl From<RuleViolation> for MoveError {
    fn from(v: RuleViolation) -> Self {
        MoveError::Rule(v)
    }
}

/// The table's verdict on `event` for `n`, as a move error.
fn table(n: &Number, event: Event) -> Result<NumberState, MoveError> {
    transition(NumberState::of(n), event).map_err(|e| MoveError::Rule(e.violation()))
}

/// Who moves a number: the acting account and, when it is not the holder itself, the holder's
/// ancestors (a customer acting on a number that sits in one of its units).
#[derive(Debug, Clone, Copy)]
pub struct Mover<'a> {
    pub account: &'a Account,
    pub holder_path: &'a [AccountId],
}

impl<'a> Mover<'a> {
    pub fn new(account: &'a Account, holder_path: &'a [AccountId]) -> Self {
        Mover {
            account,
            holder_path,
        }
    }
}

/// The source of a provider's number; its voice carrier's name follows.
pub const BYOC: &str = "BYOC - Cloud";

/// A provider number's `source` for its voice carrier (SPEC §2).
pub fn byoc_source(voice_carrier_name: Option<&str>) -> String {
    match voice_carrier_name {
        Some(name) => format!("{BYOC} {name}"),
        None => BYOC.to_string(),
    }
}

/// Where an add puts its numbers and what it gives them, worked out once per batch.
#[derive(Debug, Clone)]
pub struct AddTarget {
    pub dest: Dest,
    /// The adding account: holder and uploader.
    pub holder: AccountId,
    /// The root that owns what is added (SPEC §3).
    pub owner: AccountId,
    /// The owner's default carriers (SPEC §2: a capability that is on gets its kind's default).
    pub default_voice: Option<(CarrierId, String)>,
    pub default_sms: Option<CarrierId>,
    /// Names of the carriers the batch names (checked to be the owner's, of the right kind).
    pub carrier_names: HashMap<CarrierId, String>,
    pub add_event: AuditId,
    pub now: i64,
}

impl AddTarget {
    /// Where `adder` may add numbers: its pool (providers and resellers), or itself as a
    /// customer allowed external numbers (R-ACC-2).
    pub fn dest_for(adder: &Account) -> Result<Dest, RuleViolation> {
        if adder.kind.holds_pool() {
            Ok(Dest::Pool)
        } else if adder.kind == AccountKind::Customer && adder.allow_external_numbers {
            Ok(Dest::Customer)
        } else {
            Err(RuleViolation::new(
                Rule::Acc2,
                "this account cannot add numbers: only providers, resellers and customers allowed external numbers can",
            ))
        }
    }
}

/// Add (R-NUM-1 is the store's unique index; the rest is here): the number as it will be
/// stored, or the field rule one of its fields breaks. Refusals name the number.
pub fn add(phone_number: E164, f: NewNumber, to: &AddTarget) -> Result<Number, MoveError> {
    let state = transition(NumberState::Absent, Event::Add(to.dest))
        .map_err(|e| MoveError::Rule(e.violation()))?;
    let product = f.product.unwrap_or(Product::Unallocated);
    let customization = f.customization.unwrap_or_default();
    let capabilities = f.capabilities.unwrap_or(Capabilities {
        voice: true,
        ..Default::default()
    });
    check_customization(product, &customization)
        .map_err(|v| RuleViolation::new(v.rule, format!("{phone_number}: {}", v.message)))?;
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
            return Err(MoveError::Invalid(format!(
                "{phone_number}: {field}: the number's {what} capability is off; turn it on or leave the carrier out"
            )));
        }
    }
    let (voice_carrier, sms_carrier, source) = match to.dest {
        // A customer's own number has no provider, so no carrier (R-ACC-2).
        Dest::Customer => (None, None, "external".to_string()),
        Dest::Pool => {
            let voice = match (capabilities.voice, f.voice_carrier_id) {
                (false, _) => None,
                (true, Some(v)) => Some((v, to.carrier_names.get(&v).map(String::as_str))),
                (true, None) => to
                    .default_voice
                    .as_ref()
                    .map(|(id, name)| (*id, Some(name.as_str()))),
            };
            let source = byoc_source(voice.and_then(|(_, name)| name));
            let sms = f
                .sms_carrier_id
                .or(to.default_sms.filter(|_| capabilities.sms));
            (voice.map(|(id, _)| id), sms, source)
        }
    };
    // What the upload gives wins; a US or Canadian number's state and city are derived
    // where it gives none (`geo`).
    let (region_state, city) = crate::geo::settle(&phone_number, f.region_state, f.city);
    Ok(Number {
        id: NumberId::new(),
        number_type: initial_type(&phone_number, f.number_type),
        fine_type: phone_number.fine_type(),
        phone_number,
        region_state,
        city,
        product,
        status: f.status.unwrap_or(NumberStatus::Normal),
        position: state.position().unwrap_or(Position::Free),
        holder_id: to.holder,
        customer_id: (to.dest == Dest::Customer).then_some(to.holder),
        allocated_from: None,
        owner_id: to.owner,
        uploaded_by: to.holder,
        assignees: vec![],
        sip_trunk_id: f.sip_trunk_id,
        billing_reference: f.billing_reference,
        service_info: f.service_info,
        capabilities,
        voice_carrier_id: voice_carrier,
        sms_carrier_id: sms_carrier,
        customization,
        call_purpose: f.call_purpose,
        display_name: f.display_name,
        program_duration: f.program_duration,
        attributes: f.attributes,
        source,
        block_id: None,
        port_order_id: None,
        reservation: None,
        add_event_id: Some(to.add_event),
        created_at: to.now,
        updated_at: to.now,
        version: 1,
    })
}

/// What an allocation carries besides the target (SPEC §8.1 allocate body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocation {
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
}

/// Allocate (R-MOVE-1, R-ALLOC-1): from `by`'s pool to a reseller's pool or to a customer.
pub fn allocate(
    n: &Number,
    by: &Account,
    target: &Account,
    relation: Relation,
    with: Allocation,
) -> Result<Number, MoveError> {
    let dest = lifecycle::check_allocate(n, by, target, relation)?;
    let trunk = with.sip_trunk_id.or(n.sip_trunk_id);
    if dest == Dest::Customer && trunk.is_none() {
        return Err(MoveError::Invalid(
            "sip_trunk_id is required when a number goes to a customer".into(),
        ));
    }
    let mut next = n.clone();
    next.sip_trunk_id = trunk;
    next.holder_id = target.id;
    next.allocated_from = Some(by.id);
    next.position = match dest {
        Dest::Pool => Position::Free,
        Dest::Customer => Position::Held,
    };
    next.customer_id = (dest == Dest::Customer).then_some(target.id);
    // The account it was held for has it now: the reservation is done with it.
    next.reservation = None;
    if with.billing_reference.is_some() {
        next.billing_reference = with.billing_reference;
    }
    if with.service_info.is_some() {
        next.service_info = with.service_info;
    }
    Ok(next)
}

/// R-ACC-1: a provider's number with a connected customer is assigned only while the connection
/// is `connected` (`connection` is its status, `None` when the number comes through no
/// connection).
fn check_exchange_open(connection: Option<ExchangeStatus>) -> Result<(), RuleViolation> {
    match connection {
        Some(s) if s != ExchangeStatus::Connected => Err(RuleViolation::new(
            Rule::Acc1,
            "disconnection from this number's provider has been requested; its numbers can \
             no longer be assigned",
        )),
        _ => Ok(()),
    }
}

/// Assign to a user, call queue, … (R-MOVE-2, R-ACC-1, R-ASG-1).
pub fn assign(
    n: &Number,
    by: Mover<'_>,
    assignee: Assignee,
    connection: Option<ExchangeStatus>,
) -> Result<Number, MoveError> {
    check_customer_holds(n, by.account, by.holder_path)?;
    table(n, Event::Assign)?;
    check_exchange_open(connection)?;
    if n.assignees
        .iter()
        .any(|a| a.kind == assignee.kind && a.id == assignee.id)
    {
        return Err(MoveError::Invalid(
            "the number is already assigned to that assignee".into(),
        ));
    }
    check_assignee_capacity(n.customization.capacity, n.assignees.len())?;
    let mut next = n.clone();
    next.assignees.push(assignee);
    Ok(next)
}

/// Remove an assignee (R-MOVE-2); `assignee_id` is needed only when there are several.
pub fn unassign(n: &Number, by: Mover<'_>, assignee_id: Option<&str>) -> Result<Number, MoveError> {
    check_customer_holds(n, by.account, by.holder_path)?;
    let idx = match assignee_id {
        Some(id) => n
            .assignees
            .iter()
            .position(|a| a.id == id)
            .ok_or(MoveError::NotFound("assignee"))?,
        None if n.assignees.len() == 1 => 0,
        None if n.assignees.is_empty() => {
            table(n, Event::Unassign { last: true })?;
            return Err(MoveError::NotFound("assignee"));
        }
        None => {
            return Err(MoveError::Invalid(
                "assignee_id: the number has several assignees; say which to remove".into(),
            ));
        }
    };
    table(
        n,
        Event::Unassign {
            last: n.assignees.len() == 1,
        },
    )?;
    let mut next = n.clone();
    next.assignees.remove(idx);
    Ok(next)
}

/// Where a move to a unit goes, as the service found it: the target account (`None` when it is
/// not in the mover's scope), the accounts from it up to the customer holding the number
/// (`None` when the customer is not among them), and whether any of those is deactivated.
#[derive(Debug, Clone, Copy)]
pub struct UnitTarget<'a> {
    pub account: Option<&'a Account>,
    pub path_to_customer: Option<&'a [AccountId]>,
    pub path_inactive: bool,
}

/// Move into a unit of the customer holding the number, or back to the customer (R-MOVE-5).
/// `Ok(None)`: it is there already, nothing changes.
pub fn move_to_unit(
    n: &Number,
    by: Mover<'_>,
    to: UnitTarget<'_>,
) -> Result<Option<Number>, MoveError> {
    check_customer_holds(n, by.account, by.holder_path)?;
    table(n, Event::MoveToUnit)?;
    let target = to.account.ok_or(MoveError::NotFound("account"))?;
    let customer = n
        .customer_id
        .ok_or_else(|| RuleViolation::new(Rule::Move5, "the number is not with a customer"))?;
    let inside = target.id == customer || target.kind == AccountKind::Unit;
    if !inside || to.path_to_customer.is_none() {
        return Err(RuleViolation::new(
            Rule::Move5,
            "the unit is not inside the customer holding the number",
        )
        .into());
    }
    if target.id == n.holder_id {
        return Ok(None);
    }
    if to.path_inactive {
        return Err(RuleViolation::new(
            Rule::Move5,
            "the unit, or a unit above it, is deactivated",
        )
        .into());
    }
    let mut next = n.clone();
    next.holder_id = target.id;
    Ok(Some(next))
}

/// The first half of a release (R-MOVE-3): may `by` release `n`, and to which pool? The
/// service locks that pool before [`release`].
pub fn release_to(n: &Number, by: Mover<'_>) -> Result<AccountId, MoveError> {
    Ok(lifecycle::check_release(n, by.account, by.holder_path)?)
}

/// Release ("delete" on the customer side): back to `pool` (from [`release_to`]), which sees it
/// `returned` (R-MOVE-3, R-OFF-1).
pub fn release(n: &Number, pool: &Account) -> Result<Number, MoveError> {
    if pool.status != AccountStatus::Active {
        return Err(RuleViolation::new(
            Rule::Off1,
            "the pool the number would return to is deactivated",
        )
        .into());
    }
    table(n, Event::Release)?;
    let mut next = n.clone();
    next.holder_id = pool.id;
    next.position = Position::Returned;
    next.customer_id = None;
    // What the customer set for its own use leaves with it: the next customer must not see the
    // last one's display name or call purpose (R-SEC-1). The pool's settings (trunk, billing,
    // capabilities, carriers, attributes) stay until the unbind.
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
    Ok(next)
}

/// Unbind a returned number: free again in `by`'s pool, without the last allocation's trunk
/// and billing (R-MOVE-4).
pub fn unbind(n: &Number, by: &Account) -> Result<Number, MoveError> {
    lifecycle::check_unbind(n, by)?;
    let mut next = n.clone();
    next.position = Position::Free;
    next.sip_trunk_id = None;
    next.billing_reference = None;
    next.service_info = None;
    Ok(next)
}

/// Reserve (R-RES-1): a free, active number of `by`'s own pool, held as `held` says.
pub fn reserve(n: &Number, by: &Account, held: Held) -> Result<Number, MoveError> {
    if !by.kind.holds_pool() || n.holder_id != by.id {
        return Err(RuleViolation::new(
            Rule::Res1,
            "only a free number of your own pool can be reserved",
        )
        .into());
    }
    table(n, Event::Reserve)?;
    if n.status != NumberStatus::Normal {
        return Err(RuleViolation::new(
            Rule::Res1,
            "a pending number cannot be reserved: it is not active with its carrier yet",
        )
        .into());
    }
    let mut next = n.clone();
    next.reservation = Some(held);
    Ok(next)
}

/// Unreserve: the reservation ends (released early, or run out) and the number is free.
pub fn unreserve(n: &Number) -> Result<Number, MoveError> {
    table(n, Event::Unreserve)?;
    let mut next = n.clone();
    next.reservation = None;
    Ok(next)
}

/// Delete (R-DEL-1, R-DEL-2; R-ACC-2 for a customer's own numbers): the number leaves the
/// platform, so there is no next state to return.
pub fn delete(n: &Number, by: &Account) -> Result<(), MoveError> {
    Ok(lifecycle::check_delete(n, by)?)
}

/// The owner's carriers an edit may need, looked up by the service before [`edit`]: the
/// default of each kind, and the names of the voice carriers involved (for `source`).
#[derive(Debug, Clone, Default)]
pub struct CarrierContext {
    pub default_voice: Option<CarrierId>,
    pub default_sms: Option<CarrierId>,
    pub names: BTreeMap<CarrierId, String>,
}

/// Whether an edit touches capabilities or carriers (and so needs a [`CarrierContext`]).
pub fn edit_touches_carriers(patch: &NumberPatch) -> bool {
    patch.capabilities.is_some()
        || patch.voice_carrier_id.is_some()
        || patch.sms_carrier_id.is_some()
}

/// Edit (R-EDIT-1 and the field rules), then SPEC §2 on capabilities and carriers: a
/// capability that this edit turns on (or whose carrier it clears with `null`) and that has no
/// carrier gets the owner's default of its kind; one that is off has none, and naming a carrier
/// for it is refused. R-CAP-1 then applies to the outcome: turning a capability on or off
/// changes the number's carriers too.
pub fn edit(
    n: &Number,
    patch: &NumberPatch,
    carriers: &CarrierContext,
) -> Result<Number, MoveError> {
    let mut next = apply_patch(n, patch)?;
    if !edit_touches_carriers(patch) {
        return Ok(next);
    }
    for kind in CarrierKind::ALL {
        let (on, was_on, named, slot, field, default) = match kind {
            CarrierKind::Voice => (
                next.capabilities.voice,
                n.capabilities.voice,
                patch.voice_carrier_id,
                &mut next.voice_carrier_id,
                "voice_carrier_id",
                carriers.default_voice,
            ),
            CarrierKind::Sms => (
                next.capabilities.sms,
                n.capabilities.sms,
                patch.sms_carrier_id,
                &mut next.sms_carrier_id,
                "sms_carrier_id",
                carriers.default_sms,
            ),
        };
        if !on {
            if let Some(Some(_)) = named {
                return Err(MoveError::Invalid(format!(
                    "{field}: the number's {} capability is off; turn it on or send null",
                    kind.as_str()
                )));
            }
            *slot = None;
        } else if slot.is_none() && (!was_on || named == Some(None)) {
            // Only when this edit turns the capability on or clears the carrier: an edit that
            // resends the capabilities as they are changes nothing (R-CAP-1 would refuse it on
            // an assigned number that predates its provider's default).
            *slot = default;
        }
    }
    let changed =
        next.voice_carrier_id != n.voice_carrier_id || next.sms_carrier_id != n.sms_carrier_id;
    // A provider's number shows its voice carrier in its source (SPEC §2): keep it true.
    if next.voice_carrier_id != n.voice_carrier_id && next.source.starts_with(BYOC) {
        next.source = byoc_source(
            next.voice_carrier_id
                .and_then(|id| carriers.names.get(&id))
                .map(String::as_str),
        );
    }
    if changed && !n.assignees.is_empty() {
        return Err(RuleViolation::new(
            Rule::Cap1,
            "this changes the number's carriers (a capability turned on or off), which \
             can change only while it has no assignee; unassign it first",
        )
        .into());
    }
    Ok(next)
}
