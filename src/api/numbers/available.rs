//! `GET /v2/phone/numbers/available` and `/v2/phone/numbers/toll_free/available`: the
//! available search of seed 002 (SPEC §5).

use axum::Json;
use axum::extract::State;
use numberpool_domain::NumberType;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::ApiState;
use super::super::error::{ApiResult, ErrorBody};
use super::super::extract::{ApiQuery, Auth, NumberRead};
use super::super::responses::CommonErrors;
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
