//! Adding numbers in two steps. The planner takes rows and answers, per row, the number it will
//! create or why not (a `ServiceError` with its code, rule and message), with a handful of
//! queries per batch whatever its size: duplicates inside the batch, numbers already on the
//! platform (without saying whose), trunks and carriers that are not the owner's, attribute
//! values the provider does not allow, and every field rule (`numberpool_domain::moves::add`).
//! The commit writes the accepted numbers and one audit event for the batch, in one transaction.
//! The API's batch add is all-or-nothing unless asked for partial acceptance; imports plan first
//! (a dry run) and commit later.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use numberpool_domain::moves::{self, AddTarget};
use numberpool_domain::{
    Account, AccountId, Action, Attribute, AuditId, CarrierId, CarrierKind, Dest, Number, NumberId,
    Rule, RuleViolation, TrunkId,
};
use numberpool_store::{Lock, PreparedNumbers, Reader, Tx};

use super::{AddNumber, carrier_not_found, check_free_text};
use crate::service::progress::Progress;
use crate::service::{Actor, Permission, Result, Service, ServiceError};

/// Rows per insert statement (a request's batch is at most this many; an add file's slices go
/// in through `Service::commit_prepared`).
const INSERT_SLICE: usize = 10_000;

/// How a batch add treats rejected rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddMode {
    /// Any rejected row refuses the whole batch (the API's default).
    #[default]
    AllOrNothing,
    /// The accepted rows are added; each rejected row says why.
    Partial,
}

/// The planner's answer for one row: the number it will add, or why not.
pub type PlannedRow = std::result::Result<Number, RowRejection>;

/// Why a row is refused, and at which stage of the checks (an all-or-nothing batch reports the
/// earliest stage's first row, which is what the add answered before the planner existed).
#[derive(Debug)]
pub struct RowRejection {
    stage: u8,
    pub error: ServiceError,
}

impl RowRejection {
    fn at(stage: u8, error: impl Into<ServiceError>) -> Self {
        RowRejection {
            stage,
            error: error.into(),
        }
    }
}

/// A partial add's answer: every row's outcome, in the request's order.
#[derive(Debug)]
pub struct AddOutcome {
    pub rows: Vec<PlannedRow>,
}

impl AddOutcome {
    pub fn added(&self) -> impl Iterator<Item = &Number> {
        self.rows.iter().filter_map(|r| r.as_ref().ok())
    }
}

const STAGE_TEXT: u8 = 1;
const STAGE_ATTRIBUTES: u8 = 3;
const STAGE_RESOURCES: u8 = 4;
const STAGE_FIELDS: u8 = 5;
const STAGE_EXISTS: u8 = 6;

/// A provider's attribute keys, for checking many rows against one read.
pub(crate) type AttributeKeys = BTreeMap<String, Attribute>;

/// R-ATTR-1's other half: every key is one of the provider's and every value one it allows.
pub(crate) fn check_attribute_map(
    keys: &AttributeKeys,
    m: &BTreeMap<String, String>,
) -> Result<()> {
    for (k, v) in m {
        let Some(a) = keys.get(k) else {
            return Err(ServiceError::Invalid(format!(
                "attributes: {k:?} is not an attribute key of the number's provider"
            )));
        };
        if !a.allowed_values.iter().any(|x| x == v) {
            return Err(ServiceError::Invalid(format!(
                "attributes: {v:?} is not an allowed value of {k:?}"
            )));
        }
    }
    Ok(())
}

impl Service {
    /// Where the actor's adds go (its pool, or itself as a customer allowed external numbers)
    /// and what they get from the owner (default carriers). `above` is the accounts above
    /// `me`, nearest first, as the caller already read them.
    pub(in crate::service) async fn add_target(
        &self,
        r: &mut Reader,
        me: &Account,
        above: &[AccountId],
    ) -> Result<AddTarget> {
        let dest = AddTarget::dest_for(me)?;
        // The root of the tree owns what a pool adds (SPEC §3); a customer owns its own.
        let owner = match dest {
            Dest::Pool => above.last().copied().unwrap_or(me.id),
            Dest::Customer => me.id,
        };
        // SPEC §2: a capability that is on gets the provider's default carrier of its kind; a
        // customer's own numbers have no provider, so no carrier.
        let (default_voice, default_sms) = match dest {
            Dest::Pool => (
                r.default_carrier(owner, CarrierKind::Voice.as_str())
                    .await?,
                r.default_carrier(owner, CarrierKind::Sms.as_str())
                    .await?
                    .map(|(id, _)| id),
            ),
            Dest::Customer => (None, None),
        };
        Ok(AddTarget {
            dest,
            holder: me.id,
            owner,
            default_voice,
            default_sms,
            carrier_names: HashMap::new(),
            add_event: AuditId::new(),
            now: self.now(),
        })
    }

