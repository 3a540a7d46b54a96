//! `/v2/phone/numbers…` and `/v2/phone/inventory`: the number routes of SPEC §8.1 (list, get by
//! id or E.164, add one or a batch, update, delete, assign/unassign, unassigned, inventory) and
//! the moves the seed does not name (allocate, release, unbind), plus a number's history.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numberpool_domain::{
    AccountId, Assignee, AssigneeType, Capabilities, CarrierId, Country, Customization, E164,
    NewNumber, NumberId, NumberPatch, NumberStatus, NumberType, Product, TrunkId, ViewPosition,
};
use numberpool_store::{AuditEvent, InventoryCounts, NumberFilter};

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, BodyErrors, CommonErrors, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, NumberRead, NumberWrite, PhoneRead, PhoneWrite,
    decode_page_token, encode_page_token, etag, if_match, number_lookup, page_size,
};
use crate::service::{AddNumber, AllocateOptions, AssignmentsView, NumberView};

/// Most numbers one add request may carry; bigger loads go through imports.
pub const MAX_BATCH: usize = 10_000;

/// `{numberId}`: a number's id or its E.164 form (URL-encode the `+` as `%2B`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NumberPath {
    /// The number's id, or its E.164 form.
    #[serde(rename = "numberId")]
    #[param(rename = "numberId")]
    pub number_id: String,
}

/// Filters and paging of a number list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Numbers per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    /// The `next_page_token` of the previous page.
    pub next_page_token: Option<String>,
    /// Position as the caller sees it.
    pub position: Option<ViewPosition>,
    pub status: Option<NumberStatus>,
    pub product: Option<Product>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    /// ISO 3166 alpha-2 country code, e.g. `US`.
    pub country: Option<String>,
    /// Only numbers held by this customer.
    pub customer_id: Option<AccountId>,
    /// `true`: only numbers with an assignee; `false`: only without.
    pub assigned: Option<bool>,
    /// E.164 prefix, e.g. `+1415` (the `+` is optional).
    pub prefix: Option<String>,
    /// Digits the E.164 form contains anywhere.
    pub contains: Option<String>,
    /// `key:value`: only numbers whose `attributes` carry this key with exactly this value
    /// (the value may itself contain `:`).
    pub attribute: Option<String>,
}

/// A page of numbers.
#[derive(Serialize, ToSchema)]
pub struct NumberPage {
    pub phone_numbers: Vec<NumberView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// Numbers matching the filters, over all pages.
    pub total_records: i64,
}

fn digits_only(field: &str, s: &str) -> ApiResult<String> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.len() > 15 || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "{field}: give 1 to 15 digits (a leading + is allowed)"
        )));
    }
    Ok(t.to_string())
}

/// `key:value` of the `attribute` filter, split at the first `:` (keys have none).
fn attribute_pair(s: &str) -> ApiResult<(String, String)> {
    match s.split_once(':') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => {
            // A key no attribute can have is a mistake to report, not an empty page.
            numberpool_domain::attribute::check_key(k)
                .map_err(|e| ApiError::invalid(format!("attribute: {e}")))?;
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(ApiError::invalid(
            "attribute: give key:value, e.g. attribute=region:emea",
        )),
    }
}

impl ListQuery {
    fn filter(&self) -> ApiResult<NumberFilter> {
        let country = match &self.country {
            Some(c) => Some(
                Country::parse(c)
                    .map_err(|e| ApiError::invalid(format!("country: {e}")))?
                    .as_str(),
            ),
            None => None,
        };
        Ok(NumberFilter {
            view_position: self.position,
            status: self.status,
            product: self.product,
            number_type: self.number_type,
            country,
            customer: self.customer_id,
            assigned: self.assigned,
            e164_prefix: self
                .prefix
                .as_deref()
                .map(|p| digits_only("prefix", p))
                .transpose()?,
            e164_contains: self
                .contains
                .as_deref()
                .map(|p| digits_only("contains", p))
                .transpose()?,
            attribute: self.attribute.as_deref().map(attribute_pair).transpose()?,
            ..Default::default()
        })
    }
}

