//! Webhook subscriptions, their deliveries and every attempt at one (issue 15,
//! `0022_events.sql`), and the delivery job that the outbox's writer queues for them.

use numberpool_domain::{
    AccountId, Action, AuditId, DeliveryId, DeliveryState, WebhookId, WebhookState,
};

use crate::rows::Arg::{Bool, Int, Int32, OptInt, OptInt32, OptText, Text};
use crate::rows::parse;
use crate::{NewJob, Reader, Result, Tx, one_row};

/// The delivery job's kind and queue (the application's `JobKind::WebhookDeliver`, which a test
/// there keeps equal): the outbox's writer queues it, so the store names it.
pub const WEBHOOK_JOB_KIND: &str = "webhook_deliver";
pub const WEBHOOK_QUEUE: &str = "webhooks";
/// Its attempts are not the deliveries' (those are counted per delivery): a job attempt ends
/// when it waits for a delivery's next try, so the job's own limit is only a backstop.
pub const WEBHOOK_JOB_ATTEMPTS: i32 = 1_000_000;

/// The delivery job of subscription `id`, due now; one queued or running per subscription.
pub fn delivery_job(id: &str, now: i64) -> NewJob {
    NewJob {
        queue: WEBHOOK_QUEUE.to_string(),
        kind: WEBHOOK_JOB_KIND.to_string(),
        payload: serde_json::json!({ "subscription_id": id }),
        unique_key: Some(format!("{WEBHOOK_JOB_KIND}:{id}")),
        max_attempts: WEBHOOK_JOB_ATTEMPTS,
        run_after: now,
    }
}

impl Tx {
    /// Wakes subscription `id`'s delivery job ([`Tx::wake_job`]): queued due now, made due now
    /// if it waits for a delivery's retry, or run again at once if it is running.
    pub async fn wake_webhook_job(&mut self, id: &str, now: i64) -> Result<()> {
        self.wake_job(&delivery_job(id, now), now).await
    }
}

/// A subscription as stored. `secret` is sealed: only the service opens it, to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub account_id: AccountId,
    pub url: String,
    /// The actions sent; empty for every one.
    pub event_types: Vec<Action>,
    pub description: String,
    pub secret: String,
    pub state: WebhookState,
    pub disabled_reason: Option<String>,
    /// The outbox id up to which the account's events were made deliveries.
    pub cursor: i64,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl Webhook {
    /// Whether events of `action` go to this subscription.
    pub fn wants(&self, action: Action) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&action)
    }
}

type WebhookRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
);

const WEBHOOK_COLUMNS: &str = "id, account_id, url, event_types, description, secret, state, \
    disabled_reason, cursor, failing_since, created_at, updated_at, version";

fn webhook_from_row(r: WebhookRow) -> Result<Webhook> {
    let event_types = if r.3 == "*" {
        Vec::new()
    } else {
        r.3.split_whitespace()
            .map(|a| parse("webhook event type", a))
            .collect::<Result<_>>()?
    };
    Ok(Webhook {
        id: parse("webhook id", &r.0)?,
        account_id: parse("webhook account", &r.1)?,
        url: r.2,
        event_types,
        description: r.4,
        secret: r.5,
        state: parse("webhook state", &r.6)?,
        disabled_reason: r.7,
        cursor: r.8,
        failing_since: r.9,
        created_at: r.10,
        updated_at: r.11,
        version: r.12,
    })
}

