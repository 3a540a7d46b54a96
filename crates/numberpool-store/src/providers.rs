//! SIP trunks and carriers as resources (SPEC §1): creation, read, list, compare-and-set edits,
//! deletes, the "is any number using it" questions behind R-PROV-2, and the lookups the number
//! paths use (whose trunk, the default carrier of a kind).

use numberpool_domain::{AccountId, Carrier, CarrierId, CarrierKind, SipTrunk, TrunkId, now_ms};

use crate::rows::parse;
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, on_conn, unique_as};

const TRUNK_COLUMNS: &str = "id, provider_id, name, region, created_at, version";
const CARRIER_COLUMNS: &str = "id, provider_id, kind, name, is_default, created_at, version";

#[derive(sqlx::FromRow)]
struct TrunkRow {
    id: String,
    provider_id: String,
    name: String,
    region: String,
    created_at: i64,
    version: i64,
}

impl TrunkRow {
    fn into_domain(self) -> Result<SipTrunk> {
        Ok(SipTrunk {
            id: parse("trunk id", &self.id)?,
            provider_id: parse("account id", &self.provider_id)?,
            name: self.name,
            region: self.region,
            created_at: self.created_at,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CarrierRow {
    id: String,
    provider_id: String,
    kind: String,
    name: String,
    is_default: bool,
    created_at: i64,
    version: i64,
}

impl CarrierRow {
    fn into_domain(self) -> Result<Carrier> {
        Ok(Carrier {
            id: parse("carrier id", &self.id)?,
            provider_id: parse("account id", &self.provider_id)?,
            kind: parse("carrier kind", &self.kind)?,
            name: self.name,
            is_default: self.is_default,
            created_at: self.created_at,
            version: self.version,
        })
    }
}

/// A unique violation on a carrier write: the one-default index means a concurrent request made
/// another carrier the default first (a lost race); any other is a taken name.
pub(crate) fn carrier_unique(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            if d.constraint() == Some("carriers_one_default") {
                StoreError::Conflict
            } else {
                StoreError::Duplicate("carrier")
            }
        }
        _ => StoreError::Db(e),
    }
}

/// A delete that a foreign key refused: a number started using the row after the in-use check
/// (PostgreSQL, read committed). The caller reads again and gets the R-PROV-2 refusal.
fn delete_refused(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Conflict,
        _ => StoreError::Db(e),
    }
}

impl Reader {
    pub async fn get_trunk(&mut self, id: TrunkId) -> Result<Option<SipTrunk>> {
        let sql = format!("SELECT {TRUNK_COLUMNS} FROM sip_trunks WHERE id = $1");
        self.row_by(&sql, &id.to_string(), TrunkRow::into_domain)
            .await
    }

    /// A provider's trunks in creation order.
    pub async fn list_trunks(&mut self, provider: AccountId) -> Result<Vec<SipTrunk>> {
        let sql =
            format!("SELECT {TRUNK_COLUMNS} FROM sip_trunks WHERE provider_id = $1 ORDER BY id");
        self.rows_by(&sql, &provider.to_string(), TrunkRow::into_domain)
            .await
    }

    /// Whether any number is on the trunk (R-PROV-2).
    pub async fn trunk_in_use(&mut self, id: TrunkId) -> Result<bool> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id FROM numbers WHERE sip_trunk_id = $1 LIMIT 1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row.is_some())
    }

    pub async fn get_carrier(&mut self, id: CarrierId) -> Result<Option<Carrier>> {
        let sql = format!("SELECT {CARRIER_COLUMNS} FROM carriers WHERE id = $1");
        self.row_by(&sql, &id.to_string(), CarrierRow::into_domain)
            .await
    }

    /// A provider's carriers (of one kind, if given) in creation order.
    pub async fn list_carriers(
        &mut self,
        provider: AccountId,
        kind: Option<CarrierKind>,
    ) -> Result<Vec<Carrier>> {
        let sql = format!(
            "SELECT {CARRIER_COLUMNS} FROM carriers WHERE provider_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR kind = CAST($2 AS TEXT)) ORDER BY id"
        );
        let rows: Vec<CarrierRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(provider.to_string())
                .bind(kind.map(CarrierKind::as_str))
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter().map(CarrierRow::into_domain).collect()
    }

    /// Whether any number uses the carrier, as voice carrier or SMS profile (R-PROV-2). No index
    /// serves this (see migration 0003): a rare admin act scans rather than every add paying.
    pub async fn carrier_in_use(&mut self, id: CarrierId) -> Result<bool> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT id FROM numbers WHERE voice_carrier_id = $1 OR sms_carrier_id = $1 LIMIT 1",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(row.is_some())
    }
}

