//! The one path every versioned record's edit takes, and the one path a provider's settings
//! (SIP trunks, carriers, attribute keys, rate card entries) take to be read, created, edited
//! and deleted: visible to the actor (R-SEC-1), written only by the provider (R-PROV-1), at the
//! caller's `If-Match` version, by compare-and-set with the audit event in the same transaction.
//! Each setting says what differs (its noun, audit actions and store calls) in a row of the
//! `provider_settings!` table; its own rules (R-PROV-2, R-PROV-3, R-ATTR-1) stay in its file.

use std::fmt::Display;
use std::future::Future;

use numberpool_domain::{
    AccountId, Action, Attribute, AttributeId, Carrier, CarrierId, Rate, RateId, Rule, SipTrunk,
    TrunkId,
};
use numberpool_store::{Reader, Result as StoreResult, Tx};

use super::{
    Actor, Result, Service, ServiceError, check_version, lost_race_with_version, snapshot,
};

/// A record with a version that every change bumps: the compare-and-set guard and the ETag.
pub(super) trait Versioned: Clone + PartialEq + serde::Serialize + Send + Sync {
    type Id: Copy + Display + Send + Sync;
    /// The audit action of an edit.
    const UPDATE: Action;

    fn id(&self) -> Self::Id;
    fn version(&self) -> i64;
    /// Writes `next` if the row is still at `next.version()`; `Conflict` otherwise.
    fn store_update(tx: &mut Tx, next: &Self) -> impl Future<Output = StoreResult<Self>> + Send;
}

/// A versioned record a provider owns and manages and the resellers below it read.
pub(super) trait ProviderSetting: Versioned {
    /// What `NotFound` and `PreconditionFailed` call it.
    const NOUN: &'static str;
    /// What a non-provider is told only a provider manages (R-PROV-1).
    const MANAGED: &'static str;
    const CREATE: Action;
    const DELETE: Action;