    /// Plans `rows` for `to` on `r`; `check_existing` asks the platform which are there already
    /// (one query per 1,000 rows). An all-or-nothing commit leaves that to the unique index,
    /// which answers the same for no extra query.
    pub(in crate::service) async fn plan_rows(
        &self,
        r: &mut Reader,
        to: &mut AddTarget,
        rows: Vec<AddNumber>,
        check_existing: bool,
    ) -> Result<Plan> {
        let ask = FactsAsk::of(&rows, check_existing);
        let facts = self.plan_facts(r, to.dest, to.owner, ask).await?;
        Ok(plan_with(to, rows, facts))
    }

    /// What a batch's plan reads from the store: a handful of queries whatever the batch's
    /// size. Kept apart from the checks themselves ([`plan_with`]) so that an add file checks
    /// one slice on another thread while the store writes the slice before it.
    pub(in crate::service) async fn plan_facts(
        &self,
        r: &mut Reader,
        dest: Dest,
        owner: AccountId,
        ask: FactsAsk,
    ) -> Result<PlanFacts> {
        let mut facts = PlanFacts::default();
        // Attributes: one read of the owner's keys for the batch.
        if ask.attributes {
            facts.keys = Some(
                r.list_attributes(owner)
                    .await?
                    .into_iter()
                    .map(|a| (a.key.clone(), a))
                    .collect(),
            );
        }
        // The trunks and carriers the rows name, looked up once each (a 10,000-row batch
        // names a few): each must be the owner's and of the right kind.
        if dest == Dest::Pool {
            for t in ask.trunks {
                if r.trunk_provider(t).await? != Some(owner) {
                    facts.bad_trunks.insert(t);
                }
            }
            for (id, kind) in ask.carriers {
                match r.get_carrier(id).await? {
                    Some(c) if c.provider_id == owner && c.kind == kind => {
                        facts.carrier_names.insert(id, c.name);
                    }
                    _ => {
                        facts.bad_carriers.insert(id, kind);
                    }
                }
            }
        }
        // Numbers on the platform already, in any tenant (R-NUM-1); the answer does not say whose.
        if let Some(e164s) = ask.e164s {
            let e164s: Vec<&str> = e164s.iter().map(String::as_str).collect();
            facts.existing = r.existing_e164s(&e164s).await?.into_iter().collect();
        }
        Ok(facts)
    }

    /// Opens an add: the write transaction, the acting account, and the account with those
    /// above it share-locked and active. A deactivation in the chain (R-OFF-1) waits for this
    /// add and counts its numbers, or is seen here.
    /// Also returns the accounts above, nearest first, for [`Service::add_target`].
    pub(in crate::service) async fn open_add(
        &self,
        actor: &Actor,
    ) -> Result<(Tx, Account, Vec<AccountId>)> {
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        let above = tx.ancestors(me.id).await?;
        let mut chain = above.clone();
        chain.push(me.id);
        chain.sort();
        if !tx.lock_inactive_among(&chain).await?.is_empty() {
            return Err(chain_deactivated());
        }
        Ok((tx, me, above))
    }

    /// The plan of an add without writing anything: what each row would become (a dry run).
    pub async fn plan_add(&self, actor: &Actor, rows: Vec<AddNumber>) -> Result<Vec<PlannedRow>> {
        actor.require(Permission::NumberWrite)?;
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        if r.deactivated_in_chain(me.id).await? {
            return Err(chain_deactivated());
        }
        let above = r.ancestors(me.id).await?;
        let mut to = self.add_target(&mut r, &me, &above).await?;
        Ok(self
            .plan_rows(&mut r, &mut to, rows, true)
            .await?
            .into_rows())
    }