fn types_column(types: &[Action]) -> String {
    if types.is_empty() {
        "*".into()
    } else {
        types
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One event sent, or to send, to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub subscription_id: WebhookId,
    pub outbox_id: i64,
    pub event_id: AuditId,
    pub replay: bool,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// The event's type.
    pub event_type: Action,
}

type DeliveryRow = (
    String,
    String,
    i64,
    String,
    bool,
    String,
    i32,
    i64,
    Option<i32>,
    Option<String>,
    i64,
    Option<i64>,
    String,
);

const DELIVERY_COLUMNS: &str = "d.id, d.subscription_id, d.outbox_id, d.event_id, d.replay, \
    d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, \
    d.finished_at, o.action";

/// The deliveries with their event's type.
const DELIVERY_FROM: &str = "webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id";

fn delivery_from_row(r: DeliveryRow) -> Result<Delivery> {
    Ok(Delivery {
        id: parse("delivery id", &r.0)?,
        subscription_id: parse("delivery subscription", &r.1)?,
        outbox_id: r.2,
        event_id: parse("delivery event", &r.3)?,
        replay: r.4,
        state: parse("delivery state", &r.5)?,
        attempts: r.6,
        next_attempt_at: r.7,
        last_status: r.8,
        last_error: r.9,
        created_at: r.10,
        finished_at: r.11,
        event_type: parse("delivery event type", &r.12)?,
    })
}

/// One attempt at a delivery: when, what came back (`None`: no answer) and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: i64,
    pub status: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl Reader {
    pub async fn get_webhook(&mut self, id: WebhookId) -> Result<Option<Webhook>> {
        self.row_by_id(
            WEBHOOK_COLUMNS,
            "webhook_subscriptions",
            id,
            webhook_from_row,
        )
        .await
    }

    /// `account`'s subscriptions, oldest first.
    pub async fn list_webhooks(&mut self, account: AccountId) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhook_subscriptions WHERE account_id = $1 ORDER BY id"
        );
        self.rows_by(&sql, &account.to_string(), webhook_from_row)
            .await
    }

    /// The active subscriptions with work their job may have missed: events past their cursor,
    /// or a pending delivery due by `now` (the periodic sweep queues their jobs).
    pub async fn webhooks_behind(&mut self, now: i64) -> Result<Vec<WebhookId>> {
        self.rows_with(
            "SELECT s.id FROM webhook_subscriptions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.state = 'active' AND a.status = 'active' AND ( \
             EXISTS (SELECT 1 FROM outbox_accounts oa WHERE oa.account_id = s.account_id \
             AND oa.outbox_id > s.cursor) OR EXISTS (SELECT 1 FROM webhook_deliveries d \
             WHERE d.subscription_id = s.id AND d.state = 'pending' AND d.next_attempt_at <= $1))",
            &[Int(now)],
            |r: (String,)| parse("webhook id", &r.0),
        )
        .await
    }

    /// The subscription's next pending delivery in outbox order (due or not).
    pub async fn next_pending_delivery(&mut self, sub: WebhookId) -> Result<Option<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.subscription_id = $1 \
             AND d.state = 'pending' ORDER BY d.outbox_id, d.id LIMIT 1"
        );
        self.row_by(&sql, &sub.to_string(), delivery_from_row).await
    }

    pub async fn get_delivery(&mut self, id: DeliveryId) -> Result<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.id = $1");
        self.row_by(&sql, &id.to_string(), delivery_from_row).await
    }

    /// The subscription's deliveries, newest first, before `before` if given.
    pub async fn list_deliveries(
        &mut self,
        sub: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.subscription_id = $1 \
             AND ($2 IS NULL OR d.id < $2) ORDER BY d.id DESC LIMIT $3"
        );
        let s = sub.to_string();
        let b = before.map(|b| b.to_string());
        self.rows_with(
            &sql,
            &[Text(&s), OptText(b.as_deref()), Int(i64::from(limit))],
            delivery_from_row,
        )
        .await
    }

    /// The deliveries of the subscription whose events were recorded in `[since, until)`
    /// (Unix ms), oldest first, one per event (the first made): what a replay of a time range
    /// sends again.
    pub async fn deliveries_between(
        &mut self,
        sub: WebhookId,
        since: i64,
        until: i64,
    ) -> Result<Vec<(i64, AuditId)>> {
        self.rows_with(
            "SELECT DISTINCT d.outbox_id, d.event_id FROM webhook_deliveries d \
             JOIN outbox o ON o.id = d.outbox_id WHERE d.subscription_id = $1 \
             AND o.at >= $2 AND o.at < $3 ORDER BY d.outbox_id",
            &[Text(&sub.to_string()), Int(since), Int(until)],
            |r: (i64, String)| Ok((r.0, parse("delivery event", &r.1)?)),
        )
        .await
    }

    /// Every attempt at `delivery`, first first.
    pub async fn delivery_attempts(
        &mut self,
        delivery: DeliveryId,
    ) -> Result<Vec<DeliveryAttempt>> {
        self.rows_by(
            "SELECT attempt, at, status, latency_ms, error FROM webhook_attempts \
             WHERE delivery_id = $1 ORDER BY attempt",
            &delivery.to_string(),
            |r: (i32, i64, Option<i32>, i64, Option<String>)| {
                Ok(DeliveryAttempt {
                    attempt: r.0,
                    at: r.1,
                    status: r.2,
                    latency_ms: r.3,
                    error: r.4,
                })
            },
        )
        .await
    }

    /// The outbox's last id that concerns `account` (0 if none): where a new subscription starts.
    pub async fn last_event_for(&mut self, account: AccountId) -> Result<i64> {
        let row: Option<(Option<i64>,)> = self
            .row_by(
                "SELECT MAX(outbox_id) FROM outbox_accounts WHERE account_id = $1",
                &account.to_string(),
                Ok,
            )
            .await?;
        Ok(row.and_then(|r| r.0).unwrap_or(0))
    }
}

