//! `/v2/phone/reservations` (SPEC §5): hold free numbers of the caller's pool for an account
//! until a time, list and read reservations, move a reservation's time, release it early; and
//! `/v2/phone/reservation_settings`, the provider's default reservation time.

use numberpool_domain::ReservationId;

use super::*;
use crate::api::reply::page_of;
use crate::service::ReservationView;

impl Scoped for ReservationView {
    const NOUN: &'static str = "reservation";
}

/// What to reserve, and for whom.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReservationBody {
    /// E.164 numbers, free in the caller's pool; 1 to 1,000, none twice.
    pub phone_numbers: Vec<String>,
    /// The reseller or customer they are held for: only it can be provisioned them.
    pub account_id: AccountId,
    /// How long the reservation lasts, 60 to 2,592,000 seconds; the provider's default
    /// (`/v2/phone/reservation_settings`) when absent.
    #[schema(minimum = 60, maximum = 2592000)]
    pub ttl_seconds: Option<i64>,
}

/// A reservation's new time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchReservationBody {
    /// The reservation ends this many seconds from now (60 to 2,592,000).
    #[schema(minimum = 60, maximum = 2592000)]
    pub ttl_seconds: i64,
}

/// A page of reservations.
#[derive(Serialize, ToSchema)]
pub struct ReservationPage {
    pub reservations: Vec<ReservationView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReservationQuery {
    /// Reservations per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReservationPath {
    /// The reservation's id.
    #[serde(rename = "reservationId")]
    #[param(rename = "reservationId")]
    pub reservation_id: String,
}

fn reservation_id(p: &ReservationPath) -> ApiResult<ReservationId> {
    p.reservation_id
        .parse()
        .map_err(|_| ApiError::not_found("reservation"))
}

fn ttl_ms(seconds: i64) -> i64 {
    seconds.saturating_mul(1000)
}

/// The provider's default reservation time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationSettings {
    /// How long a reservation lasts when the request names no time: 60 to 2,592,000 seconds
    /// (one day unless the provider set another).
    #[schema(minimum = 60, maximum = 2592000)]
    pub default_ttl_seconds: i64,
}

/// Reserve numbers
///
/// Holds free, active numbers of the caller's pool for `account_id` (a reseller or customer it
/// provisions to) until a time, all or none. While held, the numbers are hidden from every
/// search (the pool's own too) and only that account can be provisioned them (R-RES-2); when
/// the time comes they are free again by themselves.
#[utoipa::path(post, path = "/v2/phone/reservations", tag = "Getting numbers",
    params(IdempotencyKey),
    request_body = NewReservationBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The reservation", body = ReservationView),
        CommonErrors,
        JsonErrors,
        (status = 404, description = "No such account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number is not free in the caller's pool, or is reserved already (`conflict`); nothing was reserved", body = ErrorBody),
        (status = 422, description = "The caller has no pool, or the account is not one it provisions to (`rule_violation`, R-RES-1), or the Idempotency-Key was used with another body", body = ErrorBody),
    ))]
pub async fn create_reservation(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewReservationBody>,
) -> ApiResult<Response> {
    let numbers = super::phone_numbers(&body.phone_numbers)?;
    let made = st
        .service
        .reserve(
            &auth.actor,
            &numbers,
            body.account_id,
            body.ttl_seconds.map(ttl_ms),
        )
        .await?;
    Ok(with_etag(StatusCode::CREATED, made.version, made))
}

/// List reservations
///
/// The reservations the caller's account made, or that hold numbers for it, newest first.
#[utoipa::path(get, path = "/v2/phone/reservations", tag = "Getting numbers",
    params(ReservationQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of reservations", body = ReservationPage),
        CommonErrors,
        super::super::responses::ListErrors,
    ))]
pub async fn list_reservations(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ReservationQuery>,
) -> ApiResult<Json<ReservationPage>> {
    let size = page_size(q.page_size)?;
    let after = decode_page_token::<ReservationId>(q.next_page_token.as_deref())?.map(Newest);
    let all = st.service.list_reservations(&auth.actor).await?;
    let (reservations, next, total_records) = page_of(all, |r| Newest(r.id), size, after);
    Ok(Json(ReservationPage {
        reservations,
        page_size: size,
        next_page_token: next,
        total_records,
    }))
}

