//! Sends one webhook subscription's deliveries (queued by the outbox's writer when an event
//! concerns the subscription's account, and by the sweep). When a delivery waits for its next
//! try, the job waits with it ([`super::Later`]): one job per subscription, so its events go
//! out in order.

use numberpool_domain::WebhookId;

use super::{JobContext, Later};
use crate::service::webhooks::DeliverRun;

pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()> {
    let id: WebhookId = ctx.payload_str("subscription_id")?.parse()?;
    match ctx.service.deliver_webhook(id).await? {
        DeliverRun::Idle => Ok(()),
        DeliverRun::Until(at) => Err(Later(at).into()),
    }
}
