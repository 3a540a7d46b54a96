//! A provider's rate card (SPEC §1) as rows: create, read, list (optionally by country and
//! type), compare-and-set edits and deletes. Costs are whole cents in a BIGINT.

use numberpool_domain::{AccountId, NumberType, Rate, RateId, now_ms};

use crate::rows::parse;
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, on_conn, unique_as};

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
    pub async fn get_rate(&mut self, id: RateId) -> Result<Option<Rate>> {
        let sql = format!("SELECT {COLUMNS} FROM rate_card WHERE id = $1");
        self.row_by(&sql, &id.to_string(), RateRow::into_domain)
            .await
    }

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
        let rows: Vec<RateRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(provider.to_string())
                .bind(country)
                .bind(number_type.map(NumberType::as_str))
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter().map(RateRow::into_domain).collect()
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
        on_conn!(self, c => {
            sqlx::query(
                "INSERT INTO rate_card (id, provider_id, country, number_type, \
                 monthly_cost_cents, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id.to_string())
            .bind(provider.to_string())
            .bind(country)
            .bind(number_type.as_str())
            .bind(monthly_cost_cents)
            .bind(currency)
            .bind(now_ms())
            .execute(&mut *c)
            .await
            .map_err(|e| unique_as(e, "rate"))?;
        });
        Ok(id)
    }

    /// Writes `next`'s cost and currency if the entry is still at `next.version`; bumps it.
    pub async fn update_rate_cas(&mut self, next: &Rate) -> Result<Rate> {
        let columns = [
            ("monthly_cost_cents", Value::Int(next.monthly_cost_cents)),
            ("currency", Value::text(&next.currency)),
        ];
        self.update_versioned("rate_card", next.id, next.version, &columns, StoreError::Db)
            .await?;
        Ok(Rate {
            version: next.version + 1,
            ..next.clone()
        })
    }

    /// Deletes the entry if it is still at `version`.
    pub async fn delete_rate(&mut self, id: RateId, version: i64) -> Result<()> {
        self.delete_versioned("rate_card", id, version, StoreError::Db)
            .await
    }
}
