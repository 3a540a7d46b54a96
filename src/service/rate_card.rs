//! A provider's rate card (SPEC §1): the monthly cost of a number by country and number type.
//! Same access as attribute keys: the provider creates, edits and deletes entries (R-PROV-1);
//! resellers below it read them; customers and units see none (R-SEC-1). Costs are whole cents
//! (see [`numberpool_domain::rate`] for why money is never a float).

use numberpool_domain::rate::{check_cents, check_country, check_currency};
use numberpool_domain::{NumberType, Rate, RateId, Rule};

use super::versioned::commit_create;
use super::{Actor, Permission, Result, Service, ServiceError};

/// The editable fields of a rate card entry; country and type never change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatePatch {
    pub monthly_cost_cents: Option<i64>,
    pub currency: Option<String>,
}

impl Service {
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
        let Some((mut r, p)) = self.settings_reader(actor).await? else {
            return Ok(vec![]);
        };
        Ok(r.list_rates(p, country.as_deref(), number_type).await?)
    }

    pub async fn get_rate(&self, actor: &Actor, id: RateId) -> Result<Rate> {
        actor.require(Permission::NumberRead)?;
        self.get_setting(actor, id).await
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
        let (mut tx, provider) = self.open_create::<Rate>(actor).await?;
        let id = tx
            .insert_rate(
                provider,
                &country,
                number_type,
                monthly_cost_cents,
                &currency,
            )
            .await?;
        commit_create(tx, actor, id, Some(Rule::Prov1)).await
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
        let change = self.open_setting::<Rate>(actor, id, if_version).await?;
        let mut next = change.before.clone();
        if let Some(c) = patch.monthly_cost_cents {
            next.monthly_cost_cents = c;
        }
        if let Some(c) = currency {
            next.currency = c;
        }
        change.update(actor, next, Some(Rule::Prov1)).await
    }

    /// Deletes a rate card entry.
    pub async fn delete_rate(
        &self,
        actor: &Actor,
        id: RateId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let change = self.open_setting::<Rate>(actor, id, if_version).await?;
        change.delete(actor, Rule::Prov1).await
    }
}
