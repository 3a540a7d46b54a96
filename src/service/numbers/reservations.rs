//! Reservations (SPEC §5): a pool holds free numbers for one account until a time, all or
//! none; the time can be moved and the reservation released early; the expiry job frees what
//! is left when the time comes. Each number changes by compare-and-set through the lifecycle's
//! `reserve` / `unreserve` moves, with its audit event, so a reservation racing a provision
//! ends with each number either provisioned or free, never both. Provisioning a reserved
//! number to its account ends its hold (`moves::allocate`), and the last one fulfils the
//! reservation.

use std::collections::BTreeSet;

use numberpool_domain::moves;
use numberpool_domain::reservation::{DEFAULT_TTL_MS, check_ttl};
use numberpool_domain::{
    AccountId, AccountKind, AccountStatus, Action, E164, Held, Number, Relation, Reservation,
    ReservationEvent, ReservationId, ReservationStatus, Rule, RuleViolation,
    reservation_transition,
};
use numberpool_store::{Lock, NumberLookup, Tx};
use serde::Serialize;

use super::super::accounts::Reach;
use super::available::takeable_from;
use super::provision::MAX_PROVISION;
use crate::service::{Actor, Permission, Result, Service, ServiceError, snapshot};

/// Reservations the expiry job ends per transaction.
const EXPIRY_BATCH: u32 = 100;

/// A reservation as the API, the CLI and the portal show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReservationView {
    pub id: ReservationId,
    /// The account the numbers are held for.
    pub account_id: AccountId,
    /// The pool whose numbers they are (the account that reserved them).
    pub pool_id: AccountId,
    /// `active` while it holds numbers; then `released`, `expired` or `provisioned`.
    pub status: ReservationStatus,
    /// The numbers it holds now, in E.164 order (none once it has ended).
    pub phone_numbers: Vec<String>,
    /// How many numbers it held when made.
    pub size: u32,
    /// When it ends by itself. RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: i64,
    /// Seconds until `expires_at` while active; 0 once ended.
    pub seconds_left: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    /// Bumped by every change.
    pub version: i64,
}

