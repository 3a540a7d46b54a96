//! The available search (SPEC §5): the free, active numbers the caller may take, each with its
//! locality, capabilities and the rate card's monthly cost, in seed 002's shape.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use numberpool_domain::search::ContainsPattern;
use numberpool_domain::{
    AccountId, Capabilities, Country, E164, Number, NumberStatus, NumberType, Position, Rate,
};
use numberpool_store::{AvailableFilter, NumberLookup, Reader};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::super::{Actor, Permission, Result, Service, ServiceError};

/// The most results one search answers; the default is `DEFAULT_QUANTITY`.
pub const MAX_QUANTITY: u32 = 100;
pub const DEFAULT_QUANTITY: u32 = 10;

/// The search's filters; each one given narrows it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailableParams {
    /// ISO 3166 alpha-2 country code (`US`).
    pub country: Option<String>,
    /// State or province code (`CA`), any case.
    pub state: Option<String>,
    /// City (`San Francisco`), any case.
    pub city: Option<String>,
    /// Area code: the digits after the country's calling code (`415`); needs `country`.
    pub area_code: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    /// Capabilities every result has, comma-separated (`voice,sms`).
    pub capabilities: Option<String>,
    /// Digits the number contains: `*` is any one digit, letters count as on a phone keypad
    /// (`415***`, `*FLOWERS`).
    pub contains: Option<String>,
    /// How many numbers at most: 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub quantity: Option<u32>,
}

impl AvailableParams {
    /// The query these filters ask for; `only` restricts it to one type (the toll-free
    /// search), refusing another.
    pub fn parse(self, only: Option<NumberType>) -> Result<AvailableQuery> {
        let number_type = match (only, self.number_type) {
            (Some(o), Some(t)) if o != t => {
                return Err(ServiceError::Invalid(format!(
                    "type: this search finds {} numbers only",
                    o.as_str()
                )));
            }
            (Some(o), _) => Some(o),
            (None, t) => t,
        };
        let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(AvailableQuery {
            country: self
                .country
                .as_deref()
                .map(|c| {
                    Country::parse(c).map_err(|e| ServiceError::Invalid(format!("country: {e}")))
                })
                .transpose()?,
            state: text(self.state),
            city: text(self.city),
            area_code: text(self.area_code),
            number_type,
            capabilities: match self.capabilities.as_deref().map(str::trim) {
                None | Some("") => Capabilities::default(),
                Some(list) => Capabilities::from_names(list.split(',').map(str::trim))
                    .map_err(|e| ServiceError::Invalid(format!("capabilities: {e}")))?,
            },
            contains: self
                .contains
                .as_deref()
                .map(ContainsPattern::parse)
                .transpose()
                .map_err(|e| ServiceError::Invalid(e.to_string()))?,
            quantity: self.quantity.unwrap_or(DEFAULT_QUANTITY),
        })
    }
}

/// An available search, parsed: every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct AvailableQuery {
    pub country: Option<Country>,
    /// A state or province code (`CA`), any case.
    pub state: Option<String>,
    pub city: Option<String>,
    /// The area code: digits after the country's calling code (needs `country`).
    pub area_code: Option<String>,
    pub number_type: Option<NumberType>,
    /// Capabilities every result has.
    pub capabilities: Capabilities,
    pub contains: Option<ContainsPattern>,
    /// 1 to [`MAX_QUANTITY`].
    pub quantity: u32,
}

/// A number found by the search, as seed 002 shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AvailableNumber {
    pub phone_number: String,
    /// ISO 3166 alpha-2, or `001` for a non-geographic number.
    pub country: String,
    /// The state or province code, where known.
    pub state: Option<String>,
    pub city: Option<String>,
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub capabilities: Capabilities,
    /// What the number costs a month on the rate card of the provider that owns it, in
    /// `currency`; absent when the rate card has no entry for its country and type.
    pub monthly_cost: Option<f64>,
    /// ISO 4217, beside `monthly_cost`.
    pub currency: Option<String>,
}

impl AvailableQuery {
    /// The store's filter: the area code becomes a prefix of the E.164's digits.
    fn filter(&self) -> Result<AvailableFilter> {
        let digits_prefix = match (&self.area_code, self.country) {
            (None, _) => None,
            (Some(a), Some(c)) => {
                if a.is_empty() || a.len() > 6 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ServiceError::Invalid(format!(
                        "area_code: `{}` is not an area code (one to six digits)",
                        a.chars().take(20).collect::<String>()
                    )));
                }
                Some(format!("{}{a}", c.calling_code()))
            }
            (Some(_), None) => {
                return Err(ServiceError::Invalid(
                    "area_code: give the country too (an area code is read after its calling code)"
                        .into(),
                ));
            }
        };
        let caps = &self.capabilities;
        let capability_columns = [
            (caps.voice, "cap_voice"),
            (caps.sms, "cap_sms"),
            (caps.mms, "cap_mms"),
            (caps.fax, "cap_fax"),
        ]
        .into_iter()
        .filter_map(|(on, col)| on.then_some(col))
        .collect();
        let alternatives = self
            .contains
            .as_ref()
            .map(ContainsPattern::alternatives)
            .unwrap_or_default();
        Ok(AvailableFilter {
            country: self.country.map(|c| c.as_str()),
            state: self.state.clone(),
            city: self.city.clone(),
            digits_prefix,
            number_type: self.number_type,
            capability_columns,
            digits_like: alternatives.iter().map(ContainsPattern::like).collect(),
            digits_trigrams: alternatives.iter().map(ContainsPattern::trigrams).collect(),
        })
    }
}

