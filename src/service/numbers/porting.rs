//! Port-in (SPEC §5): the portability check, placing an order (its numbers added to the
//! ordering pool as `pending`, all or none, through the add planner), reading orders with
//! their history, changing an order's details while it is submitted, and moving its status
//! through `numberpool_domain::porting::port_transition` (R-PORT-1): completion makes its
//! numbers active in the pool, rejection and cancellation remove them. Each step is one
//! transaction with its audit events; the order's history is its audit trail. The PIN is
//! sealed with the installation's key and shown only as its last digit.

use std::collections::HashMap;

use numberpool_domain::porting::{
    AttachmentKind, BillingAddress, MAX_PORT_NUMBERS, NotPortable, PortEvent, PortOrder,
    PortStatus, attachment_type, check_date, masked_pin, port_transition, portable_shape,
};
use numberpool_domain::{
    Action, Dest, E164, NewNumber, NumberStatus, PortOrderId, Rule, RuleViolation,
};
use numberpool_store::{AuditEvent, PortAttachment, Reader, StoreError, Tx};
use serde::Serialize;

use super::AddNumber;
use crate::service::progress::Progress;
use crate::service::{Actor, Permission, Result, Service, ServiceError, snapshot};

/// One number's answer in the portability check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortCheck {
    /// As given.
    pub phone_number: String,
    pub portable: bool,
    /// Why not: `invalid_number`, `on_platform`, `in_open_order`, `other_country`,
    /// `duplicate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<NotPortable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// The portability check of a set of numbers (R-PORT-2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortValidation {
    /// True when every number can be ported in one order.
    pub portable: bool,
    /// The order's country (its first valid number's), ISO 3166 alpha-2.
    pub country: Option<String>,
    pub phone_numbers: Vec<PortCheck>,
}

/// What a new order carries (seed 002's port-in request). Its `Debug` leaves the PIN out.
#[derive(Clone)]
pub struct NewPortOrder {
    pub phone_numbers: Vec<String>,
    pub carrier_name: String,
    pub account_number: String,
    pub account_pin: String,
    pub authorized_person: String,
    pub billing_address: BillingAddress,
    pub requested_port_date: String,
}

/// A change to an order: its details (while `submitted`) and/or its status. Its `Debug`
/// leaves the PIN out.
#[derive(Clone, Default)]
pub struct PortPatch {
    pub status: Option<PortStatus>,
    /// The firm date, with `scheduled`.
    pub scheduled_date: Option<String>,
    /// Why, with `rejected`.
    pub reject_reason: Option<String>,
    pub carrier_name: Option<String>,
    pub account_number: Option<String>,
    pub account_pin: Option<String>,
    pub authorized_person: Option<String>,
    pub billing_address: Option<BillingAddress>,
    pub requested_port_date: Option<String>,
}

impl std::fmt::Debug for NewPortOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPortOrder")
            .field("phone_numbers", &self.phone_numbers)
            .field("carrier_name", &self.carrier_name)
            .field("account_pin", &"(hidden)")
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PortPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortPatch")
            .field("status", &self.status)
            .field(
                "account_pin",
                &self.account_pin.as_ref().map(|_| "(hidden)"),
            )
            .finish_non_exhaustive()
    }
}

/// One change in an order's life.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortHistoryEntry {
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// `porting_order.create`, `porting_order.update` or `porting_order.status`.
    pub action: String,
    /// The status after the change.
    pub status: Option<String>,
    /// The date or reason the change came with.
    pub note: Option<String>,
    /// Who: `user`, `client`, `operator` and its id.
    pub actor: String,
    /// `api`, `ui`, `cli`, …
    pub channel: String,
}