impl ReservationView {
    fn of(r: &Reservation, members: &[Number], now: i64) -> ReservationView {
        // A reservation past its time that the job has not reached yet holds nothing: say so.
        let (status, held) = if r.status == ReservationStatus::Active && !r.is_live(now) {
            (ReservationStatus::Expired, false)
        } else {
            (r.status, r.status == ReservationStatus::Active)
        };
        ReservationView {
            id: r.id,
            account_id: r.for_account_id,
            pool_id: r.pool_id,
            status,
            phone_numbers: if held {
                members
                    .iter()
                    .map(|n| n.phone_number.as_str().to_string())
                    .collect()
            } else {
                Vec::new()
            },
            size: r.size,
            expires_at: r.expires_at,
            seconds_left: if held {
                (r.expires_at - now).max(0) / 1000
            } else {
                0
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("reservation")
}

fn changed(r: ReservationId) -> impl FnOnce(numberpool_store::StoreError) -> ServiceError {
    move |e| match e {
        numberpool_store::StoreError::Conflict => ServiceError::Conflict(format!(
            "reservation {r} was changed by another request; read it again"
        )),
        other => other.into(),
    }
}

impl Service {
    /// The time a reservation of `pool`'s numbers lasts when the request names none: its
    /// provider's setting, else one day.
    async fn default_ttl(&self, tx: &mut numberpool_store::Reader, pool: AccountId) -> Result<i64> {
        let above = tx.ancestors(pool).await?;
        let provider = above.last().copied().unwrap_or(pool);
        Ok(tx
            .reservation_ttl(provider)
            .await?
            .unwrap_or(DEFAULT_TTL_MS))
    }

    /// Holds `numbers` of the actor's pool for `for_account` (a reseller or customer the actor
    /// provisions to) for `ttl_ms`, or the provider's default; all or none. A number that is
    /// not free and active in the pool, or is held already, is a 409 naming it.
    pub async fn reserve(
        &self,
        actor: &Actor,
        numbers: &[E164],
        for_account: AccountId,
        ttl_ms: Option<i64>,
    ) -> Result<ReservationView> {
        actor.require(Permission::NumberWrite)?;
        if numbers.is_empty() || numbers.len() > MAX_PROVISION {
            return Err(ServiceError::Invalid(format!(
                "phone_numbers: give 1 to {MAX_PROVISION} numbers"
            )));
        }
        let mut seen = BTreeSet::new();
        if let Some(twice) = numbers.iter().find(|e| !seen.insert(e.as_str())) {
            return Err(ServiceError::Invalid(format!(
                "phone_numbers: {} is listed twice",
                twice.as_str()
            )));
        }
        if let Some(ms) = ttl_ms {
            check_ttl(ms).map_err(ServiceError::Invalid)?;
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        if !me.kind.holds_pool() {
            return Err(RuleViolation::new(
                Rule::Res1,
                "only a provider or reseller reserves numbers, from its own pool",
            )
            .into());
        }
        let target = self
            .account_within(&mut tx, actor, for_account, Reach::Scope)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => ServiceError::NotFound("account"),
                other => other,
            })?;
        // Shared: a deactivation of the account (R-OFF-1) waits for this, and then sees the
        // reservation among its blockers.
        let target = tx
            .get_account_locked(target.id, Lock::Share)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        let relation = tx.relation(&me, &target).await?;
        let reachable = matches!(
            (target.kind, relation),
            (
                AccountKind::Reseller | AccountKind::Customer,
                Relation::DirectChild
            ) | (AccountKind::Customer, Relation::Connected)
        );
        if !reachable || target.status != AccountStatus::Active {
            return Err(RuleViolation::new(
                Rule::Res1,
                "account_id: numbers are reserved for an active reseller or customer that you \
                 provision to",
            )
            .into());
        }
        let ttl = match ttl_ms {
            Some(ms) => ms,
            None => self.default_ttl(&mut tx, me.id).await?,
        };
        let reservation = Reservation {
            id: ReservationId::new(),
            pool_id: me.id,
            for_account_id: target.id,
            status: ReservationStatus::Active,
            size: u32::try_from(numbers.len()).unwrap_or(u32::MAX),
            expires_at: now.saturating_add(ttl),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let held = Held {
            reservation_id: reservation.id,
            for_account: target.id,
            until: reservation.expires_at,
        };
        tx.insert_reservation(&reservation).await?;
        // E.164 order, as provision takes them: two overlapping requests queue instead of
        // deadlocking on PostgreSQL.
        let mut order: Vec<&E164> = numbers.iter().collect();
        order.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut members = Vec::with_capacity(numbers.len());
        for e in order {
            let n = tx
                .get_number_in_scope(actor.account, &NumberLookup::E164(e.clone()))
                .await?
                .map(|n| n.lapsed_at(now))
                .filter(|n| takeable_from(n, me.id) && n.reservation.is_none())
                .ok_or_else(|| {
                    ServiceError::Conflict(format!(
                        "{} is not a free number of this pool (reserved, taken since it was \
                         found, or never here); nothing was reserved",
                        e.as_str()
                    ))
                })?;
            let mut next = moves::reserve(&n, &me, held)?;
            next.updated_at = now;
            let stored = tx.update_number_cas(&next).await?;
            tx.record(&actor.event(
                Action::NumberReserve,
                n.id.to_string(),
                Some(Rule::Res1),
                snapshot(&n),
                snapshot(&stored),
            ))
            .await?;
            members.push(stored);
        }
        tx.record(&actor.event(
            Action::ReservationCreate,
            reservation.id.to_string(),
            Some(Rule::Res1),
            None,
            snapshot(&reservation),
        ))
        .await?;
        tx.commit().await?;
        members.sort_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()));
        Ok(ReservationView::of(&reservation, &members, now))
    }

    /// The reservation `id` as the actor may see it: it made it, or it is held for it.
    async fn reservation_in_view(
        &self,
        r: &mut numberpool_store::Reader,
        actor: &Actor,
        id: ReservationId,
    ) -> Result<Reservation> {
        r.get_reservation(id)
            .await?
            .filter(|x| x.pool_id == actor.account || x.for_account_id == actor.account)
            .ok_or_else(not_found)
    }

    /// The reservations the actor's account made or that hold numbers for it, newest first.
    pub async fn list_reservations(&self, actor: &Actor) -> Result<Vec<ReservationView>> {
        actor.require(Permission::NumberRead)?;
        let now = self.now();
        let mut r = self.store.read().await?;
        let list = r.list_reservations(actor.account, 1_000).await?;
        let mut out = Vec::with_capacity(list.len());
        for x in &list {
            let members = if x.is_live(now) {
                r.reservation_members(x.id).await?
            } else {
                Vec::new()
            };
            out.push(ReservationView::of(x, &members, now));
        }
        Ok(out)
    }

    /// One reservation the actor's account made or that holds numbers for it.
    pub async fn get_reservation(
        &self,
        actor: &Actor,
        id: ReservationId,
    ) -> Result<ReservationView> {
        actor.require(Permission::NumberRead)?;
        let now = self.now();
        let mut r = self.store.read().await?;
        let x = self.reservation_in_view(&mut r, actor, id).await?;
        let members = r.reservation_members(id).await?;
        Ok(ReservationView::of(&x, &members, now))
    }

    /// Moves a live reservation's end to `ttl_ms` from now (later, or sooner). Only the pool
    /// that made it does this.
    pub async fn extend_reservation(
        &self,
        actor: &Actor,
        id: ReservationId,
        ttl_ms: i64,
        if_version: Option<i64>,
    ) -> Result<ReservationView> {
        actor.require(Permission::NumberWrite)?;
        check_ttl(ttl_ms).map_err(ServiceError::Invalid)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let before = self.reservation_in_view(&mut tx, actor, id).await?;
        if before.pool_id != actor.account {
            return Err(RuleViolation::new(
                Rule::Res1,
                "only the pool that made a reservation changes its time",
            )
            .into());
        }
        crate::service::check_version("reservation", before.version, if_version)?;
        let status = reservation_transition(before.status, ReservationEvent::Extend)?;
        if !before.is_live(now) {
            return Err(RuleViolation::new(
                Rule::Res2,
                "the reservation has run out: its numbers are free again; reserve them anew",
            )
            .into());
        }
        let mut next = before.clone();
        next.status = status;
        next.expires_at = now.saturating_add(ttl_ms);
        next.updated_at = now;
        let stored = tx
            .update_reservation_cas(&next)
            .await
            .map_err(changed(id))?;
        let members = tx.reservation_members(id).await?;
        let mut held = Vec::with_capacity(members.len());
        for n in &members {
            let mut m = n.clone();
            if let Some(h) = m.reservation.as_mut() {
                h.until = stored.expires_at;
            }
            m.updated_at = now;
            held.push(tx.update_number_cas(&m).await?);
        }
        tx.record(&actor.event(
            Action::ReservationExtend,
            id.to_string(),
            Some(Rule::Res1),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        tx.commit().await?;
        Ok(ReservationView::of(&stored, &held, now))
    }

    /// Ends a live reservation early: its numbers are free again. The pool that made it, or
    /// the account it holds them for, may do this.
    pub async fn release_reservation(
        &self,
        actor: &Actor,
        id: ReservationId,
    ) -> Result<ReservationView> {
        actor.require(Permission::NumberWrite)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let before = self.reservation_in_view(&mut tx, actor, id).await?;
        let event = if before.is_live(now) || before.status != ReservationStatus::Active {
            ReservationEvent::Release
        } else {
            // Its time has come and the job has not been by: it ends as run out.
            ReservationEvent::Expire
        };
        let stored = self
            .end_reservation(&mut tx, actor, &before, event, now)
            .await?;
        tx.commit().await?;
        Ok(ReservationView::of(&stored, &[], now))
    }

    /// Ends `before` by `event` (release or expiry) in `tx`: the reservation's status by
    /// compare-and-set, then each number it still holds unreserved by compare-and-set, each
    /// with its audit event.
    async fn end_reservation(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        before: &Reservation,
        event: ReservationEvent,
        now: i64,
    ) -> Result<Reservation> {
        let mut next = before.clone();
        next.status = reservation_transition(before.status, event)?;
        next.updated_at = now;
        let stored = tx
            .update_reservation_cas(&next)
            .await
            .map_err(changed(before.id))?;
        for n in tx.reservation_members(before.id).await? {
            let mut free = moves::unreserve(&n)?;
            free.updated_at = now;
            let after = tx.update_number_cas(&free).await?;
            tx.record(&actor.event(
                Action::NumberUnreserve,
                n.id.to_string(),
                Some(Rule::Res2),
                snapshot(&n),
                snapshot(&after),
            ))
            .await?;
        }
        let action = match event {
            ReservationEvent::Expire => Action::ReservationExpire,
            _ => Action::ReservationRelease,
        };
        tx.record(&actor.event(
            action,
            before.id.to_string(),
            Some(Rule::Res2),
            snapshot(before),
            snapshot(&stored),
        ))
        .await?;
        Ok(stored)
    }

    /// Ends every active reservation whose time has come at the service clock's now, freeing
    /// what each still holds; answers how many ended. The expiry job's body. Each reservation
    /// ends in its own transaction, so one that a provision or release changed meanwhile is
    /// skipped (the next run sees it as it is then).
    pub async fn expire_reservations(&self) -> Result<usize> {
        let now = self.now();
        let mut ended = 0;
        loop {
            let due = {
                let mut r = self.store.read().await?;
                r.due_reservations(now, EXPIRY_BATCH).await?
            };
            let batch = due.len();
            for x in due {
                let mut tx = self.store.begin().await?;
                let Some(current) = tx.get_reservation(x.id).await? else {
                    continue;
                };
                if current.status != ReservationStatus::Active || current.expires_at > now {
                    continue;
                }
                let actor = Actor::periodic_job(current.pool_id);
                match self
                    .end_reservation(&mut tx, &actor, &current, ReservationEvent::Expire, now)
                    .await
                {
                    Ok(_) => {
                        tx.commit().await?;
                        ended += 1;
                    }
                    // Changed since it was read, or collided with a provision: the next run
                    // deals with it as it is then.
                    Err(ServiceError::Conflict(_) | ServiceError::Collided(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            if batch < EXPIRY_BATCH as usize {
                return Ok(ended);
            }
        }
    }

    /// After numbers held by `reservations` were provisioned in `tx`: each that holds none any
    /// more is fulfilled.
    pub(in crate::service) async fn fulfil_emptied(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        reservations: &BTreeSet<ReservationId>,
    ) -> Result<()> {
        let now = self.now();
        for id in reservations {
            if !tx.reservation_members(*id).await?.is_empty() {
                continue;
            }
            let Some(before) = tx.get_reservation(*id).await? else {
                continue;
            };
            if before.status != ReservationStatus::Active {
                continue;
            }
            let mut next = before.clone();
            next.status = reservation_transition(before.status, ReservationEvent::Fulfil)?;
            next.updated_at = now;
            let stored = tx
                .update_reservation_cas(&next)
                .await
                .map_err(changed(before.id))?;
            tx.record(&actor.event(
                Action::ReservationFulfil,
                id.to_string(),
                Some(Rule::Res2),
                snapshot(&before),
                snapshot(&stored),
            ))
            .await?;
        }
        Ok(())
    }

    /// A provider's default reservation time in milliseconds (its setting, else one day).
    pub async fn reservation_ttl_setting(&self, actor: &Actor) -> Result<i64> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.default_ttl(&mut r, actor.account).await
    }

    /// Sets the provider's default reservation time (R-PROV-1: the provider's own setting).
    pub async fn set_reservation_ttl(&self, actor: &Actor, ttl_ms: i64) -> Result<i64> {
        actor.require(Permission::NumberWrite)?;
        check_ttl(ttl_ms).map_err(ServiceError::Invalid)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        if me.kind != AccountKind::Provider {
            return Err(RuleViolation::new(
                Rule::Prov1,
                "only a provider sets how long its reservations last",
            )
            .into());
        }
        tx.set_reservation_ttl(me.id, ttl_ms, now).await?;
        tx.commit().await?;
        Ok(ttl_ms)
    }
}
