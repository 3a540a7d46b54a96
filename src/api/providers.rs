//! `/v2/sip_trunks` and `/v2/carriers`: a provider's SIP trunks and its voice carriers and SMS
//! carrier profiles (SPEC §1). The provider manages them (R-PROV-1); its resellers read them,
//! since allocating to a customer needs a trunk; customers and units list none. A trunk or
//! carrier a number uses is not deleted (R-PROV-2); each carrier kind has one default
//! (R-PROV-3), which numbers get when a capability is on and none is named.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numberpool_domain::{Carrier, CarrierId, CarrierKind, SipTrunk, TrunkId};
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
    CommonErrors, DeleteErrors, ListErrors, NotFound, PatchErrors, ProviderCreateErrors, Scoped,
};
use crate::service::{CarrierPatch, TrunkPatch};

impl Scoped for SipTrunk {
    const NOUN: &'static str = "trunk";
}

impl Scoped for Carrier {
    const NOUN: &'static str = "carrier";
}

// ---------------------------------------------------------------------------------------------
// SIP trunks

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TrunkPath {
    /// The SIP trunk's id.
    #[serde(rename = "trunkId")]
    #[param(rename = "trunkId")]
    pub trunk_id: String,
}

fn trunk_id(p: &TrunkPath) -> ApiResult<TrunkId> {
    p.trunk_id
        .parse()
        .map_err(|_| ApiError::not_found("SIP trunk"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrunkQuery {
    /// Trunks per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

/// A page of SIP trunks.
#[derive(Serialize, ToSchema)]
pub struct TrunkPage {
    pub sip_trunks: Vec<SipTrunk>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// List SIP trunks
///
/// The trunks of the caller's provider (its own for a provider, its provider's for a reseller)
/// in creation order; a customer or unit has none.
#[utoipa::path(get, path = "/v2/sip_trunks", tag = "SIP trunks and carriers",
    params(TrunkQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of SIP trunks", body = TrunkPage),
        CommonErrors,
        ListErrors,
    ))]
pub async fn list_trunks(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<TrunkQuery>,
) -> ApiResult<Json<TrunkPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<TrunkId> = decode_page_token(q.next_page_token.as_deref())?;
    let all = st.service.list_trunks(&auth.actor).await?;
    let (sip_trunks, next_page_token, total_records) = page_of(all, |t| t.id, size, after);
    Ok(Json(TrunkPage {
        sip_trunks,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// Get a SIP trunk
///
/// The `ETag` header carries the version to send back in `If-Match`.
#[utoipa::path(get, path = "/v2/sip_trunks/{trunkId}", tag = "SIP trunks and carriers",
    params(TrunkPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The SIP trunk", body = SipTrunk,
            headers(("ETag" = String, description = "The trunk's version"))),
        CommonErrors,
        NotFound<SipTrunk>,
    ))]
pub async fn get_trunk(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<TrunkPath>,
) -> ApiResult<Response> {
    let id = trunk_id(&p)?;
    let t = st.service.get_trunk(&auth.actor, id).await?;
    Ok(with_etag(StatusCode::OK, t.version, t))
}

/// A new SIP trunk of the caller's provider account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrunkBody {
    /// Unique within the provider; 1 to 100 characters.
    pub name: String,
    /// Where the trunk terminates, e.g. `us-east`; 1 to 100 characters.
    pub region: String,
    /// `true` makes it the provider's default trunk in place of the current one. The first
    /// trunk is the default whatever this says (R-PROV-3).
    pub is_default: Option<bool>,
}

/// Create a SIP trunk
///
/// Only a provider creates trunks (R-PROV-1); the name is unique within it. The first becomes
/// the provider's default (a provisioned number goes out on it when no trunk is named);
/// `is_default: true` moves the default to the new one (R-PROV-3).
#[utoipa::path(post, path = "/v2/sip_trunks", tag = "SIP trunks and carriers",
    params(IdempotencyKey),
    request_body = NewTrunkBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The new SIP trunk", body = SipTrunk,
            headers(("ETag" = String, description = "The trunk's version"))),
        CommonErrors,
        ProviderCreateErrors,
        (status = 409, description = "The provider has a trunk of that name (`already_exists`)", body = ErrorBody),
    ))]
