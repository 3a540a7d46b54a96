//! Periodic: deletes expired OAuth access tokens. An expired token already authenticates
//! nothing (every lookup checks `expires_at`); this keeps the table at about one token
//! lifetime of rows.

use numberpool_domain::now_ms;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.purge_expired_tokens(now_ms()).await?;
    tracing::debug!(deleted = n, "expired access tokens purged");
    Ok(())
}
