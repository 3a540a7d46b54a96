//! An import's apply (issue 13, R-IMP-3): plans the stored file again inside the write
//! transaction and commits its accepted rows, all or none, with the import's `applied` status.
//! Its counters are on the service's progress board while it runs, and its phases on its row.
//! Run again after a crash, it finds the import applied (the commit happened) or plans again
//! from nothing (it did not): never part of a file.

use numberpool_domain::ImportId;

use super::{JobContext, Permanent};
use crate::service::ServiceError;
use crate::service::progress::Phase;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let id: ImportId = ctx
        .payload_str("import_id")?
        .parse()
        .map_err(|_| Permanent::new("the payload's import id is not an id"))?;
    let principal = ctx.payload_str("principal")?.to_string();
    let service = &ctx.service;
    let progress = service.progress_board().start(ctx.job.id);
    progress.set_phase(Phase::Planning);
    // The phase on the row for other processes; on SQLite it cannot be written once the
    // apply's write transaction is open, so it is written before and after.
    ctx.record_progress(&progress.snapshot()).await;
    let result = service.run_import_apply(id, &principal, &progress).await;
    progress.set_phase(Phase::Finished);
    // The row first, then the board lets go: a view in between shows the last counts, never
    // the row's earlier ones.
    ctx.record_progress(&progress.snapshot()).await;
    drop(progress);
    match result {
        Ok(_) => Ok(()),
        // A stale plan, a file that no longer reads, a rule the whole file breaks: running
        // again would answer the same.
        Err(
            e @ (ServiceError::PreconditionFailed(_)
            | ServiceError::FileRefused(_)
            | ServiceError::Rule(_)
            | ServiceError::NotFound(_)
            | ServiceError::Forbidden(_)),
        ) => Err(Permanent::new(e.to_string()).into()),
        Err(e) => Err(e.into()),
    }
}

/// Called when the job has failed for good: the import says so too.
pub(crate) async fn failed(ctx: &JobContext, error: &str) -> anyhow::Result<()> {
    let id: ImportId = ctx
        .payload_str("import_id")?
        .parse()
        .map_err(|_| anyhow::anyhow!("the payload's import id is not an id"))?;
    ctx.service
        .fail_import(id, &format!("the apply failed: {error}"))
        .await?;
    Ok(())
}
