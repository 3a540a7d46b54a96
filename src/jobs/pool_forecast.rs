//! Periodic (daily): forecasts every pool threshold and raises the alerts that are due (a
//! notification and a `pool_threshold.alert` event, at most one a day per threshold).

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.run_pool_forecasts().await?;
    if n > 0 {
        tracing::info!(alerts = n, "pool-exhaustion alerts raised");
    }
    Ok(())
}
