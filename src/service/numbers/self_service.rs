//! Customer self-service (SPEC §5, issue 14): a pool holder (provider or reseller) lets the
//! customers below it or connected to it search its free numbers and take them for themselves.
//! This keeps the setting and answers which pools an account takes numbers from.

use numberpool_domain::rules::RuleViolation;
use numberpool_domain::{Account, AccountKind, AccountStatus, Action, ExchangeStatus, Rule};
use numberpool_store::Reader;
use serde_json::json;

use super::super::{Actor, Permission, Result, Service};

impl Service {
    /// The pools `me` takes numbers from: its own, for a provider or a reseller; for a
    /// customer, those of its parent and of the providers it is connected to that turned
    /// self-service on (active accounts only); none for a unit.
    pub(crate) async fn takeable_pools(
        &self,
        r: &mut Reader,
        me: &Account,
    ) -> Result<Vec<Account>> {
        if me.kind.holds_pool() {
            return Ok(vec![me.clone()]);
        }
        if me.kind != AccountKind::Customer {
            return Ok(Vec::new());
        }
        let mut candidates: Vec<Account> = Vec::new();
        if let Some(parent) = me.parent_id
            && let Some(p) = r.get_account(parent).await?
        {
            candidates.push(p);
        }
        for c in r.connections_of_customer(me.id).await? {
            if c.connection.status == ExchangeStatus::Connected
                && !candidates.iter().any(|a| a.id == c.other.id)
            {
                candidates.push(c.other);
            }
        }
        let mut pools = Vec::new();
        for a in candidates {
            if a.kind.holds_pool()
                && a.status == AccountStatus::Active
                && r.self_service(a.id).await?
            {
                pools.push(a);
            }
        }
        Ok(pools)
    }

    /// The pools the actor takes numbers from ([`Service::takeable_pools`]): what a customer's
    /// portal names as the providers it finds numbers from.
    pub async fn pools_to_take_from(&self, actor: &Actor) -> Result<Vec<Account>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        self.takeable_pools(&mut r, &me).await
    }

    /// Whether the actor's pool has self-service on.
    pub async fn self_service_setting(&self, actor: &Actor) -> Result<bool> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        Ok(r.self_service(actor.account).await?)
    }

    /// Turns self-service on or off for the actor's pool (R-PROV-1: a pool holder's own
    /// setting), recorded as an update of its account.
    pub async fn set_self_service(&self, actor: &Actor, enabled: bool) -> Result<bool> {
        actor.require(Permission::NumberWrite)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        if !me.kind.holds_pool() {
            return Err(RuleViolation::new(
                Rule::Prov1,
                "only a provider or a reseller lets its customers take numbers from its pool",
            )
            .into());
        }
        let before = tx.self_service(me.id).await?;
        if before != enabled {
            tx.set_self_service(me.id, enabled, now).await?;
            tx.record(&actor.event(
                Action::AccountUpdate,
                me.id.to_string(),
                Some(Rule::Prov1),
                Some(json!({ "customer_self_service": before })),
                Some(json!({ "customer_self_service": enabled })),
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(enabled)
    }
}
