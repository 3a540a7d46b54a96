//! SIP trunks and carriers as resources (SPEC §1): creation, read, list, compare-and-set edits,
//! deletes, the "is any number using it" questions behind R-PROV-2, and the lookups the number
//! paths use (whose trunk, the default carrier of a kind).

use numberpool_domain::{AccountId, Carrier, CarrierId, CarrierKind, SipTrunk, TrunkId};

use crate::rows::Arg::{Bool, OptText, Text};
use crate::rows::parse;
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, get_by_id};

const TRUNK_COLUMNS: &str = "id, provider_id, name, region, is_default, created_at, version";
const CARRIER_COLUMNS: &str = "id, provider_id, kind, name, is_default, created_at, version";

#[derive(sqlx::FromRow)]
struct TrunkRow {
    id: String,
    provider_id: String,
    name: String,
    region: String,
    is_default: bool,
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
            is_default: self.is_default,
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

/// A unique violation on a write of a record that has one default per provider (and kind):
/// on the one-default index `index`, a concurrent request made another record the default
/// first (a lost race); any other is a taken name.
fn default_or_name(e: sqlx::Error, index: &str, noun: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            if d.constraint() == Some(index) {
                StoreError::Conflict
            } else {
                StoreError::Duplicate(noun)
            }
        }
        _ => StoreError::Db(e),
    }
}

pub(crate) fn carrier_unique(e: sqlx::Error) -> StoreError {
    default_or_name(e, "carriers_one_default", "carrier")
}

fn trunk_unique(e: sqlx::Error) -> StoreError {
    default_or_name(e, "sip_trunks_one_default", "SIP trunk")
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
    get_by_id!(get_trunk(TrunkId) -> SipTrunk: "sip_trunks", TRUNK_COLUMNS, TrunkRow::into_domain);

    /// A provider's trunks in creation order.
    pub async fn list_trunks(&mut self, provider: AccountId) -> Result<Vec<SipTrunk>> {
        let sql =
            format!("SELECT {TRUNK_COLUMNS} FROM sip_trunks WHERE provider_id = $1 ORDER BY id");
        self.rows_by(&sql, &provider.to_string(), TrunkRow::into_domain)
            .await
    }

    /// Whether any number is on the trunk (R-PROV-2).
    pub async fn trunk_in_use(&mut self, id: TrunkId) -> Result<bool> {
        let sql = "SELECT id FROM numbers WHERE sip_trunk_id = $1 LIMIT 1";
        self.any_row(sql, &[Text(&id.to_string())]).await
    }

    get_by_id!(get_carrier(CarrierId) -> Carrier: "carriers", CARRIER_COLUMNS, CarrierRow::into_domain);

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
        let provider = provider.to_string();
        let args = [Text(&provider), OptText(kind.map(CarrierKind::as_str))];
        self.rows_with(&sql, &args, CarrierRow::into_domain).await
    }

    /// Whether any number uses the carrier, as voice carrier or SMS profile (R-PROV-2). No index
    /// serves this (see migration 0003): a rare admin act scans rather than every add paying.
    pub async fn carrier_in_use(&mut self, id: CarrierId) -> Result<bool> {
        let sql =
            "SELECT id FROM numbers WHERE voice_carrier_id = $1 OR sms_carrier_id = $1 LIMIT 1";
        self.any_row(sql, &[Text(&id.to_string())]).await
    }
}

impl Tx {
    /// Writes `next`'s name, region and default flag if the trunk is still at `next.version`;
    /// bumps it.
    pub async fn update_trunk_cas(&mut self, next: &SipTrunk) -> Result<SipTrunk> {
        let columns = [
            ("name", Value::text(&next.name)),
            ("region", Value::text(&next.region)),
            ("is_default", Value::Bool(next.is_default)),
        ];
        self.update_record("sip_trunks", next, &columns, trunk_unique)
            .await
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
        self.update_record("carriers", next, &columns, carrier_unique)
            .await
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
        let sql = "SELECT provider_id FROM sip_trunks WHERE id = $1";
        self.row_by(sql, &id.to_string(), |(s,): (String,)| {
            parse("account id", &s)
        })
        .await
    }

    pub async fn find_trunk_by_name(
        &mut self,
        provider: AccountId,
        name: &str,
    ) -> Result<Option<TrunkId>> {
        let sql = "SELECT id FROM sip_trunks WHERE provider_id = $1 AND name = $2";
        let provider = provider.to_string();
        let args = [Text(&provider), Text(name)];
        self.row_with(sql, &args, |(s,): (String,)| parse("trunk id", &s))
            .await
    }

    /// A carrier's provider and kind (`voice` or `sms`).
    pub async fn carrier_owner(&mut self, id: CarrierId) -> Result<Option<(AccountId, String)>> {
        let sql = "SELECT provider_id, kind FROM carriers WHERE id = $1";
        self.row_by(sql, &id.to_string(), |(p, k): (String, String)| {
            Ok((parse("account id", &p)?, k))
        })
        .await
    }

    /// The provider's default SIP trunk (R-PROV-3), if it has a trunk.
    pub async fn default_trunk(&mut self, provider: AccountId) -> Result<Option<TrunkId>> {
        let sql = "SELECT id FROM sip_trunks WHERE provider_id = $1 AND is_default LIMIT 1";
        self.row_by(sql, &provider.to_string(), |(s,): (String,)| {
            parse("trunk id", &s)
        })
        .await
    }

    /// The provider's default carrier of a kind, with its name.
    pub async fn default_carrier(
        &mut self,
        provider: AccountId,
        kind: &str,
    ) -> Result<Option<(CarrierId, String)>> {
        let sql = "SELECT id, name FROM carriers WHERE provider_id = $1 AND kind = $2 \
            AND is_default ORDER BY id LIMIT 1";
        let provider = provider.to_string();
        let args = [Text(&provider), Text(kind)];
        self.row_with(sql, &args, |(id, name): (String, String)| {
            Ok((parse("carrier id", &id)?, name))
        })
        .await
    }
}

impl Tx {
    /// Adds a trunk; the provider's first becomes its default (R-PROV-3), as does one made
    /// with `make_default` (the caller has unset the current default in the same transaction).
    pub async fn insert_trunk_as(
        &mut self,
        provider: AccountId,
        name: &str,
        region: &str,
        make_default: bool,
    ) -> Result<TrunkId> {
        let id = TrunkId::new();
        let is_default = make_default || self.default_trunk(provider).await?.is_none();
        let columns = [
            ("name", Text(name)),
            ("region", Text(region)),
            ("is_default", Bool(is_default)),
        ];
        self.insert_setting("sip_trunks", id, provider, &columns, trunk_unique)
            .await?;
        Ok(id)
    }

    /// Adds a trunk, the provider's default when it is its first.
    pub async fn insert_trunk(
        &mut self,
        provider: AccountId,
        name: &str,
        region: &str,
    ) -> Result<TrunkId> {
        self.insert_trunk_as(provider, name, region, false).await
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
        let columns = [
            ("kind", Text(kind)),
            ("name", Text(name)),
            ("is_default", Bool(is_default)),
        ];
        // The one-default index is a lost race (conflict), a taken name a duplicate.
        self.insert_setting("carriers", id, provider, &columns, carrier_unique)
            .await?;
        Ok(id)
    }
}
