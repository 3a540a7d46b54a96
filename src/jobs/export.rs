//! An export (issue 13): writes the file of numbers, keeps it in pieces, and raises the
//! account's notification, in one transaction at the end; run again after a crash, it starts
//! the file over, or finds it ready and ends.

use numberpool_domain::ExportId;

use super::{JobContext, Permanent};
use crate::service::ServiceError;
use crate::service::progress::Phase;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let id = export_id(&ctx)?;
    let service = &ctx.service;
    let progress = service.progress_board().start(ctx.job.id);
    progress.set_phase(Phase::Writing);
    ctx.record_progress(&progress.snapshot()).await;
    let result = service.run_export(id, &progress).await;
    progress.set_phase(Phase::Finished);
    let last = progress.snapshot();
    drop(progress);
    ctx.record_progress(&last).await;
    match result {
        Ok(()) => Ok(()),
        Err(e @ (ServiceError::NotFound(_) | ServiceError::Forbidden(_))) => {
            Err(Permanent::new(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

fn export_id(ctx: &JobContext) -> anyhow::Result<ExportId> {
    Ok(ctx
        .payload_str("export_id")?
        .parse()
        .map_err(|_| Permanent::new("the payload's export id is not an id"))?)
}

/// Called when the job has failed for good: the export says so, and the account is told.
pub(crate) async fn failed(ctx: &JobContext, error: &str) -> anyhow::Result<()> {
    ctx.service.fail_export(export_id(ctx)?, error).await?;
    Ok(())
}
