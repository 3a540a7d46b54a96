//! The porting pages (SPEC §5) of a provider or reseller: its port-in orders with their status,
//! a form that places one (with *Check numbers*, the portability check, before anything is
//! ordered), and each order's page with its details (the PIN as its last digit only), its
//! history, the moves it allows next, and cancellation after a confirmation.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::porting::{BillingAddress, PortEvent, PortStatus};
use numberpool_domain::{Action, PortOrderId};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::WebResult;
use super::forms::{ConfirmPage, Done, Empty, redirect_done, refusal};
use super::signin::render;
use super::{SignedIn, WebState};
use crate::service::{NewPortOrder, PortCheck, PortOrderView, PortPatch, ServiceError};

/// The new-order form as typed (the PIN is never sent back to the page, and has no `Debug`).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrderForm {
    pub numbers: String,
    pub carrier: String,
    pub account_number: String,
    pub pin: String,
    pub authorized_person: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub date: String,
    /// `check`: only the portability check.
    pub intent: String,
}

impl OrderForm {
    fn numbers(&self) -> Vec<String> {
        self.numbers
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Template)]
#[template(path = "porting.html")]
struct PortingPage {
    chrome: super::Chrome,
    orders: Vec<PortOrderView>,
    form: OrderForm,
    checks: Vec<PortCheck>,
    error: Option<String>,
    notice: Option<String>,
}

async fn porting_page(
    st: &WebState,
    user: &SignedIn,
    mut form: OrderForm,
    checks: Vec<PortCheck>,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    form.pin.clear();
    let orders = st.service.list_port_orders(user.actor()).await?;
    Ok(render(
        super::status_for(error.is_some()),
        &PortingPage {
            chrome: user.chrome("porting"),
            orders,
            form,
            checks,
            error,
            notice,
        },
    ))
}

/// `GET /portal/porting`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    porting_page(
        &st,
        &user,
        OrderForm::default(),
        vec![],
        None,
        done.notice(),
    )
    .await
}

/// `POST /portal/porting`: the portability check (`intent=check`), or the order itself.
pub async fn create(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<OrderForm>,
) -> WebResult<Response> {
    let numbers = form.numbers();
    if form.intent == "check" {
        return match st.service.validate_port(user.actor(), &numbers).await {
            Ok(v) => {
                let notice = v.portable.then(|| {
                    format!(
                        "All {} numbers can be ported in one order.",
                        v.phone_numbers.len()
                    )
                });
                let error = (!v.portable).then(|| {
                    "Some numbers cannot be ported: see why below, and take them out of the \
                     order."
                        .to_string()
                });
                porting_page(&st, &user, form, v.phone_numbers, error, notice).await
            }
            Err(e) => {
                let m = refusal(e)?;
                porting_page(&st, &user, form, vec![], Some(m), None).await
            }
        };
    }
    let req = NewPortOrder {
        phone_numbers: numbers,
        carrier_name: form.carrier.clone(),
        account_number: form.account_number.clone(),
        account_pin: form.pin.clone(),
        authorized_person: form.authorized_person.clone(),
        billing_address: BillingAddress {
            address: form.address.clone(),
            city: form.city.clone(),
            state: form.state.clone(),
            zip: form.zip.clone(),
        },
        requested_port_date: form.date.clone(),
    };
    match st.service.create_port_order(user.actor(), req).await {
        Ok(o) => Ok(redirect_done(
            &format!("/portal/porting/{}", o.order_id),
            Action::PortOrderCreate,
            &o.phone_numbers.join(", "),
            "order",
        )),
        Err(e) => {
            let m = refusal(e)?;
            porting_page(&st, &user, form, vec![], Some(m), None).await
        }
    }
}

/// One row of an order's history, in words.
pub struct HistoryRow {
    pub at: String,
    pub what: String,
    pub note: String,
    pub by: String,
}

/// A move the order allows next, offered as a choice.
pub struct NextMove {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "port_order.html")]
struct OrderPage {
    chrome: super::Chrome,
    order: PortOrderView,
    history: Vec<HistoryRow>,
    moves: Vec<NextMove>,
    error: Option<String>,
    notice: Option<String>,
}

fn order_id(id: &str) -> WebResult<PortOrderId> {
    id.parse()
        .map_err(|_| ServiceError::NotFound("porting order").into())
}

/// The moves an order in `status` allows from this page (cancelling has its own button).
fn next_moves(status: PortStatus) -> Vec<NextMove> {
    [
        (PortEvent::Accept, "pending", "Pending: the carrier has it"),
        (
            PortEvent::Schedule,
            "scheduled",
            "Scheduled: the carrier gave a date",
        ),
        (
            PortEvent::Complete,
            "completed",
            "Completed: the numbers are ours",
        ),
        (PortEvent::Reject, "rejected", "Rejected by the carrier"),
    ]
    .into_iter()
    .filter(|(e, _, _)| numberpool_domain::porting::port_transition(status, *e).is_ok())
    .map(|(_, value, label)| NextMove { value, label })
    .collect()
}

async fn order_page(
    st: &WebState,
    user: &SignedIn,
    id: PortOrderId,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let order = st.service.get_port_order(user.actor(), id).await?;
    let history = order
        .history
        .iter()
        .flatten()
        .map(|h| HistoryRow {
            at: super::reservations::when(h.at),
            what: match (h.action.as_str(), h.status.as_deref()) {
                ("porting_order.create", _) => "Order placed".to_string(),
                ("porting_order.update", _) => "Details changed".to_string(),
                (_, Some(s)) => format!("Now {s}"),
                _ => h.action.clone(),
            },
            note: h.note.clone().unwrap_or_default(),
            by: format!("{} via {}", h.actor, h.channel),
        })
        .collect();
    Ok(render(
        super::status_for(error.is_some()),
        &OrderPage {
            chrome: user.chrome("porting"),
            moves: next_moves(order.status),
            order,
            history,
            error,
            notice,
        },
    ))
}

