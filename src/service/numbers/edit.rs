//! The edit of a number's fields (PATCH): scope, If-Match, the named trunk and carriers, the
//! provider's attributes and R-ACC-3 licences are looked up here; what changes is
//! `numberpool_domain::moves::edit`.

use numberpool_domain::moves::{self, CarrierContext};
use numberpool_domain::{Action, CarrierKind, EntitlementUse, Number, NumberPatch, Rule};
use numberpool_store::{NumberLookup, Tx};

use super::{carrier_not_found, check_free_text, licences_of};
use crate::service::{Actor, Permission, Result, Service, ServiceError, check_version};

impl Service {
    /// Edits a number (R-EDIT-1 and the field rules). `if_version` guards against lost updates.
    pub async fn update_number(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
        patch: &NumberPatch,
        if_version: Option<i64>,
    ) -> Result<Number> {
        actor.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let n = self.scoped_number(&mut tx, actor, lookup).await?;
        check_version("number", n.version, if_version)?;
        let next = self.checked_edit(&mut tx, &n, patch).await?;
        self.commit_move(tx, actor, &n, next, Action::NumberUpdate, Rule::Edit1)
            .await
            .map_err(crate::service::lost_race_with_version(if_version))
    }

    /// What `n` becomes under `patch`, with every check of an edit: free text, the named trunk
    /// and carriers (the number's owner's), the provider's attributes (R-ATTR-1), the field
    /// rules (`moves::edit`) and R-ACC-3's licences. Writes nothing; the caller commits. An
    /// import's update rows go through here too, so a file edits exactly as the API does.
    pub(in crate::service) async fn checked_edit(
        &self,
        tx: &mut Tx,
        n: &Number,
        patch: &NumberPatch,
    ) -> Result<Number> {
        for (field, v) in [
            ("billing_reference", &patch.billing_reference),
            ("service_info", &patch.service_info),
            ("call_purpose", &patch.call_purpose),
            ("display_name", &patch.display_name),
            ("program_duration", &patch.program_duration),
        ] {
            check_free_text(field, &v.clone().flatten())?;
        }
        if let Some(Some(trunk)) = patch.sip_trunk_id
            && tx.trunk_provider(trunk).await? != Some(n.owner_id)
        {
            return Err(ServiceError::NotFound("SIP trunk"));
        }
        let mut carriers = CarrierContext::default();
        for (named, kind) in [
            (patch.voice_carrier_id, CarrierKind::Voice),
            (patch.sms_carrier_id, CarrierKind::Sms),
        ] {
            if let Some(Some(id)) = named {
                match tx.get_carrier(id).await? {
                    Some(c) if c.provider_id == n.owner_id && c.kind == kind => {
                        carriers.names.insert(id, c.name);
                    }
                    _ => return Err(carrier_not_found(kind)),
                }
            }
        }
        if let Some(attrs) = &patch.attributes {
            self.check_number_attributes(tx, n.owner_id, [attrs])
                .await?;
        }
        if moves::edit_touches_carriers(patch) {
            if let Some((id, name)) = tx
                .default_carrier(n.owner_id, CarrierKind::Voice.as_str())
                .await?
            {
                carriers.default_voice = Some(id);
                carriers.names.insert(id, name);
            }
            carriers.default_sms = tx
                .default_carrier(n.owner_id, CarrierKind::Sms.as_str())
                .await?
                .map(|(id, _)| id);
        }
        let next = moves::edit(n, patch, &carriers)?;
        // R-ACC-3 binds the numbers allocated to a customer, not its own (R-ACC-2).
        if let Some(customer) = n.customer_id.filter(|c| *c != n.owner_id) {
            let (was, will) = (licences_of(n), licences_of(&next));
            let more = EntitlementUse {
                toll_free: (will.toll_free - was.toll_free).max(0),
                contact_center: (will.contact_center - was.contact_center).max(0),
            };
            self.check_entitlements(tx, customer, more).await?;
        }
        Ok(next)
    }
}
