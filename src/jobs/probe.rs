//! Test only (`JobKind::TestProbe`): each run creates one new file in the payload's `dir`,
//! named after the job and a fresh id, so a test can count how many times each job ran
//! (exactly once, across several worker processes). A payload with `"fail": n` fails the first
//! `n` attempts, to exercise retries.

use std::path::PathBuf;

use anyhow::Context;

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let dir = PathBuf::from(ctx.payload_str("dir")?);
    let marker = dir.join(format!("{}.{}", ctx.job.id, uuid::Uuid::now_v7().simple()));
    tokio::fs::write(&marker, ctx.job.attempts.to_string())
        .await
        .with_context(|| format!("cannot write {}", marker.display()))?;
    let fail = ctx
        .job
        .payload
        .get("fail")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    if i64::from(ctx.job.attempts) <= fail {
        anyhow::bail!("failing attempt {} as asked", ctx.job.attempts);
    }
    Ok(())
}
