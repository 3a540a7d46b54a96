//! Periodic (every 30 s): ends the reservations whose time has come at the service's clock
//! and frees the numbers they still hold (SPEC §5). Search and provision already treat such a
//! number as free; this makes the rows say so too.

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.expire_reservations().await?;
    if n > 0 {
        tracing::info!(
            reservations = n,
            "reservations ran out; their numbers are free"
        );
    }
    Ok(())
}
