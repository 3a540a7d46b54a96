//! Periodic (every minute): queues the exports of the schedules that are due (seed 000's
//! automated exports), each as the user who scheduled it.

use numberpool_domain::now_ms;

use super::{JobContext, JobKind};

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx
        .service
        .run_due_export_schedules(now_ms(), |payload| JobKind::Export.job(payload, now_ms()))
        .await?;
    if n > 0 {
        tracing::info!(exports = n, "scheduled exports queued");
    }
    Ok(())
}
