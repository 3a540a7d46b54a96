//! `/v2/events` and `/v2/webhooks` (issue 15, docs/EVENTS.md): the feed of the events that
//! concern the caller's subtree, keyset-paged by sequence so that a client that missed webhooks
//! reconciles from the last event it saw; and webhook subscriptions with their delivery log and
//! replay.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use numberpool_domain::{DeliveryId, WebhookId};
use numberpool_store::{Delivery, DeliveryAttempt, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::audit::{parse_time, rfc3339};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Auth, PhoneRead, PhoneWrite};
use super::responses::{CommonErrors, FilteredListErrors, JsonErrors, NotFound, Scoped};
use crate::service::webhooks::{EventView, Replay, WebhookInput};

/// The feed's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The last `sequence` the client has seen: the page starts after it (0 or absent: from
    /// the first event).
    pub after: Option<i64>,
    /// Events per page, 1 to 1,000 (default 100).
    pub page_size: Option<u32>,
    /// Only these event types, comma-separated (`number.allocate,number.release`).
    pub types: Option<String>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPageBody {
    /// Oldest first.
    pub events: Vec<EventView>,
    /// Give it as `after` for the next page; when the page is empty it is the `after` given, so
    /// polling with it picks up new events as they come.
    pub next_after: i64,
}

fn split_types(types: Option<&str>) -> Vec<String> {
    types
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// List events
///
/// Every add, allocate, release, unbind, delete, assign, unassign and edit of a number, and the
/// changes of accounts, connections, reservations, porting orders and webhooks, that concern the
/// caller's account or an account below it, in the order they were committed. The same events
/// go to webhooks; this feed lets a client catch up from the last `sequence` it saw.
#[utoipa::path(get, path = "/v2/events", tag = "Events",
    params(EventsQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of events, oldest first", body = EventPageBody),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_events(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventPageBody>> {
    let size = match q.page_size {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "page_size: {n} is out of range; give 1 to 1000 (default 100)"
            )));
        }
    };
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid(
            "after: give a sequence from an earlier page (0 or more)",
        ));
    }
    let page = st
        .service
        .events_feed(
            &auth.actor,
            q.after.unwrap_or(0),
            size,
            &split_types(q.types.as_deref()),
        )
        .await?;
    Ok(Json(EventPageBody {
        events: page.events,
        next_after: page.next_after,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// The subscription's id.
    #[serde(rename = "webhookId")]
    #[param(rename = "webhookId")]
    pub webhook_id: String,
}

fn webhook_id(p: &WebhookPath) -> ApiResult<WebhookId> {
    p.webhook_id
        .parse()
        .map_err(|_| ApiError::not_found("webhook"))
}

/// A webhook subscription. Its secret is shown only when made or rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: WebhookId,
    pub url: String,
    /// The event types sent; empty for every type.
    pub event_types: Vec<String>,
    pub description: String,
    /// `active` or `disabled`.
    pub state: String,
    /// Why it is disabled (by its account, or after failing past the retry window).
    pub disabled_reason: Option<String>,
    /// When its deliveries began failing, while they still are.
    #[schema(format = DateTime)]
    pub failing_since: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Scoped for WebhookBody {
    const NOUN: &'static str = "webhook";
}

impl From<Webhook> for WebhookBody {
    fn from(w: Webhook) -> Self {
        WebhookBody {
            id: w.id,
            url: w.url,
            event_types: w
                .event_types
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            description: w.description,
            state: w.state.as_str().to_string(),
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since.map(rfc3339),
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
        }
    }
}

/// A new subscription, with its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewWebhookBody {
    #[serde(flatten)]
    pub webhook: WebhookBody,
    /// Signs every delivery (`Numberpool-Signature`, docs/EVENTS.md). Shown this once: keep it.
    pub secret: String,
}

/// What a new subscription says.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: http or https, without credentials. Loopback, private and
    /// link-local addresses are refused unless the operator allows them.
    pub url: String,
    /// Event types to send (docs/EVENTS.md); absent, empty or `["*"]`: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// A note for people (at most 200 characters).
    #[serde(default)]
    pub description: Option<String>,
}

/// A change to a subscription: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// `true` turns a disabled subscription on again (its failures forgotten; what happened
    /// meanwhile is sent); `false` stops deliveries.
    pub enabled: Option<bool>,
}

/// The subscriptions of the caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookBody>,
}

/// List webhooks
#[utoipa::path(get, path = "/v2/webhooks", tag = "Events",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The caller's account's subscriptions", body = WebhookList),
        CommonErrors,
    ))]
