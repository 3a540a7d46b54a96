//! A provider's SIP trunks and carriers (SPEC §1): the provider creates, edits and deletes them
//! (R-PROV-1); resellers below it read them, because allocating a number to a customer needs one
//! of the provider's trunks; customers and units see none. A trunk or carrier a number uses
//! stays (R-PROV-2), and each kind of carrier has exactly one default (R-PROV-3), which numbers
//! get when a capability is on and no carrier is named (see `numbers.rs`).

use numberpool_domain::provider::check_label;
use numberpool_domain::{
    AccountId, AccountKind, Action, Carrier, CarrierId, CarrierKind, Rule, RuleViolation, SipTrunk,
    TrunkId,
};
use numberpool_store::{Reader, Tx};

use super::{Actor, Permission, Result, Service, ServiceError, check_version, snapshot};

/// Editable fields of a SIP trunk; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TrunkPatch {
    pub name: Option<String>,
    pub region: Option<String>,
}

/// Editable fields of a carrier; `None` leaves a field as it is. The kind never changes: a
/// number's voice carrier must stay a voice carrier.
#[derive(Debug, Clone, Default)]
pub struct CarrierPatch {
    pub name: Option<String>,
    /// `true` makes it the default of its kind (the previous default stops being one);
    /// `false` on the default is refused (R-PROV-3): make another carrier the default instead.
    pub is_default: Option<bool>,
}

fn label(field: &str, v: &str) -> Result<String> {
    check_label(field, v).map_err(ServiceError::Invalid)
}

impl Service {
    /// The provider whose trunks and carriers the actor sees: its own account for a provider,
    /// the root provider above a reseller, none for a customer or unit.
    pub(super) async fn visible_provider(
        &self,
        tx: &mut Reader,
        actor: &Actor,
    ) -> Result<Option<AccountId>> {
        let me = tx
            .get_account(actor.account)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        Ok(match me.kind {
            AccountKind::Provider => Some(me.id),
            // The root of a reseller's tree is its provider (R-TREE-1), which owns the numbers
            // the reseller holds and so the trunks they go out on.
            AccountKind::Reseller => tx.ancestors(me.id).await?.last().copied(),
            AccountKind::Customer | AccountKind::Unit => None,
        })
    }

    /// The actor's account if it is a provider: only a provider manages its trunks, carriers,
    /// attribute keys and rate card (R-PROV-1; `what` names them in the refusal). The row is
    /// locked: each such write decides from the provider's other rows (one default per kind,
    /// R-PROV-3; a free name; values numbers carry, R-ATTR-1), so they go one at a time per
    /// provider on PostgreSQL too.
    pub(super) async fn managing_provider(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        what: &str,
    ) -> Result<AccountId> {
        let me = tx
            .get_account(actor.account)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        if me.kind != AccountKind::Provider {
            return Err(RuleViolation::new(
                Rule::Prov1,
                format!("only a provider manages {what}; this account can read its provider's"),
            )
            .into());
        }
        tx.lock_account(me.id).await?;
        Ok(me.id)
    }

    /// A trunk the actor may see; `NotFound` otherwise (R-SEC-1).
    async fn visible_trunk(&self, tx: &mut Reader, actor: &Actor, id: TrunkId) -> Result<SipTrunk> {
        let provider = self.visible_provider(tx, actor).await?;
        match tx.get_trunk(id).await? {
            Some(t) if Some(t.provider_id) == provider => Ok(t),
            _ => Err(ServiceError::NotFound("SIP trunk")),
        }
    }

    /// A carrier the actor may see; `NotFound` otherwise (R-SEC-1).
    async fn visible_carrier(
        &self,
        tx: &mut Reader,
        actor: &Actor,
        id: CarrierId,
    ) -> Result<Carrier> {
        let provider = self.visible_provider(tx, actor).await?;
        match tx.get_carrier(id).await? {
            Some(c) if Some(c.provider_id) == provider => Ok(c),
            _ => Err(ServiceError::NotFound("carrier")),
        }
    }

