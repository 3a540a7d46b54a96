//! A provider's attribute keys (SPEC §1): admin-defined keys with the values numbers may carry
//! for them (SPEC §2). Same access as trunks and carriers: the provider creates, edits and
//! deletes them (R-PROV-1); resellers below it read them; customers and units see none. A value
//! or key that numbers still carry is not removed (R-ATTR-1). The number paths check a number's
//! `attributes` against its owner's keys with [`Service::check_number_attributes`].

use std::collections::BTreeMap;

use numberpool_domain::attribute::{check_key, check_values};
use numberpool_domain::{AccountId, Attribute, AttributeId, Rule, RuleViolation};
use numberpool_store::Tx;

use super::versioned::commit_create;
use super::{Actor, Permission, Result, Service, ServiceError};

impl Service {
    /// Checks a number's `attributes` against its owner's keys: every key must be one of them
    /// and every value one of the key's allowed values; `invalid_input` naming the key otherwise.
    /// One query for the whole request or batch (`maps`). A customer's own numbers (R-ACC-2)
    /// have no provider, so no keys: they carry no attributes. Share-locks the owner's row when
    /// there is anything to check: an attribute's removal (which takes the row's write lock)
    /// cannot come between this check and the write, while concurrent adds and edits, which all
    /// take it shared, do not wait for each other.
    pub(super) async fn check_number_attributes<'a>(
        &self,
        tx: &mut Tx,
        owner: AccountId,
        maps: impl IntoIterator<Item = &'a BTreeMap<String, String>>,
    ) -> Result<()> {
        let maps: Vec<&BTreeMap<String, String>> =
            maps.into_iter().filter(|m| !m.is_empty()).collect();
        if maps.is_empty() {
            return Ok(());
        }
        let keys = self.locked_attribute_keys(tx, owner).await?;
        for m in maps {
            super::numbers::check_attribute_map(&keys, m)?;
        }
        Ok(())
    }

    pub async fn list_attributes(&self, actor: &Actor) -> Result<Vec<Attribute>> {
        actor.require(Permission::NumberRead)?;
        let Some((mut r, p)) = self.settings_reader(actor).await? else {
            return Ok(vec![]);
        };
        Ok(r.list_attributes(p).await?)
    }

    pub async fn get_attribute(&self, actor: &Actor, id: AttributeId) -> Result<Attribute> {
        actor.require(Permission::NumberRead)?;
        self.get_setting(actor, id).await
    }

    /// A new attribute key of the actor's provider account; the key is unique within it.
    pub async fn create_attribute(
        &self,
        actor: &Actor,
        key: &str,
        allowed_values: Vec<String>,
    ) -> Result<Attribute> {
        actor.require(Permission::NumberWrite)?;
        check_key(key).map_err(ServiceError::Invalid)?;
        check_values(&allowed_values).map_err(ServiceError::Invalid)?;
        let (mut tx, provider) = self.open_create::<Attribute>(actor).await?;
        let id = tx.insert_attribute(provider, key, &allowed_values).await?;
        commit_create(tx, actor, id, Some(Rule::Prov1)).await
    }

    /// Replaces a key's allowed values. A value dropped from the list that numbers still carry
    /// is refused (R-ATTR-1): renaming a value is adding the new one, moving the numbers, then
    /// dropping the old one.
    pub async fn update_attribute(
        &self,
        actor: &Actor,
        id: AttributeId,
        allowed_values: Option<Vec<String>>,
        if_version: Option<i64>,
    ) -> Result<Attribute> {
        actor.require(Permission::NumberWrite)?;
        let mut change = self
            .open_setting::<Attribute>(actor, id, if_version)
            .await?;
        let Some(values) = allowed_values else {
            return Ok(change.before);
        };
        check_values(&values).map_err(ServiceError::Invalid)?;
        let before = &change.before;
        for old in &before.allowed_values {
            if !values.contains(old)
                && change
                    .tx
                    .attribute_value_in_use(change.provider, &before.key, old)
                    .await?
            {
                return Err(RuleViolation::new(
                    Rule::Attr1,
                    format!(
                        "numbers carry {}={old:?}; give them another value before removing it",
                        before.key
                    ),
                )
                .into());
            }
        }
        let mut next = before.clone();
        next.allowed_values = values;
        change.update(actor, next, Some(Rule::Attr1)).await
    }

    /// Deletes a key no number carries (R-ATTR-1).
    pub async fn delete_attribute(
        &self,
        actor: &Actor,
        id: AttributeId,
        if_version: Option<i64>,
    ) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut change = self
            .open_setting::<Attribute>(actor, id, if_version)
            .await?;
        let key = &change.before.key;
        if change.tx.attribute_key_in_use(change.provider, key).await? {
            return Err(RuleViolation::new(
                Rule::Attr1,
                format!("numbers carry the attribute {key}; remove it from them first"),
            )
            .into());
        }
        change.delete(actor, Rule::Attr1).await
    }
}
