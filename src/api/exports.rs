//! `/v2/exports`, `/v2/export_schedules` and `/v2/notifications` (SPEC §4, issue 13): an
//! export is asked for and made by a job; when its file is ready, a notification is raised to
//! the account; the file streams from `/v2/exports/{exportId}/file` until it expires.
//! Schedules make the same exports daily or weekly.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::import::{Cadence, ExportKind, ExportStatus, FileFormat};
use numberpool_domain::{ExportId, NotificationId, ScheduleId};
use numberpool_store::{ExportSchedule, Notification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::audit::rfc3339;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Auth, PhoneRead};
use super::imports::file_body_response;
use super::jobs::JobBody;
use super::responses::{CommonErrors, JsonErrors, NotFound, Scoped};
use crate::service::{ExportView, Service, export_file_name};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExportPath {
    /// The export's id.
    #[serde(rename = "exportId")]
    #[param(rename = "exportId")]
    pub export_id: String,
}

fn export_id(p: &ExportPath) -> ApiResult<ExportId> {
    p.export_id
        .parse()
        .map_err(|_| ApiError::not_found("export"))
}

/// What to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExportBody {
    /// `list` (the numbers as the list shows them), `update_template` (the Update import's
    /// columns filled in: imported back as an Update it changes nothing) or `consolidated`
    /// (numbers with customers: customer name and account number, SIP trunk, billing reference).
    pub kind: ExportKind,
    /// `csv` (UTF-8 with BOM) or `xlsx` (every cell text).
    #[serde(default = "csv")]
    pub format: FileFormat,
}

fn csv() -> FileFormat {
    FileFormat::Csv
}

/// An export and its job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportBody {
    pub id: ExportId,
    pub kind: ExportKind,
    pub format: FileFormat,
    /// `queued`, `running`, `ready` (download `file_url`), `failed` (see `error`) or `expired`
    /// (the file was removed after the retention time).
    pub status: ExportStatus,
    /// Rows written, once ready.
    pub rows: Option<i64>,
    /// The file's size in bytes, once ready.
    pub bytes: Option<i64>,
    pub error: Option<String>,
    /// Where the file downloads from, while it is ready.
    pub file_url: Option<String>,
    /// The file's name when downloaded.
    pub file_name: String,
    /// The schedule that made it, if one did.
    pub schedule_id: Option<ScheduleId>,
    /// The job making it, while it is queued or running: its state and progress.
    pub job: Option<JobBody>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When the file is removed (RFC 3339), once ready.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

impl Scoped for ExportBody {
    const NOUN: &'static str = "export";
}

impl From<ExportView> for ExportBody {
    fn from(v: ExportView) -> Self {
        let r = v.record;
        ExportBody {
            file_url: (r.status == ExportStatus::Ready)
                .then(|| format!("/v2/exports/{}/file", r.id)),
            file_name: export_file_name(&r),
            id: r.id,
            kind: r.kind,
            format: r.format,
            status: r.status,
            rows: r.rows,
            bytes: r.bytes,
            error: r.error,
            schedule_id: r.schedule_id,
            job: v.job.map(JobBody::from),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            expires_at: r.expires_at.map(rfc3339),
        }
    }
}

/// The caller's account's exports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportList {
    /// Newest first (the last 100).
    pub exports: Vec<ExportBody>,
}

/// Ask for an export
///
/// Queues a job that writes the numbers the caller sees as a file; answers 202 with the export
/// (`status` `queued`). Poll `GET /v2/exports/{exportId}` until it is `ready`, then download
/// `file_url`; a notification is raised to the account too (`GET /v2/notifications`).
#[utoipa::path(post, path = "/v2/exports", tag = "Exports",
    request_body = NewExportBody,
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 202, description = "The export, queued", body = ExportBody),
        CommonErrors,
        JsonErrors,
    ))]
pub async fn create(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewExportBody>,
) -> ApiResult<(StatusCode, Json<ExportBody>)> {
    let v = crate::jobs::request_export(&st.service, &auth.actor, body.kind, body.format).await?;
    Ok((StatusCode::ACCEPTED, Json(v.into())))
}

