//! The moves of SPEC §3 as transactions: load the number and what the domain's move function
//! needs (taking the row locks that order it against status changes), call the function, and
//! compare-and-set its result with the audit event.

use numberpool_domain::moves::{self, Allocation, Mover, UnitTarget};
use numberpool_domain::{AccountId, AccountKind, Action, Assignee, ExchangeStatus, Number, Rule};
use numberpool_store::{Lock, NumberLookup, Tx};

use super::{licences_of, path_up_to};
use crate::service::accounts::Reach;
use crate::service::{Actor, Permission, Result, Service, ServiceError, check_version};

impl Service {
    /// Allocate a free number from the actor's pool to a direct child or connected customer
    /// (R-MOVE-1, R-ALLOC-1).
    pub async fn allocate(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        target: AccountId,
        opts: Allocation,
    ) -> Result<Number> {
        actor.require(Permission::NumberWrite)?;
        super::check_free_text("billing_reference", &opts.billing_reference)?;
        super::check_free_text("service_info", &opts.service_info)?;
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        let target = self
            .account_within(&mut tx, actor, target, Reach::Scope)
            .await?;
        // Read again under the target's row lock: a deactivation of the target (R-OFF-1) waits
        // for this allocation and then counts its number, or has committed and is seen here.
        let target = tx
            .get_account_locked(target.id, Lock::Update)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        let relation = tx.relation(&me, &target).await?;
        let named_trunk = opts.sip_trunk_id;
        let next = moves::allocate(&n, &me, &target, relation, opts)?;
        if next.customer_id.is_some() {
            self.check_entitlements(&mut tx, target.id, licences_of(&n))
                .await?;
        }
        if let Some(t) = named_trunk
            && tx.trunk_provider(t).await? != Some(n.owner_id)
        {
            return Err(ServiceError::NotFound("SIP trunk"));
        }
        if let Some(h) = n.reservation {
            // The reservation's row first (the order every writer of it keeps), then the
            // number; the last number taken fulfils the reservation, in this transaction.
            tx.lock_reservation(h.reservation_id).await?;
            let mut next = next;
            next.updated_at = self.now();
            let stored = tx.update_number_cas(&next).await?;
            tx.record(&actor.event(
                Action::NumberAllocate,
                n.id.to_string(),
                Some(Rule::Move1),
                crate::service::snapshot(&n),
                crate::service::snapshot(&stored),
            ))
            .await?;
            self.fulfil_emptied(&mut tx, actor, &[h.reservation_id].into())
                .await?;
            tx.commit().await?;
            return Ok(stored);
        }
        self.commit_move(tx, actor, &n, next, Action::NumberAllocate, Rule::Move1)
            .await
    }

    /// The status of the Provider Exchange connection a number is with its customer through
    /// (R-ACC-1), share-locked: a disconnect request waits for this move and then counts it, or
    /// has committed and is seen here. `None` when no connection is involved.
    async fn exchange_of(&self, tx: &mut Tx, n: &Number) -> Result<Option<ExchangeStatus>> {
        let Some(customer) = n.customer_id.filter(|c| *c != n.owner_id) else {
            return Ok(None);
        };
        Ok(tx
            .get_connection_locked(n.owner_id, customer, Lock::Share)
            .await?
            .map(|c| c.status))
    }

    /// Assign the number to a user, call queue, … (R-MOVE-2, R-ASG-1).
    pub async fn assign(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        assignee: Assignee,
    ) -> Result<Number> {
        actor.require(Permission::PhoneWrite)?;
        if assignee.id.trim().is_empty() || assignee.id.len() > 200 {
            return Err(ServiceError::Invalid(
                "assignee_id: give a non-empty id of at most 200 characters".into(),
            ));
        }
        super::check_free_text("display_name", &assignee.display_name)?;
        let (mut tx, n, me, path) = self.open_holder_move(actor, lookup).await?;
        let mover = Mover::new(&me, &path);
        // The checks that need no lock first, so a refused move takes none.
        numberpool_domain::lifecycle::check_customer_holds(&n, &me, &path)?;
        let connection = self.exchange_of(&mut tx, &n).await?;
        let next = moves::assign(&n, mover, assignee, connection)?;
        self.commit_move(tx, actor, &n, next, Action::NumberAssign, Rule::Asg1)
            .await
    }

