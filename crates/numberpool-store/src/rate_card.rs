//! A provider's rate card (SPEC §1) as rows: create, read, list (optionally by country and
//! type), compare-and-set edits and deletes. Costs are whole cents in a BIGINT.

use numberpool_domain::{AccountId, NumberType, Rate, RateId};

use crate::rows::Arg::{Int, OptText, Text};
use crate::rows::parse;
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, get_by_id, unique_as};

const COLUMNS: &str =
    "id, provider_id, country, number_type, monthly_cost_cents, currency, created_at, version";

#[derive(sqlx::FromRow)]
struct RateRow {
    id: String,
    provider_id: String,
    country: String,
    number_type: String,
    monthly_cost_cents: i64,
    currency: String,
    created_at: i64,
    version: i64,
}

impl RateRow {
    fn into_domain(self) -> Result<Rate> {
        let number_type: NumberType = self
            .number_type
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("rate_card number_type: {e}")))?;
        Ok(Rate {
            id: parse("rate id", &self.id)?,
            provider_id: parse("account id", &self.provider_id)?,
            country: self.country,
            number_type,
            monthly_cost_cents: self.monthly_cost_cents,
            currency: self.currency,
            created_at: self.created_at,
            version: self.version,
        })
    }
}

impl Reader {
    get_by_id!(get_rate(RateId) -> Rate: "rate_card", COLUMNS, RateRow::into_domain);

    /// A provider's rate card in creation order, optionally only one country and/or type.
    pub async fn list_rates(
        &mut self,
        provider: AccountId,
        country: Option<&str>,
        number_type: Option<NumberType>,
    ) -> Result<Vec<Rate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM rate_card WHERE provider_id = $1 \
             AND ($2 IS NULL OR country = $2) AND ($3 IS NULL OR number_type = $3) ORDER BY id"
        );
        let provider = provider.to_string();
        let args = [
            Text(&provider),
            OptText(country),
            OptText(number_type.map(NumberType::as_str)),
        ];
        self.rows_with(&sql, &args, RateRow::into_domain).await
    }
}

impl Tx {
    /// A new rate card entry; `Duplicate("rate")` when the provider has one for that country
    /// and type.
    pub async fn insert_rate(
        &mut self,
        provider: AccountId,
        country: &str,
        number_type: NumberType,
        monthly_cost_cents: i64,
        currency: &str,
    ) -> Result<RateId> {
        let id = RateId::new();
        let columns = [
            ("country", Text(country)),
            ("number_type", Text(number_type.as_str())),
            ("monthly_cost_cents", Int(monthly_cost_cents)),
            ("currency", Text(currency)),
        ];
        self.insert_setting("rate_card", id, provider, &columns, |e| {
            unique_as(e, "rate")
        })
        .await?;
        Ok(id)
    }

    /// Writes `next`'s cost and currency if the entry is still at `next.version`; bumps it.
    pub async fn update_rate_cas(&mut self, next: &Rate) -> Result<Rate> {
        let columns = [
            ("monthly_cost_cents", Value::Int(next.monthly_cost_cents)),
            ("currency", Value::text(&next.currency)),
        ];
        self.update_record("rate_card", next, &columns, StoreError::Db)
            .await
    }

    /// Deletes the entry if it is still at `version`.
    pub async fn delete_rate(&mut self, id: RateId, version: i64) -> Result<()> {
        self.delete_versioned("rate_card", id, version, StoreError::Db)
            .await
    }
}
