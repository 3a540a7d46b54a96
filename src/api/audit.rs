//! `/v2/audit`: the audit log of the caller's own subtree (SPEC §6), newest first, filtered and
//! keyset-paged; and the event shape that a number's history shares.

use axum::Json;
use axum::extract::State;
use numberpool_domain::AuditId;
use numberpool_store::{AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, Auth, PhoneRead, decode_page_token, page_size};
use super::reply::keyset_page;
use super::responses::{CommonErrors, FilteredListErrors};

/// One audit event: who, through what, when, what, and the record before and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: AuditId,
    /// RFC 3339 time of the change.
    #[schema(format = DateTime)]
    pub at: String,
    /// `user`, `client` or `operator`.
    pub actor_type: String,
    pub actor_id: String,
    pub actor_account_id: Option<String>,
    /// `api`, `ui`, `import`, `cli` or `job`.
    pub channel: String,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    /// The rule the change was checked against.
    pub rule: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) use numberpool_domain::timestamp::rfc3339;

pub(crate) fn parse_time(field: &str, s: &str) -> ApiResult<i64> {
    numberpool_domain::timestamp::parse_rfc3339(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "{field}: give an RFC 3339 time such as 2026-11-26T09:00:00Z"
        ))
    })
}

impl From<AuditEvent> for AuditView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            at: rfc3339(e.at),
            actor_type: e.actor_type,
            actor_id: e.actor_id,
            actor_account_id: e.actor_account_id,
            channel: e.channel.as_str().to_string(),
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            action: e.action.as_str().to_string(),
            rule: e.rule,
            before: e.before,
            after: e.after,
        }
    }
}

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
    /// `number`, `number_batch` (an add), `account`, `connection`, `api_client` or `user`.
    pub entity_type: Option<String>,
    /// The id of the changed record.
    pub entity_id: Option<String>,
    /// e.g. `number.allocate`.
    pub action: Option<String>,
    /// RFC 3339; events at or after it.
    pub since: Option<String>,
    /// RFC 3339; events before it.
    pub until: Option<String>,
}

/// A page of audit events.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

fn short(field: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        Some(s) if s.len() > 200 => Err(ApiError::invalid(format!(
            "{field}: at most 200 characters"
        ))),
        other => Ok(other),
    }
}

/// List audit events
///
/// Every change made by the caller's account and the accounts below it, newest first.
#[utoipa::path(get, path = "/v2/audit", tag = "Audit",
    params(AuditQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_audit(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let size = page_size(q.page_size)?;
    let before: Option<AuditId> = decode_page_token(q.next_page_token.as_deref())?;
    let filter = AuditFilter {
        entity_type: short("entity_type", q.entity_type)?,
        entity_id: short("entity_id", q.entity_id)?,
        action: short("action", q.action)?,
        since: q
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
            .transpose()?,
    };
    let page = st
        .service
        .audit_log(&auth.actor, &filter, before, size)
        .await?;
    let (events, next_page_token, total_records) = keyset_page(page);
    Ok(Json(AuditPage {
        events: events.into_iter().map(AuditView::from).collect(),
        page_size: size,
        next_page_token,
        total_records,
    }))
}
