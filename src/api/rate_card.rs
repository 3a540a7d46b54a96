//! `/v2/rate_card`: a provider's rate card (SPEC §1), the monthly cost of a number by country
//! and number type. The provider manages it (R-PROV-1); its resellers read it; customers and
//! units list none.
//!
//! Money: input takes `monthly_cost_cents`, an integer number of minor units, never a float
//! amount, since binary floats cannot hold most decimal amounts exactly and would drift when
//! summed or compared. Responses carry the same cents plus `monthly_cost`, the amount in
//! currency units (cents / 100) for display.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numberpool_domain::{AccountId, NumberType, Rate, RateId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, NumberRead, NumberWrite, decode_page_token, if_match,
    page_size,
};
use super::reply::{page_of, with_etag};
use super::responses::{
    CommonErrors, ConcurrentChange, DeleteErrors, ListErrors, NotFound, PatchErrors,
    ProviderCreateErrors, Scoped,
};
use crate::service::RatePatch;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RatePath {
    /// The rate card entry's id.
    #[serde(rename = "rateId")]
    #[param(rename = "rateId")]
    pub rate_id: String,
}

fn rate_id(p: &RatePath) -> ApiResult<RateId> {
    p.rate_id.parse().map_err(|_| ApiError::not_found("rate"))
}

/// A rate card entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateEntry {
    pub id: RateId,
    /// The provider that owns the rate card.
    pub provider_id: AccountId,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub number_type: NumberType,
    /// The monthly cost in currency units (`monthly_cost_cents` / 100), e.g. 1.00; for display:
    /// compute with `monthly_cost_cents`.
    pub monthly_cost: f64,
    /// The monthly cost in minor units (cents) of `currency`: the exact amount.
    pub monthly_cost_cents: i64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Bumped by every change; the ETag.
    pub version: i64,
}

impl From<Rate> for RateEntry {
    fn from(r: Rate) -> Self {
        Self {
            id: r.id,
            provider_id: r.provider_id,
            country: r.country,
            number_type: r.number_type,
            monthly_cost: r.monthly_cost_cents as f64 / 100.0,
            monthly_cost_cents: r.monthly_cost_cents,
            currency: r.currency,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

impl Scoped for RateEntry {
    const NOUN: &'static str = "entry";
}

fn entry(status: StatusCode, r: Rate) -> Response {
    with_etag(status, r.version, RateEntry::from(r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RateQuery {
    /// Only this country (ISO 3166-1 alpha-2, any case).
    pub country: Option<String>,
    /// Only this number type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    /// Entries per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

/// A page of rate card entries.
#[derive(Serialize, ToSchema)]
pub struct RatePage {
    pub rates: Vec<RateEntry>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// List the rate card
///
/// The rate card of the caller's provider (its own for a provider, its provider's for a
/// reseller) in creation order; a customer or unit has none. Filter with `country` and `type`.
#[utoipa::path(get, path = "/v2/rate_card", tag = "Rate card",
    params(RateQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of rate card entries", body = RatePage),
        CommonErrors,
        ListErrors,
    ))]
pub async fn list_rates(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<RateQuery>,
) -> ApiResult<Json<RatePage>> {
    let size = page_size(q.page_size)?;
    let after: Option<RateId> = decode_page_token(q.next_page_token.as_deref())?;
    let all = st
        .service
        .list_rates(&auth.actor, q.country.as_deref(), q.number_type)
        .await?;
    let (rates, next_page_token, total_records) = page_of(all, |r| r.id, size, after);
    Ok(Json(RatePage {
        rates: rates.into_iter().map(RateEntry::from).collect(),
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// Get a rate card entry
///
/// The `ETag` header carries the version to send back in `If-Match`.
#[utoipa::path(get, path = "/v2/rate_card/{rateId}", tag = "Rate card",
    params(RatePath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The rate card entry", body = RateEntry,
            headers(("ETag" = String, description = "The entry's version"))),
        CommonErrors,
        NotFound<RateEntry>,
    ))]
pub async fn get_rate(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<RatePath>,
) -> ApiResult<Response> {
    let id = rate_id(&p)?;
    let r = st.service.get_rate(&auth.actor, id).await?;
    Ok(entry(StatusCode::OK, r))
}

/// A new rate card entry of the caller's provider account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRateBody {
    /// ISO 3166-1 alpha-2, any case (`us` is stored as `US`).
    pub country: String,
    pub number_type: NumberType,
    /// Whole minor units (cents), 0 to 100,000,000: an integer, so no amount is rounded by a
    /// float.
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub monthly_cost_cents: i64,
    /// ISO 4217, three letters; default `USD`.
    pub currency: Option<String>,
}

/// Create a rate card entry
///
/// Only a provider creates entries (R-PROV-1); one per country and number type.
#[utoipa::path(post, path = "/v2/rate_card", tag = "Rate card",
    params(IdempotencyKey),
    request_body = NewRateBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The new rate card entry", body = RateEntry,
            headers(("ETag" = String, description = "The entry's version"))),
        CommonErrors,
        ProviderCreateErrors,
        (status = 409, description = "The provider has an entry for that country and type (`already_exists`)", body = ErrorBody),
    ))]
pub async fn create_rate(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewRateBody>,
) -> ApiResult<Response> {
    let r = st
        .service
        .create_rate(
            &auth.actor,
            &body.country,
            body.number_type,
            body.monthly_cost_cents,
            body.currency.as_deref(),
        )
        .await?;
    Ok(entry(StatusCode::CREATED, r))
}

/// The editable fields of a rate card entry; country and type never change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRateBody {
    /// Whole minor units (cents), 0 to 100,000,000.
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub monthly_cost_cents: Option<i64>,
    /// ISO 4217, three letters.
    pub currency: Option<String>,
}

/// Update a rate card entry
///
/// Changes the cost and/or currency. Send the `ETag` as `If-Match` to update only the version
/// you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/rate_card/{rateId}", tag = "Rate card",
    params(RatePath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchRateBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The updated rate card entry", body = RateEntry,
            headers(("ETag" = String, description = "The entry's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<RateEntry>,
        ConcurrentChange,
        (status = 422, description = "The caller is not a provider (`rule_violation`, R-PROV-1)", body = ErrorBody),
    ))]
pub async fn update_rate(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<RatePath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchRateBody>,
) -> ApiResult<Response> {
    let id = rate_id(&p)?;
    let version = if_match(&headers)?;
    let patch = RatePatch {
        monthly_cost_cents: body.monthly_cost_cents,
        currency: body.currency,
    };
    let r = st
        .service
        .update_rate(&auth.actor, id, patch, version)
        .await?;
    Ok(entry(StatusCode::OK, r))
}

/// Delete a rate card entry
///
/// `If-Match` guards against deleting a version you have not seen.
#[utoipa::path(delete, path = "/v2/rate_card/{rateId}", tag = "Rate card",
    params(RatePath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        DeleteErrors,
        NotFound<RateEntry>,
        ConcurrentChange,
        (status = 422, description = "The caller is not a provider (`rule_violation`, R-PROV-1)", body = ErrorBody),
    ))]
pub async fn delete_rate(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<RatePath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = rate_id(&p)?;
    let version = if_match(&headers)?;
    st.service.delete_rate(&auth.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
