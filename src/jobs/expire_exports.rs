//! Periodic (hourly): removes the files of exports past the operator's retention time (their
//! records stay, as expired) and notifications older than 90 days.

use numberpool_domain::now_ms;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.expire_exports(now_ms()).await?;
    tracing::debug!(files = n, "expired export files removed");
    Ok(())
}
