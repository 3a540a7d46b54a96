//! `/v2/imports`: spreadsheet imports (SPEC §4, issue 13). The upload is the request body
//! itself (a CSV or XLSX file, up to [`IMPORT_BODY_LIMIT`]), so a script sends a file with one
//! `curl --data-binary @numbers.csv`; the answer is the plan, and nothing is written until
//! `POST /v2/imports/{importId}/apply`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numberpool_domain::import::{FileFormat, ImportAction, ImportStatus};
use numberpool_domain::{Country, ImportId};
use numberpool_store::ImportRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::audit::rfc3339;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiQuery, Auth, NumberRead, NumberWrite};
use super::jobs::JobBody;
use super::responses::{CommonErrors, NotFound, Scoped};
use crate::service::{AddOptions, ImportRequest, ImportView, PlanRow, content_type, import_sample};

/// The largest import upload: a 10,000-row CSV with every column is about 2 MB; the limit
/// leaves room for operators who raise R-IMP-1's row limit.
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImportPath {
    /// The import's id.
    #[serde(rename = "importId")]
    #[param(rename = "importId")]
    pub import_id: String,
}

fn import_id(p: &ImportPath) -> ApiResult<ImportId> {
    p.import_id
        .parse()
        .map_err(|_| ApiError::not_found("import"))
}

/// How many rows of the plan do what.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCountsBody {
    /// Data rows in the file (blank rows are not counted).
    pub total: i64,
    pub creates: i64,
    pub updates: i64,
    /// Update rows that change nothing.
    pub unchanged: i64,
    pub deletes: i64,
    pub rejected: i64,
}

/// An import and its plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportBody {
    pub id: ImportId,
    pub action: ImportAction,
    /// `csv` or `xlsx`: the uploaded file's, and the rejected-rows file's.
    pub format: FileFormat,
    pub file_name: String,
    /// SHA-256 of the uploaded bytes (hex).
    pub file_sha256: String,
    /// `planned` (nothing written yet), `applying`, `applied` or `failed` (see `error`).
    pub status: ImportStatus,
    pub counts: ImportCountsBody,
    /// The plan's rejected, update (with their changes), unchanged and delete rows, in file
    /// order (creates are counted, not listed).
    pub rows: Vec<PlanRow>,
    /// Why the apply was refused, for a `failed` import.
    pub error: Option<String>,
    /// The apply's job once one is queued: its state and progress (rows planned and written,
    /// of the total). Poll the import until `status` is `applied` or `failed`.
    pub job: Option<JobBody>,
    /// Where the rejected rows can be downloaded as a file to fix and upload again.
    pub rejected_rows_url: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Scoped for ImportBody {
    const NOUN: &'static str = "import";
}

fn counts(r: &ImportRecord) -> ImportCountsBody {
    ImportCountsBody {
        total: r.counts.total,
        creates: r.counts.creates,
        updates: r.counts.updates,
        unchanged: r.counts.unchanged,
        deletes: r.counts.deletes,
        rejected: r.counts.rejected,
    }
}