impl AvailableNumber {
    fn of(n: &Number, rate: Option<&Rate>) -> Self {
        AvailableNumber {
            phone_number: n.phone_number.as_str().to_string(),
            country: n.phone_number.country().as_str(),
            state: n.region_state.clone(),
            city: n.city.clone(),
            number_type: n.number_type,
            capabilities: n.capabilities,
            // Cents to the currency's unit, as the seed writes it (`1.00`).
            monthly_cost: rate.map(|r| r.monthly_cost_cents as f64 / 100.0),
            currency: rate.map(|r| r.currency.clone()),
        }
    }
}

impl Service {
    /// Up to `quantity` numbers the actor may take, in E.164 order: a provider's or
    /// reseller's search covers its own pool's free, active numbers; a customer's, its
    /// providers' pools where the provider turned self-service on (none: an empty answer).
    pub async fn search_available(
        &self,
        actor: &Actor,
        q: &AvailableQuery,
    ) -> Result<Vec<AvailableNumber>> {
        actor.require(Permission::NumberRead)?;
        let filter = q.filter()?;
        if !(1..=MAX_QUANTITY).contains(&q.quantity) {
            return Err(ServiceError::Invalid(format!(
                "quantity: from 1 to {MAX_QUANTITY}"
            )));
        }
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        let pools: Vec<AccountId> = self
            .takeable_pools(&mut r, &me)
            .await?
            .iter()
            .map(|a| a.id)
            .collect();
        let found = r
            .available_numbers(&pools, &filter, me.id, self.now(), q.quantity)
            .await?;
        priced(&mut r, &found).await
    }

    /// Each of `numbers` as the search shows it when it is a free, active number of a pool
    /// the actor takes from (its own; a customer's self-service providers') that `site` may
    /// take, else `None` (taken, held for another account,
    /// or never there): what the portal shows before a provision, with the cost of each. A
    /// number reserved for `site` (or the actor's own account) is shown; one reserved for
    /// anyone else is not, as provisioning it would be refused (R-RES-2).
    pub async fn available_by_number(
        &self,
        actor: &Actor,
        numbers: &[E164],
        site: Option<AccountId>,
    ) -> Result<Vec<(E164, Option<AvailableNumber>)>> {
        actor.require(Permission::NumberRead)?;
        let now = self.now();
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        let pools = self.takeable_pools(&mut r, &me).await?;
        // A customer takes numbers into itself only: another account named as the site shows
        // it nothing held for that account.
        let site = if me.kind.holds_pool() { site } else { None };
        let mut free = Vec::with_capacity(numbers.len());
        for e in numbers {
            free.push(
                r.get_number(&NumberLookup::E164(e.clone()))
                    .await?
                    .map(|n| n.lapsed_at(now))
                    .filter(|n| {
                        pools.iter().any(|p| takeable_from(n, p.id))
                            && n.reservation.is_none_or(|h| {
                                h.for_account == me.id || Some(h.for_account) == site
                            })
                    }),
            );
        }
        // Priced together: each owner's rate card is read once, not once a number.
        let found: Vec<Number> = free.iter().flatten().cloned().collect();
        let mut shown = priced(&mut r, &found).await?.into_iter();
        Ok(numbers
            .iter()
            .zip(free)
            .map(|(e, n)| (e.clone(), n.and_then(|_| shown.next())))
            .collect())
    }
}

/// Whether `n` is what the search offers from `pool` and provision takes: free and active in
/// that very pool (a `pending` number is not takeable; a returned one is unbound first).
pub(super) fn takeable_from(n: &Number, pool: AccountId) -> bool {
    n.holder_id == pool && n.position == Position::Free && n.status == NumberStatus::Normal
}

/// `found` as the search shows it, with the monthly cost on each owner's rate card (read once
/// per owner: a search's numbers have one owner or a few).
async fn priced(r: &mut Reader, found: &[Number]) -> Result<Vec<AvailableNumber>> {
    let mut rates: HashMap<AccountId, Vec<Rate>> = HashMap::new();
    let mut out = Vec::with_capacity(found.len());
    for n in found {
        if let Entry::Vacant(e) = rates.entry(n.owner_id) {
            e.insert(r.list_rates(n.owner_id, None, None).await?);
        }
        let country = n.phone_number.country().as_str();
        let rate = rates.get(&n.owner_id).and_then(|card| {
            card.iter()
                .find(|r| r.country == country && r.number_type == n.number_type)
        });
        out.push(AvailableNumber::of(n, rate));
    }
    Ok(out)
}
