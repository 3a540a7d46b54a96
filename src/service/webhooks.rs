//! Events and webhooks (issue 15, docs/EVENTS.md): the feed of the events that concern an
//! account's subtree, webhook subscriptions (their URLs checked against the private-address
//! guard, their secrets sealed), and the delivery job's body: events made deliveries in outbox
//! order, each sent signed, retried with backoff and jitter, the subscription disabled with a
//! notification when it keeps failing past the retry window.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use numberpool_domain::{
    Action, AttemptResult, AuditId, DeliveryId, DeliveryState, WebhookId, WebhookState,
    delivery_after, delivery_retry_delay_ms,
};
use numberpool_store::{Delivery, DeliveryAttempt, FeedEvent, Webhook};
use rand::Rng;
use serde::Serialize;
use sha2::Sha256;

use super::{Actor, Permission, Result, Service, ServiceError};

/// How webhooks behave; the operator's configuration sets them (`webhook_*`).
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Deliver to loopback, private and link-local addresses too (tests, closed networks).
    pub allow_private: bool,
    /// The first retry's wait; it doubles per failed attempt.
    pub retry_base_ms: i64,
    /// How long a subscription may keep failing before it is disabled.
    pub retry_window_ms: i64,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_base_ms: 10_000,
            retry_window_ms: 24 * 60 * 60 * 1000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The options with the HTTP client they make.
#[derive(Clone, Debug)]
pub(crate) struct WebhookRuntime {
    pub options: WebhookOptions,
    client: reqwest::Client,
}

impl WebhookRuntime {
    pub fn new(options: WebhookOptions) -> WebhookRuntime {
        let mut b = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the target itself, past the guard.
            .no_proxy()
            .user_agent(concat!("Numberpool-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !options.allow_private {
            b = b.dns_resolver(Arc::new(PublicOnly));
        }
        // A builder with these settings only fails without a TLS backend, which is compiled in;
        // the default client is the fallback all the same.
        let client = b.build().unwrap_or_default();
        WebhookRuntime { options, client }
    }
}

impl Default for WebhookRuntime {
    fn default() -> Self {
        Self::new(WebhookOptions::default())
    }
}

/// Whether an address is one a webhook may reach when private targets are not allowed: not
/// loopback, private, link-local, shared (CGNAT), unspecified, multicast or broadcast, in v4 or
/// v6 (a v4-mapped v6 address is judged as its v4 address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                // Shared address space (CGNAT), IETF protocol assignments, benchmarking,
                // reserved.
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an
            // IPv4 address a gateway may reach: judged as that address.
            let embedded = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if seg[..6] == [0; 6] {
                return !v6.is_loopback()
                    && !v6.is_unspecified()
                    && is_public(IpAddr::V4(embedded(seg[6], seg[7])));
            }
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(IpAddr::V4(embedded(seg[6], seg[7])));
            }
            if seg[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(seg[1], seg[2])));
            }
            let first = seg[0];
            !(v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0)
        }
    }
}

/// The resolver the client uses when private targets are not allowed: a name that resolves
/// to a private address is refused at connect time too, so a DNS answer that changes after the
/// subscription was checked cannot point a delivery inside the network.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// One event as the feed and a webhook delivery show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// The event's id: the same in the feed, in every delivery and in every replay of it.
    pub id: AuditId,
    /// Its place in the feed: `after` takes the last one a client has seen.
    pub sequence: i64,
    /// What happened, as `entity.action` (docs/EVENTS.md lists them).
    #[serde(rename = "type")]
    #[schema(schema_with = event_type_schema)]
    pub event_type: String,
    /// RFC 3339 time of the change.
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The accounts the event concerns.
    pub accounts: Vec<String>,
    /// `user`, `client` or `operator`.
    pub actor_type: String,
    /// Absent when the actor belongs to an account outside the reader's subtree.
    pub actor_id: Option<String>,
    pub actor_account_id: Option<String>,
    /// `api`, `ui`, `import`, `cli` or `job`.
    pub channel: String,
    /// The rule the change was checked against.
    pub rule: Option<String>,
    /// The record before and after (a batch's event carries the batch). A number's `before`
    /// is absent when it was held outside the reader's subtree and the reader is not its
    /// owner: what earlier holders kept on it is theirs.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The `type` of an event in the OpenAPI document: one of the recorded actions.