/// A porting order as the API, the CLI and the portal show it (seed 002's fields first).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortOrderView {
    pub order_id: PortOrderId,
    pub status: PortStatus,
    pub phone_numbers: Vec<String>,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: i64,
    /// The firm date once scheduled, else the date asked for (`YYYY-MM-DD`).
    pub estimated_completion: String,
    /// The account whose pool the numbers come into.
    pub account_id: numberpool_domain::AccountId,
    pub country: String,
    pub carrier_name: String,
    pub account_number: String,
    /// The PIN's last digit only (`***4`); the PIN itself is never shown.
    pub account_pin: String,
    pub authorized_person: String,
    pub billing_address: BillingAddress,
    pub requested_port_date: String,
    pub scheduled_date: Option<String>,
    pub reject_reason: Option<String>,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    pub version: i64,
    /// Every change, oldest first (on a single order's read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<PortHistoryEntry>>,
    /// The letter of authorization and bill copies attached (on a single order's read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

/// A file attached to an order, as listed (its bytes come from its own route).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: numberpool_domain::AttachmentId,
    /// `loa` (letter of authorization) or `bill` (a copy of the losing carrier's bill).
    pub kind: AttachmentKind,
    pub file_name: String,
    /// `application/pdf`, `image/png` or `image/jpeg`, as told from the file's bytes.
    pub content_type: String,
    pub size: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: i64,
}

impl From<PortAttachment> for AttachmentView {
    fn from(a: PortAttachment) -> Self {
        AttachmentView {
            id: a.id,
            kind: a.kind,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            uploaded_at: a.uploaded_at,
        }
    }
}

impl PortOrderView {
    fn of(o: PortOrder, history: Option<Vec<PortHistoryEntry>>) -> PortOrderView {
        PortOrderView {
            order_id: o.id,
            status: o.status,
            estimated_completion: o
                .scheduled_date
                .clone()
                .unwrap_or_else(|| o.requested_port_date.clone()),
            phone_numbers: o.phone_numbers,
            submitted_at: o.submitted_at,
            account_id: o.pool_id,
            country: o.country,
            carrier_name: o.carrier_name,
            account_number: o.account_number,
            account_pin: o.pin_hint,
            authorized_person: o.authorized_person,
            billing_address: o.billing_address,
            requested_port_date: o.requested_port_date,
            scheduled_date: o.scheduled_date,
            reject_reason: o.reject_reason,
            updated_at: o.updated_at,
            version: o.version,
            history,
            attachments: None,
        }
    }
}

fn text(field: &'static str, v: &str, max: usize) -> Result<String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(ServiceError::Invalid(format!("{field}: required")));
    }
    numberpool_domain::number::check_text(field, t, max).map_err(ServiceError::Invalid)?;
    Ok(t.to_string())
}

fn pin(v: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty() || t.len() > 20 || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ServiceError::Invalid(
            "account_pin: give 1 to 20 letters or digits".into(),
        ));
    }
    Ok(t.to_string())
}

fn address(a: &BillingAddress) -> Result<BillingAddress> {
    Ok(BillingAddress {
        address: text("billing_address.address", &a.address, 200)?,
        city: text("billing_address.city", &a.city, 100)?,
        state: text("billing_address.state", &a.state, 100)?,
        zip: text("billing_address.zip", &a.zip, 20)?,
    })
}

fn date(field: &str, v: &str) -> Result<String> {
    check_date(field, v).map_err(ServiceError::Invalid)
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("porting order")
}