pub async fn create_trunk(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewTrunkBody>,
) -> ApiResult<Response> {
    let t = st
        .service
        .create_trunk(&auth.actor, &body.name, &body.region, body.is_default)
        .await?;
    Ok(with_etag(StatusCode::CREATED, t.version, t))
}

/// The editable fields of a SIP trunk; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTrunkBody {
    pub name: Option<String>,
    pub region: Option<String>,
    /// `true` makes it the provider's default trunk (the previous default stops being one);
    /// `false` on the default is refused (R-PROV-3): make another trunk the default instead.
    pub is_default: Option<bool>,
}

/// Update a SIP trunk
///
/// Renames the trunk, changes its region or makes it the provider's default; numbers on it
/// stay on it. Send the `ETag` as
/// `If-Match` to update only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/sip_trunks/{trunkId}", tag = "SIP trunks and carriers",
    params(TrunkPath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchTrunkBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The updated SIP trunk", body = SipTrunk,
            headers(("ETag" = String, description = "The trunk's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<SipTrunk>,
        (status = 409, description = "The name is taken (`already_exists`), or changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-PROV-3)", body = ErrorBody),
    ))]
pub async fn update_trunk(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<TrunkPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchTrunkBody>,
) -> ApiResult<Response> {
    let id = trunk_id(&p)?;
    let version = if_match(&headers)?;
    let patch = TrunkPatch {
        name: body.name,
        region: body.region,
        is_default: body.is_default,
    };
    let t = st
        .service
        .update_trunk(&auth.actor, id, &patch, version)
        .await?;
    Ok(with_etag(StatusCode::OK, t.version, t))
}

/// Delete a SIP trunk
///
/// Only while no number uses it (R-PROV-2). `If-Match` guards against deleting a version you
/// have not seen.
#[utoipa::path(delete, path = "/v2/sip_trunks/{trunkId}", tag = "SIP trunks and carriers",
    params(TrunkPath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        DeleteErrors,
        NotFound<SipTrunk>,
        (status = 409, description = "Changed or put to use at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-PROV-2, R-PROV-3 for the default while other trunks remain)", body = ErrorBody),
    ))]