fn event_type_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(Action::ALL.iter().map(|a| a.as_str())))
        .build()
}

impl From<FeedEvent> for EventView {
    fn from(f: FeedEvent) -> Self {
        let e = f.event;
        EventView {
            id: e.id,
            sequence: f.sequence,
            event_type: e.action.as_str().to_string(),
            occurred_at: numberpool_domain::timestamp::rfc3339(e.at),
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            accounts: f.accounts.iter().map(ToString::to_string).collect(),
            actor_type: e.actor_type,
            actor_id: Some(e.actor_id),
            actor_account_id: e.actor_account_id,
            channel: e.channel.as_str().to_string(),
            rule: e.rule,
            before: e.before,
            after: e.after,
        }
    }
}

/// A reader's subtree (itself and every account below it), for what an event shows it:
/// what it may see of an event that concerns it (R-SEC-1, as the audit log and a number's
/// history show them).
struct Subtree {
    me: String,
    ids: std::collections::HashSet<String>,
}

impl Subtree {
    async fn of(
        r: &mut numberpool_store::Reader,
        account: numberpool_domain::AccountId,
    ) -> Result<Subtree> {
        let ids = r
            .subtree_ids(account)
            .await?
            .into_iter()
            .map(|a| a.to_string())
            .collect();
        Ok(Subtree {
            me: account.to_string(),
            ids,
        })
    }

    fn holds(&self, v: Option<&serde_json::Value>, key: &str) -> bool {
        v.and_then(|s| s.get(key))
            .and_then(|h| h.as_str())
            .is_some_and(|h| self.ids.contains(h))
    }

    /// The event as the reader sees it: without the actor of another tenant's or branch's
    /// change, and without a number's state from before it came into the reader's subtree,
    /// unless the reader owns or uploaded it.
    fn view(&self, e: FeedEvent) -> EventView {
        let mut v = EventView::from(e);
        self.redact(&mut v);
        v
    }

    fn redact(&self, v: &mut EventView) {
        if !v
            .actor_account_id
            .as_deref()
            .is_some_and(|a| self.ids.contains(a))
        {
            v.actor_id = None;
        }
        if v.entity_type == "number" {
            let is = |key: &str| {
                [v.before.as_ref(), v.after.as_ref()].into_iter().any(|s| {
                    s.and_then(|s| s.get(key))
                        .and_then(|x| x.as_str())
                        .is_some_and(|x| x == self.me)
                })
            };
            let owner = is("owner_id") || is("uploaded_by");
            if !owner && !self.holds(v.before.as_ref(), "holder_id") {
                v.before = None;
            }
        }
    }
}

/// A page of the feed, with the cursor for the next.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// The last sequence on the page (or the `after` given, when the page is empty): where the
    /// next call starts.
    pub next_after: i64,
}

/// What a new subscription or a change to one says.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    /// Event types; empty or `*` alone: every type.
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// Only on a change: turn it on (its failures forgotten) or off.
    pub enabled: Option<bool>,
}

/// What to send again.
#[derive(Debug, Clone, Copy)]
pub enum Replay {
    /// One delivery's event.
    Delivery(DeliveryId),
    /// Every event delivered (or tried) whose time is in `[since, until)`, Unix ms.
    Range { since: i64, until: i64 },
}

/// What a delivery job run ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverRun {
    /// Nothing left to send.
    Idle,
    /// A delivery waits for its next try at this time (Unix ms); or the run used its share
    /// and more is due now.
    Until(i64),
}

/// A delivery's last answer in words (`HTTP 200`, or why none came); `None` before its first
/// attempt.
pub fn last_answer(status: Option<i32>, error: Option<&str>) -> Option<String> {
    match (status, error) {
        (Some(s), _) if (200..300).contains(&s) => Some(format!("HTTP {s}")),
        (_, Some(e)) => Some(e.to_string()),
        (Some(s), None) => Some(format!("HTTP {s}")),
        (None, None) => None,
    }
}