impl Tx {
    /// Writes `next`'s name and region if the trunk is still at `next.version`; bumps it.
    pub async fn update_trunk_cas(&mut self, next: &SipTrunk) -> Result<SipTrunk> {
        let columns = [
            ("name", Value::text(&next.name)),
            ("region", Value::text(&next.region)),
        ];
        let taken = |e| unique_as(e, "SIP trunk");
        self.update_versioned("sip_trunks", next.id, next.version, &columns, taken)
            .await?;
        Ok(SipTrunk {
            version: next.version + 1,
            ..next.clone()
        })
    }

    /// Deletes the trunk if it is still at `version`.
    pub async fn delete_trunk(&mut self, id: TrunkId, version: i64) -> Result<()> {
        self.delete_versioned("sip_trunks", id, version, delete_refused)
            .await
    }

    /// Writes `next`'s name and default flag if the carrier is still at `next.version`; bumps it.
    pub async fn update_carrier_cas(&mut self, next: &Carrier) -> Result<Carrier> {
        let columns = [
            ("name", Value::text(&next.name)),
            ("is_default", Value::Bool(next.is_default)),
        ];
        self.update_versioned("carriers", next.id, next.version, &columns, carrier_unique)
            .await?;
        Ok(Carrier {
            version: next.version + 1,
            ..next.clone()
        })
    }

    /// Deletes the carrier if it is still at `version`.
    pub async fn delete_carrier(&mut self, id: CarrierId, version: i64) -> Result<()> {
        self.delete_versioned("carriers", id, version, delete_refused)
            .await
    }
}

impl Reader {
    /// The provider that owns a trunk.
    pub async fn trunk_provider(&mut self, id: TrunkId) -> Result<Option<AccountId>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id FROM sip_trunks WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(s,)| parse("account id", &s)).transpose()
    }

    pub async fn find_trunk_by_name(
        &mut self,
        provider: AccountId,
        name: &str,
    ) -> Result<Option<TrunkId>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id FROM sip_trunks WHERE provider_id = $1 AND name = $2")
                .bind(provider.to_string())
                .bind(name)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(s,)| parse("trunk id", &s)).transpose()
    }

    /// A carrier's provider and kind (`voice` or `sms`).
    pub async fn carrier_owner(&mut self, id: CarrierId) -> Result<Option<(AccountId, String)>> {
        let row: Option<(String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id, kind FROM carriers WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(p, k)| Ok((parse("account id", &p)?, k)))
            .transpose()
    }

    /// The provider's default carrier of a kind, with its name.
    pub async fn default_carrier(
        &mut self,
        provider: AccountId,
        kind: &str,
    ) -> Result<Option<(CarrierId, String)>> {
        let row: Option<(String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id, name FROM carriers WHERE provider_id = $1 AND kind = $2 AND is_default ORDER BY id LIMIT 1")
                .bind(provider.to_string())
                .bind(kind)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(id, name)| Ok((parse("carrier id", &id)?, name)))
            .transpose()
    }
}

impl Tx {
    pub async fn insert_trunk(
        &mut self,
        provider: AccountId,
        name: &str,
        region: &str,
    ) -> Result<TrunkId> {
        let id = TrunkId::new();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO sip_trunks (id, provider_id, name, region, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.to_string())
                .bind(provider.to_string())
                .bind(name)
                .bind(region)
                .bind(now_ms())
                .execute(&mut *c)
                .await
                .map_err(|e| unique_as(e, "SIP trunk"))?;
        });
        Ok(id)
    }

    /// Adds a voice carrier or SMS carrier profile (`kind` is `voice` or `sms`).
    pub async fn insert_carrier(
        &mut self,
        provider: AccountId,
        kind: &str,
        name: &str,
        is_default: bool,
    ) -> Result<CarrierId> {
        let id = CarrierId::new();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO carriers (id, provider_id, kind, name, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(provider.to_string())
                .bind(kind)
                .bind(name)
                .bind(is_default)
                .bind(now_ms())
                .execute(&mut *c)
                .await
                // The one-default index is a lost race (conflict), a taken name a duplicate.
                .map_err(crate::providers::carrier_unique)?;
        });
        Ok(id)
    }
}