impl Service {
    /// R-PORT-2 for `given` against the platform as `r` sees it.
    async fn port_checks(&self, r: &mut Reader, given: &[String]) -> Result<PortValidation> {
        if given.is_empty() || given.len() > MAX_PORT_NUMBERS {
            return Err(ServiceError::Invalid(format!(
                "phone_numbers: give 1 to {MAX_PORT_NUMBERS} numbers"
            )));
        }
        let shape = portable_shape(given);
        let valid: Vec<&str> = shape
            .iter()
            .filter_map(|r| r.as_ref().ok().map(E164::as_str))
            .collect();
        let on: HashMap<String, bool> = r
            .numbers_by_e164(&valid)
            .await?
            .into_iter()
            .map(|n| (n.phone_number.as_str().to_string(), n.in_open_port()))
            .collect();
        let country = shape
            .iter()
            .find_map(|r| r.as_ref().ok().map(|e| e.country().as_str()));
        let phone_numbers: Vec<PortCheck> = given
            .iter()
            .zip(shape)
            .map(|(raw, r)| {
                let why = match r {
                    Err(why) => Some(why),
                    Ok(e) => match on.get(e.as_str()) {
                        Some(true) => Some(NotPortable::InOpenOrder),
                        Some(false) => Some(NotPortable::OnPlatform),
                        None => None,
                    },
                };
                PortCheck {
                    phone_number: raw.clone(),
                    portable: why.is_none(),
                    code: why,
                    reason: why.map(NotPortable::message),
                }
            })
            .collect();
        Ok(PortValidation {
            portable: phone_numbers.iter().all(|c| c.portable),
            country,
            phone_numbers,
        })
    }