    fn provider(&self) -> AccountId;
    fn load(r: &mut Reader, id: Self::Id)
    -> impl Future<Output = StoreResult<Option<Self>>> + Send;
    /// Deletes the row if it is still at `version`; `Conflict` otherwise.
    fn store_delete(
        tx: &mut Tx,
        id: Self::Id,
        version: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Implements [`Versioned`] and [`ProviderSetting`] for each row of a table of settings: the
/// type and its id, its noun, what the R-PROV-1 refusal says only a provider manages, its
/// create/update/delete audit actions, and its store's read, compare-and-set and delete.
macro_rules! provider_settings {
    ($($ty:ident($id:ident): $noun:literal, managed $managed:literal,
       actions $create:ident / $update:ident / $delete:ident,
       store $get:ident / $cas:ident / $del:ident;)*) => {$(
        impl Versioned for $ty {
            type Id = $id;
            const UPDATE: Action = Action::$update;

            fn id(&self) -> $id {
                self.id
            }
            fn version(&self) -> i64 {
                self.version
            }
            async fn store_update(tx: &mut Tx, next: &Self) -> StoreResult<Self> {
                tx.$cas(next).await
            }
        }

        impl ProviderSetting for $ty {
            const NOUN: &'static str = $noun;
            const MANAGED: &'static str = $managed;
            const CREATE: Action = Action::$create;
            const DELETE: Action = Action::$delete;

            fn provider(&self) -> AccountId {
                self.provider_id
            }
            async fn load(r: &mut Reader, id: $id) -> StoreResult<Option<Self>> {
                r.$get(id).await
            }
            async fn store_delete(tx: &mut Tx, id: $id, version: i64) -> StoreResult<()> {
                tx.$del(id, version).await
            }
        }
    )*};
}

provider_settings! {
    SipTrunk(TrunkId): "SIP trunk", managed "SIP trunks and carriers",
        actions SipTrunkCreate / SipTrunkUpdate / SipTrunkDelete,
        store get_trunk / update_trunk_cas / delete_trunk;
    Carrier(CarrierId): "carrier", managed "SIP trunks and carriers",
        actions CarrierCreate / CarrierUpdate / CarrierDelete,
        store get_carrier / update_carrier_cas / delete_carrier;
    Attribute(AttributeId): "attribute", managed "attribute keys",
        actions AttributeCreate / AttributeUpdate / AttributeDelete,
        store get_attribute / update_attribute_cas / delete_attribute;
    Rate(RateId): "rate", managed "its rate card",
        actions RateCreate / RateUpdate / RateDelete,
        store get_rate / update_rate_cas / delete_rate;
}

/// Writes `next` over `before` by compare-and-set and records the edit, in the caller's
/// transaction. A lost compare-and-set is `PreconditionFailed` when the caller named a version.
pub(super) async fn record_update<T: Versioned>(
    tx: &mut Tx,
    actor: &Actor,
    before: &T,
    next: &T,
    rule: Option<Rule>,
    if_version: Option<i64>,
) -> Result<T> {
    let stored = T::store_update(tx, next)
        .await
        .map_err(lost_race_with_version(if_version))?;
    tx.record(&actor.event(
        T::UPDATE,
        before.id().to_string(),
        rule,
        snapshot(before),
        snapshot(&stored),
    ))
    .await?;
    Ok(stored)
}

/// Ends an edit: nothing is written (no version bump, no event) when `next` changes nothing;
/// otherwise [`record_update`] and commit.
pub(super) async fn commit_update<T: Versioned>(
    mut tx: Tx,
    actor: &Actor,
    before: T,
    next: T,
    rule: Option<Rule>,
    if_version: Option<i64>,
) -> Result<T> {
    if next == before {
        return Ok(before);
    }
    let stored = record_update(&mut tx, actor, &before, &next, rule, if_version).await?;
    tx.commit().await?;
    Ok(stored)
}

/// A provider setting opened for an edit or a delete by [`Service::open_setting`]. The caller
/// checks its own rules with `tx`, `provider` and `before`, then ends it with
/// [`SettingChange::update`] or [`SettingChange::delete`]; dropping it rolls back.
pub(super) struct SettingChange<T> {
    pub tx: Tx,
    /// The actor's provider account, its row locked to the end of the transaction.
    pub provider: AccountId,
    pub before: T,
    if_version: Option<i64>,
}

impl<T: ProviderSetting> SettingChange<T> {
    /// Writes `next` (see [`commit_update`]).
    pub async fn update(self, actor: &Actor, next: T, rule: Option<Rule>) -> Result<T> {
        commit_update(self.tx, actor, self.before, next, rule, self.if_version).await
    }

    /// Deletes the setting as it was read, with its audit event, and commits.
    pub async fn delete(mut self, actor: &Actor, rule: Rule) -> Result<()> {
        let id = self.before.id();
        T::store_delete(&mut self.tx, id, self.before.version())
            .await
            .map_err(lost_race_with_version(self.if_version))?;
        self.tx
            .record(&actor.event(
                T::DELETE,
                id.to_string(),
                Some(rule),
                snapshot(&self.before),
                None,
            ))
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Service {
    /// Opens the transaction in which the actor's provider creates a setting of type `T`: the
    /// provider account if the actor is one (R-PROV-1), locked.
    pub(super) async fn open_create<T: ProviderSetting>(
        &self,
        actor: &Actor,
    ) -> Result<(Tx, AccountId)> {
        let mut tx = self.store.begin().await?;
        let provider = self.managing_provider(&mut tx, actor, T::MANAGED).await?;
        Ok((tx, provider))
    }

    /// A read handle with the provider whose settings the actor sees; `None` for a customer or
    /// unit, which sees none.
    pub(super) async fn settings_reader(
        &self,
        actor: &Actor,
    ) -> Result<Option<(Reader, AccountId)>> {
        let mut r = self.store.read().await?;
        Ok(self.visible_provider(&mut r, actor).await?.map(|p| (r, p)))
    }

    /// A setting the actor may see; `NotFound` otherwise (R-SEC-1).
    async fn visible_setting<T: ProviderSetting>(
        &self,
        r: &mut Reader,
        actor: &Actor,
        id: T::Id,
    ) -> Result<T> {
        let provider = self.visible_provider(r, actor).await?;
        match T::load(r, id).await? {
            Some(s) if Some(s.provider()) == provider => Ok(s),
            _ => Err(ServiceError::NotFound(T::NOUN)),
        }
    }

    /// [`Service::visible_setting`] on a read handle of its own.
    pub(super) async fn get_setting<T: ProviderSetting>(
        &self,
        actor: &Actor,
        id: T::Id,
    ) -> Result<T> {
        let mut r = self.store.read().await?;
        self.visible_setting(&mut r, actor, id).await
    }

    /// Opens the transaction in which `id` is edited or deleted: the setting if the actor sees
    /// it, the actor's provider account if it manages it (locked), and the `If-Match` check.
    pub(super) async fn open_setting<T: ProviderSetting>(
        &self,
        actor: &Actor,
        id: T::Id,
        if_version: Option<i64>,
    ) -> Result<SettingChange<T>> {
        let mut tx = self.store.begin().await?;
        let before: T = self.visible_setting(&mut tx, actor, id).await?;
        let provider = self.managing_provider(&mut tx, actor, T::MANAGED).await?;
        check_version(T::NOUN, before.version(), if_version)?;
        Ok(SettingChange {
            tx,
            provider,
            before,
            if_version,
        })
    }
}

/// Ends a create: reads the new setting back and records it, then commits.
pub(super) async fn commit_create<T: ProviderSetting>(
    mut tx: Tx,
    actor: &Actor,
    id: T::Id,
    rule: Option<Rule>,
) -> Result<T> {
    let created = T::load(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound(T::NOUN))?;
    tx.record(&actor.event(T::CREATE, id.to_string(), rule, None, snapshot(&created)))
        .await?;
    tx.commit().await?;
    Ok(created)
}