    /// Remove an assignee; `assignee_id` is needed only when there are several.
    pub async fn unassign(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        assignee_id: Option<&str>,
    ) -> Result<Number> {
        actor.require(Permission::PhoneWrite)?;
        let (tx, n, me, path) = self.open_holder_move(actor, lookup).await?;
        let mover = Mover::new(&me, &path);
        let next = moves::unassign(&n, mover, assignee_id)?;
        self.commit_move(tx, actor, &n, next, Action::NumberUnassign, Rule::Move2)
            .await
    }

    /// Move a number into a unit of the customer holding it, or back to the customer (R-MOVE-5).
    pub async fn move_to_unit(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        unit: AccountId,
    ) -> Result<Number> {
        actor.require(Permission::PhoneWrite)?;
        let (mut tx, n, me, path) = self.open_holder_move(actor, lookup).await?;
        let mover = Mover::new(&me, &path);
        numberpool_domain::lifecycle::check_customer_holds(&n, &me, &path)?;
        let target = match self
            .account_within(&mut tx, actor, unit, Reach::Scope)
            .await
        {
            Ok(a) => Some(a),
            Err(ServiceError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        // The target and the units above it up to the customer, share-locked: a deactivation
        // anywhere on it (R-OFF-1) waits for this move and counts the number, or has committed
        // and is seen here.
        let mut to_customer = None;
        let mut inactive = false;
        if let (Some(t), Some(customer)) = (&target, n.customer_id)
            && (t.id == customer || t.kind == AccountKind::Unit)
            && let Some(p) = path_up_to(&mut tx, t.id, customer).await?
        {
            if t.id != n.holder_id {
                let mut sorted = p.clone();
                sorted.sort();
                inactive = !tx.lock_inactive_among(&sorted).await?.is_empty();
            }
            to_customer = Some(p);
        }
        let to = UnitTarget {
            account: target.as_ref(),
            path_to_customer: to_customer.as_deref(),
            path_inactive: inactive,
        };
        match moves::move_to_unit(&n, mover, to)? {
            // Already there: nothing to change, nothing to record.
            None => Ok(n),
            Some(next) => {
                self.commit_move(tx, actor, &n, next, Action::NumberMoveToUnit, Rule::Move5)
                    .await
            }
        }
    }

    /// Release ("delete" on the customer side): back to the pool that allocated it, which
    /// sees it `returned` (R-MOVE-3).
    pub async fn release(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        self.release_version(actor, lookup, None).await
    }

    /// [`Service::release`] guarded by `if_version` (If-Match): the customer side's DELETE.
    async fn release_version(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        if_version: Option<i64>,
    ) -> Result<Number> {
        actor.require(Permission::NumberWrite)?;
        let (mut tx, n, me, path) = self.open_holder_move(actor, lookup).await?;
        check_version("number", n.version, if_version)?;
        let mover = Mover::new(&me, &path);
        let to = moves::release_to(&n, mover)?;
        // Share-locked and active: R-OFF-1 keeps a deactivated account empty, and a pool's
        // deactivation counts this number wherever it is, so this holds; the lock makes sure.
        let pool = tx
            .get_account_locked(to, Lock::Share)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        let next = moves::release(&n, &pool)?;
        self.commit_move(tx, actor, &n, next, Action::NumberRelease, Rule::Move3)
            .await
    }

    /// Unbind a returned number: free again in the actor's pool (R-MOVE-4).
    pub async fn unbind(&self, actor: &Actor, lookup: &NumberLookup) -> Result<Number> {
        actor.require(Permission::NumberWrite)?;
        let (tx, n, me) = self.open_move(actor, lookup).await?;
        let next = moves::unbind(&n, &me)?;
        self.commit_move(tx, actor, &n, next, Action::NumberUnbind, Rule::Move4)
            .await
    }

    /// Remove a number from the platform (R-DEL-1, R-DEL-2); its history stays in the audit log.
    /// On the customer side "delete" is the release (SPEC §3; seed 000: the customer deletes a
    /// number so that its provider sees it returned; seed 002: DELETE is "Release number"), so
    /// a customer or unit deleting a number it did not upload releases it instead (R-MOVE-3).
    /// `if_version` (If-Match) guards against deleting a number changed since it was read.
    pub async fn delete_number(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        if_version: Option<i64>,
    ) -> Result<Number> {
        actor.require(Permission::NumberWrite)?;
        let (mut tx, n, me) = self.open_move(actor, lookup).await?;
        if !me.kind.holds_pool() && n.uploaded_by != me.id {
            drop(tx);
            return self.release_version(actor, lookup, if_version).await;
        }
        check_version("number", n.version, if_version)?;
        moves::delete(&n, &me)?;
        super::delete_recorded(
            &mut tx,
            actor,
            &n,
            crate::service::lost_race_with_version(if_version),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}