    /// Adds numbers to the actor's pool (or, for a customer with R-ACC-2, as its own), all in
    /// one transaction: every number is added or none is.
    pub async fn add_numbers(&self, actor: &Actor, adds: Vec<AddNumber>) -> Result<Vec<Number>> {
        if adds.is_empty() {
            return Ok(vec![]);
        }
        Ok(self
            .add_plan(actor, adds, AddMode::AllOrNothing)
            .await?
            .numbers)
    }

    /// Adds the rows the planner accepts in one transaction. All-or-nothing: the first refusal
    /// (by stage, then row) refuses the batch. Partial: the accepted rows are added and every
    /// row's outcome comes back, in order.
    pub async fn add_planned(
        &self,
        actor: &Actor,
        adds: Vec<AddNumber>,
        mode: AddMode,
    ) -> Result<AddOutcome> {
        let plan = self.add_plan(actor, adds, mode).await?;
        Ok(AddOutcome {
            rows: plan.into_rows(),
        })
    }

    async fn add_plan(&self, actor: &Actor, adds: Vec<AddNumber>, mode: AddMode) -> Result<Plan> {
        actor.require(Permission::NumberWrite)?;
        let (mut tx, me, above) = self.open_add(actor).await?;
        let mut to = self.add_target(&mut tx, &me, &above).await?;
        if adds.iter().any(|a| !a.fields.attributes.is_empty()) {
            // The provider's row shared: an attribute's removal (R-ATTR-1) waits for this add.
            tx.get_account_locked(to.owner, Lock::Share).await?;
        }
        let mut plan = self
            .plan_rows(&mut tx, &mut to, adds, mode == AddMode::Partial)
            .await?;
        if mode == AddMode::AllOrNothing
            && let Some(refused) = plan.first_refusal()
        {
            return Err(refused.error);
        }
        if !plan.numbers.is_empty() {
            self.commit_add(
                &mut tx,
                actor,
                &me,
                to.add_event,
                &mut plan.numbers,
                &Progress::none(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(plan)
    }

    /// Inserts `numbers` and the batch's one audit event, `add_event` (the id their
    /// `add_event_id` names: `AddTarget::add_event` when they were planned).
    pub(in crate::service) async fn commit_add(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        me: &Account,
        add_event: AuditId,
        numbers: &mut [Number],
        progress: &Progress,
    ) -> Result<()> {
        // Rows go in in E.164 order, so two batches that share numbers take the unique index's
        // entries in the same order: one waits for the other and then gets R-NUM-1, where
        // request order could deadlock them on PostgreSQL. The answer keeps the request's order.
        let order: HashMap<NumberId, usize> =
            numbers.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        numbers.sort_unstable_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()));
        // In slices, so that progress shows the rows going in; a request's batch (at most
        // 10,000 rows) is one slice.
        for chunk in numbers.chunks(INSERT_SLICE) {
            tx.insert_numbers(chunk).await?;
            progress.written(chunk.len() as u64);
        }
        numbers.sort_unstable_by_key(|n| order.get(&n.id).copied().unwrap_or(usize::MAX));
        self.record_add_event(tx, actor, add_event, add_event_body(me.id, numbers))
            .await
    }

    /// [`Service::commit_add`] for a batch made ready off the connection (an add file's
    /// slice): `batch` in E.164 order, `body` its event's (`add_event_body` of the numbers in
    /// the order they were asked for).
    pub(in crate::service) async fn commit_prepared(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        add_event: AuditId,
        batch: &PreparedNumbers,
        body: serde_json::Value,
        progress: &Progress,
    ) -> Result<()> {
        tx.insert_prepared(batch).await?;
        progress.written(batch.numbers().len() as u64);
        self.record_add_event(tx, actor, add_event, body).await
    }

    /// One event for the batch, which every added number points at (`add_event_id`); the
    /// number's history starts with it.
    async fn record_add_event(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        add_event: AuditId,
        body: serde_json::Value,
    ) -> Result<()> {
        let event = actor.event(
            Action::NumberAdd,
            add_event.to_string(),
            Some(Rule::Num1),
            None,
            Some(body),
        );
        tx.record_as(add_event, &event).await?;
        Ok(())
    }

    /// The owner's attribute keys, read under a share lock on its row so that an attribute's
    /// removal (R-ATTR-1) waits for the write that uses it.
    pub(in crate::service) async fn locked_attribute_keys(
        &self,
        tx: &mut Tx,
        owner: AccountId,
    ) -> Result<AttributeKeys> {
        tx.get_account_locked(owner, Lock::Share).await?;
        Ok(tx
            .list_attributes(owner)
            .await?
            .into_iter()
            .map(|a| (a.key.clone(), a))
            .collect())
    }
}

/// A planned batch: each row's refusal, if any, and the accepted rows' numbers in row order
/// (kept apart so that a 10,000-row batch is one vector of numbers, as it is inserted).
pub(in crate::service) struct Plan {
    pub(in crate::service) refused: Vec<Option<RowRejection>>,
    pub(in crate::service) numbers: Vec<Number>,
}

impl Plan {
    /// The refusal an all-or-nothing batch answers with: the earliest check stage, then the
    /// first row.
    pub(in crate::service) fn first_refusal(&mut self) -> Option<RowRejection> {
        let i = self
            .refused
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (r.stage, i)))
            .min()
            .map(|(_, i)| i)?;
        self.refused.get_mut(i).and_then(Option::take)
    }

    /// Every row's outcome, in order.
    pub(in crate::service) fn into_rows(self) -> Vec<PlannedRow> {
        let mut numbers = self.numbers.into_iter();
        self.refused
            .into_iter()
            .filter_map(|r| match r {
                Some(r) => Some(Err(r)),
                None => numbers.next().map(Ok),
            })
            .collect()
    }
}