async fn list_page(
    st: &ApiState,
    auth: &Auth<PhoneRead>,
    q: &ListQuery,
    mut filter: NumberFilter,
) -> ApiResult<Json<NumberPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<NumberId> = decode_page_token(q.next_page_token.as_deref())?;
    if filter.assigned.is_none() {
        filter.assigned = q.assigned;
    }
    let page = st
        .service
        .list_numbers(&auth.actor, &filter, after, size)
        .await?;
    Ok(Json(NumberPage {
        phone_numbers: page
            .items
            .iter()
            .map(|n| NumberView::of(n, auth.actor.account))
            .collect(),
        page_size: size,
        next_page_token: page
            .next_after
            .map(|a| encode_page_token(&a))
            .unwrap_or_default(),
        total_records: page.total,
    }))
}

/// List phone numbers
///
/// The numbers the caller may see (its subtree and, for a provider, the numbers it owns at its
/// connected customers), filtered, in creation order, one keyset page at a time.
#[utoipa::path(get, path = "/v2/phone/numbers", tag = "Phone numbers",
    params(ListQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of numbers", body = NumberPage),
        (status = 400, description = "A filter or the page token is invalid (`invalid_input`, `invalid_page_token`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn list_numbers(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<NumberPage>> {
    let filter = q.filter()?;
    list_page(&st, &auth, &q, filter).await
}

/// List unassigned numbers
///
/// The caller's numbers that have no assignee: the list with `assigned=false`.
#[utoipa::path(get, path = "/v2/phone/numbers/unassigned", tag = "Phone numbers",
    params(ListQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of unassigned numbers", body = NumberPage),
        (status = 400, description = "A filter or the page token is invalid (`invalid_input`, `invalid_page_token`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn list_unassigned(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<NumberPage>> {
    let mut filter = q.filter()?;
    filter.assigned = Some(false);
    list_page(&st, &auth, &q, filter).await
}

/// A single number with its ETag.
fn number_response(status: StatusCode, view: NumberView) -> Response {
    let tag = etag(view.version);
    let mut res = (status, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// A number after a read or a move, as the caller now sees it, with its ETag.
fn seen_by(n: &numberpool_domain::Number, actor: &crate::service::Actor) -> Response {
    number_response(StatusCode::OK, NumberView::of(n, actor.account))
}

/// Get a phone number
///
/// By id or by E.164 (`%2B14155550100`). The `ETag` header carries the version to send back in
/// `If-Match`.
#[utoipa::path(get, path = "/v2/phone/numbers/{numberId}", tag = "Phone numbers",
    params(NumberPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The number", body = NumberView,
            headers(("ETag" = String, description = "The number's version"))),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn get_number(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.get_number(&auth.actor, &lookup).await?;
    Ok(seen_by(&n, &auth.actor))
}

/// One number to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNumberBody {
    /// E.164 (`+14155550100`), or national format when `country` is given.
    pub phone_number: String,
    /// ISO 3166 alpha-2 country for national-format input.
    pub country: Option<String>,
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    /// Explicit type (R-NUM-3); derived from the number when absent.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: Option<NumberType>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub customization: Option<Customization>,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    /// Seed 004's program duration, free text.
    pub program_duration: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// One of the provider's SIP trunks (seed 000's "SIP Trunk Name").
    pub sip_trunk_id: Option<TrunkId>,
    /// A voice carrier of the provider; its default when voice is on and none is named.
    pub voice_carrier_id: Option<CarrierId>,
    /// An SMS carrier profile of the provider; its default when SMS is on and none is named.
    pub sms_carrier_id: Option<CarrierId>,
}

/// Several numbers to add, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNumbersBody {
    /// 1 to 10,000 numbers.
    pub numbers: Vec<NewNumberBody>,
}

/// An add request: one number, or `{"numbers": [...]}`.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AddBody {
    One(Box<NewNumberBody>),
    Batch(NewNumbersBody),
}

/// The numbers a batch add created.
#[derive(Serialize, ToSchema)]
pub struct AddedNumbers {
    pub phone_numbers: Vec<NumberView>,
    pub total_records: usize,
}

/// The response of an add: the number, or the batch.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AddResult {
    One(Box<NumberView>),
    Batch(AddedNumbers),
}

