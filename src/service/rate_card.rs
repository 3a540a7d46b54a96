//! A provider's rate card (SPEC §1): the monthly cost of a number by country and number type.
//! Same access as attribute keys: the provider creates, edits and deletes entries (R-PROV-1);
//! resellers below it read them; customers and units see none (R-SEC-1). Costs are whole cents
//! (see [`numberpool_domain::rate`] for why money is never a float).

use numberpool_domain::rate::{check_cents, check_country, check_currency};
use numberpool_domain::{Action, NumberType, Rate, RateId, Rule};
use numberpool_store::Reader;

use super::{Actor, Permission, Result, Service, ServiceError, check_version, snapshot};

/// The editable fields of a rate card entry; country and type never change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatePatch {
    pub monthly_cost_cents: Option<i64>,
    pub currency: Option<String>,
}

impl Service {
    /// A rate card entry the actor may see; `NotFound` otherwise (R-SEC-1).
    async fn visible_rate(&self, tx: &mut Reader, actor: &Actor, id: RateId) -> Result<Rate> {
        let provider = self.visible_provider(tx, actor).await?;
        match tx.get_rate(id).await? {
            Some(r) if Some(r.provider_id) == provider => Ok(r),
            _ => Err(ServiceError::NotFound("rate")),
        }
    }

    /// The caller's provider's rate card, optionally one country (`us` is `US`) and/or type.
    pub async fn list_rates(
        &self,
        actor: &Actor,
        country: Option<&str>,
        number_type: Option<NumberType>,
    ) -> Result<Vec<Rate>> {
        actor.require(Permission::NumberRead)?;
        let country = country
            .map(check_country)
            .transpose()
            .map_err(ServiceError::Invalid)?;
        let mut r = self.store.read().await?;
        match self.visible_provider(&mut r, actor).await? {
            Some(p) => Ok(r.list_rates(p, country.as_deref(), number_type).await?),
            None => Ok(vec![]),
        }
    }

    pub async fn get_rate(&self, actor: &Actor, id: RateId) -> Result<Rate> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        self.visible_rate(&mut r, actor, id).await
    }

    /// A new rate card entry of the actor's provider account; one per country and type.
    /// `currency` defaults to USD.
    pub async fn create_rate(
        &self,
        actor: &Actor,
        country: &str,
        number_type: NumberType,
        monthly_cost_cents: i64,
        currency: Option<&str>,
    ) -> Result<Rate> {
        actor.require(Permission::NumberWrite)?;
        let country = check_country(country).map_err(ServiceError::Invalid)?;
        check_cents(monthly_cost_cents).map_err(ServiceError::Invalid)?;
        let currency = check_currency(currency.unwrap_or("USD")).map_err(ServiceError::Invalid)?;
        let mut tx = self.store.begin().await?;
        let provider = self
            .managing_provider(&mut tx, actor, "its rate card")
            .await?;
        let id = tx
            .insert_rate(
                provider,
                &country,
                number_type,
                monthly_cost_cents,
                &currency,
            )
            .await?;
        let rate = tx
            .get_rate(id)
            .await?
            .ok_or(ServiceError::NotFound("rate"))?;
        tx.record(&actor.event(
            Action::RateCreate,
            id.to_string(),
            Some(Rule::Prov1),
            None,
            snapshot(&rate),
        ))
        .await?;
        tx.commit().await?;
        Ok(rate)
    }

    /// Changes an entry's cost and/or currency.
    pub async fn update_rate(
        &self,
        actor: &Actor,
        id: RateId,
        patch: RatePatch,
        if_version: Option<i64>,
    ) -> Result<Rate> {
        actor.require(Permission::NumberWrite)?;
        if let Some(c) = patch.monthly_cost_cents {
            check_cents(c).map_err(ServiceError::Invalid)?;
        }
        let currency = patch
            .currency
            .as_deref()
            .map(check_currency)
            .transpose()
            .map_err(ServiceError::Invalid)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_rate(&mut tx, actor, id).await?;
        self.managing_provider(&mut tx, actor, "its rate card")
            .await?;
        check_version("rate", before.version, if_version)?;
        let mut next = before.clone();
        if let Some(c) = patch.monthly_cost_cents {
            next.monthly_cost_cents = c;
        }
        if let Some(c) = currency {
            next.currency = c;
        }
        if next == before {
            return Ok(before);
        }
        let stored = tx
            .update_rate_cas(&next)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::RateUpdate,
            id.to_string(),
            Some(Rule::Prov1),
            snapshot(&before),
            snapshot(&stored),
        ))
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Deletes a rate card entry.
    pub async fn delete_rate(
        &self,
        actor: &Actor,
        id: RateId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let before = self.visible_rate(&mut tx, actor, id).await?;
        self.managing_provider(&mut tx, actor, "its rate card")
            .await?;
        check_version("rate", before.version, if_version)?;
        tx.delete_rate(id, before.version)
            .await
            .map_err(super::lost_race_with_version(if_version))?;
        tx.record(&actor.event(
            Action::RateDelete,
            id.to_string(),
            Some(Rule::Prov1),
            snapshot(&before),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
