//! `/v2/phone/porting/…` (seed 002's porting, SPEC §5): place a port-in order, list and read
//! orders (with their history), change one (details while submitted, or its status), cancel
//! one, and the portability check.

use numberpool_domain::porting::{BillingAddress, MAX_ATTACHMENT_BYTES, PortStatus};
use numberpool_domain::{AttachmentId, PortOrderId};

use super::*;
use crate::api::reply::page_of;
use crate::service::{AttachmentView, NewPortOrder, PortOrderView, PortPatch, PortValidation};

impl Scoped for PortOrderView {
    const NOUN: &'static str = "porting order";
}

/// A port-in request, as seed 002 writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortOrderBody {
    /// E.164 numbers of one country; 1 to 1,000.
    pub phone_numbers: Vec<String>,
    /// The losing carrier.
    pub carrier_name: String,
    /// The account number with the losing carrier.
    pub account_number: String,
    /// The account's PIN with the losing carrier: sealed at rest, never shown back beyond its
    /// last digit.
    #[serde(deserialize_with = "pin_text")]
    pub account_pin: String,
    pub authorized_person: String,
    pub billing_address: BillingAddress,
    /// `YYYY-MM-DD`.
    pub requested_port_date: String,
}

/// The PIN as a string; anything else is refused without repeating what was sent (an error
/// body, and a replayed answer kept for an `Idempotency-Key`, must not carry the PIN).
fn pin_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        _ => Err(serde::de::Error::custom(
            "account_pin: give the PIN as a string of letters or digits",
        )),
    }
}

fn opt_pin_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    pin_text(d).map(Some)
}

/// A change to an order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPortOrderBody {
    /// `pending` (the carrier has it), `scheduled` (with `scheduled_date`), `completed`,
    /// `rejected` (with `reject_reason`) or `cancelled` (R-PORT-1).
    pub status: Option<PortStatus>,
    /// The carrier's firm date, `YYYY-MM-DD`, with `status: scheduled`.
    pub scheduled_date: Option<String>,
    /// Why the carrier refused it, with `status: rejected`.
    pub reject_reason: Option<String>,
    /// The details below change only while the order is `submitted`.
    pub carrier_name: Option<String>,
    pub account_number: Option<String>,
    #[serde(default, deserialize_with = "opt_pin_text")]
    pub account_pin: Option<String>,
    pub authorized_person: Option<String>,
    pub billing_address: Option<BillingAddress>,
    pub requested_port_date: Option<String>,
}

/// Numbers to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    /// 1 to 1,000 numbers, as they would be ordered.
    pub phone_numbers: Vec<String>,
}

/// A page of porting orders.
#[derive(Serialize, ToSchema)]
pub struct PortOrderPage {
    pub orders: Vec<PortOrderView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortOrderQuery {
    /// Orders per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PortOrderPath {
    /// The order's id (`order_id`).
    #[serde(rename = "orderId")]
    #[param(rename = "orderId")]
    pub order_id: String,
}

fn order_id(p: &PortOrderPath) -> ApiResult<PortOrderId> {
    p.order_id
        .parse()
        .map_err(|_| ApiError::not_found("porting order"))
}

/// Create a port-in request
///
/// Places an order to port numbers into the caller's pool. Its numbers are on the platform at
/// once as `pending` (not allocatable until the order completes); the whole order is refused
/// (422 R-PORT-2) if any number cannot be ported, naming the first and why.
#[utoipa::path(post, path = "/v2/phone/porting/orders", tag = "Porting",
    params(IdempotencyKey),
    request_body = NewPortOrderBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The order, `submitted`", body = PortOrderView),
        CommonErrors,
        JsonErrors,
        (status = 409, description = "A number was added by a concurrent request (`number_already_exists`, R-NUM-1); nothing was ordered", body = ErrorBody),
        (status = 422, description = "A number cannot be ported (`rule_violation`, R-PORT-2), the caller has no pool, or the Idempotency-Key was used with another body", body = ErrorBody),
    ))]