fn parse_new(i: usize, b: NewNumberBody) -> ApiResult<AddNumber> {
    let at = |field: &str| {
        if i == usize::MAX {
            field.to_string()
        } else {
            format!("numbers[{i}].{field}")
        }
    };
    let phone_number = match &b.country {
        Some(c) => {
            let country = Country::parse(c)
                .map_err(|e| ApiError::invalid(format!("{}: {e}", at("country"))))?;
            E164::parse_national(&b.phone_number, country)
        }
        None => E164::parse(&b.phone_number),
    }
    .map_err(|e| {
        let mut err =
            ApiError::bad_request("invalid_number", format!("{}: {e}", at("phone_number")));
        err.rule = Some("R-NUM-2");
        err
    })?;
    Ok(AddNumber {
        phone_number,
        fields: NewNumber {
            product: b.product,
            status: b.status,
            number_type: b.number_type,
            region_state: b.state,
            city: b.city,
            billing_reference: b.billing_reference,
            service_info: b.service_info,
            capabilities: b.capabilities,
            customization: b.customization,
            call_purpose: b.call_purpose,
            display_name: b.display_name,
            program_duration: b.program_duration,
            attributes: b.attributes.unwrap_or_default(),
            sip_trunk_id: b.sip_trunk_id,
            voice_carrier_id: b.voice_carrier_id,
            sms_carrier_id: b.sms_carrier_id,
        },
    })
}

/// Add phone numbers
///
/// Adds one number (`{"phone_number": …}`) or a batch (`{"numbers": [...]}`, up to 10,000) to the
/// caller's pool, all in one transaction: every number is added or none is. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v2/phone/numbers", tag = "Phone numbers",
    request_body(content = AddBody),
    params(IdempotencyKey),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The number, or the batch", body = AddResult),
        (status = 400, description = "Bad input (`invalid_input`, `invalid_number` R-NUM-2, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "A named SIP trunk or carrier is not the provider's (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number is already on the platform (`number_already_exists`, R-NUM-1), or the add collided with a concurrent change and wrote nothing (`conflict`)", body = ErrorBody),
        BodyErrors,
        (status = 422, description = "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn add_numbers(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let batch = body.as_object().is_some_and(|o| o.contains_key("numbers"));
    let (adds, one) = if batch {
        let b: NewNumbersBody = from_value(body)?;
        if b.numbers.is_empty() || b.numbers.len() > MAX_BATCH {
            return Err(ApiError::invalid(format!(
                "numbers: give 1 to {MAX_BATCH} numbers (got {})",
                b.numbers.len()
            )));
        }
        let adds = b
            .numbers
            .into_iter()
            .enumerate()
            .map(|(i, n)| parse_new(i, n))
            .collect::<ApiResult<Vec<_>>>()?;
        (adds, false)
    } else {
        let b: NewNumberBody = from_value(body)?;
        (vec![parse_new(usize::MAX, b)?], true)
    };
    let added = st.service.add_numbers(&auth.actor, adds).await?;
    let views: Vec<NumberView> = added
        .iter()
        .map(|n| NumberView::of(n, auth.actor.account))
        .collect();
    if one && let Some(v) = views.into_iter().next() {
        return Ok(number_response(StatusCode::CREATED, v));
    }
    let total_records = added.len();
    Ok((
        StatusCode::CREATED,
        Json(AddResult::Batch(AddedNumbers {
            phone_numbers: added
                .iter()
                .map(|n| NumberView::of(n, auth.actor.account))
                .collect(),
            total_records,
        })),
    )
        .into_response())
}

/// Deserializes a JSON value, naming the path of a bad field.
fn from_value<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::invalid(inner.to_string())
        } else {
            ApiError::invalid(format!("{path}: {inner}"))
        }
    })
}

/// `null` clears a field; an absent field leaves it alone.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

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
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`, `invalid_if_match`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 412, description = "If-Match names another version (`precondition_failed`)", body = ErrorBody),
        BodyErrors,
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
    Ok(seen_by(&n, &auth.actor))
}

/// Delete a phone number
///
/// Removes the number from the platform (R-DEL-1, R-DEL-2: only the uploader, only a free or
/// returned number). `If-Match` guards against deleting a version you have not seen.
#[utoipa::path(delete, path = "/v2/phone/numbers/{numberId}", tag = "Phone numbers",
    params(NumberPath, ("If-Match" = Option<String>, Header, description = "The ETag the delete applies to")),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad If-Match (`invalid_if_match`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 412, description = "If-Match names another version (`precondition_failed`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`: R-DEL-1, R-DEL-2)", body = ErrorBody),
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

/// Who to assign the number to (seed 002).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub assignee_type: AssigneeType,
    pub assignee_id: String,
    pub display_name: Option<String>,
}

