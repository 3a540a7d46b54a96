//! Provision (SPEC §5, seed 002's `POST /phone/numbers/provision`): a pool takes numbers it
//! found free into an account (or a customer takes them from its self-service providers'
//! pools into itself), all or nothing, each number allocated as `allocate` would
//! (R-MOVE-1), on the named SIP trunk or the provider's default one (R-PROV-3), with the
//! customer's toll-free and contact-center licences checked for the whole set (R-ACC-3).

use std::collections::BTreeSet;

use numberpool_domain::moves::{self, Allocation};
use numberpool_domain::{
    AccountId, AccountKind, Action, E164, EntitlementUse, Number, NumberType, Rule, RuleViolation,
    TrunkId,
};
use numberpool_store::{Lock, NumberLookup};

use super::super::accounts::Reach;
use super::super::{Actor, Permission, Result, Service, ServiceError, snapshot};
use super::available::takeable_from;
use super::licences_of;

/// The most numbers one provision takes.
pub const MAX_PROVISION: usize = 1_000;

impl Service {
    /// Takes `numbers` from the actor's pool into `site` (an account the actor may allocate
    /// to), or for a customer from its self-service providers' pools into itself, all or
    /// nothing. With no `trunk`, a number going to a customer gets the provider's
    /// default trunk; a provider without one is a 409 saying so. Numbers come back in the
    /// order asked.
    pub async fn provision(
        &self,
        actor: &Actor,
        numbers: &[E164],
        site: AccountId,
        trunk: Option<TrunkId>,
    ) -> Result<Vec<Number>> {
        self.provision_of_type(actor, numbers, site, trunk, None)
            .await
    }