pub async fn create_port_order(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(b): ApiJson<NewPortOrderBody>,
) -> ApiResult<Response> {
    let o = st
        .service
        .create_port_order(
            &auth.actor,
            NewPortOrder {
                phone_numbers: b.phone_numbers,
                carrier_name: b.carrier_name,
                account_number: b.account_number,
                account_pin: b.account_pin,
                authorized_person: b.authorized_person,
                billing_address: b.billing_address,
                requested_port_date: b.requested_port_date,
            },
        )
        .await?;
    Ok(with_etag(StatusCode::CREATED, o.version, o))
}

/// List porting orders
///
/// The orders the caller's account placed, newest first (the latest 1,000).
#[utoipa::path(get, path = "/v2/phone/porting/orders", tag = "Porting",
    params(PortOrderQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of orders", body = PortOrderPage),
        CommonErrors,
        super::super::responses::ListErrors,
    ))]
pub async fn list_port_orders(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<PortOrderQuery>,
) -> ApiResult<Json<PortOrderPage>> {
    let size = page_size(q.page_size)?;
    let after = decode_page_token::<PortOrderId>(q.next_page_token.as_deref())?.map(Newest);
    let all = st.service.list_port_orders(&auth.actor).await?;
    let (orders, next, total_records) = page_of(all, |o| Newest(o.order_id), size, after);
    Ok(Json(PortOrderPage {
        orders,
        page_size: size,
        next_page_token: next,
        total_records,
    }))
}

/// Get porting order status
///
/// The order with every change it went through (`history`, oldest first).
#[utoipa::path(get, path = "/v2/phone/porting/orders/{orderId}", tag = "Porting",
    params(PortOrderPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The order", body = PortOrderView,
            headers(("ETag" = String, description = "The order's version"))),
        CommonErrors,
        NotFound<PortOrderView>,
    ))]
pub async fn get_port_order(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<PortOrderPath>,
) -> ApiResult<Response> {
    let o = st
        .service
        .get_port_order(&auth.actor, order_id(&p)?)
        .await?;
    Ok(with_etag(StatusCode::OK, o.version, o))
}

/// Update porting order
///
/// Changes the order's details while it is `submitted`, and/or moves its status (R-PORT-1):
/// `pending` once the carrier has it, `scheduled` with the firm `scheduled_date`, `completed`
/// (its numbers become active in the pool), `rejected` with a `reject_reason` or `cancelled`
/// (its numbers leave the platform). Send the `ETag` as `If-Match` to change only the version
/// you read.
#[utoipa::path(patch, path = "/v2/phone/porting/orders/{orderId}", tag = "Porting",
    params(PortOrderPath, ("If-Match" = Option<String>, Header, description = "The ETag the change applies to")),
    request_body = PatchPortOrderBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The order as changed", body = PortOrderView,
            headers(("ETag" = String, description = "The order's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<PortOrderView>,
        ConcurrentChange,
        (status = 422, description = "The move is not one the order allows, or its details no longer change (`rule_violation`, R-PORT-1)", body = ErrorBody),
    ))]
pub async fn update_port_order(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<PortOrderPath>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PatchPortOrderBody>,
) -> ApiResult<Response> {
    let id = order_id(&p)?;
    let version = if_match(&headers)?;
    let patch = PortPatch {
        status: b.status,
        scheduled_date: b.scheduled_date,
        reject_reason: b.reject_reason,
        carrier_name: b.carrier_name,
        account_number: b.account_number,
        account_pin: b.account_pin,
        authorized_person: b.authorized_person,
        billing_address: b.billing_address,
        requested_port_date: b.requested_port_date,
    };
    let o = st
        .service
        .update_port_order(&auth.actor, id, patch, version)
        .await?;
    Ok(with_etag(StatusCode::OK, o.version, o))
}

/// Cancel porting order
///
/// Cancels an open order: its numbers leave the platform. A closed one is 422 (R-PORT-1).
#[utoipa::path(delete, path = "/v2/phone/porting/orders/{orderId}", tag = "Porting",
    params(PortOrderPath),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The order, `cancelled`", body = PortOrderView),
        CommonErrors,
        NotFound<PortOrderView>,
        (status = 409, description = "The order changed during the cancellation (`conflict`)", body = ErrorBody),
        (status = 422, description = "The order is closed (`rule_violation`, R-PORT-1)", body = ErrorBody),
    ))]
