//! Read views of one number: its assignments (seed 004) and its history.

use super::*;

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
        NotFound<NumberView>,
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

/// A number's history.
#[derive(Serialize, ToSchema)]
pub struct NumberHistory {
    pub events: Vec<crate::api::audit::AuditView>,
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
        NotFound<NumberView>,
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
            .map(crate::api::audit::AuditView::from)
            .collect(),
    }))
}
