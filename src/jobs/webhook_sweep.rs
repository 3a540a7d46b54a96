//! Periodic (every 30 s): queues the delivery job of each active webhook subscription that has
//! events past its cursor or a delivery due, which its own job missed (it stopped just as an
//! event committed, or its process died).

use super::JobContext;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let n = ctx.service.sweep_webhooks().await?;
    if n > 0 {
        tracing::info!(subscriptions = n, "webhook deliveries queued by the sweep");
    }
    Ok(())
}
