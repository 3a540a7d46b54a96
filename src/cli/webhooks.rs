//! `numberpool events` and `numberpool webhook …` (issue 15, docs/EVENTS.md): the feed of the
//! events that concern an account's subtree, and the account's webhook subscriptions with their
//! delivery log and replay; acting as `--account`. JSON output is the API's.

use clap::{Args, Subcommand};
use numberpool_domain::{DeliveryId, WebhookId};

use super::{acting, emit, emit_list, parse_id, service_err};
use crate::api::events::{AttemptBody, DeliveryBody, WebhookBody};
use crate::service::Service;
use crate::service::webhooks::{EventView, Replay, WebhookInput, last_answer};

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The account whose subtree's events to read.
    #[arg(long)]
    pub account: String,
    /// Start after this sequence (the last one seen) [default: from the first event]
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// Only these event types (repeat the flag), e.g. --type number.allocate
    #[arg(long = "type")]
    pub types: Vec<String>,
    /// At most this many events, 1 to 1000.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line (the API's event).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Subscribe a URL to the account's events; prints the signing secret once.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        url: String,
        /// Event types to send (repeat the flag) [default: every type]
        #[arg(long = "type")]
        types: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the account's subscriptions.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one subscription.
    Show {
        #[arg(long)]
        account: String,
        /// The subscription's id.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a subscription's URL, types or description, or turn it on or off.
    Update {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        url: Option<String>,
        /// The event types from now on (repeat the flag).
        #[arg(long = "type", conflicts_with = "all_types")]
        types: Vec<String>,
        /// Send every event type from now on.
        #[arg(long)]
        all_types: bool,
        #[arg(long)]
        description: Option<String>,
        /// Turn it on again (its failures forgotten; what waited is sent).
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop its deliveries.
        #[arg(long)]
        disable: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete a subscription with its delivery log.
    Delete {
        #[arg(long)]
        account: String,
        id: String,
    },
    /// Make a new signing secret (printed once); the old one stops signing at once.
    RotateSecret {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// A subscription's deliveries, newest first; with --delivery, one with its attempts.
    Deliveries {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        delivery: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Send events again with the same event ids: one delivery's, or every one in a time range.
    Replay {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long, conflicts_with_all = ["since", "until"])]
        delivery: Option<String>,
        /// RFC 3339 start (inclusive).
        #[arg(long, requires = "until")]
        since: Option<String>,
        /// RFC 3339 end (exclusive).
        #[arg(long, requires = "since")]
        until: Option<String>,
    },
}

fn event_line(e: &EventView) -> anyhow::Result<()> {
    outln!(
        "{:>8}  {}  {:<24} {} {}  by {} {} ({})",
        e.sequence,
        e.occurred_at,
        e.event_type,
        e.entity_type,
        e.entity_id,
        e.actor_type,
        e.actor_id.as_deref().unwrap_or("(another account)"),
        e.channel
    );
    Ok(())
}

fn webhook_line(w: &WebhookBody) -> anyhow::Result<()> {
    let types = if w.event_types.is_empty() {
        "every event".to_string()
    } else {
        w.event_types.join(",")
    };
    let why = w
        .disabled_reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    outln!("{}  {:<8} {}  {types}{why}", w.id, w.state, w.url);
    Ok(())
}

fn delivery_line(d: &DeliveryBody) -> anyhow::Result<()> {
    let last = last_answer(d.last_status, d.last_error.as_deref())
        .unwrap_or_else(|| "not tried yet".into());
    let next = d
        .next_attempt_at
        .as_deref()
        .map(|t| format!(", next try {t}"))
        .unwrap_or_default();
    outln!(
        "{}  {:<9} {} {} (#{}){}  {} attempt(s), last: {last}{next}",
        d.id,
        d.state,
        d.event_type,
        d.event_id,
        d.sequence,
        if d.replay { " replay" } else { "" },
        d.attempts
    );
    Ok(())
}

fn attempt_line(a: &AttemptBody) -> anyhow::Result<()> {
    let status = a
        .status
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| "no answer".into());
    let error = a
        .error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    outln!(
        "  attempt {}  {}  {status}{error}  {} ms",
        a.attempt,
        a.at,
        a.latency_ms
    );
    Ok(())
}

fn time_ms(flag: &str, s: &str) -> anyhow::Result<i64> {
    numberpool_domain::timestamp::parse_rfc3339(s).ok_or_else(|| {
        anyhow::anyhow!("{flag}: give an RFC 3339 time such as 2026-12-05T09:00:00Z")
    })
}