impl From<ImportView> for ImportBody {
    fn from(v: ImportView) -> Self {
        let r = v.record;
        ImportBody {
            id: r.id,
            action: r.action,
            format: r.format,
            counts: counts(&r),
            rejected_rows_url: (r.counts.rejected > 0)
                .then(|| format!("/v2/imports/{}/rejected", r.id)),
            file_name: r.file_name,
            file_sha256: r.file_sha256,
            status: r.status,
            rows: v.rows,
            error: r.error,
            job: v.job.map(JobBody::from),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// What the upload asks for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// What every row does: `add`, `update` or `delete`. An XLSX is read from its sheet of
    /// that name (`Add`, `Update`, `Delete`), or from its only sheet.
    pub action: ImportAction,
    /// The file's name, kept to name the rejected-rows file.
    pub file_name: Option<String>,
    /// ISO 3166 alpha-2: the country of numbers written without `+` when the file has no
    /// `Country Code` column.
    pub default_country: Option<String>,
    /// An add file's voice carrier, by name, for rows with voice on that name none: in place
    /// of the provider's default (seed 003's upload form).
    pub voice_carrier: Option<String>,
    /// An add file's SMS carrier profile, by name, for rows with SMS on that name none.
    pub sms_carrier: Option<String>,
    /// An account id: an add file's numbers are allocated to it as they go in (a direct sub
    /// account or a connected customer; seed 003's "Enterprises and Resellers").
    pub target: Option<String>,
}

/// Upload a file and plan it
///
/// The body is the CSV (UTF-8, with or without BOM; `,` `;` or tab separated) or XLSX file.
/// Headers are matched by name in any order and case. Every row is planned against the
/// inventory as it is now: accepted (create, update with its before and after, unchanged,
/// delete) or rejected with a reason code and its
/// rule (R-IMP-2). Nothing is written: this is the dry run; apply the plan with
/// `POST /v2/imports/{importId}/apply`. A file that cannot be read, names an unknown column
/// or holds more rows than allowed (R-IMP-1: fewer than 10,000; 200 for a customer or unit)
/// is refused whole (422) with the reason code as `code`.
#[utoipa::path(post, path = "/v2/imports", tag = "Imports",
    params(UploadQuery),
    request_body(description = "The file, as it is", content(
        (Vec<u8> = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/octet-stream"))),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The plan", body = ImportBody),
        CommonErrors,
        (status = 413, description = "The file is over 64 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "The file is refused whole: `unreadable_file`, `empty_file`, `missing_sheet`, `missing_column`, `unknown_column`, `duplicate_column`, or `too_many_rows` (R-IMP-1); or the account, or one above it, is deactivated (`rule_violation`, R-OFF-1)", body = ErrorBody),
    ))]
pub async fn upload(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let default_country = q
        .default_country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Country::parse(c).map_err(|e| ApiError::invalid(format!("default_country: {e}"))))
        .transpose()?;
    let req = ImportRequest {
        action: q.action,
        file_name: q
            .file_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "import".into()),
        default_country,
        add: AddOptions {
            voice_carrier: filled(q.voice_carrier),
            sms_carrier: filled(q.sms_carrier),
            target: filled(q.target)
                .map(|t| {
                    t.parse()
                        .map_err(|_| ApiError::invalid("target: not an account id"))
                })
                .transpose()?,
        },
    };
    let view = st
        .service
        .plan_import(&auth.actor, &req, body.to_vec())
        .await?;
    Ok((StatusCode::CREATED, Json(ImportBody::from(view))).into_response())
}

/// A query value with its blanks trimmed, unless it is empty.
fn filled(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A page of imports.
#[derive(Serialize, ToSchema)]
pub struct ImportList {
    /// The caller's account's imports, newest first (the last 100), without their rows.
    pub imports: Vec<ImportBody>,
}

/// List imports
#[utoipa::path(get, path = "/v2/imports", tag = "Imports",
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The imports, newest first", body = ImportList),
        CommonErrors,
    ))]
pub async fn list(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ImportList>> {
    let all = st.service.list_imports(&auth.actor, 100).await?;
    Ok(Json(ImportList {
        imports: all
            .into_iter()
            .map(|record| {
                ImportBody::from(ImportView {
                    record,
                    job: None,
                    rows: vec![],
                })
            })
            .collect(),
    }))
}

/// Get an import and its plan
#[utoipa::path(get, path = "/v2/imports/{importId}", tag = "Imports",
    params(ImportPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The import", body = ImportBody),
        CommonErrors,
        NotFound<ImportBody>,
    ))]
pub async fn get(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<ImportPath>,
) -> ApiResult<Json<ImportBody>> {
    let v = st.service.get_import(&auth.actor, import_id(&p)?).await?;
    Ok(Json(v.into()))
}

