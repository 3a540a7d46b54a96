//! Customer self-service settings (issue 14): which pools their customers may search and take
//! numbers from.

use numberpool_domain::AccountId;

use crate::rows::Arg::{Bool, Int, Text};
use crate::{Reader, Result, Tx};

impl Reader {
    /// Whether `pool` has self-service on.
    pub async fn self_service(&mut self, pool: AccountId) -> Result<bool> {
        let row: Option<(bool,)> = self
            .row_by(
                "SELECT enabled FROM self_service WHERE pool_id = $1",
                &pool.to_string(),
                Ok,
            )
            .await?;
        Ok(row.is_some_and(|r| r.0))
    }
}

impl Tx {
    /// Turns self-service on or off for `pool`.
    pub async fn set_self_service(
        &mut self,
        pool: AccountId,
        enabled: bool,
        now: i64,
    ) -> Result<()> {
        let p = pool.to_string();
        self.execute(
            "INSERT INTO self_service (pool_id, enabled, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id) DO UPDATE SET enabled = excluded.enabled, \
             updated_at = excluded.updated_at",
            &[Text(&p), Bool(enabled), Int(now)],
        )
        .await?;
        Ok(())
    }
}
