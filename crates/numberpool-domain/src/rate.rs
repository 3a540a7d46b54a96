//! A provider's rate card (SPEC §1): the monthly cost of a number by country and number type.
//!
//! Money is kept as whole minor units (`monthly_cost_cents`, an integer) and never as a float:
//! binary floats cannot hold most decimal amounts exactly (0.10 + 0.20 != 0.30), so sums and
//! comparisons of float money drift. The API shows a decimal `monthly_cost` beside the cents for
//! reading only, and takes cents on input.

use serde::Serialize;

use crate::e164::{Country, NumberType};
use crate::ids::{AccountId, RateId};

/// The largest monthly cost accepted, in cents (1,000,000.00 currency units).
pub const MAX_MONTHLY_COST_CENTS: i64 = 100_000_000;

/// One rate card entry: the monthly cost of a number of `number_type` in `country`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub id: RateId,
    /// The provider that owns the rate card.
    pub provider_id: AccountId,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub number_type: NumberType,
    /// Monthly cost in minor units of `currency` (cents); 0 to 100,000,000.
    pub monthly_cost_cents: i64,
    /// ISO 4217 code: three upper-case letters.
    pub currency: String,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

/// A country code as stored: parsed with [`Country::parse`], so `us` is `US`.
pub fn check_country(code: &str) -> Result<String, String> {
    Country::parse(code)
        .map(|c| c.as_str())
        .map_err(|e| format!("country: {e}"))
}

/// A monthly cost in cents: 0 to [`MAX_MONTHLY_COST_CENTS`].
pub fn check_cents(cents: i64) -> Result<(), String> {
    if !(0..=MAX_MONTHLY_COST_CENTS).contains(&cents) {
        return Err(format!(
            "monthly_cost_cents {cents} must be 0 to {MAX_MONTHLY_COST_CENTS} (whole cents)"
        ));
    }
    Ok(())
}

/// An ISO 4217 currency code: three letters, stored upper case.
pub fn check_currency(code: &str) -> Result<String, String> {
    let c = code.trim();
    if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "currency {code:?} must be an ISO 4217 code of three letters"
        ));
    }
    Ok(c.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_inputs_are_checked() {
        assert_eq!(check_country("us").as_deref(), Ok("US"));
        assert!(check_country("ZZ").is_err());
        assert!(check_country("").is_err());
        assert!(check_cents(0).is_ok());
        assert!(check_cents(MAX_MONTHLY_COST_CENTS).is_ok());
        assert!(check_cents(-1).is_err());
        assert!(check_cents(MAX_MONTHLY_COST_CENTS + 1).is_err());
        assert_eq!(check_currency("eur").as_deref(), Ok("EUR"));
        assert!(check_currency("EU").is_err());
        assert!(check_currency("E1R").is_err());
    }
}
