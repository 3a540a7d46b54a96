//! Webhooks (issue 15, docs/EVENTS.md): the account's subscriptions, a form to add one (every
//! event type, or the ones ticked), its secret shown once on the page that answers the create or
//! the rotation, and a page per subscription with its delivery log, where it is turned off or on,
//! a delivery sent again, the secret rotated or the subscription deleted (both confirmed first).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{Action, DeliveryId, DeliveryState, WebhookId, WebhookState};
use numberpool_store::{Delivery, Webhook};

use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult};
use super::forms::{ConfirmPage, Done, Empty, redirect_done, refusal};
use super::number::when;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::ServiceError;
use crate::service::webhooks::{Replay, WebhookInput, last_answer};

/// A subscription as listed.
#[derive(Debug, Clone)]
pub struct HookRow {
    pub id: String,
    pub url: String,
    pub types: String,
    pub active: bool,
    /// Why it is off, or since when it fails.
    pub trouble: Option<String>,
    pub created: String,
}

fn row(w: &Webhook) -> HookRow {
    let trouble = match (w.state, &w.disabled_reason, w.failing_since) {
        (WebhookState::Disabled, Some(r), _) => Some(format!("Off: {r}")),
        (WebhookState::Disabled, None, _) => Some("Off".into()),
        (WebhookState::Active, _, Some(t)) => Some(format!("Failing since {}", when(t))),
        (WebhookState::Active, _, None) => None,
    };
    HookRow {
        id: w.id.to_string(),
        url: w.url.clone(),
        types: if w.event_types.is_empty() {
            "Every event".into()
        } else {
            w.event_types
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
        active: w.state == WebhookState::Active,
        trouble,
        created: when(w.created_at),
    }
}

/// One event type's checkbox.
#[derive(Debug, Clone)]
pub struct TypeBox {
    pub value: &'static str,
    pub id: String,
    pub checked: bool,
}

/// The checkboxes of one entity (`number`, `reservation`, …).
#[derive(Debug, Clone)]
pub struct TypeGroup {
    pub entity: &'static str,
    pub boxes: Vec<TypeBox>,
}

fn type_groups(ticked: &[String]) -> Vec<TypeGroup> {
    let mut groups: Vec<TypeGroup> = Vec::new();
    for a in Action::ALL {
        let s = a.as_str();
        let entity = s.split_once('.').map_or(s, |x| x.0);
        let b = TypeBox {
            value: s,
            id: format!("type-{}", s.replace(['.', '_'], "-")),
            checked: ticked.iter().any(|t| t == s),
        };
        match groups.iter_mut().find(|g| g.entity == entity) {
            Some(g) => g.boxes.push(b),
            None => groups.push(TypeGroup {
                entity,
                boxes: vec![b],
            }),
        }
    }
    groups
}

/// A secret just made: shown on this page only.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub rotated: bool,
}

/// What the create form held when it was refused.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub url: String,
    pub description: String,
    pub only: bool,
    pub types: Vec<String>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    rows: Vec<HookRow>,
    groups: Vec<TypeGroup>,
    typed: Typed,
    shown: Option<Shown>,
    notice: Option<String>,
    error: Option<String>,
}

async fn list_page(
    st: &WebState,
    user: &SignedIn,
    shown: Option<Shown>,
    notice: Option<String>,
    refused: Option<(String, Typed)>,
) -> WebResult<Response> {
    let rows = st
        .service
        .list_webhooks(user.actor())
        .await?
        .iter()
        .map(row)
        .collect();
    let (error, typed) = match refused {
        Some((m, t)) => (Some(m), t),
        None => (None, Typed::default()),
    };
    let status = super::status_for(error.is_some());
    Ok(render(
        status,
        &WebhooksPage {
            chrome: user.chrome("webhooks"),
            rows,
            groups: type_groups(&typed.types),
            typed,
            shown,
            notice,
            error,
        },
    ))
}

/// `GET /portal/webhooks`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    list_page(&st, &user, None, done.notice(), None).await
}

/// `POST /portal/webhooks`: `url`, `description`, `scope` (`all` or `only`) and the ticked
/// `type` boxes. The answer is the list with the new secret: a redirect would have to carry it.
pub async fn create(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let typed = Typed {
        url: field("url"),
        description: field("description"),
        only: field("scope") == "only",
        types: form
            .iter()
            .filter(|(k, _)| k == "type")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    if typed.url.is_empty() {
        let m = "Give the URL the events are sent to.".to_string();
        return list_page(&st, &user, None, None, Some((m, typed))).await;
    }
    if typed.only && typed.types.is_empty() {
        let m = "Tick at least one event type, or choose every event.".to_string();
        return list_page(&st, &user, None, None, Some((m, typed))).await;
    }
    let input = WebhookInput {
        url: Some(typed.url.clone()),
        event_types: Some(if typed.only {
            typed.types.clone()
        } else {
            Vec::new()
        }),
        description: Some(typed.description.clone()),
        enabled: None,
    };
    match st.service.create_webhook(user.actor(), input).await {
        Ok((w, secret)) => {
            let shown = Shown {
                id: w.id.to_string(),
                url: w.url,
                secret,
                rotated: false,
            };
            list_page(&st, &user, Some(shown), None, None).await
        }
        Err(e) => {
            let m = refusal(e)?;
            list_page(&st, &user, None, None, Some((m, typed))).await
        }
    }
}

/// A delivery as the log shows it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub event_type: &'static str,
    pub event_id: String,
    pub state: &'static str,
    pub replay: bool,
    pub attempts: i32,
    pub last: String,
    pub when: String,
}