    /// The portability check (seed 002's `POST /phone/porting/validate`), per number.
    pub async fn validate_port(&self, actor: &Actor, given: &[String]) -> Result<PortValidation> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.port_checks(&mut r, given).await
    }

    /// Places a port-in order into the actor's pool: its numbers are added as `pending`,
    /// pointing at it, all or none (R-PORT-2 refuses the whole order, naming the first number
    /// that cannot be ported and why).
    pub async fn create_port_order(
        &self,
        actor: &Actor,
        req: NewPortOrder,
    ) -> Result<PortOrderView> {
        actor.require(Permission::NumberWrite)?;
        let carrier_name = text("carrier_name", &req.carrier_name, 200)?;
        let account_number = text("account_number", &req.account_number, 100)?;
        let account_pin = pin(&req.account_pin)?;
        let authorized_person = text("authorized_person", &req.authorized_person, 200)?;
        let billing_address = address(&req.billing_address)?;
        let requested_port_date = date("requested_port_date", &req.requested_port_date)?;
        let (mut tx, me, above) = self.open_add(actor).await?;
        let check = self.port_checks(&mut tx, &req.phone_numbers).await?;
        if let Some(bad) = check.phone_numbers.iter().find(|c| !c.portable) {
            let count = check.phone_numbers.iter().filter(|c| !c.portable).count();
            return Err(RuleViolation::new(
                Rule::Port2,
                format!(
                    "{} cannot be ported: {} ({count} of the order's numbers cannot; check \
                     them with /v2/phone/porting/validate): nothing was ordered",
                    bad.phone_number,
                    bad.reason.unwrap_or("not portable")
                ),
            )
            .into());
        }
        let mut to = self.add_target(&mut tx, &me, &above).await?;
        if to.dest != Dest::Pool {
            return Err(RuleViolation::new(
                Rule::Port2,
                "numbers are ported into a provider's or reseller's pool",
            )
            .into());
        }
        let now = self.now();
        let id = PortOrderId::new();
        let rows: Vec<AddNumber> = portable_shape(&req.phone_numbers)
            .into_iter()
            .flatten()
            .map(|phone_number| AddNumber {
                phone_number,
                fields: NewNumber {
                    status: Some(NumberStatus::Pending),
                    ..NewNumber::default()
                },
            })
            .collect();
        let mut plan = self.plan_rows(&mut tx, &mut to, rows, true).await?;
        if let Some(refused) = plan.first_refusal() {
            return Err(refused.error);
        }
        for n in &mut plan.numbers {
            n.port_order_id = Some(id);
            n.source = format!("Port-in ({carrier_name})");
        }
        let order = PortOrder {
            id,
            pool_id: me.id,
            status: PortStatus::Submitted,
            country: check.country.unwrap_or_default(),
            phone_numbers: plan
                .numbers
                .iter()
                .map(|n| n.phone_number.as_str().to_string())
                .collect(),
            carrier_name,
            account_number,
            pin_sealed: self.seal_key.seal(&account_pin),
            pin_hint: masked_pin(&account_pin),
            authorized_person,
            billing_address,
            requested_port_date,
            scheduled_date: None,
            reject_reason: None,
            submitted_at: now,
            updated_at: now,
            version: 1,
        };
        tx.insert_port_order(&order).await?;
        self.commit_add(
            &mut tx,
            actor,
            &me,
            to.add_event,
            &mut plan.numbers,
            &Progress::none(),
        )
        .await?;
        tx.record(&actor.event(
            Action::PortOrderCreate,
            id.to_string(),
            Some(Rule::Port2),
            None,
            snapshot(&order),
        ))
        .await?;
        tx.commit().await?;
        Ok(PortOrderView::of(order, None))
    }

    /// The order `id` if the actor's account placed it.
    async fn own_order(&self, r: &mut Reader, actor: &Actor, id: PortOrderId) -> Result<PortOrder> {
        r.get_port_order(id)
            .await?
            .filter(|o| o.pool_id == actor.account)
            .ok_or_else(not_found)
    }

    /// The orders the actor's account placed, newest first (the latest 1,000).
    pub async fn list_port_orders(&self, actor: &Actor) -> Result<Vec<PortOrderView>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_port_orders(actor.account, 1_000)
            .await?
            .into_iter()
            .map(|o| PortOrderView::of(o, None))
            .collect())
    }

    /// One order of the actor's account, with its history.
    pub async fn get_port_order(&self, actor: &Actor, id: PortOrderId) -> Result<PortOrderView> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        let o = self.own_order(&mut r, actor, id).await?;
        let history = r
            .audit_for(&id.to_string())
            .await?
            .iter()
            .map(history_entry)
            .collect();
        let attachments = r
            .port_attachments(id)
            .await?
            .into_iter()
            .map(AttachmentView::from)
            .collect();
        let mut view = PortOrderView::of(o, Some(history));
        view.attachments = Some(attachments);
        Ok(view)
    }

    /// Attaches a file to an open order of the actor's account: `kind` (`loa` or `bill`), a
    /// PDF, PNG or JPEG of at most 5 MiB, its type told from its bytes. Recorded in the
    /// order's history. Another account's order is not found before anything is checked.
    pub async fn attach_to_port_order(
        &self,
        actor: &Actor,
        id: PortOrderId,
        kind: Option<&str>,
        file_name: Option<&str>,
        bytes: &[u8],
    ) -> Result<AttachmentView> {
        actor.require(Permission::NumberWrite)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let order = self.own_order(&mut tx, actor, id).await?;
        let kind: AttachmentKind = kind
            .ok_or_else(|| ServiceError::Invalid("kind: give loa or bill".into()))?
            .parse()
            .map_err(|e| ServiceError::Invalid(format!("{e}")))?;
        let file_name = text("file_name", file_name.unwrap_or_default(), 200)?;
        let content_type = attachment_type(bytes).map_err(ServiceError::Invalid)?;
        if !order.status.is_open() {
            return Err(RuleViolation::new(
                Rule::Port1,
                format!(
                    "a {} order takes no more attachments: only an open one does",
                    order.status.as_str()
                ),
            )
            .into());
        }
        let a = PortAttachment {
            id: numberpool_domain::AttachmentId::new(),
            order_id: id,
            kind,
            file_name,
            content_type: content_type.to_string(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            uploaded_at: now,
        };
        // The order's version moves with its attachments (its ETag says so), and the
        // compare-and-set keeps an attachment from landing on an order a concurrent request
        // has just closed.
        let mut touched = order.clone();
        touched.updated_at = now;
        tx.update_port_order_cas(&touched)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => ServiceError::Conflict(format!(
                    "porting order {id} was changed by another request; read it again"
                )),
                other => other.into(),
            })?;
        tx.insert_port_attachment(&a, bytes).await?;
        tx.record(&actor.event(
            Action::PortOrderUpdate,
            id.to_string(),
            Some(Rule::Port1),
            None,
            Some(serde_json::json!({ "status": order.status, "attachment": &a })),
        ))
        .await?;
        tx.commit().await?;
        Ok(a.into())
    }

    /// An attachment of an order of the actor's account: its listing and its bytes.
    pub async fn port_attachment(
        &self,
        actor: &Actor,
        id: PortOrderId,
        attachment: numberpool_domain::AttachmentId,
    ) -> Result<(AttachmentView, Vec<u8>)> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.own_order(&mut r, actor, id).await?;
        let listed = r
            .port_attachments(id)
            .await?
            .into_iter()
            .find(|a| a.id == attachment)
            .ok_or(ServiceError::NotFound("attachment"))?;
        let bytes = r
            .port_attachment_data(id, attachment)
            .await?
            .ok_or(ServiceError::NotFound("attachment"))?;
        Ok((listed.into(), bytes))
    }

    /// Changes an order: its details while it is `submitted`, and/or its status (R-PORT-1),
    /// with what the new status does to its numbers. `if_version` guards against changing a
    /// version not read.
    pub async fn update_port_order(
        &self,
        actor: &Actor,
        id: PortOrderId,
        patch: PortPatch,
        if_version: Option<i64>,
    ) -> Result<PortOrderView> {
        actor.require(Permission::NumberWrite)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let before = self.own_order(&mut tx, actor, id).await?;
        crate::service::check_version("porting order", before.version, if_version)?;
        let mut next = before.clone();
        let details = patch.carrier_name.is_some()
            || patch.account_number.is_some()
            || patch.account_pin.is_some()
            || patch.authorized_person.is_some()
            || patch.billing_address.is_some()
            || patch.requested_port_date.is_some();
        if details {
            if before.status != PortStatus::Submitted {
                return Err(RuleViolation::new(
                    Rule::Port1,
                    format!(
                        "a {} order's details cannot change: only a submitted order's can",
                        before.status.as_str()
                    ),
                )
                .into());
            }
            if let Some(v) = &patch.carrier_name {
                next.carrier_name = text("carrier_name", v, 200)?;
            }
            if let Some(v) = &patch.account_number {
                next.account_number = text("account_number", v, 100)?;
            }
            if let Some(v) = &patch.account_pin {
                let p = pin(v)?;
                next.pin_sealed = self.seal_key.seal(&p);
                next.pin_hint = masked_pin(&p);
            }
            if let Some(v) = &patch.authorized_person {
                next.authorized_person = text("authorized_person", v, 200)?;
            }
            if let Some(v) = &patch.billing_address {
                next.billing_address = address(v)?;
            }
            if let Some(v) = &patch.requested_port_date {
                next.requested_port_date = date("requested_port_date", v)?;
            }
        }
        let event = match patch.status {
            // `submitted` is where an order starts, not a move: a PATCH that repeats it (beside
            // its details) moves nothing. Every other status is a move, to be allowed or not.
            Some(PortStatus::Submitted) if before.status == PortStatus::Submitted => None,
            Some(s) => Some(PortEvent::to(s).ok_or_else(|| {
                ServiceError::Invalid(
                    "status: an order is submitted when placed; give pending, scheduled, \
                     completed, rejected or cancelled"
                        .into(),
                )
            })?),
            None => None,
        };
        if patch.scheduled_date.is_some() && event != Some(PortEvent::Schedule) {
            return Err(ServiceError::Invalid(
                "scheduled_date: give it with status scheduled".into(),
            ));
        }
        if patch.reject_reason.is_some() && event != Some(PortEvent::Reject) {
            return Err(ServiceError::Invalid(
                "reject_reason: give it with status rejected".into(),
            ));
        }
        if let Some(e) = event {
            next.status = port_transition(before.status, e)?;
            match e {
                PortEvent::Schedule => {
                    let d = patch.scheduled_date.as_deref().ok_or_else(|| {
                        ServiceError::Invalid(
                            "scheduled_date: a scheduled order has the carrier's firm date \
                             (YYYY-MM-DD)"
                                .into(),
                        )
                    })?;
                    next.scheduled_date = Some(date("scheduled_date", d)?);
                }
                PortEvent::Reject => {
                    let why = patch.reject_reason.as_deref().ok_or_else(|| {
                        ServiceError::Invalid(
                            "reject_reason: say why the carrier rejected the order".into(),
                        )
                    })?;
                    next.reject_reason = Some(text("reject_reason", why, 500)?);
                }
                PortEvent::Accept | PortEvent::Complete | PortEvent::Cancel => {}
            }
            self.apply_port_event(&mut tx, actor, &before, e, now)
                .await?;
        }
        if next == before {
            return Ok(PortOrderView::of(before, None));
        }
        next.updated_at = now;
        let stored = tx.update_port_order_cas(&next).await.map_err(|e| match e {
            StoreError::Conflict => ServiceError::Conflict(format!(
                "porting order {id} was changed by another request; read it again"
            )),
            other => other.into(),
        })?;
        let action = if event.is_some() {
            Action::PortOrderStatus
        } else {
            Action::PortOrderUpdate
        };
        tx.record(&actor.event(
            action,
            id.to_string(),
            Some(Rule::Port1),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        if stored.status != before.status {
            let n = stored.phone_numbers.len();
            tx.insert_notification(
                stored.pool_id,
                "porting_order",
                &id.to_string(),
                &format!(
                    "Porting order {id} ({n} {} from {}) is now {}.",
                    if n == 1 { "number" } else { "numbers" },
                    stored.carrier_name,
                    stored.status.as_str()
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(PortOrderView::of(stored, None))
    }

    /// Cancels an open order (seed 002's `DELETE`): its numbers leave the platform.
    pub async fn cancel_port_order(&self, actor: &Actor, id: PortOrderId) -> Result<PortOrderView> {
        let patch = PortPatch {
            status: Some(PortStatus::Cancelled),
            ..PortPatch::default()
        };
        self.update_port_order(actor, id, patch, None).await
    }

    /// What a status change does to the order's numbers: completion makes each active in the
    /// pool; rejection and cancellation delete each; each by compare-and-set with its event.
    async fn apply_port_event(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        order: &PortOrder,
        event: PortEvent,
        now: i64,
    ) -> Result<()> {
        let members = tx.port_order_members(order.id).await?;
        match event {
            PortEvent::Complete => {
                for n in members {
                    let mut next = n.clone();
                    next.status = NumberStatus::Normal;
                    next.updated_at = now;
                    let stored = tx.update_number_cas(&next).await?;
                    tx.record(&actor.event(
                        Action::NumberUpdate,
                        n.id.to_string(),
                        Some(Rule::Port1),
                        snapshot(&n),
                        snapshot(&stored),
                    ))
                    .await?;
                }
            }
            PortEvent::Reject | PortEvent::Cancel => {
                for n in &members {
                    super::delete_recorded(tx, actor, n, Into::into).await?;
                }
            }
            PortEvent::Accept | PortEvent::Schedule => {}
        }
        Ok(())
    }
}

fn history_entry(e: &AuditEvent) -> PortHistoryEntry {
    let after = e.after.as_ref();
    let field = |k: &str| {
        after
            .and_then(|a| a.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let status = field("status");
    let attached = after
        .and_then(|a| a.get("attachment"))
        .and_then(|a| a.get("file_name"))
        .and_then(|v| v.as_str())
        .map(|f| format!("attached {f}"));
    let note = attached.or_else(|| match status.as_deref() {
        Some("scheduled") => field("scheduled_date"),
        Some("rejected") => field("reject_reason"),
        _ => None,
    });
    PortHistoryEntry {
        at: e.at,
        action: e.action.as_str().to_string(),
        status,
        note,
        actor: format!("{}:{}", e.actor_type, e.actor_id),
        channel: e.channel.as_str().to_string(),
    }
}
