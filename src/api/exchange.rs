//! `/v2/provider_exchange`: a root customer's connections to providers (connect, list, request
//! disconnection) and a provider's customers (list with number counts, deactivate), R-ACC-1.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::accounts::AccountPath;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, PhoneRead, PhoneWrite, decode_page_token, page_size,
};
use super::reply::page_of;
use super::responses::{BadIdempotencyKey, CommonErrors, JsonErrors};
use crate::service::{ConnectionView, CustomerView};
use numberpool_domain::AccountId;

/// The caller's connections.
#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionView>,
    pub total_records: i64,
}

/// List my providers
///
/// The caller's (a root customer's) Provider Exchange connections in every state.
#[utoipa::path(get, path = "/v2/provider_exchange/connections", tag = "Provider Exchange",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The connections", body = ConnectionList),
        CommonErrors,
    ))]
pub async fn list_connections(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ConnectionList>> {
    let connections = st.service.list_connections(&auth.actor).await?;
    Ok(Json(ConnectionList {
        total_records: connections.len() as i64,
        connections,
    }))
}

/// Whom to connect to: the provider's account number, which the provider gives its customers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    pub provider_account_number: String,
}

/// Connect to a provider
///
/// The caller (a root customer) grants the provider access to see it and provision numbers to
/// it; the provider need not accept. A deactivated connection may be granted again.
#[utoipa::path(post, path = "/v2/provider_exchange/connections", tag = "Provider Exchange",
    params(IdempotencyKey),
    request_body = ConnectBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 201, description = "The connection", body = ConnectionView),
        CommonErrors,
        JsonErrors,
        (status = 404, description = "No active provider has that account number (`not_found`)", body = ErrorBody),
        (status = 409, description = "Connected at the same time by another request (`already_exists`)", body = ErrorBody),
        (status = 422, description = "The caller is not a root customer, or is connected already (`rule_violation`, R-ACC-1); or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn connect(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<ConnectBody>,
) -> ApiResult<(StatusCode, Json<ConnectionView>)> {
    if body.provider_account_number.trim().is_empty() || body.provider_account_number.len() > 64 {
        return Err(ApiError::invalid(
            "provider_account_number: give the provider's account number",
        ));
    }
    let c = st
        .service
        .connect_exchange(&auth.actor, &body.provider_account_number)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

fn account_id(p: &AccountPath, what: &'static str) -> ApiResult<AccountId> {
    p.account_id.parse().map_err(|_| ApiError::not_found(what))
}

/// Request disconnection from a provider
///
/// The customer side of R-ACC-1: refused while any of the provider's numbers is assigned to the
/// caller's users. Afterwards the provider's numbers can no longer be assigned, and the provider
/// may deactivate the connection once none of its numbers remain with the caller.
#[utoipa::path(post, path = "/v2/provider_exchange/connections/{accountId}/disconnect", tag = "Provider Exchange",
    params(AccountPath, IdempotencyKey),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The connection, now `disconnect_requested`", body = ConnectionView),
        CommonErrors,
        BadIdempotencyKey,
        (status = 404, description = "The caller has no active connection to that provider (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by another request (`conflict`)", body = ErrorBody),
        (status = 422, description = "Numbers are still assigned, or disconnection was requested already (`rule_violation`, R-ACC-1); or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn request_disconnect(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Json<ConnectionView>> {
    let provider = account_id(&p, "connection")?;
    Ok(Json(
        st.service.request_disconnect(&auth.actor, provider).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Customers per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

/// A page of the caller's customers, with totals over all of them.
#[derive(Serialize, ToSchema)]
pub struct CustomerPage {
    pub customers: Vec<CustomerView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// How many customers in all.
    pub total_records: i64,
    /// Numbers with all of them (for connected customers, the caller's only).
    pub total_phone_numbers: i64,
}

/// List my customers
///
/// A provider's (or reseller's) customers: its child customers and the root customers connected
/// to it through Provider Exchange (until the connection is deactivated), with how many numbers
/// each has, in creation order.
#[utoipa::path(get, path = "/v2/provider_exchange/customers", tag = "Provider Exchange",
    params(CustomerQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of customers", body = CustomerPage),
        (status = 400, description = "The page size or token is invalid (`invalid_input`, `invalid_page_token`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn list_customers(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> ApiResult<Json<CustomerPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<AccountId> = decode_page_token(q.next_page_token.as_deref())?;
    // A provider has thousands of customers at most: one query per side, paged here.
    let all = st.service.list_customers(&auth.actor).await?;
    let total_phone_numbers = all.iter().map(|c| c.phone_numbers).sum();
    let (customers, next_page_token, total_records) = page_of(all, |c| c.account_id, size, after);
    Ok(Json(CustomerPage {
        customers,
        page_size: size,
        next_page_token,
        total_records,
        total_phone_numbers,
    }))
}

/// Deactivate a connected customer
///
/// The provider side of R-ACC-1: once the customer has requested disconnection and none of the
/// provider's numbers remain with it, the connection ends; the provider no longer sees or
/// provisions that customer. `GET /v2/accounts/{accountId}/offboarding` lists what is left.
#[utoipa::path(post, path = "/v2/provider_exchange/customers/{accountId}/deactivate", tag = "Provider Exchange",
    params(AccountPath, IdempotencyKey),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The connection, now `deactivated`", body = ConnectionView),
        CommonErrors,
        BadIdempotencyKey,
        (status = 404, description = "No active connection with that customer (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by another request (`conflict`)", body = ErrorBody),
        (status = 422, description = "The customer has not asked to leave, or numbers remain with it (`rule_violation`, R-ACC-1); or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn deactivate_customer(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Json<ConnectionView>> {
    let customer = account_id(&p, "connection")?;
    Ok(Json(
        st.service
            .deactivate_connection(&auth.actor, customer)
            .await?,
    ))
}
