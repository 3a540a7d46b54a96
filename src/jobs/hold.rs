//! Test only (`JobKind::TestHold`): stands in for a long export. It writes
//! `started-<attempt>-<pid>` into the payload's `dir`, then waits until a file named `release`
//! appears there (checking every 20 ms), then writes `finished-<attempt>-<pid>`. A test can
//! kill the process holding it, or hold one queue while another keeps moving.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let dir = PathBuf::from(ctx.payload_str("dir")?);
    let tag = format!("{}-{}", ctx.job.attempts, std::process::id());
    tokio::fs::write(dir.join(format!("started-{tag}")), b"")
        .await
        .context("cannot write the started marker")?;
    while !tokio::fs::try_exists(dir.join("release")).await? {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::fs::write(dir.join(format!("finished-{tag}")), b"")
        .await
        .context("cannot write the finished marker")?;
    Ok(())
}
