//! Periodic: deletes idempotency records older than their day (SPEC §8). An expired record is
//! already ignored by the next request with its key; this keeps the table at about a day of
//! keys.

use numberpool_domain::now_ms;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.purge_expired_idempotency_keys(now_ms()).await?;
    tracing::debug!(deleted = n, "expired idempotency records purged");
    Ok(())
}