/// The body of a batch's add event: its numbers in the order they were asked for.
pub(in crate::service) fn add_event_body(
    holder: AccountId,
    numbers: &[Number],
) -> serde_json::Value {
    serde_json::json!({
        "count": numbers.len(),
        "holder_id": holder,
        "position": numbers.first().map(|n| n.position),
        // Each number's source (its voice carrier may be named per row), once each.
        "sources": numbers
            .iter()
            .map(|n| n.source.as_str())
            .collect::<BTreeSet<_>>(),
        "phone_numbers": numbers.iter().map(|n| n.phone_number.as_str()).collect::<Vec<_>>(),
    })
}

/// What a batch's plan needs to read, taken from its rows before it is planned.
#[derive(Debug, Default)]
pub(in crate::service) struct FactsAsk {
    /// Some row sets attributes: the owner's keys are read.
    attributes: bool,
    trunks: BTreeSet<TrunkId>,
    carriers: HashSet<(CarrierId, CarrierKind)>,
    /// The E.164s to look for on the platform, when asked to.
    e164s: Option<Vec<String>>,
}

impl FactsAsk {
    pub(in crate::service) fn of(rows: &[AddNumber], check_existing: bool) -> Self {
        FactsAsk {
            attributes: rows.iter().any(|a| !a.fields.attributes.is_empty()),
            trunks: rows.iter().filter_map(|a| a.fields.sip_trunk_id).collect(),
            carriers: rows
                .iter()
                .flat_map(|a| {
                    let f = &a.fields;
                    [
                        f.voice_carrier_id.map(|c| (c, CarrierKind::Voice)),
                        f.sms_carrier_id.map(|c| (c, CarrierKind::Sms)),
                    ]
                })
                .flatten()
                .collect(),
            e164s: check_existing.then(|| {
                rows.iter()
                    .map(|a| a.phone_number.as_str().to_owned())
                    .collect()
            }),
        }
    }
}

/// What [`Service::plan_facts`] read for a batch.
#[derive(Debug, Default)]
pub(in crate::service) struct PlanFacts {
    keys: Option<AttributeKeys>,
    bad_trunks: HashSet<TrunkId>,
    bad_carriers: HashMap<CarrierId, CarrierKind>,
    /// The named carriers that are the owner's, for the numbers' `source`.
    carrier_names: HashMap<CarrierId, String>,
    existing: HashSet<String>,
}

