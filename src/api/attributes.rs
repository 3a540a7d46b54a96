//! `/v2/attributes`: a provider's attribute keys and the values numbers may carry for them
//! (SPEC §1, §2). The provider manages them (R-PROV-1); its resellers read them; customers and
//! units list none. A value or key numbers still carry is not removed (R-ATTR-1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numberpool_domain::{Attribute, AttributeId};
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

impl Scoped for Attribute {
    const NOUN: &'static str = "key";
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttributePath {
    /// The attribute key's id.
    #[serde(rename = "attributeId")]
    #[param(rename = "attributeId")]
    pub attribute_id: String,
}

fn attribute_id(p: &AttributePath) -> ApiResult<AttributeId> {
    p.attribute_id
        .parse()
        .map_err(|_| ApiError::not_found("attribute"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributeQuery {
    /// Keys per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

/// A page of attribute keys.
#[derive(Serialize, ToSchema)]
pub struct AttributePage {
    pub attributes: Vec<Attribute>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// List attribute keys
///
/// The keys of the caller's provider (its own for a provider, its provider's for a reseller) in
/// creation order; a customer or unit has none.
#[utoipa::path(get, path = "/v2/attributes", tag = "Attributes",
    params(AttributeQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of attribute keys", body = AttributePage),
        CommonErrors,
        ListErrors,
    ))]
pub async fn list_attributes(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AttributeQuery>,
) -> ApiResult<Json<AttributePage>> {
    let size = page_size(q.page_size)?;
    let after: Option<AttributeId> = decode_page_token(q.next_page_token.as_deref())?;
    let all = st.service.list_attributes(&auth.actor).await?;
    let (attributes, next_page_token, total_records) = page_of(all, |a| a.id, size, after);
    Ok(Json(AttributePage {
        attributes,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// Get an attribute key
///
/// The `ETag` header carries the version to send back in `If-Match`.
#[utoipa::path(get, path = "/v2/attributes/{attributeId}", tag = "Attributes",
    params(AttributePath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The attribute key", body = Attribute,
            headers(("ETag" = String, description = "The key's version"))),
        CommonErrors,
        NotFound<Attribute>,
    ))]
pub async fn get_attribute(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<AttributePath>,
) -> ApiResult<Response> {
    let id = attribute_id(&p)?;
    let a = st.service.get_attribute(&auth.actor, id).await?;
    Ok(with_etag(StatusCode::OK, a.version, a))
}

/// A new attribute key of the caller's provider account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttributeBody {
    /// Unique within the provider; 1 to 64 characters of `a-z`, `0-9` and `_`.
    pub key: String,
    /// 1 to 100 distinct values of 1 to 100 printable characters.
    pub allowed_values: Vec<String>,
}

/// Create an attribute key
///
/// Only a provider creates keys (R-PROV-1); the key is unique within it.
#[utoipa::path(post, path = "/v2/attributes", tag = "Attributes",
    params(IdempotencyKey),
    request_body = NewAttributeBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The new attribute key", body = Attribute,
            headers(("ETag" = String, description = "The key's version"))),
        CommonErrors,
        ProviderCreateErrors,
        (status = 409, description = "The provider has that key (`already_exists`)", body = ErrorBody),
    ))]
pub async fn create_attribute(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewAttributeBody>,
) -> ApiResult<Response> {
    let a = st
        .service
        .create_attribute(&auth.actor, &body.key, body.allowed_values)
        .await?;
    Ok(with_etag(StatusCode::CREATED, a.version, a))
}

/// The editable field of an attribute key; the key itself never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAttributeBody {
    /// Replaces the whole list. A value left out that numbers carry is refused (R-ATTR-1).
    pub allowed_values: Option<Vec<String>>,
}

/// Update an attribute key
///
/// Replaces the allowed values. Dropping a value numbers still carry is refused (R-ATTR-1).
/// Send the `ETag` as `If-Match` to update only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/attributes/{attributeId}", tag = "Attributes",
    params(AttributePath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchAttributeBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The updated attribute key", body = Attribute,
            headers(("ETag" = String, description = "The key's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<Attribute>,
        ConcurrentChange,
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-ATTR-1)", body = ErrorBody),
    ))]
pub async fn update_attribute(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AttributePath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchAttributeBody>,
) -> ApiResult<Response> {
    let id = attribute_id(&p)?;
    let version = if_match(&headers)?;
    let a = st
        .service
        .update_attribute(&auth.actor, id, body.allowed_values, version)
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, a))
}

/// Delete an attribute key
///
/// Only while no number carries it (R-ATTR-1). `If-Match` guards against deleting a version
/// you have not seen.
#[utoipa::path(delete, path = "/v2/attributes/{attributeId}", tag = "Attributes",
    params(AttributePath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        DeleteErrors,
        NotFound<Attribute>,
        ConcurrentChange,
        (status = 422, description = "A rule refused it (`rule_violation`: R-PROV-1, R-ATTR-1)", body = ErrorBody),
    ))]
pub async fn delete_attribute(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AttributePath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = attribute_id(&p)?;
    let version = if_match(&headers)?;
    st.service
        .delete_attribute(&auth.actor, id, version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
