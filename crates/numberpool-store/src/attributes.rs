//! A provider's attribute keys (SPEC §1) as rows: create, read, list, compare-and-set edits,
//! deletes, and the "does any number carry it" questions behind R-ATTR-1. Numbers keep their
//! values in `numbers.attributes`, the canonical serde_json text of a key → value map, which
//! [`attribute_needle`] searches.

use numberpool_domain::{AccountId, Attribute, AttributeId, now_ms};

use crate::rows::parse;
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, on_conn, unique_as};

const COLUMNS: &str = "id, provider_id, key, allowed_values, created_at, version";

#[derive(sqlx::FromRow)]
struct AttributeRow {
    id: String,
    provider_id: String,
    key: String,
    allowed_values: String,
    created_at: i64,
    version: i64,
}

impl AttributeRow {
    fn into_domain(self) -> Result<Attribute> {
        let allowed_values: Vec<String> = serde_json::from_str(&self.allowed_values)
            .map_err(|e| StoreError::Corrupt(format!("attribute allowed_values: {e}")))?;
        Ok(Attribute {
            id: parse("attribute id", &self.id)?,
            provider_id: parse("account id", &self.provider_id)?,
            key: self.key,
            allowed_values,
            created_at: self.created_at,
            version: self.version,
        })
    }
}

/// The text `"key":"value"` exactly as serde_json writes the pair inside a number's
/// `attributes` column. Inside a JSON string every `"` is escaped, so this text occurs in the
/// column only as that key with that value; searching it with `replace` (which both SQLite and
/// PostgreSQL have, case-sensitive and with no wildcard characters) needs no LIKE escaping.
pub(crate) fn attribute_needle(key: &str, value: &str) -> String {
    let k = serde_json::to_string(key).unwrap_or_default();
    let v = serde_json::to_string(value).unwrap_or_default();
    format!("{k}:{v}")
}

fn values_json(values: &[String]) -> Result<String> {
    serde_json::to_string(values).map_err(|e| StoreError::Corrupt(format!("allowed_values: {e}")))
}

impl Reader {
    /// Whether any number of `owner` carries `key`, whatever the value (R-ATTR-1). In the JSON
    /// text `"key":` occurs only as a key, since quotes inside strings are escaped.
    pub async fn attribute_key_in_use(&mut self, owner: AccountId, key: &str) -> Result<bool> {
        let needle = format!("{}:", serde_json::to_string(key).unwrap_or_default());
        self.owner_numbers_contain(owner, &needle).await
    }

    pub async fn get_attribute(&mut self, id: AttributeId) -> Result<Option<Attribute>> {
        let sql = format!("SELECT {COLUMNS} FROM attributes WHERE id = $1");
        self.row_by(&sql, &id.to_string(), AttributeRow::into_domain)
            .await
    }

    /// A provider's attribute keys in creation order: one query, which the number paths use to
    /// check a whole request or batch.
    pub async fn list_attributes(&mut self, provider: AccountId) -> Result<Vec<Attribute>> {
        let sql = format!("SELECT {COLUMNS} FROM attributes WHERE provider_id = $1 ORDER BY id");
        self.rows_by(&sql, &provider.to_string(), AttributeRow::into_domain)
            .await
    }

    /// Whether any number of `owner` carries `key` with `value` (R-ATTR-1). Scans the owner's
    /// numbers: removing a value is a rare admin act.
    pub async fn attribute_value_in_use(
        &mut self,
        owner: AccountId,
        key: &str,
        value: &str,
    ) -> Result<bool> {
        let needle = attribute_needle(key, value);
        self.owner_numbers_contain(owner, &needle).await
    }

    /// Whether the `attributes` text of any number of `owner` contains `needle`.
    async fn owner_numbers_contain(&mut self, owner: AccountId, needle: &str) -> Result<bool> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT id FROM numbers WHERE owner_id = $1 \
                 AND replace(attributes, $2, '') <> attributes LIMIT 1",
            )
            .bind(owner.to_string())
            .bind(needle)
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(row.is_some())
    }
}

impl Tx {
    pub async fn insert_attribute(
        &mut self,
        provider: AccountId,
        key: &str,
        allowed_values: &[String],
    ) -> Result<AttributeId> {
        let id = AttributeId::new();
        let values = values_json(allowed_values)?;
        on_conn!(self, c => {
            sqlx::query(
                "INSERT INTO attributes (id, provider_id, key, allowed_values, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.to_string())
            .bind(provider.to_string())
            .bind(key)
            .bind(&values)
            .bind(now_ms())
            .execute(&mut *c)
            .await
            .map_err(|e| unique_as(e, "attribute"))?;
        });
        Ok(id)
    }

    /// Writes `next`'s allowed values if the key is still at `next.version`; bumps it.
    pub async fn update_attribute_cas(&mut self, next: &Attribute) -> Result<Attribute> {
        let columns = [(
            "allowed_values",
            Value::Text(values_json(&next.allowed_values)?.into()),
        )];
        self.update_versioned(
            "attributes",
            next.id,
            next.version,
            &columns,
            StoreError::Db,
        )
        .await?;
        Ok(Attribute {
            version: next.version + 1,
            ..next.clone()
        })
    }

    /// Deletes the key if it is still at `version`.
    pub async fn delete_attribute(&mut self, id: AttributeId, version: i64) -> Result<()> {
        self.delete_versioned("attributes", id, version, StoreError::Db)
            .await
    }
}