/// Plans `rows` for `to` against what was read for them: each row's refusal at the earliest
/// stage that refuses it, or its number. No store access: this runs on any thread.
pub(in crate::service) fn plan_with(
    to: &mut AddTarget,
    rows: Vec<AddNumber>,
    facts: PlanFacts,
) -> Plan {
    let mut out: Vec<Option<RowRejection>> = Vec::with_capacity(rows.len());
    let mut seen = HashSet::with_capacity(rows.len());
    for a in &rows {
        out.push(row_text(a, &mut seen).err());
    }
    drop(seen);
    if let Some(keys) = &facts.keys {
        for (a, o) in rows.iter().zip(out.iter_mut()) {
            if o.is_none()
                && let Err(e) = check_attribute_map(keys, &a.fields.attributes)
            {
                *o = Some(RowRejection::at(STAGE_ATTRIBUTES, e));
            }
        }
    }
    to.carrier_names.extend(facts.carrier_names);
    for (a, o) in rows.iter().zip(out.iter_mut()) {
        if o.is_some() {
            continue;
        }
        let f = &a.fields;
        let named =
            f.sip_trunk_id.is_some() || f.voice_carrier_id.is_some() || f.sms_carrier_id.is_some();
        if !named {
            continue;
        }
        // A customer's own numbers name no trunk or carrier.
        let refusal = if to.dest == Dest::Customer {
            Some(ServiceError::Invalid(
                "sip_trunk_id, voice_carrier_id, sms_carrier_id: a customer's own numbers use \
                 no provider's trunk or carrier"
                    .into(),
            ))
        } else if f
            .sip_trunk_id
            .is_some_and(|t| facts.bad_trunks.contains(&t))
        {
            Some(ServiceError::NotFound("SIP trunk"))
        } else {
            [f.voice_carrier_id, f.sms_carrier_id]
                .into_iter()
                .flatten()
                .find_map(|c| facts.bad_carriers.get(&c))
                .map(|kind| carrier_not_found(*kind))
        };
        if let Some(e) = refusal {
            *o = Some(RowRejection::at(STAGE_RESOURCES, e));
        }
    }
    let mut numbers = Vec::with_capacity(rows.len());
    for (a, o) in rows.into_iter().zip(out.iter_mut()) {
        if o.is_some() {
            continue;
        }
        if facts.existing.contains(a.phone_number.as_str()) {
            *o = Some(RowRejection::at(
                STAGE_EXISTS,
                ServiceError::NumberAlreadyExists(a.phone_number.to_string()),
            ));
            continue;
        }
        match moves::add(a.phone_number, a.fields, to) {
            Ok(n) => numbers.push(n),
            Err(e) => *o = Some(RowRejection::at(STAGE_FIELDS, e)),
        }
    }
    Plan {
        refused: out,
        numbers,
    }
}

/// A row's own checks: given once in the batch (R-NUM-1) and bounded, printable free text.
fn row_text<'a>(
    a: &'a AddNumber,
    seen: &mut HashSet<&'a str>,
) -> std::result::Result<(), RowRejection> {
    if !seen.insert(a.phone_number.as_str()) {
        return Err(RowRejection::at(
            STAGE_TEXT,
            ServiceError::NumberAlreadyExists(format!(
                "{} (given twice in one request)",
                a.phone_number
            )),
        ));
    }
    let f = &a.fields;
    for (field, v) in [
        ("billing_reference", &f.billing_reference),
        ("service_info", &f.service_info),
        ("call_purpose", &f.call_purpose),
        ("display_name", &f.display_name),
        ("program_duration", &f.program_duration),
        ("state", &f.region_state),
        ("city", &f.city),
    ] {
        check_free_text(field, v).map_err(|e| RowRejection::at(STAGE_TEXT, e))?;
    }
    Ok(())
}

/// R-OFF-1: nothing is added to a deactivated account, or below one.
pub(in crate::service) fn chain_deactivated() -> ServiceError {
    RuleViolation::new(
        Rule::Off1,
        "the account, or an account above it, is deactivated",
    )
    .into()
}