impl Tx {
    pub async fn insert_webhook(&mut self, w: &Webhook) -> Result<()> {
        let types = types_column(&w.event_types);
        self.execute(
            "INSERT INTO webhook_subscriptions (id, account_id, url, event_types, description, \
             secret, state, disabled_reason, cursor, failing_since, created_at, updated_at, \
             version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                Text(&w.id.to_string()),
                Text(&w.account_id.to_string()),
                Text(&w.url),
                Text(&types),
                Text(&w.description),
                Text(&w.secret),
                Text(w.state.as_str()),
                OptText(w.disabled_reason.as_deref()),
                Int(w.cursor),
                OptInt(w.failing_since),
                Int(w.created_at),
                Int(w.updated_at),
                Int(w.version),
            ],
        )
        .await?;
        Ok(())
    }

    /// Writes `w` over the stored row if that is still at `w.version` (compare-and-set); the
    /// row's version becomes one more. The cursor is not written here (see
    /// [`Tx::queue_deliveries`]).
    pub async fn update_webhook(&mut self, w: &Webhook) -> Result<()> {
        let types = types_column(&w.event_types);
        let n = self
            .execute(
                "UPDATE webhook_subscriptions SET url = $1, event_types = $2, description = $3, \
                 secret = $4, state = $5, disabled_reason = $6, failing_since = $7, \
                 updated_at = $8, version = version + 1 WHERE id = $9 AND version = $10",
                &[
                    Text(&w.url),
                    Text(&types),
                    Text(&w.description),
                    Text(&w.secret),
                    Text(w.state.as_str()),
                    OptText(w.disabled_reason.as_deref()),
                    OptInt(w.failing_since),
                    Int(w.updated_at),
                    Text(&w.id.to_string()),
                    Int(w.version),
                ],
            )
            .await?;
        one_row(n)
    }

    /// Starts subscription `id` after outbox id `cursor` (a new subscription, after the event
    /// of its own creation).
    pub async fn start_webhook_after(&mut self, id: WebhookId, cursor: i64) -> Result<()> {
        let n = self
            .execute(
                "UPDATE webhook_subscriptions SET cursor = $1 WHERE id = $2",
                &[Int(cursor), Text(&id.to_string())],
            )
            .await?;
        one_row(n)
    }

    /// Deletes subscription `id` with its deliveries and their attempts.
    pub async fn delete_webhook(&mut self, id: WebhookId) -> Result<()> {
        let s = id.to_string();
        self.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE subscription_id = $1)",
            &[Text(&s)],
        )
        .await?;
        self.execute(
            "DELETE FROM webhook_deliveries WHERE subscription_id = $1",
            &[Text(&s)],
        )
        .await?;
        let n = self
            .execute(
                "DELETE FROM webhook_subscriptions WHERE id = $1",
                &[Text(&s)],
            )
            .await?;
        one_row(n)
    }

    /// Makes a pending delivery of each of `events` (outbox id, event id) and moves the
    /// subscription's cursor from `from` to `to`: compare-and-set on the cursor, so two runs of
    /// the job never make the same deliveries twice.
    pub async fn queue_deliveries(
        &mut self,
        sub: WebhookId,
        from: i64,
        to: i64,
        events: &[(i64, AuditId)],
        now: i64,
    ) -> Result<()> {
        let s = sub.to_string();
        let n = self
            .execute(
                "UPDATE webhook_subscriptions SET cursor = $1 WHERE id = $2 AND cursor = $3",
                &[Int(to), Text(&s), Int(from)],
            )
            .await?;
        one_row(n)?;
        self.insert_deliveries(&s, events, false, now).await
    }

    /// Pending deliveries that send `events` again (a replay: same event ids).
    pub async fn replay_deliveries(
        &mut self,
        sub: WebhookId,
        events: &[(i64, AuditId)],
        now: i64,
    ) -> Result<()> {
        self.insert_deliveries(&sub.to_string(), events, true, now)
            .await
    }

    async fn insert_deliveries(
        &mut self,
        sub: &str,
        events: &[(i64, AuditId)],
        replay: bool,
        now: i64,
    ) -> Result<()> {
        for (outbox_id, event_id) in events {
            self.execute(
                "INSERT INTO webhook_deliveries (id, subscription_id, outbox_id, event_id, \
                 replay, state, attempts, next_attempt_at, last_status, last_error, created_at, \
                 finished_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, NULL, NULL, $6, NULL)",
                &[
                    Text(&DeliveryId::new().to_string()),
                    Text(sub),
                    Int(*outbox_id),
                    Text(&event_id.to_string()),
                    Bool(replay),
                    Int(now),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Records attempt `attempt` at `d` and moves it to `state` (its next try at
    /// `next_attempt_at` when still pending): compare-and-set on its attempts, so an attempt
    /// is recorded once even if two job runs overlap.
    pub async fn record_attempt(
        &mut self,
        d: &Delivery,
        attempt: &DeliveryAttempt,
        state: DeliveryState,
        next_attempt_at: i64,
    ) -> Result<()> {
        let id = d.id.to_string();
        let finished = (state != DeliveryState::Pending).then_some(attempt.at);
        let n = self
            .execute(
                "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, \
                 last_status = $4, last_error = $5, finished_at = $6 \
                 WHERE id = $7 AND attempts = $8 AND state = 'pending'",
                &[
                    Text(state.as_str()),
                    Int32(attempt.attempt),
                    Int(next_attempt_at),
                    OptInt32(attempt.status),
                    OptText(attempt.error.as_deref()),
                    OptInt(finished),
                    Text(&id),
                    Int32(d.attempts),
                ],
            )
            .await?;
        one_row(n)?;
        self.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, latency_ms, error) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Text(&id),
                Int32(attempt.attempt),
                Int(attempt.at),
                OptInt32(attempt.status),
                Int(attempt.latency_ms),
                OptText(attempt.error.as_deref()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Puts the subscription's last failed delivery (the one that turned it off: the ones
    /// behind it waited) back to pending, due at `now`; earlier failures stay as they are, to be
    /// replayed by hand.
    pub async fn retry_failed_deliveries(&mut self, sub: WebhookId, now: i64) -> Result<u64> {
        let s = sub.to_string();
        self.execute(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, \
             finished_at = NULL WHERE id = (SELECT id FROM webhook_deliveries \
             WHERE subscription_id = $2 AND state = 'failed' \
             ORDER BY finished_at DESC, id DESC LIMIT 1)",
            &[Int(now), Text(&s)],
        )
        .await
    }

    /// Removes finished deliveries (and their attempts) finished before `before`; how many.
    pub async fn purge_deliveries(&mut self, before: i64) -> Result<u64> {
        self.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM \
             webhook_deliveries WHERE state <> 'pending' AND finished_at < $1)",
            &[Int(before)],
        )
        .await?;
        self.execute(
            "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < $1",
            &[Int(before)],
        )
        .await
    }
}