    pub async fn list_trunks(&self, actor: &Actor) -> Result<Vec<SipTrunk>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        match self.visible_provider(&mut r, actor).await? {
            Some(p) => Ok(r.list_trunks(p).await?),
            None => Ok(vec![]),
        }
    }

    pub async fn get_trunk(&self, actor: &Actor, id: TrunkId) -> Result<SipTrunk> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.visible_trunk(&mut r, actor, id).await
    }

    /// A new trunk of the actor's provider account; the name is unique within the provider.
    pub async fn create_trunk(&self, actor: &Actor, name: &str, region: &str) -> Result<SipTrunk> {
        actor.require(Permission::NumberWrite)?;
        let name = label("name", name)?;
        let region = label("region", region)?;
        let mut tx = self.store.begin().await?;
        let provider = self
            .managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        let id = tx.insert_trunk(provider, &name, &region).await?;
        let trunk = tx
            .get_trunk(id)
            .await?
            .ok_or(ServiceError::NotFound("SIP trunk"))?;
        tx.record(&actor.event(
            Action::SipTrunkCreate,
            id.to_string(),
            Some(Rule::Prov1),
            None,
            snapshot(&trunk),
        ))
        .await?;
        tx.commit().await?;
        Ok(trunk)
    }

    /// Renames a trunk or moves it to another region. Numbers on it stay on it.
    pub async fn update_trunk(
        &self,
        actor: &Actor,
        id: TrunkId,
        patch: &TrunkPatch,
        if_version: Option<i64>,
    ) -> Result<SipTrunk> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_trunk(&mut tx, actor, id).await?;
        self.managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        check_version("SIP trunk", before.version, if_version)?;
        let mut next = before.clone();
        if let Some(n) = &patch.name {
            next.name = label("name", n)?;
        }
        if let Some(r) = &patch.region {
            next.region = label("region", r)?;
        }
        if next == before {
            return Ok(before);
        }
        let stored = tx
            .update_trunk_cas(&next)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::SipTrunkUpdate,
            id.to_string(),
            Some(Rule::Prov1),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Deletes a trunk no number uses (R-PROV-2).
    pub async fn delete_trunk(
        &self,
        actor: &Actor,
        id: TrunkId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_trunk(&mut tx, actor, id).await?;
        self.managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        check_version("SIP trunk", before.version, if_version)?;
        if tx.trunk_in_use(id).await? {
            return Err(RuleViolation::new(
                Rule::Prov2,
                "numbers use this SIP trunk; move them to another trunk first",
            )
            .into());
        }
        tx.delete_trunk(id, before.version)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::SipTrunkDelete,
            id.to_string(),
            Some(Rule::Prov2),
            snapshot(&before),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_carriers(
        &self,
        actor: &Actor,
        kind: Option<CarrierKind>,
    ) -> Result<Vec<Carrier>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        match self.visible_provider(&mut r, actor).await? {
            Some(p) => Ok(r.list_carriers(p, kind).await?),
            None => Ok(vec![]),
        }
    }

    pub async fn get_carrier(&self, actor: &Actor, id: CarrierId) -> Result<Carrier> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.visible_carrier(&mut r, actor, id).await
    }

    /// Makes the current default of `kind` (other than `keep`) no longer the default, with its
    /// audit event, in the caller's transaction (R-PROV-3: the new one becomes it in the same
    /// transaction, so there is never a moment with two or none).
    async fn undefault(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        provider: AccountId,
        kind: CarrierKind,
        keep: Option<CarrierId>,
    ) -> Result<()> {
        let Some((current, _)) = tx.default_carrier(provider, kind.as_str()).await? else {
            return Ok(());
        };
        if Some(current) == keep {
            return Ok(());
        }
        let before = tx
            .get_carrier(current)
            .await?
            .ok_or(ServiceError::NotFound("carrier"))?;
        let mut next = before.clone();
        next.is_default = false;
        let stored = tx.update_carrier_cas(&next).await?;
        tx.record(&actor.event(
            Action::CarrierUpdate,
            current.to_string(),
            Some(Rule::Prov3),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        Ok(())
    }

    /// A new carrier of the actor's provider account. The first of its kind (any carrier while its
    /// kind has no default) becomes the default whatever `is_default` says; `is_default: true` takes the default over from the current
    /// one (R-PROV-3).
    pub async fn create_carrier(
        &self,
        actor: &Actor,
        kind: CarrierKind,
        name: &str,
        is_default: Option<bool>,
    ) -> Result<Carrier> {
        actor.require(Permission::NumberWrite)?;
        let name = label("name", name)?;
        let mut tx = self.store.begin().await?;
        let provider = self
            .managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        // A kind without a default gets this one whatever the caller asked: numbers with the
        // capability on need a carrier to fall back on.
        let none_yet = tx.default_carrier(provider, kind.as_str()).await?.is_none();
        let make_default = none_yet || is_default == Some(true);
        if make_default {
            self.undefault(&mut tx, actor, provider, kind, None).await?;
        }
        let id = tx
            .insert_carrier(provider, kind.as_str(), &name, make_default)
            .await?;
        let carrier = tx
            .get_carrier(id)
            .await?
            .ok_or(ServiceError::NotFound("carrier"))?;
        tx.record(&actor.event(
            Action::CarrierCreate,
            id.to_string(),
            make_default.then_some(Rule::Prov3),
            None,
            snapshot(&carrier),
        ))
        .await?;
        tx.commit().await?;
        Ok(carrier)
    }

    /// Renames a carrier or makes it the default of its kind (R-PROV-3).
    pub async fn update_carrier(
        &self,
        actor: &Actor,
        id: CarrierId,
        patch: &CarrierPatch,
        if_version: Option<i64>,
    ) -> Result<Carrier> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_carrier(&mut tx, actor, id).await?;
        let provider = self
            .managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        check_version("carrier", before.version, if_version)?;
        let mut next = before.clone();
        if let Some(n) = &patch.name {
            next.name = label("name", n)?;
        }
        match patch.is_default {
            Some(false) if before.is_default => {
                return Err(RuleViolation::new(
                    Rule::Prov3,
                    format!(
                        "a provider keeps one default {}; make another one the default instead",
                        before.kind.noun()
                    ),
                )
                .into());
            }
            Some(true) if !before.is_default => {
                self.undefault(&mut tx, actor, provider, before.kind, Some(id))
                    .await?;
                next.is_default = true;
            }
            _ => {}
        }
        if next == before {
            return Ok(before);
        }
        let stored = tx
            .update_carrier_cas(&next)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::CarrierUpdate,
            id.to_string(),
            patch.is_default.map(|_| Rule::Prov3),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Deletes a carrier no number uses (R-PROV-2). The default goes only as the last of its
    /// kind (R-PROV-3): with others left, one of them is made the default first.
    pub async fn delete_carrier(
        &self,
        actor: &Actor,
        id: CarrierId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_carrier(&mut tx, actor, id).await?;
        let provider = self
            .managing_provider(&mut tx, actor, "SIP trunks and carriers")
            .await?;
        check_version("carrier", before.version, if_version)?;
        if tx.carrier_in_use(id).await? {
            return Err(RuleViolation::new(
                Rule::Prov2,
                format!(
                    "numbers use this {}; give them another one first",
                    before.kind.noun()
                ),
            )
            .into());
        }
        if before.is_default && tx.list_carriers(provider, Some(before.kind)).await?.len() > 1 {
            return Err(RuleViolation::new(
                Rule::Prov3,
                format!(
                    "this is the default {}; make another one the default first",
                    before.kind.noun()
                ),
            )
            .into());
        }
        tx.delete_carrier(id, before.version)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::CarrierDelete,
            id.to_string(),
            Some(Rule::Prov2),
            snapshot(&before),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