/// List exports
#[utoipa::path(get, path = "/v2/exports", tag = "Exports",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The exports, newest first", body = ExportList),
        CommonErrors,
    ))]
pub async fn list(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ExportList>> {
    let all = st.service.list_exports(&auth.actor, 100).await?;
    Ok(Json(ExportList {
        exports: all.into_iter().map(ExportBody::from).collect(),
    }))
}

/// Get an export
#[utoipa::path(get, path = "/v2/exports/{exportId}", tag = "Exports",
    params(ExportPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The export, with its job while it runs", body = ExportBody),
        CommonErrors,
        NotFound<ExportBody>,
    ))]
pub async fn get(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<ExportPath>,
) -> ApiResult<Json<ExportBody>> {
    let v = st.service.get_export(&auth.actor, export_id(&p)?).await?;
    Ok(Json(v.into()))
}

/// Download an export's file
///
/// The file, streamed as it is read from storage. 409 `conflict` while the export is not
/// ready, and once its file expired.
#[utoipa::path(get, path = "/v2/exports/{exportId}/file", tag = "Exports",
    params(ExportPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The file (CSV or XLSX, as asked for)", content(
            (Vec<u8> = "text/csv; charset=utf-8"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        CommonErrors,
        NotFound<ExportBody>,
        (status = 409, description = "Not ready, failed or expired (`conflict`)", body = ErrorBody),
    ))]
pub async fn file(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<ExportPath>,
) -> ApiResult<Response> {
    let record = st.service.ready_export(&auth.actor, export_id(&p)?).await?;
    Ok(export_download(&st.service, &record))
}

/// The ready export's file as a download streamed piece by piece (the portal's too).
pub fn export_download(service: &Service, record: &numberpool_store::ExportRecord) -> Response {
    let (service, id) = (service.clone(), record.id);
    let pieces = futures_util::stream::try_unfold(0i32, move |seq| {
        let service = service.clone();
        async move {
            match service.export_piece(id, seq).await {
                Ok(Some(data)) => Ok(Some((bytes::Bytes::from(data), seq + 1))),
                Ok(None) => Ok(None),
                Err(e) => {
                    tracing::error!(export = %id, error = %e, "an export's file could not be read");
                    Err(std::io::Error::other("the export's file could not be read"))
                }
            }
        }
    });
    let mut res = file_body_response(
        record.format,
        &export_file_name(record),
        Body::from_stream(pieces),
    );
    if let Some(len) = record.bytes.filter(|n| *n >= 0) {
        res.headers_mut()
            .insert(axum::http::header::CONTENT_LENGTH, len.into());
    }
    res
}

/// A scheduled export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleBody {
    pub id: ScheduleId,
    pub kind: ExportKind,
    pub format: FileFormat,
    /// `daily` or `weekly`.
    pub cadence: Cadence,
    /// When it runs next (RFC 3339).
    #[schema(format = DateTime)]
    pub next_run_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<ExportSchedule> for ScheduleBody {
    fn from(s: ExportSchedule) -> Self {
        ScheduleBody {
            id: s.id,
            kind: s.kind,
            format: s.format,
            cadence: s.cadence,
            next_run_at: rfc3339(s.next_run_at),
            created_at: rfc3339(s.created_at),
        }
    }
}

impl Scoped for ScheduleBody {
    const NOUN: &'static str = "export schedule";
}

/// A schedule to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScheduleBody {
    pub kind: ExportKind,
    #[serde(default = "csv")]
    pub format: FileFormat,
    /// `daily` or `weekly`; the first run is one period from now.
    pub cadence: Cadence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub schedules: Vec<ScheduleBody>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SchedulePath {
    /// The schedule's id.
    #[serde(rename = "scheduleId")]
    #[param(rename = "scheduleId")]
    pub schedule_id: String,
}