/// Assign a phone number
///
/// To a user, call queue, auto receptionist, common area or Zoom Room (R-ASG-1 limits how many).
#[utoipa::path(post, path = "/v2/phone/numbers/{numberId}/assign", tag = "Assignment",
    params(NumberPath, IdempotencyKey),
    request_body = AssignBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The assigned number", body = NumberView),
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by someone else (`conflict`)", body = ErrorBody),
        BodyErrors,
        (status = 422, description = "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn assign(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st
        .service
        .assign(
            &auth.actor,
            &lookup,
            Assignee {
                kind: body.assignee_type,
                id: body.assignee_id,
                display_name: body.display_name,
            },
        )
        .await?;
    Ok(seen_by(&n, &auth.actor))
}

/// Which assignee to remove (needed when the number has several).
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnassignBody {
    pub assignee_id: Option<String>,
}

/// A body that may be empty (DELETE with an optional JSON body).
pub struct RawBody(axum::body::Bytes);

impl<St: Send + Sync> axum::extract::FromRequest<St> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &St) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|_| super::extract::too_large())
    }
}

/// Unassign a phone number
///
/// Removes an assignee. Name it by `assignee_id` (in the query or a JSON body) when the number
/// has several.
#[utoipa::path(delete, path = "/v2/phone/numbers/{numberId}/assign", tag = "Assignment",
    params(NumberPath, UnassignBody),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The number without that assignee", body = NumberView),
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`)", body = ErrorBody),
    ))]
pub async fn unassign(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    ApiQuery(q): ApiQuery<UnassignBody>,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let from_body: UnassignBody = if body.iter().all(u8::is_ascii_whitespace) {
        UnassignBody::default()
    } else {
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        })?;
        if !v.is_object() {
            return Err(ApiError::invalid("the body must be a JSON object"));
        }
        from_value(v)?
    };
    let id = q.assignee_id.or(from_body.assignee_id);
    let n = st
        .service
        .unassign(&auth.actor, &lookup, id.as_deref())
        .await?;
    Ok(seen_by(&n, &auth.actor))
}

/// Where to allocate a number, and what travels with it (SPEC §8.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocateBody {
    pub account_id: AccountId,
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
}

/// Allocate a phone number
///
/// Moves a free number from the caller's pool to a reseller, customer or sub account below it
/// (or a connected customer). Exactly one of concurrent allocations wins (R-ALLOC-1).
#[utoipa::path(post, path = "/v2/phone/numbers/{numberId}/allocate", tag = "Inventory moves",
    params(NumberPath, IdempotencyKey),
    request_body = AllocateBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The allocated number", body = NumberView),
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number or account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`, R-ALLOC-1)", body = ErrorBody),
        BodyErrors,
        (status = 422, description = "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn allocate(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    ApiJson(body): ApiJson<AllocateBody>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st
        .service
        .allocate(
            &auth.actor,
            &lookup,
            body.account_id,
            AllocateOptions {
                sip_trunk_id: body.sip_trunk_id,
                billing_reference: body.billing_reference,
                service_info: body.service_info,
            },
        )
        .await?;
    Ok(seen_by(&n, &auth.actor))
}

/// Where to move a number inside the customer holding it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// A unit inside the customer, or the customer itself to take the number back.
    pub account_id: AccountId,
}