pub async fn delete_trunk(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<TrunkPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = trunk_id(&p)?;
    let version = if_match(&headers)?;
    st.service.delete_trunk(&auth.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Carriers

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CarrierPath {
    /// The carrier's id.
    #[serde(rename = "carrierId")]
    #[param(rename = "carrierId")]
    pub carrier_id: String,
}

fn carrier_id(p: &CarrierPath) -> ApiResult<CarrierId> {
    p.carrier_id
        .parse()
        .map_err(|_| ApiError::not_found("carrier"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CarrierQuery {
    /// Carriers per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
    /// Only voice carriers or only SMS carrier profiles.
    pub kind: Option<CarrierKind>,
}

/// A page of carriers.
#[derive(Serialize, ToSchema)]
pub struct CarrierPage {
    pub carriers: Vec<Carrier>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// List carriers
///
/// The voice carriers and SMS carrier profiles of the caller's provider (its own for a provider,
/// its provider's for a reseller) in creation order; a customer or unit has none.
#[utoipa::path(get, path = "/v2/carriers", tag = "SIP trunks and carriers",
    params(CarrierQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of carriers", body = CarrierPage),
        CommonErrors,
        ListErrors,
    ))]
pub async fn list_carriers(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<CarrierQuery>,
) -> ApiResult<Json<CarrierPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<CarrierId> = decode_page_token(q.next_page_token.as_deref())?;
    let all = st.service.list_carriers(&auth.actor, q.kind).await?;
    let (carriers, next_page_token, total_records) = page_of(all, |c| c.id, size, after);
    Ok(Json(CarrierPage {
        carriers,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// Get a carrier
///
/// The `ETag` header carries the version to send back in `If-Match`.
#[utoipa::path(get, path = "/v2/carriers/{carrierId}", tag = "SIP trunks and carriers",
    params(CarrierPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The carrier", body = Carrier,
            headers(("ETag" = String, description = "The carrier's version"))),
        CommonErrors,
        NotFound<Carrier>,
    ))]
pub async fn get_carrier(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<CarrierPath>,
) -> ApiResult<Response> {
    let id = carrier_id(&p)?;
    let c = st.service.get_carrier(&auth.actor, id).await?;
    Ok(with_etag(StatusCode::OK, c.version, c))
}

/// A new voice carrier or SMS carrier profile of the caller's provider account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCarrierBody {
    pub kind: CarrierKind,
    /// Unique within the provider and kind; 1 to 100 characters.
    pub name: String,
    /// `true` makes it the default of its kind in place of the current one. The first carrier
    /// of a kind is the default whatever this says (R-PROV-3).
    pub is_default: Option<bool>,
}

/// Create a carrier
///
/// Only a provider creates carriers (R-PROV-1). The first of a kind becomes its default;
/// `is_default: true` moves the default to the new one (R-PROV-3).
#[utoipa::path(post, path = "/v2/carriers", tag = "SIP trunks and carriers",
    params(IdempotencyKey),
    request_body = NewCarrierBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The new carrier", body = Carrier,
            headers(("ETag" = String, description = "The carrier's version"))),
        CommonErrors,
        ProviderCreateErrors,
        (status = 409, description = "The provider has a carrier of that kind and name (`already_exists`), or the default changed at the same time (`conflict`)", body = ErrorBody),
    ))]
pub async fn create_carrier(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewCarrierBody>,
) -> ApiResult<Response> {
    let c = st
        .service
        .create_carrier(&auth.actor, body.kind, &body.name, body.is_default)
        .await?;
    Ok(with_etag(StatusCode::CREATED, c.version, c))
}

/// The editable fields of a carrier; absent fields stay as they are. The kind never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCarrierBody {
    pub name: Option<String>,
    /// `true` makes it the default of its kind (the previous default stops being one); `false`
    /// on the default is refused (R-PROV-3): make another carrier the default instead.
    pub is_default: Option<bool>,
}

/// Update a carrier
///
/// Renames the carrier or makes it the default of its kind. Send the `ETag` as `If-Match` to
/// update only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/carriers/{carrierId}", tag = "SIP trunks and carriers",
    params(CarrierPath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchCarrierBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The updated carrier", body = Carrier,
            headers(("ETag" = String, description = "The carrier's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<Carrier>,
        (status = 409, description = "The name is taken (`already_exists`), or changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-PROV-3)", body = ErrorBody),
    ))]
pub async fn update_carrier(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<CarrierPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchCarrierBody>,
) -> ApiResult<Response> {
    let id = carrier_id(&p)?;
    let version = if_match(&headers)?;
    let patch = CarrierPatch {
        name: body.name,
        is_default: body.is_default,
    };
    let c = st
        .service
        .update_carrier(&auth.actor, id, &patch, version)
        .await?;
    Ok(with_etag(StatusCode::OK, c.version, c))
}

/// Delete a carrier
///
/// Only while no number uses it (R-PROV-2); the default only as the last of its kind
/// (R-PROV-3). `If-Match` guards against deleting a version you have not seen.
#[utoipa::path(delete, path = "/v2/carriers/{carrierId}", tag = "SIP trunks and carriers",
    params(CarrierPath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        DeleteErrors,
        NotFound<Carrier>,
        (status = 409, description = "Changed or put to use at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-PROV-2, R-PROV-3)", body = ErrorBody),
    ))]
pub async fn delete_carrier(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<CarrierPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = carrier_id(&p)?;
    let version = if_match(&headers)?;
    st.service.delete_carrier(&auth.actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
