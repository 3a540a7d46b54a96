//! A provider's SIP trunks and carriers (SPEC §1): the provider creates, edits and deletes them
//! (R-PROV-1); resellers below it read them, because allocating a number to a customer needs one
//! of the provider's trunks; customers and units see none. A trunk or carrier a number uses
//! stays (R-PROV-2), and each kind of carrier has exactly one default (R-PROV-3), which numbers
//! get when a capability is on and no carrier is named (see `numbers.rs`).

use numberpool_domain::provider::check_label;
use numberpool_domain::{
    AccountId, AccountKind, Carrier, CarrierId, CarrierKind, Rule, RuleViolation, SipTrunk, TrunkId,
};
use numberpool_store::{Reader, Tx};

use super::versioned::{commit_create, record_update};
use super::{Actor, Permission, Result, Service, ServiceError};

/// Editable fields of a SIP trunk; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TrunkPatch {
    pub name: Option<String>,
    pub region: Option<String>,
    /// `true` makes it the provider's default trunk (the previous default stops being one);
    /// `false` on the default is refused (R-PROV-3): make another trunk the default instead.
    pub is_default: Option<bool>,
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
        let me = self.acting_account(tx, actor).await?;
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
        let me = self.acting_account(tx, actor).await?;
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

    pub async fn list_trunks(&self, actor: &Actor) -> Result<Vec<SipTrunk>> {
        actor.require(Permission::NumberRead)?;
        let Some((mut r, p)) = self.settings_reader(actor).await? else {
            return Ok(vec![]);
        };
        Ok(r.list_trunks(p).await?)
    }

    pub async fn get_trunk(&self, actor: &Actor, id: TrunkId) -> Result<SipTrunk> {
        actor.require(Permission::NumberRead)?;
        self.get_setting(actor, id).await
    }

    /// A new trunk of the actor's provider account; the name is unique within the provider.
    /// The provider's first trunk becomes its default whatever `is_default` says;
    /// `is_default: true` takes the default over from the current one (R-PROV-3).
    pub async fn create_trunk(
        &self,
        actor: &Actor,
        name: &str,
        region: &str,
        is_default: Option<bool>,
    ) -> Result<SipTrunk> {
        actor.require(Permission::NumberWrite)?;
        let name = label("name", name)?;
        let region = label("region", region)?;
        let (mut tx, provider) = self.open_create::<SipTrunk>(actor).await?;
        let take_over = is_default == Some(true);
        if take_over {
            self.undefault_trunk(&mut tx, actor, provider, None).await?;
        }
        let id = tx
            .insert_trunk_as(provider, &name, &region, take_over)
            .await?;
        let rule = if take_over { Rule::Prov3 } else { Rule::Prov1 };
        commit_create(tx, actor, id, Some(rule)).await
    }

    /// Makes the provider's default trunk (other than `keep`) no longer the default, with its
    /// audit event, in the caller's transaction (R-PROV-3: the new default is set in the same
    /// transaction, so there is never a moment with two or none).
    async fn undefault_trunk(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        provider: AccountId,
        keep: Option<TrunkId>,
    ) -> Result<()> {
        let Some(current) = tx.default_trunk(provider).await? else {
            return Ok(());
        };
        if Some(current) == keep {
            return Ok(());
        }
        let before = tx
            .get_trunk(current)
            .await?
            .ok_or(ServiceError::NotFound("SIP trunk"))?;
        let mut next = before.clone();
        next.is_default = false;
        record_update(tx, actor, &before, &next, Some(Rule::Prov3), None).await?;
        Ok(())
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
        let mut change = self.open_setting::<SipTrunk>(actor, id, if_version).await?;
        let mut next = change.before.clone();
        if let Some(n) = &patch.name {
            next.name = label("name", n)?;
        }
        if let Some(r) = &patch.region {
            next.region = label("region", r)?;
        }
        match patch.is_default {
            Some(false) if change.before.is_default => {
                return Err(RuleViolation::new(
                    Rule::Prov3,
                    "a provider keeps one default SIP trunk; make another one the default instead",
                )
                .into());
            }
            Some(true) if !change.before.is_default => {
                self.undefault_trunk(&mut change.tx, actor, change.provider, Some(id))
                    .await?;
                next.is_default = true;
            }
            _ => {}
        }
        let rule = if patch.is_default.is_some() {
            Rule::Prov3
        } else {
            Rule::Prov1
        };
        change.update(actor, next, Some(rule)).await
    }

    /// Deletes a trunk no number uses (R-PROV-2).
    pub async fn delete_trunk(
        &self,
        actor: &Actor,
        id: TrunkId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut change = self.open_setting::<SipTrunk>(actor, id, if_version).await?;
        if change.tx.trunk_in_use(id).await? {
            return Err(RuleViolation::new(
                Rule::Prov2,
                "numbers use this SIP trunk; move them to another trunk first",
            )
            .into());
        }
        if change.before.is_default && change.tx.list_trunks(change.provider).await?.len() > 1 {
            return Err(RuleViolation::new(
                Rule::Prov3,
                "this is the default SIP trunk; make another one the default first",
            )
            .into());
        }
        change.delete(actor, Rule::Prov2).await
    }

    pub async fn list_carriers(
        &self,
        actor: &Actor,
        kind: Option<CarrierKind>,
    ) -> Result<Vec<Carrier>> {
        actor.require(Permission::NumberRead)?;
        let Some((mut r, p)) = self.settings_reader(actor).await? else {
            return Ok(vec![]);
        };
        Ok(r.list_carriers(p, kind).await?)
    }

    pub async fn get_carrier(&self, actor: &Actor, id: CarrierId) -> Result<Carrier> {
        actor.require(Permission::NumberRead)?;
        self.get_setting(actor, id).await
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
        record_update(tx, actor, &before, &next, Some(Rule::Prov3), None).await?;
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
        let (mut tx, provider) = self.open_create::<Carrier>(actor).await?;
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
        commit_create(tx, actor, id, make_default.then_some(Rule::Prov3)).await
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
        let mut change = self.open_setting::<Carrier>(actor, id, if_version).await?;
        let before = &change.before;
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
                let kind = before.kind;
                self.undefault(&mut change.tx, actor, change.provider, kind, Some(id))
                    .await?;
                next.is_default = true;
            }
            _ => {}
        }
        change
            .update(actor, next, patch.is_default.map(|_| Rule::Prov3))
            .await
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
        let mut change = self.open_setting::<Carrier>(actor, id, if_version).await?;
        let (kind, is_default) = (change.before.kind, change.before.is_default);
        if change.tx.carrier_in_use(id).await? {
            return Err(RuleViolation::new(
                Rule::Prov2,
                format!(
                    "numbers use this {}; give them another one first",
                    kind.noun()
                ),
            )
            .into());
        }
        if is_default
            && change
                .tx
                .list_carriers(change.provider, Some(kind))
                .await?
                .len()
                > 1
        {
            return Err(RuleViolation::new(
                Rule::Prov3,
                format!(
                    "this is the default {}; make another one the default first",
                    kind.noun()
                ),
            )
            .into());
        }
        change.delete(actor, Rule::Prov2).await
    }
}
