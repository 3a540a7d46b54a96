//! `/v2/phone/self_service_settings` (SPEC §5): whether a provider's or reseller's customers
//! may search its free numbers and provision them for themselves.

use super::*;

/// Customer self-service of the caller's pool.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfServiceSettings {
    /// Whether the customers below the caller or connected to it find its free numbers in
    /// their available search and provision them for themselves (default `false`).
    pub enabled: bool,
}

/// Get the self-service settings
///
/// Whether the caller's customers may search its pool and take numbers for themselves.
#[utoipa::path(get, path = "/v2/phone/self_service_settings", tag = "Getting numbers",
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The settings", body = SelfServiceSettings),
        CommonErrors,
    ))]
pub async fn self_service_settings(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<SelfServiceSettings>> {
    let enabled = st.service.self_service_setting(&auth.actor).await?;
    Ok(Json(SelfServiceSettings { enabled }))
}

/// Set the self-service settings
///
/// A provider or reseller lets its customers (children and connected customers) search its
/// free numbers and provision them for themselves, or stops them.
#[utoipa::path(patch, path = "/v2/phone/self_service_settings", tag = "Getting numbers",
    request_body = SelfServiceSettings,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The settings", body = SelfServiceSettings),
        CommonErrors,
        JsonErrors,
        (status = 422, description = "The caller holds no pool: a customer or unit (`rule_violation`, R-PROV-1)", body = ErrorBody),
    ))]
pub async fn set_self_service_settings(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<SelfServiceSettings>,
) -> ApiResult<Json<SelfServiceSettings>> {
    let enabled = st
        .service
        .set_self_service(&auth.actor, body.enabled)
        .await?;
    Ok(Json(SelfServiceSettings { enabled }))
}