/// Apply an import's plan
///
/// Queues the apply as a job and answers 202 with the import (`status` `applying`, and its
/// `job` with progress). The job commits exactly the accepted rows of the plan, all in one
/// transaction (R-IMP-3), and the import becomes `applied`. If the inventory changed since the
/// plan was made (a number of the file was added, changed or removed meanwhile), nothing is
/// written and the import becomes `failed` with the reason in `error`: upload the file again.
/// Asking again while it applies answers 202 with the same job; once applied, 200 and nothing
/// changes.
#[utoipa::path(post, path = "/v2/imports/{importId}/apply", tag = "Imports",
    params(ImportPath),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The import, already applied", body = ImportBody),
        (status = 202, description = "The apply is queued or running: poll the import", body = ImportBody),
        CommonErrors,
        NotFound<ImportBody>,
        (status = 409, description = "A concurrent change won the race (`conflict`): ask again", body = ErrorBody),
        (status = 412, description = "The import failed (`precondition_failed`, its plan is stale): upload the file again", body = ErrorBody),
    ))]
pub async fn apply(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ImportPath>,
) -> ApiResult<(StatusCode, Json<ImportBody>)> {
    let v = crate::jobs::request_import_apply(&st.service, &auth.actor, import_id(&p)?).await?;
    let status = match v.record.status {
        ImportStatus::Applied => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    Ok((status, Json(v.into())))
}

/// A file to download as `name` (reduced to ASCII letters, digits, `.`, `-` and `_`, so the
/// header cannot be broken by a file name a user chose); the portal's downloads share it.
pub fn file_response(format: FileFormat, name: &str, data: Vec<u8>) -> Response {
    file_body_response(format, name, axum::body::Body::from(data))
}

/// [`file_response`] of a body (a stream, for an export's file).
pub fn file_body_response(format: FileFormat, name: &str, body: axum::body::Body) -> Response {
    typed_file_response(content_type(format), name, body)
}

/// A file of `content_type` to download as `name` (reduced as [`file_response`] says).
pub fn typed_file_response(
    content_type: &'static str,
    name: &str,
    body: axum::body::Body,
) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect::<String>()
    );
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// Download the rejected rows
///
/// The rejected rows in the uploaded format: the uploaded columns and a `reason` column.
/// Fix the rows and upload the file again as it is; the `reason` column is ignored.
#[utoipa::path(get, path = "/v2/imports/{importId}/rejected", tag = "Imports",
    params(ImportPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The file (CSV or XLSX, as uploaded)", content(
            (Vec<u8> = "text/csv; charset=utf-8"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        CommonErrors,
        NotFound<ImportBody>,
    ))]
pub async fn rejected(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<ImportPath>,
) -> ApiResult<Response> {
    let (format, name, data) = st
        .service
        .rejected_rows_file(&auth.actor, import_id(&p)?)
        .await?;
    Ok(file_response(format, &name, data))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SamplePath {
    /// `add`, `update` or `delete`.
    #[param(value_type = ImportAction)]
    pub action: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SampleQuery {
    /// `csv` (the default) or `xlsx`.
    pub format: Option<FileFormat>,
}

/// Download a sample file
///
/// Every column the action takes, with one example row.
#[utoipa::path(get, path = "/v2/imports/samples/{action}", tag = "Imports",
    params(SamplePath, SampleQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The sample file", content(
            (Vec<u8> = "text/csv; charset=utf-8"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        CommonErrors,
    ))]
pub async fn sample(
    _auth: Auth<NumberRead>,
    Path(p): Path<SamplePath>,
    ApiQuery(q): ApiQuery<SampleQuery>,
) -> ApiResult<Response> {
    // Parsed here, not by the path extractor, so a bad one is this API's JSON 400.
    let action: ImportAction = p
        .action
        .parse()
        .map_err(|e| ApiError::invalid(format!("action: {e}")))?;
    let format = q.format.unwrap_or(FileFormat::Csv);
    let data = import_sample(action, format)?;
    Ok(file_response(
        format,
        &format!("numberpool-{action}-sample.{format}"),
        data,
    ))
}