/// Schedule an export
///
/// Seed 000's automated exports: the export runs daily or weekly as the caller, and each file
/// raises a notification when it is ready.
#[utoipa::path(post, path = "/v2/export_schedules", tag = "Exports",
    request_body = NewScheduleBody,
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 201, description = "The schedule", body = ScheduleBody),
        CommonErrors,
        JsonErrors,
    ))]
pub async fn create_schedule(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewScheduleBody>,
) -> ApiResult<(StatusCode, Json<ScheduleBody>)> {
    let s = st
        .service
        .create_export_schedule(&auth.actor, body.kind, body.format, body.cadence)
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// List export schedules
#[utoipa::path(get, path = "/v2/export_schedules", tag = "Exports",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The account's schedules", body = ScheduleList),
        CommonErrors,
    ))]
pub async fn list_schedules(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ScheduleList>> {
    let all = st.service.list_export_schedules(&auth.actor).await?;
    Ok(Json(ScheduleList {
        schedules: all.into_iter().map(ScheduleBody::from).collect(),
    }))
}

/// Delete an export schedule
#[utoipa::path(delete, path = "/v2/export_schedules/{scheduleId}", tag = "Exports",
    params(SchedulePath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 204, description = "Deleted; exports it made stay"),
        CommonErrors,
        NotFound<ScheduleBody>,
    ))]
pub async fn delete_schedule(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<SchedulePath>,
) -> ApiResult<StatusCode> {
    let id: ScheduleId = p
        .schedule_id
        .parse()
        .map_err(|_| ApiError::not_found("export schedule"))?;
    st.service.delete_export_schedule(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An in-app notification, as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationBody {
    pub id: NotificationId,
    /// `export_ready` or `export_failed`.
    pub kind: String,
    /// The export it is about.
    pub subject_id: String,
    pub message: String,
    /// Whether the caller marked it read.
    pub read: bool,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl Scoped for NotificationBody {
    const NOUN: &'static str = "notification";
}

impl From<Notification> for NotificationBody {
    fn from(n: Notification) -> Self {
        NotificationBody {
            id: n.id,
            kind: n.kind,
            subject_id: n.subject_id,
            message: n.message,
            read: n.read_at.is_some(),
            created_at: rfc3339(n.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Newest first (the last 100).
    pub notifications: Vec<NotificationBody>,
    /// How many of the account's notifications the caller has not read.
    pub unread: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only the ones the caller has not read.
    #[serde(default)]
    pub unread_only: bool,
}

/// List notifications
///
/// The account's notifications (an export ready or failed), with the caller's read marks:
/// each user and API client of the account marks its own.
#[utoipa::path(get, path = "/v2/notifications", tag = "Exports",
    params(NotificationQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The notifications, newest first", body = NotificationList),
        CommonErrors,
    ))]
pub async fn notifications(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<Json<NotificationList>> {
    let all = st
        .service
        .list_notifications(&auth.actor, q.unread_only, 100)
        .await?;
    let unread = st.service.unread_notifications(&auth.actor).await?;
    Ok(Json(NotificationList {
        notifications: all.into_iter().map(NotificationBody::from).collect(),
        unread,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NotificationPath {
    /// The notification's id.
    #[serde(rename = "notificationId")]
    #[param(rename = "notificationId")]
    pub notification_id: String,
}

/// Mark a notification read
#[utoipa::path(post, path = "/v2/notifications/{notificationId}/read", tag = "Exports",
    params(NotificationPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 204, description = "Marked read by the caller"),
        CommonErrors,
        NotFound<NotificationBody>,
    ))]
pub async fn read_one(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<NotificationPath>,
) -> ApiResult<StatusCode> {
    let id: NotificationId = p
        .notification_id
        .parse()
        .map_err(|_| ApiError::not_found("notification"))?;
    st.service
        .mark_notifications_read(&auth.actor, Some(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notification read
#[utoipa::path(post, path = "/v2/notifications/read", tag = "Exports",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 204, description = "All marked read by the caller"),
        CommonErrors,
    ))]
pub async fn read_all(auth: Auth<PhoneRead>, State(st): State<ApiState>) -> ApiResult<StatusCode> {
    st.service
        .mark_notifications_read(&auth.actor, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