/// Move a phone number to a unit
///
/// The customer (or a unit admin above the target) moves a number it holds into one of its
/// units (a business unit, program or site), or back to the customer (R-MOVE-5). The number
/// stays the customer's; the unit's admins see and assign it.
#[utoipa::path(post, path = "/v2/phone/numbers/{numberId}/move", tag = "Inventory moves",
    params(NumberPath, IdempotencyKey),
    request_body = MoveBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The moved number", body = NumberView),
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number or account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`, R-ALLOC-1)", body = ErrorBody),
        BodyErrors,
        (status = 422, description = "A rule refused it (`rule_violation`, R-MOVE-2, R-MOVE-5), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn move_to_unit(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
    ApiJson(body): ApiJson<MoveBody>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st
        .service
        .move_to_unit(&auth.actor, &lookup, body.account_id)
        .await?;
    Ok(seen_by(&n, &auth.actor))
}

/// View a phone number's assignments
///
/// Seed 004's "view assignments": the business (customer) the number is with, the business unit
/// and program (the units down to where it sits), its display name, call purpose and program
/// duration, and its assignees.
#[utoipa::path(get, path = "/v2/phone/numbers/{numberId}/assignments", tag = "Phone numbers",
    params(NumberPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "Where the number sits and who uses it", body = AssignmentsView),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn assignments(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Json<AssignmentsView>> {
    let lookup = number_lookup(&p.number_id)?;
    Ok(Json(
        st.service.number_assignments(&auth.actor, &lookup).await?,
    ))
}

/// Release a phone number
///
/// The holder gives an unassigned number back to the pool it came from, where it shows as
/// `returned`.
#[utoipa::path(post, path = "/v2/phone/numbers/{numberId}/release", tag = "Inventory moves",
    params(NumberPath, IdempotencyKey),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The released number, as the caller now sees it", body = NumberView),
        (status = 400, description = "A malformed Idempotency-Key (`invalid_input`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn release(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.release(&auth.actor, &lookup).await?;
    Ok(seen_by(&n, &auth.actor))
}

/// Unbind a phone number
///
/// The pool owner takes a returned number back to `free`, clearing trunk, billing reference and
/// service info.
#[utoipa::path(post, path = "/v2/phone/numbers/{numberId}/unbind", tag = "Inventory moves",
    params(NumberPath, IdempotencyKey),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The free number", body = NumberView),
        (status = 400, description = "A malformed Idempotency-Key (`invalid_input`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn unbind(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.unbind(&auth.actor, &lookup).await?;
    Ok(seen_by(&n, &auth.actor))
}

/// A number's history.
#[derive(Serialize, ToSchema)]
pub struct NumberHistory {
    pub events: Vec<super::audit::AuditView>,
}

/// Get a phone number's history
///
/// The audit events of the number, oldest first. Anyone but its owner or uploader sees it from
/// the allocation into their own branch on.
#[utoipa::path(get, path = "/v2/phone/numbers/{numberId}/history", tag = "Phone numbers",
    params(NumberPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The number's events", body = NumberHistory),
        CommonErrors,
        (status = 404, description = "No such number in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn history(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Json<NumberHistory>> {
    let lookup = number_lookup(&p.number_id)?;
    let events: Vec<AuditEvent> = st.service.number_history(&auth.actor, &lookup).await?;
    Ok(Json(NumberHistory {
        events: events
            .into_iter()
            .map(super::audit::AuditView::from)
            .collect(),
    }))
}

/// Counts of numbers by each dimension; each map's counts add up to `total`.
#[derive(Serialize, ToSchema)]
pub struct Inventory {
    pub total: i64,
    /// By position as the caller sees it: free, returned, in_use, assigned, unassigned.
    pub by_position: BTreeMap<String, i64>,
    /// By status: active, pending.
    pub by_status: BTreeMap<String, i64>,
    pub by_product: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
    /// By ISO 3166 alpha-2 country.
    pub by_country: BTreeMap<String, i64>,
}

impl From<InventoryCounts> for Inventory {
    fn from(c: InventoryCounts) -> Self {
        Self {
            total: c.total,
            by_position: c.by_position,
            by_status: c.by_status,
            by_product: c.by_product,
            by_type: c.by_type,
            by_country: c.by_country,
        }
    }
}

/// Filters of the inventory counts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// ISO 3166 alpha-2 country code.
    pub country: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    pub product: Option<Product>,
    pub customer_id: Option<AccountId>,
}

/// Get the number inventory
///
/// Counts of the caller's numbers by position (as the caller sees it), status, product, type and
/// country.
#[utoipa::path(get, path = "/v2/phone/inventory", tag = "Inventory",
    params(InventoryQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "Counts", body = Inventory),
        (status = 400, description = "A filter is invalid (`invalid_input`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn inventory(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<InventoryQuery>,
) -> ApiResult<Json<Inventory>> {
    let country = match &q.country {
        Some(c) => Some(
            Country::parse(c)
                .map_err(|e| ApiError::invalid(format!("country: {e}")))?
                .as_str(),
        ),
        None => None,
    };
    let filter = NumberFilter {
        country,
        number_type: q.number_type,
        product: q.product,
        customer: q.customer_id,
        ..Default::default()
    };
    Ok(Json(
        st.service.inventory(&auth.actor, &filter).await?.into(),
    ))
}

/// Get the number inventory (seed path)
///
/// The same counts as `/v2/phone/inventory`, at the path the number-management seed lists.
#[utoipa::path(get, path = "/v2/phone/numbers/inventory", tag = "Inventory",
    params(InventoryQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "Counts", body = Inventory),
        (status = 400, description = "A filter is invalid (`invalid_input`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn inventory_seed_path(
    auth: Auth<NumberRead>,
    st: State<ApiState>,
    q: ApiQuery<InventoryQuery>,
) -> ApiResult<Json<Inventory>> {
    inventory(auth, st, q).await
}