/// `GET /portal/porting/{id}`.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    order_page(&st, &user, order_id(&id)?, None, done.notice()).await
}

/// The move form of an order's page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    status: String,
    scheduled_date: String,
    reject_reason: String,
}

/// `POST /portal/porting/{id}/move`: moves the order, or says why not beside the form.
pub async fn move_order(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm<MoveForm>,
) -> WebResult<Response> {
    let id = order_id(&id)?;
    let Ok(status) = form.status.parse::<PortStatus>() else {
        let m = "Move to: choose what happened from the list.".to_string();
        return order_page(&st, &user, id, Some(m), None).await;
    };
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let patch = PortPatch {
        status: Some(status),
        scheduled_date: (status == PortStatus::Scheduled)
            .then(|| some(&form.scheduled_date))
            .flatten(),
        reject_reason: (status == PortStatus::Rejected)
            .then(|| some(&form.reject_reason))
            .flatten(),
        ..PortPatch::default()
    };
    match st
        .service
        .update_port_order(user.actor(), id, patch, None)
        .await
    {
        Ok(o) => Ok(redirect_done(
            &format!("/portal/porting/{}", o.order_id),
            Action::PortOrderStatus,
            &format!("now {}", o.status.as_str()),
            "order",
        )),
        Err(e) => {
            let m = refusal(e)?;
            order_page(&st, &user, id, Some(m), None).await
        }
    }
}

/// `GET /portal/porting/{id}/cancel`: what cancelling does, and the button that does it.
pub async fn confirm_cancel(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let o = st
        .service
        .get_port_order(user.actor(), order_id(&id)?)
        .await?;
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("porting"),
            title: "Cancel this porting order?".into(),
            consequence: format!(
                "The order for {} is withdrawn, and its numbers leave your pool (they were \
                 pending, waiting for the port). The order and its history stay.",
                o.phone_numbers.join(", ")
            ),
            action: format!("/portal/porting/{}/cancel", o.order_id),
            verb: "Cancel order",
            back: format!("/portal/porting/{}", o.order_id),
            danger: true,
        },
    ))
}

/// `POST /portal/porting/{id}/cancel`.
pub async fn cancel(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = order_id(&id)?;
    match st.service.cancel_port_order(user.actor(), id).await {
        Ok(o) => Ok(redirect_done(
            &format!("/portal/porting/{}", o.order_id),
            Action::PortOrderStatus,
            "cancelled",
            "order",
        )),
        Err(e) => {
            let m = refusal(e)?;
            order_page(&st, &user, id, Some(m), None).await
        }
    }
}

/// The attachment form of an order's page: multipart, its token checked like every form's.
pub struct AttachUpload {
    user: SignedIn,
    kind: String,
    file: Option<(String, Vec<u8>)>,
}

impl axum::extract::FromRequest<WebState> for AttachUpload {
    type Rejection = super::errors::WebError;

    async fn from_request(
        req: axum::extract::Request,
        state: &WebState,
    ) -> Result<Self, super::errors::WebError> {
        use super::errors::WebError;
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let user = SignedIn::from_request_parts(&mut parts, state).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let mut form = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::Csrf)?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            WebError::BadRequest(format!("The upload could not be read: {}.", e.body_text()))
        };
        let (mut csrf, mut kind, mut file) = (String::new(), String::new(), None);
        while let Some(field) = form.next_field().await.map_err(bad)? {
            match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.map_err(bad)?,
                "kind" => kind = field.text().await.map_err(bad)?,
                "file" => {
                    let name = field.file_name().unwrap_or("attachment").to_string();
                    file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
                }
                _ => {}
            }
        }
        if !super::csrf::same_token(&csrf, &user.session.csrf_token) {
            return Err(WebError::Csrf);
        }
        Ok(AttachUpload { user, kind, file })
    }
}

/// `POST /portal/porting/{id}/attachments`: attaches the file, or says why not beside the form.
pub async fn attach(
    State(st): State<WebState>,
    Path(id): Path<String>,
    up: AttachUpload,
) -> WebResult<Response> {
    let id = order_id(&id)?;
    let user = up.user;
    let Some((name, bytes)) = up.file.filter(|(_, b)| !b.is_empty()) else {
        let m = "Choose a PDF, PNG or JPEG file to attach.".to_string();
        return order_page(&st, &user, id, Some(m), None).await;
    };
    match st
        .service
        .attach_to_port_order(user.actor(), id, Some(&up.kind), Some(&name), &bytes)
        .await
    {
        Ok(a) => Ok(redirect_done(
            &format!("/portal/porting/{id}"),
            Action::PortOrderUpdate,
            &format!("{} attached", a.file_name),
            "attachments",
        )),
        Err(e) => {
            let m = refusal(e)?;
            order_page(&st, &user, id, Some(m), None).await
        }
    }
}

/// `GET /portal/porting/{id}/attachments/{attachment}`: the file, as it was attached.
pub async fn attachment(
    State(st): State<WebState>,
    user: SignedIn,
    Path((id, attachment)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = order_id(&id)?;
    let attachment = attachment
        .parse()
        .map_err(|_| ServiceError::NotFound("attachment"))?;
    let (a, bytes) = st
        .service
        .port_attachment(user.actor(), id, attachment)
        .await?;
    Ok(crate::api::numbers::attachment_response(&a, bytes))
}