    /// [`Service::provision`] of numbers of one type only (`toll_free` for seed 002's
    /// toll-free provisioning): a free number of another type is refused, naming it.
    pub async fn provision_of_type(
        &self,
        actor: &Actor,
        numbers: &[E164],
        site: AccountId,
        trunk: Option<TrunkId>,
        only: Option<NumberType>,
    ) -> Result<Vec<Number>> {
        actor.require(Permission::NumberWrite)?;
        if numbers.is_empty() || numbers.len() > MAX_PROVISION {
            return Err(ServiceError::Invalid(format!(
                "phone_numbers: give 1 to {MAX_PROVISION} numbers"
            )));
        }
        let mut seen = BTreeSet::new();
        for e in numbers {
            if !seen.insert(e.as_str()) {
                return Err(ServiceError::Invalid(format!(
                    "phone_numbers: {} is listed twice",
                    e.as_str()
                )));
            }
        }
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        // A customer taking numbers for itself uses its provider's default trunk: it sees no
        // trunks to choose from.
        let customer_takes = !me.kind.holds_pool();
        if customer_takes && trunk.is_some() {
            return Err(ServiceError::Invalid(
                "sip_trunk_id: a customer's numbers go out on its provider's default trunk; \
                 leave it out"
                    .into(),
            ));
        }
        let target = self
            .account_within(&mut tx, actor, site, Reach::Scope)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => ServiceError::NotFound("site"),
                other => other,
            })?;
        if target.kind == AccountKind::Unit {
            return Err(RuleViolation::new(
                Rule::Move5,
                "site_id: a unit gets its numbers from its customer; provision them to the \
                 customer, which moves them into the unit",
            )
            .into());
        }
        // As `allocate`: a deactivation of the target waits for this, or is seen here.
        let target = tx
            .get_account_locked(target.id, Lock::Update)
            .await?
            .ok_or(ServiceError::NotFound("site"))?;
        // The pools it takes from: the caller's own, or for a customer its self-service
        // providers' (each number is then allocated by the pool that holds it).
        let pools = self.takeable_pools(&mut tx, &me).await?;
        let mut relations = Vec::with_capacity(pools.len());
        for p in &pools {
            relations.push(tx.relation(p, &target).await?);
        }
        // The numbers in E.164 order, so that two provisions of overlapping sets take their
        // rows in the same order (one waits for the other on PostgreSQL instead of deadlocking).
        let mut order: Vec<&E164> = numbers.iter().collect();
        order.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut taken: Vec<(Number, Number)> = Vec::with_capacity(numbers.len());
        let mut licences = EntitlementUse::default();
        let mut trunk_of_owner: Option<(AccountId, TrunkId)> = None;
        // The reservations whose numbers this takes (R-RES-2 lets only their account have them).
        let mut reservations = BTreeSet::new();
        let now = self.now();
        // A named trunk's provider, read once for the set.
        let named_trunk_owner = match trunk {
            Some(t) => tx.trunk_provider(t).await?,
            None => None,
        };
        for e in order {
            let gone = || {
                ServiceError::Conflict(format!(
                    "{} is not a free number of this pool (taken since it was found, or never \
                     here); nothing was provisioned",
                    e.as_str()
                ))
            };
            // What the search offers, and nothing else.
            let n = tx
                .get_number(&NumberLookup::E164(e.clone()))
                .await?
                .map(|n| n.lapsed_at(now))
                .ok_or_else(gone)?;
            let pool = pools
                .iter()
                .position(|p| takeable_from(&n, p.id))
                .ok_or_else(gone)?;
            if let Some(h) = n.reservation {
                reservations.insert(h.reservation_id);
            }
            if let Some(t) = only
                && n.number_type != t
            {
                return Err(ServiceError::Invalid(format!(
                    "phone_numbers: {} is not a {} number",
                    e.as_str(),
                    t.as_str().replace('_', "-")
                )));
            }
            let sip_trunk_id = match trunk {
                Some(t) => {
                    if named_trunk_owner != Some(n.owner_id) {
                        return Err(ServiceError::NotFound("SIP trunk"));
                    }
                    Some(t)
                }
                // A reseller's pool needs no trunk, and a number that has one keeps it (as
                // `allocate` does): only a customer's number without one gets the default.
                None if target.kind != AccountKind::Customer || n.sip_trunk_id.is_some() => None,
                None => match trunk_of_owner {
                    Some((owner, t)) if owner == n.owner_id => Some(t),
                    _ => {
                        let t = tx.default_trunk(n.owner_id).await?.ok_or_else(|| {
                            ServiceError::Conflict(if customer_takes {
                                "your provider has no SIP trunk to provision numbers on yet: \
                                 ask your provider"
                                    .into()
                            } else {
                                "the provider has no SIP trunk to provision numbers on: \
                                 create one (the first becomes the default) or name one in \
                                 sip_trunk_id"
                                    .into()
                            })
                        })?;
                        trunk_of_owner = Some((n.owner_id, t));
                        Some(t)
                    }
                },
            };
            let with = Allocation {
                sip_trunk_id,
                ..Allocation::default()
            };
            // The number is free here (checked above): a refusal now is about the target or
            // the caller (R-MOVE-1: deactivated, not a child or connected customer, …).
            let next = moves::allocate(&n, &pools[pool], &target, relations[pool], with)?;
            if next.customer_id.is_some() {
                let l = licences_of(&n);
                licences.toll_free += l.toll_free;
                licences.contact_center += l.contact_center;
            }
            taken.push((n, next));
        }
        if licences != EntitlementUse::default() {
            self.check_entitlements(&mut tx, target.id, licences)
                .await?;
        }
        // The reservations first, then the numbers: the order every writer of them keeps.
        for r in &reservations {
            tx.lock_reservation(*r).await?;
        }
        let mut out = Vec::with_capacity(taken.len());
        for (before, mut next) in taken {
            next.updated_at = now;
            let stored = tx.update_number_cas(&next).await?;
            tx.record(&actor.event(
                Action::NumberAllocate,
                before.id.to_string(),
                Some(Rule::Move1),
                snapshot(&before),
                snapshot(&stored),
            ))
            .await?;
            out.push(stored);
        }
        self.fulfil_emptied(&mut tx, actor, &reservations).await?;
        tx.commit().await?;
        out.sort_by_key(|n| {
            numbers
                .iter()
                .position(|e| e.as_str() == n.phone_number.as_str())
                .unwrap_or(usize::MAX)
        });
        Ok(out)
    }
}