fn delivery_row(d: &Delivery) -> DeliveryRow {
    let last = last_answer(d.last_status, d.last_error.as_deref())
        .unwrap_or_else(|| "Not tried yet".into());
    let when_text = match d.state {
        DeliveryState::Pending => format!("Next try {}", when(d.next_attempt_at)),
        DeliveryState::Delivered | DeliveryState::Failed => {
            when(d.finished_at.unwrap_or(d.created_at))
        }
    };
    DeliveryRow {
        id: d.id.to_string(),
        event_type: d.event_type.as_str(),
        event_id: d.event_id.to_string(),
        state: d.state.as_str(),
        replay: d.replay,
        attempts: d.attempts,
        last,
        when: when_text,
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    hook: HookRow,
    description: String,
    deliveries: Vec<DeliveryRow>,
    shown: Option<Shown>,
    notice: Option<String>,
    /// The retry window in words ("24 hours").
    window: String,
}

fn hook_id(id: &str) -> WebResult<WebhookId> {
    id.parse()
        .map_err(|_| WebError::Service(ServiceError::NotFound("webhook")))
}

async fn hook_page(
    st: &WebState,
    user: &SignedIn,
    id: WebhookId,
    shown: Option<Shown>,
    notice: Option<String>,
) -> WebResult<Response> {
    let w = st.service.get_webhook(user.actor(), id).await?;
    let deliveries = st
        .service
        .list_deliveries(user.actor(), id, None, 50)
        .await?
        .iter()
        .map(delivery_row)
        .collect();
    Ok(render(
        StatusCode::OK,
        &WebhookPage {
            chrome: user.chrome("webhooks"),
            hook: row(&w),
            description: w.description,
            deliveries,
            shown,
            notice,
            window: match st.service.webhook_retry_window_ms() / 3_600_000 {
                1 => "an hour".to_string(),
                h => format!("{h} hours"),
            },
        },
    ))
}

/// `GET /portal/webhooks/{id}`: the subscription and its last 50 deliveries.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    let id = hook_id(&id)?;
    let notice = match done.done.as_str() {
        "replayed" => Some("The event is queued to be sent again.".to_string()),
        _ => done.notice(),
    };
    hook_page(&st, &user, id, None, notice).await
}

/// `POST /portal/webhooks/{id}/{on|off}`: turns it on (its failures forgotten, what waited is
/// sent) or off.
pub async fn toggle(
    State(st): State<WebState>,
    Path((id, verb)): Path<(String, String)>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = hook_id(&id)?;
    let enabled = match verb.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(ServiceError::NotFound("page").into()),
    };
    let w = st
        .service
        .update_webhook(
            user.actor(),
            id,
            WebhookInput {
                enabled: Some(enabled),
                ..WebhookInput::default()
            },
        )
        .await?;
    Ok(redirect_done(
        &format!("/portal/webhooks/{id}"),
        Action::WebhookUpdate,
        &w.url,
        "hook",
    ))
}

/// `POST /portal/webhooks/{id}/deliveries/{delivery}/replay`: sends the delivery's event again.
pub async fn replay(
    State(st): State<WebState>,
    Path((id, delivery)): Path<(String, String)>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = hook_id(&id)?;
    let d: DeliveryId = delivery
        .parse()
        .map_err(|_| WebError::Service(ServiceError::NotFound("delivery")))?;
    st.service
        .replay_webhook(user.actor(), id, Replay::Delivery(d))
        .await?;
    Ok(Redirect::to(&format!("/portal/webhooks/{id}?done=replayed#deliveries")).into_response())
}

/// `GET /portal/webhooks/{id}/{rotate|delete}`: the confirmation.
pub async fn confirm(
    State(st): State<WebState>,
    user: SignedIn,
    Path((id, verb)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = hook_id(&id)?;
    let w = st.service.get_webhook(user.actor(), id).await?;
    let (title, consequence, label, path) = match verb.as_str() {
        "rotate" => (
            "Rotate this webhook's secret?".to_string(),
            format!(
                "A new secret replaces the current one of the webhook to {}: deliveries are signed with the new one at once, so the receiver must be given it (it is shown once on the next page).",
                w.url
            ),
            "Rotate secret",
            "rotate",
        ),
        "delete" => (
            "Delete this webhook?".to_string(),
            format!(
                "Events stop going to {} and its delivery log is deleted. The events stay in the feed. This cannot be undone.",
                w.url
            ),
            "Delete webhook",
            "delete",
        ),
        _ => return Err(ServiceError::NotFound("page").into()),
    };
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("webhooks"),
            title,
            consequence,
            action: format!("/portal/webhooks/{id}/{path}"),
            verb: label,
            back: format!("/portal/webhooks/{id}"),
            danger: true,
        },
    ))
}

/// `POST /portal/webhooks/{id}/{rotate|delete}`: a rotation answers the page with the new
/// secret; a deletion goes back to the list, saying so.
pub async fn change(
    State(st): State<WebState>,
    Path((id, verb)): Path<(String, String)>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = hook_id(&id)?;
    match verb.as_str() {
        "rotate" => {
            let secret = st.service.rotate_webhook_secret(user.actor(), id).await?;
            let w = st.service.get_webhook(user.actor(), id).await?;
            let shown = Shown {
                id: id.to_string(),
                url: w.url,
                secret,
                rotated: true,
            };
            hook_page(&st, &user, id, Some(shown), None).await
        }
        "delete" => {
            let w = st.service.get_webhook(user.actor(), id).await?;
            st.service.delete_webhook(user.actor(), id).await?;
            Ok(redirect_done(
                "/portal/webhooks",
                Action::WebhookDelete,
                &w.url,
                "webhooks",
            ))
        }
        _ => Err(ServiceError::NotFound("page").into()),
    }
}