/// Get a reservation
#[utoipa::path(get, path = "/v2/phone/reservations/{reservationId}", tag = "Getting numbers",
    params(ReservationPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The reservation", body = ReservationView,
            headers(("ETag" = String, description = "The reservation's version"))),
        CommonErrors,
        NotFound<ReservationView>,
    ))]
pub async fn get_reservation(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<ReservationPath>,
) -> ApiResult<Response> {
    let id = reservation_id(&p)?;
    let r = st.service.get_reservation(&auth.actor, id).await?;
    Ok(with_etag(StatusCode::OK, r.version, r))
}

/// Change a reservation's time
///
/// The reservation now ends `ttl_seconds` from now (later or sooner). Only the pool that made
/// it; one that has ended is 422 (R-RES-2).
#[utoipa::path(patch, path = "/v2/phone/reservations/{reservationId}", tag = "Getting numbers",
    params(ReservationPath, ("If-Match" = Option<String>, Header, description = "The ETag the change applies to")),
    request_body = PatchReservationBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The reservation with its new time", body = ReservationView,
            headers(("ETag" = String, description = "The reservation's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<ReservationView>,
        ConcurrentChange,
        (status = 422, description = "The reservation has ended, or the caller did not make it (`rule_violation`, R-RES-1, R-RES-2)", body = ErrorBody),
    ))]
pub async fn update_reservation(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ReservationPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchReservationBody>,
) -> ApiResult<Response> {
    let id = reservation_id(&p)?;
    let version = if_match(&headers)?;
    let r = st
        .service
        .extend_reservation(&auth.actor, id, ttl_ms(body.ttl_seconds), version)
        .await?;
    Ok(with_etag(StatusCode::OK, r.version, r))
}

/// Release a reservation
///
/// Ends a reservation early: its numbers are free again. The pool that made it or the account
/// it holds them for may; one that has ended already is 422 (R-RES-2).
#[utoipa::path(delete, path = "/v2/phone/reservations/{reservationId}", tag = "Getting numbers",
    params(ReservationPath),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The reservation, released (or `expired`, when its time had come before the job ended it)", body = ReservationView),
        CommonErrors,
        NotFound<ReservationView>,
        (status = 409, description = "The reservation or one of its numbers changed during the release (`conflict`)", body = ErrorBody),
        (status = 422, description = "The reservation has ended already (`rule_violation`, R-RES-2)", body = ErrorBody),
    ))]
pub async fn release_reservation(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ReservationPath>,
) -> ApiResult<Json<ReservationView>> {
    let id = reservation_id(&p)?;
    Ok(Json(st.service.release_reservation(&auth.actor, id).await?))
}

/// Get the reservation settings
///
/// How long a reservation lasts when the request names no time: the caller's provider's
/// setting, else one day.
#[utoipa::path(get, path = "/v2/phone/reservation_settings", tag = "Getting numbers",
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The settings", body = ReservationSettings),
        CommonErrors,
    ))]
pub async fn reservation_settings(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ReservationSettings>> {
    let ms = st.service.reservation_ttl_setting(&auth.actor).await?;
    Ok(Json(ReservationSettings {
        default_ttl_seconds: ms / 1000,
    }))
}

/// Set the reservation settings
///
/// A provider sets how long its reservations (and its resellers') last by default.
#[utoipa::path(patch, path = "/v2/phone/reservation_settings", tag = "Getting numbers",
    request_body = ReservationSettings,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The settings", body = ReservationSettings),
        CommonErrors,
        JsonErrors,
        (status = 422, description = "The caller is not a provider (`rule_violation`, R-PROV-1)", body = ErrorBody),
    ))]
pub async fn set_reservation_settings(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<ReservationSettings>,
) -> ApiResult<Json<ReservationSettings>> {
    let ms = st
        .service
        .set_reservation_ttl(&auth.actor, ttl_ms(body.default_ttl_seconds))
        .await?;
    Ok(Json(ReservationSettings {
        default_ttl_seconds: ms / 1000,
    }))
}
