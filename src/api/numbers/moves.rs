//! The moves of a number: assign, unassign, allocate, move to a unit, release, unbind.

use super::*;

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
        CommonErrors,
        JsonErrors,
        NotFound<NumberView>,
        ConcurrentChange,
        RuleErrors,
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
    Ok(seen_by(n, &auth.actor))
}

/// Which assignee to remove (needed when the number has several).
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnassignBody {
    pub assignee_id: Option<String>,
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
        NotFound<NumberView>,
        ConcurrentChange,
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
    Ok(seen_by(n, &auth.actor))
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
        CommonErrors,
        JsonErrors,
        RuleErrors,
        (status = 404, description = "No such number or account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`, R-ALLOC-1)", body = ErrorBody),
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
    Ok(seen_by(n, &auth.actor))
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
        CommonErrors,
        JsonErrors,
        (status = 404, description = "No such number or account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Another move won (`conflict`, R-ALLOC-1)", body = ErrorBody),
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
    Ok(seen_by(n, &auth.actor))
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
        CommonErrors,
        BadIdempotencyKey,
        NotFound<NumberView>,
        RuleErrors,
        (status = 409, description = "Another move won (`conflict`)", body = ErrorBody),
    ))]
pub async fn release(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.release(&auth.actor, &lookup).await?;
    Ok(seen_by(n, &auth.actor))
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
        CommonErrors,
        BadIdempotencyKey,
        NotFound<NumberView>,
        RuleErrors,
        (status = 409, description = "Another move won (`conflict`)", body = ErrorBody),
    ))]
pub async fn unbind(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.unbind(&auth.actor, &lookup).await?;
    Ok(seen_by(n, &auth.actor))
}
