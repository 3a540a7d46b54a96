//! Getting numbers (SPEC §5) in seed 002's shapes: `GET /v2/phone/numbers/available` and
//! `/v2/phone/numbers/toll_free/available` (the available search), and
//! `POST /v2/phone/numbers/provision`.

use axum::Json;
use axum::extract::State;
use numberpool_domain::{AccountId, NumberId, NumberStatus, NumberType, TrunkId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::ApiState;
use super::super::error::{ApiResult, ErrorBody};
use super::super::extract::{ApiJson, ApiQuery, Auth, IdempotencyKey, NumberRead, NumberWrite};
use super::super::responses::{CommonErrors, JsonErrors, RuleErrors};
use crate::service::{AvailableNumber, AvailableParams};

/// The numbers found.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableList {
    pub available_numbers: Vec<AvailableNumber>,
}

/// Search available numbers
///
/// Free, active numbers the caller may take, in E.164 order: a provider's or reseller's own
/// pool. Each carries its locality, capabilities and the monthly cost on the owning
/// provider's rate card.
#[utoipa::path(get, path = "/v2/phone/numbers/available", tag = "Getting numbers",
    params(AvailableParams),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The numbers found", body = AvailableList),
        (status = 400, description = "A filter is invalid (`invalid_input`; the message names it)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn search_available(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AvailableParams>,
) -> ApiResult<Json<AvailableList>> {
    search(&auth, &st, q, None).await
}

/// Search toll-free numbers
///
/// The available search, toll-free numbers only (`type`, when given, must be `toll_free`).
#[utoipa::path(get, path = "/v2/phone/numbers/toll_free/available", tag = "Getting numbers",
    params(AvailableParams),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The numbers found", body = AvailableList),
        (status = 400, description = "A filter is invalid (`invalid_input`; the message names it)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn search_toll_free(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AvailableParams>,
) -> ApiResult<Json<AvailableList>> {
    search(&auth, &st, q, Some(NumberType::TollFree)).await
}

async fn search(
    auth: &Auth<NumberRead>,
    st: &ApiState,
    q: AvailableParams,
    only: Option<NumberType>,
) -> ApiResult<Json<AvailableList>> {
    let q = q.parse(only)?;
    let found = st.service.search_available(&auth.actor, &q).await?;
    Ok(Json(AvailableList {
        available_numbers: found,
    }))
}

/// What to provision (seed 002).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionBody {
    /// E.164 numbers found by the available search; 1 to 1,000, none twice.
    pub phone_numbers: Vec<String>,
    /// The account the numbers go to: a reseller or customer the caller allocates to.
    pub site_id: AccountId,
    /// The SIP trunk numbers going to a customer go out on; the provider's default trunk when
    /// absent.
    pub sip_trunk_id: Option<TrunkId>,
}

/// A provisioned number, as seed 002 shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionedNumber {
    pub id: NumberId,
    pub phone_number: String,
    /// `active` or `pending`.
    pub status: NumberStatus,
    /// The account it went to.
    pub site_id: AccountId,
    pub sip_trunk_id: Option<TrunkId>,
}

/// The numbers provisioned, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionedList {
    pub provisioned_numbers: Vec<ProvisionedNumber>,
}

/// Provision numbers
///
/// Takes free numbers of the caller's pool into an account (`site_id`), all or nothing, each
/// as an allocation (R-MOVE-1). A number going to a customer goes out on `sip_trunk_id`, or on
/// the provider's default trunk (R-PROV-3); toll-free and contact-center numbers take the
/// customer's licences (R-ACC-3).
#[utoipa::path(post, path = "/v2/phone/numbers/provision", tag = "Getting numbers",
    params(IdempotencyKey),
    request_body = ProvisionBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The numbers provisioned", body = ProvisionedList),
        CommonErrors,
        JsonErrors,
        RuleErrors,
        (status = 404, description = "No such site or SIP trunk in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number is not free in the caller's pool any more, or the provider has no SIP trunk to use (`conflict`); nothing was provisioned", body = ErrorBody),
    ))]
pub async fn provision(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<ProvisionBody>,
) -> ApiResult<Json<ProvisionedList>> {
    provision_as(&auth, &st, body, None).await
}

/// Provision toll-free numbers
///
/// Provisioning restricted to toll-free numbers (a free number of another type is 400 naming
/// it); each takes one of the customer's toll-free licences (R-ACC-3).
#[utoipa::path(post, path = "/v2/phone/numbers/toll_free", tag = "Getting numbers",
    params(IdempotencyKey),
    request_body = ProvisionBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The numbers provisioned", body = ProvisionedList),
        CommonErrors,
        JsonErrors,
        RuleErrors,
        (status = 404, description = "No such site or SIP trunk in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number is not free in the caller's pool any more, or the provider has no SIP trunk to use (`conflict`); nothing was provisioned", body = ErrorBody),
    ))]
pub async fn provision_toll_free(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<ProvisionBody>,
) -> ApiResult<Json<ProvisionedList>> {
    provision_as(&auth, &st, body, Some(NumberType::TollFree)).await
}

async fn provision_as(
    auth: &Auth<NumberWrite>,
    st: &ApiState,
    body: ProvisionBody,
    only: Option<NumberType>,
) -> ApiResult<Json<ProvisionedList>> {
    let numbers = super::phone_numbers(&body.phone_numbers)?;
    let done = st
        .service
        .provision_of_type(&auth.actor, &numbers, body.site_id, body.sip_trunk_id, only)
        .await?;
    Ok(Json(ProvisionedList {
        provisioned_numbers: done
            .into_iter()
            .map(|n| ProvisionedNumber {
                id: n.id,
                phone_number: n.phone_number.as_str().to_string(),
                status: n.status,
                site_id: n.holder_id,
                sip_trunk_id: n.sip_trunk_id,
            })
            .collect(),
    }))
}
