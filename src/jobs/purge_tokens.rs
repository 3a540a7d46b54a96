//! Periodic: deletes expired OAuth access tokens and expired portal sessions. Neither
//! authenticates anything once expired (every lookup checks `expires_at`); this keeps both
//! tables at about one lifetime of rows.

use numberpool_domain::now_ms;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.purge_expired_tokens(now_ms()).await?;
    let s = ctx.service.purge_expired_sessions().await?;
    tracing::debug!(
        tokens = n,
        sessions = s,
        "expired access tokens and portal sessions purged"
    );
    Ok(())
}
