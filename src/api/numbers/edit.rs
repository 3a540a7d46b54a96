//! Editing a number's fields (PATCH) and deleting it.

use super::*;

/// The editable fields of a number; absent fields stay as they are, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchNumberBody {
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: Option<NumberType>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<TrunkId>)]
    pub sip_trunk_id: Option<Option<TrunkId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub billing_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub service_info: Option<Option<String>>,
    pub capabilities: Option<Capabilities>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CarrierId>)]
    pub voice_carrier_id: Option<Option<CarrierId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CarrierId>)]
    pub sms_carrier_id: Option<Option<CarrierId>>,
    pub customization: Option<Customization>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub call_purpose: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// Seed 004's program duration, free text; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub program_duration: Option<Option<String>>,
    pub attributes: Option<BTreeMap<String, String>>,
}

/// Update a phone number
///
/// Changes the editable fields (R-EDIT-1). Send the `ETag` of the number as `If-Match` to update
/// only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/phone/numbers/{numberId}", tag = "Phone numbers",
    params(NumberPath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchNumberBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The updated number", body = NumberView,
            headers(("ETag" = String, description = "The number's new version"))),
        CommonErrors,
        PatchErrors,
        NotFound<NumberView>,
        ConcurrentChange,
        (status = 422, description = "A rule refused it (`rule_violation`)", body = ErrorBody),
    ))]
pub async fn update_number(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchNumberBody>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let version = if_match(&headers)?;
    let patch = NumberPatch {
        product: body.product,
        status: body.status,
        number_type: body.number_type,
        sip_trunk_id: body.sip_trunk_id,
        billing_reference: body.billing_reference,
        service_info: body.service_info,
        capabilities: body.capabilities,
        voice_carrier_id: body.voice_carrier_id,
        sms_carrier_id: body.sms_carrier_id,
        customization: body.customization,
        call_purpose: body.call_purpose,
        display_name: body.display_name,
        program_duration: body.program_duration,
        attributes: body.attributes,
    };
    let n = st
        .service
        .update_number(&auth.actor, &lookup, &patch, version)
        .await?;
    Ok(seen_by(n, &auth.actor))
}

/// Delete a phone number
///
/// Removes the number from the platform (R-DEL-1, R-DEL-2: only the uploader, only a free or
/// returned number). On the customer side a delete is the release: a customer or unit deleting a
/// number it did not upload gives it back to the pool it came from (R-MOVE-3). `If-Match`
/// guards against deleting a version you have not seen.
#[utoipa::path(delete, path = "/v2/phone/numbers/{numberId}", tag = "Phone numbers",
    params(NumberPath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        DeleteErrors,
        NotFound<NumberView>,
        ConcurrentChange,
        (status = 422, description = "A rule refused it (`rule_violation`: R-DEL-1, R-DEL-2; a customer's release: R-MOVE-3)", body = ErrorBody),
    ))]
pub async fn delete_number(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let lookup = number_lookup(&p.number_id)?;
    let version = if_match(&headers)?;
    st.service
        .delete_number(&auth.actor, &lookup, version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