pub async fn events(service: &Service, args: EventsArgs) -> anyhow::Result<()> {
    if !(1..=1000).contains(&args.limit) {
        anyhow::bail!("--limit: give 1 to 1000");
    }
    let actor = acting(service, &args.account).await?;
    let page = service
        .events_feed(&actor, args.after, args.limit, &args.types)
        .await
        .map_err(service_err)?;
    if args.json {
        for e in &page.events {
            outln!("{}", serde_json::to_string(e)?);
        }
    } else {
        page.events.iter().try_for_each(event_line)?;
        outln!(
            "{} event(s); next: --after {}",
            page.events.len(),
            page.next_after
        );
    }
    Ok(())
}

pub async fn run(service: &Service, cmd: WebhookCmd) -> anyhow::Result<()> {
    match cmd {
        WebhookCmd::Create {
            account,
            url,
            types,
            description,
            json,
        } => {
            let actor = acting(service, &account).await?;
            let (w, secret) = service
                .create_webhook(
                    &actor,
                    WebhookInput {
                        url: Some(url),
                        event_types: Some(types),
                        description,
                        enabled: None,
                    },
                )
                .await
                .map_err(service_err)?;
            let body = crate::api::events::NewWebhookBody {
                webhook: w.into(),
                secret,
            };
            emit(&body, json, |b| {
                webhook_line(&b.webhook)?;
                outln!("secret (shown this once): {}", b.secret);
                Ok(())
            })
        }
        WebhookCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list: Vec<WebhookBody> = service
                .list_webhooks(&actor)
                .await
                .map_err(service_err)?
                .into_iter()
                .map(WebhookBody::from)
                .collect();
            emit_list(&list, json, "webhook", webhook_line)
        }
        WebhookCmd::Show { account, id, json } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let actor = acting(service, &account).await?;
            let w: WebhookBody = service
                .get_webhook(&actor, id)
                .await
                .map_err(service_err)?
                .into();
            emit(&w, json, webhook_line)
        }
        WebhookCmd::Update {
            account,
            id,
            url,
            types,
            all_types,
            description,
            enable,
            disable,
            json,
        } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let actor = acting(service, &account).await?;
            let event_types = if all_types {
                Some(Vec::new())
            } else if types.is_empty() {
                None
            } else {
                Some(types)
            };
            let enabled = match (enable, disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let w: WebhookBody = service
                .update_webhook(
                    &actor,
                    id,
                    WebhookInput {
                        url,
                        event_types,
                        description,
                        enabled,
                    },
                )
                .await
                .map_err(service_err)?
                .into();
            emit(&w, json, webhook_line)
        }
        WebhookCmd::Delete { account, id } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let actor = acting(service, &account).await?;
            service
                .delete_webhook(&actor, id)
                .await
                .map_err(service_err)?;
            outln!("webhook {id} deleted");
            Ok(())
        }
        WebhookCmd::RotateSecret { account, id, json } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let actor = acting(service, &account).await?;
            let secret = service
                .rotate_webhook_secret(&actor, id)
                .await
                .map_err(service_err)?;
            let v = serde_json::json!({ "secret": secret });
            emit(&v, json, |_| {
                outln!("new secret (shown this once): {secret}");
                Ok(())
            })
        }
        WebhookCmd::Deliveries {
            account,
            id,
            delivery,
            limit,
            json,
        } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let actor = acting(service, &account).await?;
            if let Some(d) = delivery {
                let d: DeliveryId = parse_id("delivery id", &d)?;
                let (d, attempts) = service
                    .get_delivery(&actor, id, d)
                    .await
                    .map_err(service_err)?;
                let mut body = DeliveryBody::from(d);
                body.attempt_log = Some(attempts.into_iter().map(AttemptBody::from).collect());
                return emit(&body, json, |b| {
                    delivery_line(b)?;
                    b.attempt_log.iter().flatten().try_for_each(attempt_line)
                });
            }
            if !(1..=500).contains(&limit) {
                anyhow::bail!("--limit: give 1 to 500");
            }
            let list: Vec<DeliveryBody> = service
                .list_deliveries(&actor, id, None, limit)
                .await
                .map_err(service_err)?
                .into_iter()
                .map(DeliveryBody::from)
                .collect();
            emit_list(&list, json, "delivery", delivery_line)
        }
        WebhookCmd::Replay {
            account,
            id,
            delivery,
            since,
            until,
        } => {
            let id: WebhookId = parse_id("webhook id", &id)?;
            let what = match (delivery, since, until) {
                (Some(d), None, None) => Replay::Delivery(parse_id("delivery id", &d)?),
                (None, Some(s), Some(u)) => Replay::Range {
                    since: time_ms("--since", &s)?,
                    until: time_ms("--until", &u)?,
                },
                _ => anyhow::bail!("give --delivery, or --since and --until"),
            };
            let actor = acting(service, &account).await?;
            let n = service
                .replay_webhook(&actor, id, what)
                .await
                .map_err(service_err)?;
            outln!("{n} event(s) queued to be sent again");
            Ok(())
        }
    }
}