pub async fn list_webhooks(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<WebhookList>> {
    let all = st.service.list_webhooks(&auth.actor).await?;
    Ok(Json(WebhookList {
        webhooks: all.into_iter().map(WebhookBody::from).collect(),
    }))
}

/// Subscribe a webhook
///
/// The caller's account's events of the types named are POSTed to the URL, signed with the
/// secret in the answer, from now on. Only events that concern the account or an account below
/// it are sent.
#[utoipa::path(post, path = "/v2/webhooks", tag = "Events",
    request_body = CreateWebhook,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 201, description = "Subscribed; the secret is shown this once", body = NewWebhookBody),
        CommonErrors,
        JsonErrors,
        (status = 422, description = "The URL's address is loopback, private or link-local and the operator has not allowed such targets (`rule_violation`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn create_webhook(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<NewWebhookBody>)> {
    let (w, secret) = st
        .service
        .create_webhook(
            &auth.actor,
            WebhookInput {
                url: Some(body.url),
                event_types: Some(body.event_types),
                description: body.description,
                enabled: None,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookBody {
            webhook: w.into(),
            secret,
        }),
    ))
}

/// Get a webhook
#[utoipa::path(get, path = "/v2/webhooks/{webhookId}", tag = "Events",
    params(WebhookPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The subscription", body = WebhookBody),
        CommonErrors,
        NotFound<WebhookBody>,
    ))]
pub async fn get_webhook(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
) -> ApiResult<Json<WebhookBody>> {
    let w = st.service.get_webhook(&auth.actor, webhook_id(&p)?).await?;
    Ok(Json(w.into()))
}

/// Change a webhook
#[utoipa::path(patch, path = "/v2/webhooks/{webhookId}", tag = "Events",
    params(WebhookPath),
    request_body = UpdateWebhook,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The subscription as changed", body = WebhookBody),
        CommonErrors,
        JsonErrors,
        NotFound<WebhookBody>,
        (status = 409, description = "Changed by someone else at the same time; read it again (`conflict`)", body = ErrorBody),
        (status = 422, description = "The new URL's address is not allowed (`rule_violation`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn update_webhook(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> ApiResult<Json<WebhookBody>> {
    let w = st
        .service
        .update_webhook(
            &auth.actor,
            webhook_id(&p)?,
            WebhookInput {
                url: body.url,
                event_types: body.event_types,
                description: body.description,
                enabled: body.enabled,
            },
        )
        .await?;
    Ok(Json(w.into()))
}

/// Delete a webhook
#[utoipa::path(delete, path = "/v2/webhooks/{webhookId}", tag = "Events",
    params(WebhookPath),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 204, description = "Deleted, with its delivery log"),
        CommonErrors,
        NotFound<WebhookBody>,
    ))]
pub async fn delete_webhook(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
) -> ApiResult<StatusCode> {
    st.service
        .delete_webhook(&auth.actor, webhook_id(&p)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretBody {
    /// Signs every delivery from now on; shown this once.
    pub secret: String,
}

/// Rotate a webhook's secret
///
/// The old secret stops signing at once.
#[utoipa::path(post, path = "/v2/webhooks/{webhookId}/rotate_secret", tag = "Events",
    params(WebhookPath),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The new secret, shown this once", body = SecretBody),
        CommonErrors,
        NotFound<WebhookBody>,
    ))]
pub async fn rotate_webhook_secret(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
) -> ApiResult<Json<SecretBody>> {
    let secret = st
        .service
        .rotate_webhook_secret(&auth.actor, webhook_id(&p)?)
        .await?;
    Ok(Json(SecretBody { secret }))
}

/// One delivery of an event to a subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: DeliveryId,
    /// The event's id (the same in every delivery and replay of it).
    pub event_id: String,
    /// The event's sequence in the feed.
    pub sequence: i64,
    /// The event's type.
    pub event_type: String,
    /// Whether it was made by a replay.
    pub replay: bool,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i32,
    /// While pending: when it is tried next.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last attempt, if one came back.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// Every attempt, first first (only on the one-delivery route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptBody>>,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptBody {
    pub attempt: i32,
    #[schema(format = DateTime)]
    pub at: String,
    /// The HTTP status that came back; absent when none did.
    pub status: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl Scoped for DeliveryBody {
    const NOUN: &'static str = "delivery";
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        let pending = d.state == numberpool_domain::DeliveryState::Pending;
        DeliveryBody {
            id: d.id,
            event_id: d.event_id.to_string(),
            sequence: d.outbox_id,
            event_type: d.event_type.as_str().to_string(),
            replay: d.replay,
            state: d.state.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: pending.then(|| rfc3339(d.next_attempt_at)),
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: rfc3339(d.created_at),
            finished_at: d.finished_at.map(rfc3339),
            attempt_log: None,
        }
    }
}

