//! Reads the portal needs beyond the API's: the name of an account above the actor's own (a
//! customer's provider or reseller), which no API route shows but which a customer's admin
//! knows and the portal names in its confirmations ("will return to Acme Telecom's pool").

use numberpool_domain::AccountId;

use super::{Actor, Permission, Result, Service};

impl Service {
    /// The name of `id` when it is the actor's account or one above it; `None` otherwise.
    pub async fn name_above(&self, actor: &Actor, id: AccountId) -> Result<Option<String>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        if id != actor.account && !r.ancestors(actor.account).await?.contains(&id) {
            return Ok(None);
        }
        Ok(r.get_account(id).await?.map(|a| a.name))
    }
}