pub async fn cancel_port_order(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<PortOrderPath>,
) -> ApiResult<Json<PortOrderView>> {
    let id = order_id(&p)?;
    Ok(Json(st.service.cancel_port_order(&auth.actor, id).await?))
}

/// Validate portability
///
/// Answers per number whether it can be ported in one order (R-PORT-2): valid E.164, not on
/// the platform, not in another open order, the country of the first number, not listed twice.
#[utoipa::path(post, path = "/v2/phone/porting/validate", tag = "Porting",
    request_body = ValidateBody,
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "Each number's answer", body = PortValidation),
        CommonErrors,
        JsonErrors,
    ))]
pub async fn validate_port(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiJson(b): ApiJson<ValidateBody>,
) -> ApiResult<Json<PortValidation>> {
    Ok(Json(
        st.service
            .validate_port(&auth.actor, &b.phone_numbers)
            .await?,
    ))
}

/// The largest request body an attachment upload takes: the file's limit and some room.
pub const ATTACHMENT_BODY_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

/// What an uploaded attachment is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachmentQuery {
    /// `loa` (the signed letter of authorization) or `bill` (a copy of the losing carrier's
    /// bill). Required.
    pub kind: Option<String>,
    /// The file's name, as it will be downloaded. Required.
    pub file_name: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    /// The order's id (`order_id`).
    #[serde(rename = "orderId")]
    #[param(rename = "orderId")]
    pub order_id: String,
    /// The attachment's id.
    #[serde(rename = "attachmentId")]
    #[param(rename = "attachmentId")]
    pub attachment_id: String,
}

/// Attach a file to a porting order
///
/// The file is the request body (a PDF, PNG or JPEG of at most 5 MiB, its type told from its
/// bytes); `kind` says what it is. Only an open order takes attachments.
#[utoipa::path(post, path = "/v2/phone/porting/orders/{orderId}/attachments", tag = "Porting",
    params(PortOrderPath, AttachmentQuery, IdempotencyKey),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The attachment, as the order lists it", body = AttachmentView),
        (status = 400, description = "Not a PDF, PNG or JPEG, empty, or a bad `kind` or `file_name` (`invalid_input`)", body = ErrorBody),
        CommonErrors,
        NotFound<PortOrderView>,
        (status = 413, description = "More than 5 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "The order is closed (`rule_violation`, R-PORT-1), or the Idempotency-Key was used with another request", body = ErrorBody),
    ))]
pub async fn attach_to_port_order(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<PortOrderPath>,
    ApiQuery(q): ApiQuery<AttachmentQuery>,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let id = order_id(&p)?;
    let a = st
        .service
        .attach_to_port_order(
            &auth.actor,
            id,
            q.kind.as_deref(),
            q.file_name.as_deref(),
            &body,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// Download an attachment of a porting order
#[utoipa::path(get, path = "/v2/phone/porting/orders/{orderId}/attachments/{attachmentId}", tag = "Porting",
    params(AttachmentPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The file, with its type", content_type = "application/octet-stream", body = Vec<u8>),
        CommonErrors,
        (status = 404, description = "No such order or attachment in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn port_attachment(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<AttachmentPath>,
) -> ApiResult<Response> {
    let order: PortOrderId = p
        .order_id
        .parse()
        .map_err(|_| ApiError::not_found("porting order"))?;
    let id: AttachmentId = p
        .attachment_id
        .parse()
        .map_err(|_| ApiError::not_found("attachment"))?;
    let (a, bytes) = st.service.port_attachment(&auth.actor, order, id).await?;
    Ok(attachment_response(&a, bytes))
}

/// An attachment's bytes as a download of its own type (one of the three the upload takes).
pub fn attachment_response(a: &AttachmentView, bytes: Vec<u8>) -> Response {
    let content_type = match a.content_type.as_str() {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    crate::api::imports::typed_file_response(
        content_type,
        &a.file_name,
        axum::body::Body::from(bytes),
    )
}
