//! Periodic: deletes done and failed jobs a week after they finished, so the queue's history
//! stays long enough to look into a failure and no longer.

use numberpool_domain::now_ms;

use super::JobContext;

/// How long a finished job is kept.
pub(crate) const KEEP_MS: i64 = 7 * 24 * 60 * 60 * 1000;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx
        .service
        .purge_finished_jobs(now_ms().saturating_sub(KEEP_MS))
        .await?;
    tracing::debug!(deleted = n, "finished jobs purged");
    Ok(())
}