/// The secret's prefix: a reader of a log or a config file knows what the string is.
const SECRET_PREFIX: &str = "whsec_";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Numberpool-Signature";
/// How long one job run sends before it makes way for other subscriptions' jobs.
const RUN_SHARE: Duration = Duration::from_secs(60);
/// How long a finished delivery stays in the log: 30 days (the feed keeps the events).
pub const DELIVERY_LOG_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The events read from the outbox per step.
const FAN_OUT_PAGE: u32 = 500;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig = super::credentials::hex(&mac.finalize().into_bytes());
    format!("t={t},v1={sig}")
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn parse_types(given: &[String]) -> Result<Vec<Action>> {
    let mut out = Vec::new();
    for t in given {
        let t = t.trim();
        if t.is_empty() || t == "*" {
            continue;
        }
        let a = t.parse::<Action>().map_err(|_| {
            ServiceError::Invalid(format!(
                "event_types: '{}' is not an event type (docs/EVENTS.md lists them)",
                t.chars().take(60).collect::<String>()
            ))
        })?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

fn snapshot(w: &Webhook) -> serde_json::Value {
    serde_json::json!({
        "account_id": w.account_id,
        "url": w.url,
        "event_types": w.event_types.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "description": w.description,
        "state": w.state.as_str(),
        "disabled_reason": w.disabled_reason,
    })
}

impl Service {
    /// Up to `limit` events that concern the actor's subtree after sequence `after`, oldest
    /// first; only `types` when given.
    pub async fn events_feed(
        &self,
        actor: &Actor,
        after: i64,
        limit: u32,
        types: &[String],
    ) -> Result<EventPage> {
        actor.require(Permission::PhoneRead)?;
        let types = parse_types(types)?;
        let mut r = self.store.read().await?;
        let own = Subtree::of(&mut r, actor.account).await?;
        let events: Vec<EventView> = r
            .events_for(actor.account, after.max(0), limit.clamp(1, 1000), &types)
            .await?
            .into_iter()
            .map(|e| own.view(e))
            .collect();
        let next_after = events.last().map_or(after.max(0), |e| e.sequence);
        Ok(EventPage { events, next_after })
    }

    /// How long a subscription may keep failing before it is disabled (ms).
    pub fn webhook_retry_window_ms(&self) -> i64 {
        self.webhooks.options.retry_window_ms
    }

    /// Checks a webhook URL: http or https, a host, no credentials in it, and (unless the
    /// operator allows private targets) only public addresses behind it.
    async fn check_webhook_url(&self, url: &str) -> Result<String> {
        let bad = |why: &str| ServiceError::Invalid(format!("url: {why}"));
        let url = url.trim();
        if url.len() > 2000 {
            return Err(bad("at most 2,000 characters"));
        }
        let parsed =
            reqwest::Url::parse(url).map_err(|_| bad("give an absolute http or https URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("only http and https URLs receive webhooks"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad(
                "leave credentials out of the URL: each delivery is signed with the subscription's secret",
            ));
        }
        let Some(host) = parsed
            .host_str()
            .map(|h| h.trim_matches(['[', ']']).to_string())
        else {
            return Err(bad("the URL names no host"));
        };
        if !self.webhooks.options.allow_private {
            let port = parsed.port_or_known_default().unwrap_or(443);
            let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|_| bad("its host does not resolve"))?
                    .map(|a| a.ip())
                    .collect(),
            };
            if addrs.is_empty() || addrs.iter().any(|ip| !is_public(*ip)) {
                return Err(numberpool_domain::RuleViolation::new(
                    numberpool_domain::Rule::Sec1,
                    "url: the address is loopback, private or link-local; the operator has not \
                     allowed webhooks to such addresses (webhook_allow_private)",
                )
                .into());
            }
        }
        Ok(parsed.to_string())
    }

    /// Subscribes the actor's account; the answer carries the secret, shown this once.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        input: WebhookInput,
    ) -> Result<(Webhook, String)> {
        actor.require(Permission::PhoneWrite)?;
        // What needs no lookup first: a bad type or description is refused without one.
        let types = parse_types(input.event_types.as_deref().unwrap_or_default())?;
        let description = input.description.unwrap_or_default().trim().to_string();
        if description.chars().count() > 200 {
            return Err(ServiceError::Invalid(
                "description: at most 200 characters".into(),
            ));
        }
        let url = input
            .url
            .as_deref()
            .ok_or_else(|| ServiceError::Invalid("url: required".into()))?;
        let url = self.check_webhook_url(url).await?;
        let secret = new_secret();
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        let w = Webhook {
            id: WebhookId::new(),
            account_id: me.id,
            url,
            event_types: types,
            description,
            secret: self.seal_key.seal(&secret),
            state: WebhookState::Active,
            disabled_reason: None,
            // Set below, after its own creation: what happened before is in the feed.
            cursor: 0,
            failing_since: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx.insert_webhook(&w).await?;
        tx.record(&actor.event(
            Action::WebhookCreate,
            w.id.to_string(),
            None,
            None,
            Some(snapshot(&w)),
        ))
        .await?;
        let cursor = tx.last_event_for(me.id).await?;
        tx.start_webhook_after(w.id, cursor).await?;
        tx.commit().await?;
        Ok((Webhook { cursor, ..w }, secret))
    }

    /// The actor's account's subscriptions.
    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_webhooks(actor.account).await?)
    }

    /// One of the actor's account's subscriptions (another account's is not found).
    pub async fn get_webhook(&self, actor: &Actor, id: WebhookId) -> Result<Webhook> {
        actor.require(Permission::PhoneRead)?;
        self.find_webhook(actor, id).await
    }

    /// [`Service::get_webhook`] for an actor about to change it: needs the write permission
    /// only (the API checks the subscription before it reads a replay's body).
    pub async fn writable_webhook(&self, actor: &Actor, id: WebhookId) -> Result<Webhook> {
        actor.require(Permission::PhoneWrite)?;
        self.find_webhook(actor, id).await
    }

    async fn find_webhook(&self, actor: &Actor, id: WebhookId) -> Result<Webhook> {
        let mut r = self.store.read().await?;
        match r.get_webhook(id).await? {
            Some(w) if w.account_id == actor.account => Ok(w),
            _ => Err(ServiceError::NotFound("webhook")),
        }
    }

    async fn own_webhook(
        &self,
        tx: &mut numberpool_store::Tx,
        actor: &Actor,
        id: WebhookId,
    ) -> Result<Webhook> {
        match tx.get_webhook(id).await? {
            Some(w) if w.account_id == actor.account => Ok(w),
            _ => Err(ServiceError::NotFound("webhook")),
        }
    }

    /// Changes a subscription's URL, types, description, or turns it on or off.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        input: WebhookInput,
    ) -> Result<Webhook> {
        actor.require(Permission::PhoneWrite)?;
        let types = input.event_types.as_deref().map(parse_types).transpose()?;
        let url = match input.url.as_deref() {
            Some(u) => Some(self.check_webhook_url(u).await?),
            None => None,
        };
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let before = self.own_webhook(&mut tx, actor, id).await?;
        let mut w = before.clone();
        if let Some(u) = url {
            w.url = u;
        }
        if let Some(t) = types {
            w.event_types = t;
        }
        if let Some(d) = input.description {
            let d = d.trim().to_string();
            if d.chars().count() > 200 {
                return Err(ServiceError::Invalid(
                    "description: at most 200 characters".into(),
                ));
            }
            w.description = d;
        }
        match input.enabled {
            Some(true) if w.state == WebhookState::Disabled => {
                w.state = WebhookState::Active;
                w.disabled_reason = None;
                w.failing_since = None;
            }
            Some(false) if w.state == WebhookState::Active => {
                w.state = WebhookState::Disabled;
                w.disabled_reason = Some("disabled by its account".into());
            }
            _ => {}
        }
        w.updated_at = now;
        tx.update_webhook(&w).await?;
        tx.record(&actor.event(
            Action::WebhookUpdate,
            w.id.to_string(),
            None,
            Some(snapshot(&before)),
            Some(snapshot(&w)),
        ))
        .await?;
        if w.state == WebhookState::Active && before.state == WebhookState::Disabled {
            // What failed goes out first, then what piled up while it was off, in order.
            tx.retry_failed_deliveries(w.id, now).await?;
            tx.wake_webhook_job(&w.id.to_string(), now).await?;
        }
        tx.commit().await?;
        self.job_queued();
        w.version += 1;
        Ok(w)
    }

    /// A new secret for a subscription, shown this once; the old one stops signing at once.
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: WebhookId) -> Result<String> {
        actor.require(Permission::PhoneWrite)?;
        let secret = new_secret();
        let mut tx = self.store.begin().await?;
        let mut w = self.own_webhook(&mut tx, actor, id).await?;
        w.secret = self.seal_key.seal(&secret);
        w.updated_at = self.now();
        tx.update_webhook(&w).await?;
        tx.record(&actor.event(
            Action::WebhookRotateSecret,
            w.id.to_string(),
            None,
            None,
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Removes a subscription with its delivery log.
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<()> {
        actor.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let w = self.own_webhook(&mut tx, actor, id).await?;
        tx.delete_webhook(id).await?;
        tx.record(&actor.event(
            Action::WebhookDelete,
            w.id.to_string(),
            None,
            Some(snapshot(&w)),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subscription's deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        actor: &Actor,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let w = self.get_webhook(actor, id).await?;
        let mut r = self.store.read().await?;
        Ok(r.list_deliveries(w.id, before, limit.clamp(1, 500)).await?)
    }

    /// One delivery of a subscription with its attempts.
    pub async fn get_delivery(
        &self,
        actor: &Actor,
        id: WebhookId,
        delivery: DeliveryId,
    ) -> Result<(Delivery, Vec<DeliveryAttempt>)> {
        let w = self.get_webhook(actor, id).await?;
        let mut r = self.store.read().await?;
        match r.get_delivery(delivery).await? {
            Some(d) if d.subscription_id == w.id => {
                let attempts = r.delivery_attempts(d.id).await?;
                Ok((d, attempts))
            }
            _ => Err(ServiceError::NotFound("delivery")),
        }
    }

    /// Sends events again as new deliveries with the same event ids; how many.
    pub async fn replay_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        what: Replay,
    ) -> Result<usize> {
        actor.require(Permission::PhoneWrite)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let w = self.own_webhook(&mut tx, actor, id).await?;
        let events = match what {
            Replay::Delivery(d) => match tx.get_delivery(d).await? {
                Some(d) if d.subscription_id == w.id => vec![(d.outbox_id, d.event_id)],
                _ => return Err(ServiceError::NotFound("delivery")),
            },
            Replay::Range { since, until } => {
                if until <= since {
                    return Err(ServiceError::Invalid(
                        "until: give a time after since".into(),
                    ));
                }
                tx.deliveries_between(w.id, since, until).await?
            }
        };
        if events.len() > 10_000 {
            return Err(ServiceError::Invalid(format!(
                "that range holds {} deliveries; replay at most 10,000 at a time",
                events.len()
            )));
        }
        tx.replay_deliveries(w.id, &events, now).await?;
        if w.state == WebhookState::Active && !events.is_empty() {
            tx.wake_webhook_job(&w.id.to_string(), now).await?;
        }
        tx.commit().await?;
        self.job_queued();
        Ok(events.len())
    }

    /// Queues the delivery job of every active subscription with work waiting (the periodic
    /// sweep: a job whose process died, or a subscription whose account was reactivated), and
    /// forgets finished deliveries after [`DELIVERY_LOG_MS`].
    pub async fn sweep_webhooks(&self) -> Result<usize> {
        let now = self.now();
        {
            let mut tx = self.store.begin().await?;
            tx.purge_deliveries(now.saturating_sub(DELIVERY_LOG_MS))
                .await?;
            tx.commit().await?;
        }
        let subs = {
            let mut r = self.store.read().await?;
            r.webhooks_behind(now).await?
        };
        for s in &subs {
            let mut tx = self.store.begin().await?;
            tx.wake_webhook_job(&s.to_string(), now).await?;
            tx.commit().await?;
        }
        if !subs.is_empty() {
            self.job_queued();
        }
        Ok(subs.len())
    }

    /// The delivery job's body for subscription `id`: makes deliveries of the events past its
    /// cursor, then sends its pending deliveries one at a time in outbox order until none is
    /// due, a delivery waits for its next try, or the run has sent its share.
    pub async fn deliver_webhook(&self, id: WebhookId) -> Result<DeliverRun> {
        let started = Instant::now();
        // Once a run: the subscription's account, whether it is active, and what it may see.
        let own = {
            let mut r = self.store.read().await?;
            let Some(w) = r.get_webhook(id).await? else {
                return Ok(DeliverRun::Idle);
            };
            // A deactivated account (or one below a deactivated parent) gets nothing until it
            // is reactivated; its events wait past the cursor.
            if r.deactivated_in_chain(w.account_id).await? {
                return Ok(DeliverRun::Idle);
            }
            Subtree::of(&mut r, w.account_id).await?
        };
        loop {
            let now = self.now();
            let mut r = self.store.read().await?;
            // Read each time round: it may be turned off, or its cursor moved, meanwhile.
            let Some(w) = r.get_webhook(id).await? else {
                return Ok(DeliverRun::Idle);
            };
            if w.state != WebhookState::Active {
                return Ok(DeliverRun::Idle);
            }
            let events = r
                .events_for(w.account_id, w.cursor, FAN_OUT_PAGE, &[])
                .await?;
            if let Some(last) = events.last() {
                let wanted: Vec<(i64, AuditId)> = events
                    .iter()
                    .filter(|e| w.wants(e.event.action))
                    .map(|e| (e.sequence, e.event.id))
                    .collect();
                drop(r);
                let mut tx = self.store.begin().await?;
                match tx
                    .queue_deliveries(w.id, w.cursor, last.sequence, &wanted, now)
                    .await
                {
                    Ok(()) => tx.commit().await?,
                    // Another run moved the cursor first: read again.
                    Err(numberpool_store::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            let Some(d) = r.next_pending_delivery(w.id).await? else {
                return Ok(DeliverRun::Idle);
            };
            if d.next_attempt_at > now {
                return Ok(DeliverRun::Until(d.next_attempt_at));
            }
            if started.elapsed() >= RUN_SHARE {
                return Ok(DeliverRun::Until(now));
            }
            let event = r.feed_event(w.account_id, d.outbox_id).await?;
            drop(r);
            self.attempt_delivery(&w, &d, event.map(|e| own.view(e)))
                .await?;
        }
    }

    /// Sends delivery `d` once and records what came of it.
    async fn attempt_delivery(
        &self,
        w: &Webhook,
        d: &Delivery,
        event: Option<EventView>,
    ) -> Result<()> {
        let attempt_no = d.attempts.saturating_add(1);
        let started = Instant::now();
        let (status, error) = match event {
            // The event's row went (a number purged with its history is not): nothing to send.
            None => (None, Some("the event is no longer stored".to_string())),
            Some(e) => self.send(w, d, attempt_no, e).await,
        };
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let now = self.now();
        let accepted = status.is_some_and(|s| (200..300).contains(&s));
        let failing_since = if accepted {
            None
        } else {
            Some(w.failing_since.unwrap_or(now))
        };
        let window_over = failing_since
            .is_some_and(|t| now.saturating_sub(t) >= self.webhooks.options.retry_window_ms);
        let result = if accepted {
            AttemptResult::Accepted
        } else {
            AttemptResult::Refused { window_over }
        };
        let state = delivery_after(d.state, result).unwrap_or(d.state);
        let next = if state == DeliveryState::Pending {
            let jitter: f64 = rand::thread_rng().r#gen();
            now.saturating_add(delivery_retry_delay_ms(
                self.webhooks.options.retry_base_ms,
                attempt_no,
                jitter,
            ))
        } else {
            now
        };
        let attempt = DeliveryAttempt {
            attempt: attempt_no,
            at: now,
            status: status.map(i32::from),
            latency_ms,
            error,
        };
        let mut tx = self.store.begin().await?;
        match tx.record_attempt(d, &attempt, state, next).await {
            Ok(()) => {}
            // Another run recorded this attempt first.
            Err(numberpool_store::StoreError::Conflict) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let mut after = match tx.get_webhook(w.id).await? {
            Some(cur) => cur,
            None => return Ok(()),
        };
        let before = after.clone();
        after.failing_since = failing_since;
        if state == DeliveryState::Failed {
            after.state = WebhookState::Disabled;
            after.disabled_reason = Some(format!(
                "deliveries kept failing for {} hours (last: {})",
                self.webhooks.options.retry_window_ms / 3_600_000,
                attempt.error.as_deref().unwrap_or("no 2xx answer")
            ));
        }
        if after != before {
            after.updated_at = now;
            tx.update_webhook(&after).await?;
        }
        if state == DeliveryState::Failed {
            let actor = Actor::periodic_job(w.account_id);
            tx.record(&actor.event(
                Action::WebhookDisable,
                w.id.to_string(),
                None,
                Some(snapshot(&before)),
                Some(snapshot(&after)),
            ))
            .await?;
            tx.insert_notification(
                w.account_id,
                "webhook_disabled",
                &w.id.to_string(),
                &format!(
                    "Your webhook to {} was disabled: its deliveries kept failing. Fix the \
                     receiver, then turn the webhook on again; what happened meanwhile is sent then.",
                    w.url
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// POSTs the event, signed; the status that came back, or why none did.
    async fn send(
        &self,
        w: &Webhook,
        d: &Delivery,
        attempt: i32,
        event: EventView,
    ) -> (Option<u16>, Option<String>) {
        // A literal address never reaches the resolver's guard: checked here, at each attempt,
        // so a subscription made while private targets were allowed stops when they are not.
        if !self.webhooks.options.allow_private
            && let Some(ip) = reqwest::Url::parse(&w.url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
                .and_then(|h| h.parse::<IpAddr>().ok())
            && !is_public(ip)
        {
            return (
                None,
                Some("the address is private; the operator does not allow it".into()),
            );
        }
        let secret = match self.seal_key.open(&w.secret) {
            Ok(s) => s,
            Err(_) => {
                return (
                    None,
                    Some("the subscription's secret cannot be opened".into()),
                );
            }
        };
        let body = match serde_json::to_vec(&event) {
            Ok(b) => b,
            Err(_) => return (None, Some("the event could not be written".into())),
        };
        let t = self.now() / 1000;
        let res = self
            .webhooks
            .client
            .post(&w.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, signature(&secret, t, &body))
            .header("Numberpool-Event-Id", event.id.to_string())
            .header("Numberpool-Event-Type", &event.event_type)
            .header("Numberpool-Delivery-Id", d.id.to_string())
            .header("Numberpool-Delivery-Attempt", attempt.to_string())
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) => {
                let status = r.status().as_u16();
                let err = (!r.status().is_success()).then(|| format!("HTTP {status}"));
                (Some(status), err)
            }
            Err(e) => {
                let why = if e.is_timeout() {
                    "timed out".to_string()
                } else if e.is_connect() {
                    "could not connect".to_string()
                } else {
                    "the request failed".to_string()
                };
                // Without the URL: its query may carry the receiver's own token.
                let e = e.without_url();
                tracing::debug!(webhook = %w.id, error = %e, "webhook delivery attempt failed");
                (None, Some(why))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::10.0.0.5",
            "64:ff9b::a00:5",
            "2002:a00:5::1",
            "fec0::1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(a.parse().expect("ip")), "{a} is not public");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(a.parse().expect("ip")), "{a} is public");
        }
    }

    #[test]
    fn docs_events_lists_every_event_type() {
        let doc = include_str!("../../docs/EVENTS.md");
        for a in Action::ALL {
            let (entity, verb) = a.as_str().split_once('.').unwrap_or((a.as_str(), ""));
            let listed = doc.contains(&format!("`{}`", a.as_str()))
                || doc.lines().any(|l| {
                    l.starts_with("| `")
                        && l.contains(&format!("`{entity}."))
                        && l.contains(&format!("`.{verb}`"))
                });
            assert!(listed, "docs/EVENTS.md does not list {a}");
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_time_dot_body() {
        // RFC 4231 test case 2's key and data, with the time and the dot in front.
        let s = signature("Jefe", 1, b"what do ya want for nothing?");
        assert!(s.starts_with("t=1,v1="));
        assert_eq!(s.len(), "t=1,v1=".len() + 64);
        assert_ne!(s, signature("Jefe", 2, b"what do ya want for nothing?"));
        assert_ne!(s, signature("Jeff", 1, b"what do ya want for nothing?"));
    }
}
