//! The audit log as an account reads it: the events of its own subtree, newest first.

use numberpool_domain::AuditId;
use numberpool_store::{AuditEvent, AuditFilter, Page};

use super::{Actor, Permission, Result, Service};

impl Service {
    /// Events whose actor acted for the actor's account or one below it, filtered, newest first
    /// (`before` is the previous page's last id). A Provider Exchange connection does not show
    /// a provider what a connected customer did: that is the customer's own record (R-SEC-1).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        before: Option<AuditId>,
        limit: u32,
    ) -> Result<Page<AuditEvent>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(
            r.list_audit(actor.account, filter, before, limit.clamp(1, 1000))
                .await?,
        )
    }
}