impl From<DeliveryAttempt> for AttemptBody {
    fn from(a: DeliveryAttempt) -> Self {
        AttemptBody {
            attempt: a.attempt,
            at: rfc3339(a.at),
            status: a.status,
            latency_ms: a.latency_ms,
            error: a.error,
        }
    }
}

/// The deliveries query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Deliveries made before this one (the last id of the previous page).
    pub before: Option<String>,
    /// Deliveries per page, 1 to 500 (default 50).
    pub page_size: Option<u32>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryBody>,
}

/// List a webhook's deliveries
#[utoipa::path(get, path = "/v2/webhooks/{webhookId}/deliveries", tag = "Events",
    params(WebhookPath, DeliveriesQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "Deliveries, newest first", body = DeliveryList),
        CommonErrors,
        FilteredListErrors,
        NotFound<WebhookBody>,
    ))]
pub async fn list_deliveries(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let before =
        match q.before.as_deref().filter(|b| !b.is_empty()) {
            Some(b) => Some(b.parse::<DeliveryId>().map_err(|_| {
                ApiError::invalid("before: give a delivery id from the previous page")
            })?),
            None => None,
        };
    let size = match q.page_size {
        None => 50,
        Some(n @ 1..=500) => n,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "page_size: {n} is out of range; give 1 to 500 (default 50)"
            )));
        }
    };
    let all = st
        .service
        .list_deliveries(&auth.actor, webhook_id(&p)?, before, size)
        .await?;
    Ok(Json(DeliveryList {
        deliveries: all.into_iter().map(DeliveryBody::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    /// The subscription's id.
    #[serde(rename = "webhookId")]
    #[param(rename = "webhookId")]
    pub webhook_id: String,
    /// The delivery's id.
    #[serde(rename = "deliveryId")]
    #[param(rename = "deliveryId")]
    pub delivery_id: String,
}

/// Get a delivery with its attempts
#[utoipa::path(get, path = "/v2/webhooks/{webhookId}/deliveries/{deliveryId}", tag = "Events",
    params(DeliveryPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The delivery and every attempt at it", body = DeliveryBody),
        CommonErrors,
        NotFound<DeliveryBody>,
    ))]
pub async fn get_delivery(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<DeliveryPath>,
) -> ApiResult<Json<DeliveryBody>> {
    let id: WebhookId = p
        .webhook_id
        .parse()
        .map_err(|_| ApiError::not_found("webhook"))?;
    let d: DeliveryId = p
        .delivery_id
        .parse()
        .map_err(|_| ApiError::not_found("delivery"))?;
    let (d, attempts) = st.service.get_delivery(&auth.actor, id, d).await?;
    let mut body = DeliveryBody::from(d);
    body.attempt_log = Some(attempts.into_iter().map(AttemptBody::from).collect());
    Ok(Json(body))
}

/// What to send again: one delivery's event, or every event delivered in a time range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// A delivery of this subscription whose event is sent again.
    pub delivery_id: Option<String>,
    /// With `until`: every event of this subscription's deliveries that happened in
    /// `[since, until)` (RFC 3339).
    #[schema(format = DateTime)]
    pub since: Option<String>,
    #[schema(format = DateTime)]
    pub until: Option<String>,
}

/// How many events were queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayedBody {
    pub replayed: usize,
}

/// Replay deliveries
///
/// Sends events again as new deliveries with the same event ids (receivers deduplicate on
/// them): one delivery's event, or every event in a time range.
#[utoipa::path(post, path = "/v2/webhooks/{webhookId}/replay", tag = "Events",
    params(WebhookPath),
    request_body = ReplayBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 202, description = "Queued for delivery", body = ReplayedBody),
        CommonErrors,
        JsonErrors,
        NotFound<WebhookBody>,
    ))]
pub async fn replay_webhook(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<WebhookPath>,
    ApiJson(body): ApiJson<ReplayBody>,
) -> ApiResult<(StatusCode, Json<ReplayedBody>)> {
    let id = webhook_id(&p)?;
    // Another account's subscription is not found, whatever the body says (R-SEC-1).
    st.service.writable_webhook(&auth.actor, id).await?;
    let what = match (body.delivery_id, body.since, body.until) {
        (Some(d), None, None) => {
            Replay::Delivery(d.parse().map_err(|_| ApiError::not_found("delivery"))?)
        }
        (None, Some(since), Some(until)) => Replay::Range {
            since: parse_time("since", &since)?,
            until: parse_time("until", &until)?,
        },
        _ => {
            return Err(ApiError::invalid(
                "give delivery_id, or since and until (not both)",
            ));
        }
    };
    let n = st.service.replay_webhook(&auth.actor, id, what).await?;
    Ok((StatusCode::ACCEPTED, Json(ReplayedBody { replayed: n })))
}
