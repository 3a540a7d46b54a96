//! The portal's exports, notifications and jobs (issue 13): `/portal/exports` asks for an
//! export (what and which format), lists the account's exports with their progress and
//! downloads, and keeps the daily or weekly schedules; `/portal/notifications` lists what the
//! account was told (an export ready or failed) with the user's read marks;
//! `/portal/jobs` shows every import apply and export the account ran, with state and progress.
//! Pages with work still running refresh themselves.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use numberpool_domain::import::{Cadence, ExportKind, ExportStatus, FileFormat, ImportStatus};
use numberpool_domain::{ExportId, NotificationId, ScheduleId};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult};
use super::forms::{Empty, refusal};
use super::imports::time_of;
use super::signin::render;
use super::{Chrome, SignedIn, WebState, status_for};
use crate::api::exports::export_download;
use crate::service::progress::Phase;
use crate::service::{ExportView, JobView, ServiceError};

fn kind_title(k: ExportKind) -> &'static str {
    match k {
        ExportKind::List => "Numbers list",
        ExportKind::UpdateTemplate => "Update template",
        ExportKind::Consolidated => "Consolidated (numbers with customers)",
    }
}

/// A job's progress in words, for a table cell: "Writing: 1,200 rows", "3 of 10 rows".
fn progress_words(j: &JobView) -> String {
    let p = &j.progress;
    let (label, done) = match p.phase {
        Phase::Queued => return "Waiting for a worker".into(),
        Phase::Planning => ("Checking rows", p.planned),
        Phase::Writing => ("Writing", p.written),
        Phase::Finished => ("Finishing", p.written.max(p.planned)),
    };
    let retry = if j.attempts > 1 {
        format!(" (attempt {} of {})", j.attempts, j.max_attempts)
    } else {
        String::new()
    };
    if p.total > 0 {
        format!("{label}: {done} of {} rows{retry}", p.total)
    } else {
        format!("{label}: {done} rows{retry}")
    }
}

/// One export, as the list shows it.
pub struct ExportRow {
    id: String,
    when: String,
    what: &'static str,
    format: String,
    status: &'static str,
    /// What is happening or happened, in words.
    detail: String,
    ready: bool,
    scheduled: bool,
}

impl ExportRow {
    fn of(v: &ExportView) -> ExportRow {
        let r = &v.record;
        let detail = match r.status {
            ExportStatus::Queued | ExportStatus::Running => v
                .job
                .as_ref()
                .map(progress_words)
                .unwrap_or_else(|| "Waiting for a worker".into()),
            ExportStatus::Ready => format!(
                "{} {}, {} KB; kept until {} UTC",
                r.rows.unwrap_or(0),
                if r.rows == Some(1) {
                    "number"
                } else {
                    "numbers"
                },
                (r.bytes.unwrap_or(0) + 1023) / 1024,
                r.expires_at.map(time_of).unwrap_or_default()
            ),
            ExportStatus::Failed => r.error.clone().unwrap_or_else(|| "It failed.".into()),
            ExportStatus::Expired => "The file was removed after the retention time.".into(),
        };
        ExportRow {
            id: r.id.to_string(),
            when: time_of(r.created_at),
            what: kind_title(r.kind),
            format: r.format.as_str().to_uppercase(),
            status: r.status.as_str(),
            detail,
            ready: r.status == ExportStatus::Ready,
            scheduled: r.schedule_id.is_some(),
        }
    }

    fn running(&self) -> bool {
        matches!(self.status, "queued" | "running")
    }
}

/// A schedule, as the page shows it.
pub struct ScheduleRow {
    id: String,
    what: &'static str,
    format: String,
    cadence: &'static str,
    next: String,
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    chrome: Chrome,
    kinds: Vec<(&'static str, &'static str, &'static str)>,
    exports: Vec<ExportRow>,
    schedules: Vec<ScheduleRow>,
    running: bool,
    notice: Option<String>,
    error: Option<String>,
}

fn kinds() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "list",
            "Numbers list",
            "Every number you see, with its status, customer, SIP trunk and carriers.",
        ),
        (
            "update_template",
            "Update template",
            "The Update import's columns, filled in: change cells and import it back as an Update.",
        ),
        (
            "consolidated",
            "Consolidated",
            "One row per number held by a customer: customer name and account number, SIP trunk, billing reference.",
        ),
    ]
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

async fn exports_page(
    st: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let exports: Vec<ExportRow> = st
        .service
        .list_exports(user.actor(), 50)
        .await?
        .iter()
        .map(ExportRow::of)
        .collect();
    let schedules = st
        .service
        .list_export_schedules(user.actor())
        .await?
        .into_iter()
        .map(|s| ScheduleRow {
            id: s.id.to_string(),
            what: kind_title(s.kind),
            format: s.format.as_str().to_uppercase(),
            cadence: match s.cadence {
                Cadence::Daily => "Daily",
                Cadence::Weekly => "Weekly",
            },
            next: time_of(s.next_run_at),
        })
        .collect();
    let refused = error.is_some();
    Ok(render(
        status_for(refused),
        &ExportsPage {
            chrome: user.chrome("numbers"),
            kinds: kinds(),
            running: exports.iter().any(ExportRow::running),
            exports,
            schedules,
            notice,
            error,
        },
    ))
}

/// `GET /portal/exports`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> WebResult<Response> {
    let notice = match q.done.as_str() {
        "queued" => Some(
            "Export started. It is listed below; you are notified when the file is ready."
                .to_string(),
        ),
        "scheduled" => Some(
            "Scheduled. Each file is listed below and announced in your notifications.".to_string(),
        ),
        "unscheduled" => {
            Some("Schedule deleted. The files it made stay until they expire.".to_string())
        }
        _ => None,
    };
    exports_page(&st, &user, notice, None).await
}

#[derive(Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    cadence: String,
}

fn parse_kind_format(f: &ExportForm) -> Result<(ExportKind, FileFormat), String> {
    let kind = f
        .kind
        .parse::<ExportKind>()
        .map_err(|_| "Choose what to export.".to_string())?;
    let format = f
        .format
        .parse::<FileFormat>()
        .map_err(|_| "Choose CSV or XLSX.".to_string())?;
    Ok((kind, format))
}

/// `POST /portal/exports`: queues the export.
pub async fn create(State(st): State<WebState>, form: CsrfForm<ExportForm>) -> WebResult<Response> {
    let user = form.user;
    let (kind, format) = match parse_kind_format(&form.form) {
        Ok(x) => x,
        Err(m) => return exports_page(&st, &user, None, Some(m)).await,
    };
    match crate::jobs::request_export(&st.service, user.actor(), kind, format).await {
        Ok(_) => Ok(Redirect::to("/portal/exports?done=queued").into_response()),
        Err(e) => exports_page(&st, &user, None, Some(refusal(e)?)).await,
    }
}

fn export_id(s: &str) -> WebResult<ExportId> {
    s.parse()
        .map_err(|_| WebError::from(ServiceError::NotFound("export")))
}

/// `GET /portal/exports/{id}/file`: the file, streamed.
pub async fn file(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = export_id(&id)?;
    match st.service.ready_export(user.actor(), id).await {
        Ok(record) => Ok(export_download(&st.service, &record)),
        Err(e) => {
            let m = refusal(e)?;
            exports_page(&st, &user, None, Some(m)).await
        }
    }
}

/// `POST /portal/exports/schedules`.
pub async fn schedule(
    State(st): State<WebState>,
    form: CsrfForm<ExportForm>,
) -> WebResult<Response> {
    let user = form.user;
    let parsed = parse_kind_format(&form.form).and_then(|(k, f)| {
        form.form
            .cadence
            .parse::<Cadence>()
            .map(|c| (k, f, c))
            .map_err(|_| "Choose daily or weekly.".to_string())
    });
    let (kind, format, cadence) = match parsed {
        Ok(x) => x,
        Err(m) => return exports_page(&st, &user, None, Some(m)).await,
    };
    match st
        .service
        .create_export_schedule(user.actor(), kind, format, cadence)
        .await
    {
        Ok(_) => Ok(Redirect::to("/portal/exports?done=scheduled").into_response()),
        Err(e) => exports_page(&st, &user, None, Some(refusal(e)?)).await,
    }
}

/// `POST /portal/exports/schedules/{id}/delete`.
pub async fn unschedule(
    State(st): State<WebState>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id: ScheduleId = id
        .parse()
        .map_err(|_| WebError::from(ServiceError::NotFound("export schedule")))?;
    st.service
        .delete_export_schedule(form.user.actor(), id)
        .await?;
    Ok(Redirect::to("/portal/exports?done=unscheduled").into_response())
}

/// One notification, as the page shows it.
pub struct NoteRow {
    id: String,
    when: String,
    message: String,
    read: bool,
    /// The export's download, while it is there.
    download: Option<String>,
    /// Where what it is about is seen, and that page's name.
    link: (String, &'static str),
}

/// The page a notification of `kind` about `subject` leads to.
fn note_link(kind: &str, subject: &str) -> (String, &'static str) {
    match kind {
        "import_applied" | "import_failed" => (format!("/portal/imports/{subject}"), "The import"),
        "porting_order" => (format!("/portal/porting/{subject}"), "The porting order"),
        "webhook_disabled" => (format!("/portal/webhooks/{subject}"), "The webhook"),
        "pool_alert" => ("/portal#forecast".to_string(), "Days to exhaustion"),
        _ => ("/portal/exports".to_string(), "Exports"),
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notes: Vec<NoteRow>,
    unread: i64,
}

/// `GET /portal/notifications`.
pub async fn notifications(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    let all = st
        .service
        .list_notifications(user.actor(), false, 100)
        .await?;
    let ready: std::collections::HashSet<String> = st
        .service
        .list_exports(user.actor(), 200)
        .await?
        .into_iter()
        .filter(|e| e.record.status == ExportStatus::Ready)
        .map(|e| e.record.id.to_string())
        .collect();
    let unread = all.iter().filter(|n| n.read_at.is_none()).count() as i64;
    let notes = all
        .into_iter()
        .map(|n| NoteRow {
            id: n.id.to_string(),
            when: time_of(n.created_at),
            download: ready
                .contains(&n.subject_id)
                .then(|| format!("/portal/exports/{}/file", n.subject_id)),
            link: note_link(&n.kind, &n.subject_id),
            message: n.message,
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(render(
        status_for(false),
        &NotificationsPage {
            chrome: user.chrome("notifications"),
            notes,
            unread,
        },
    ))
}

/// `POST /portal/notifications/read`: every one read.
pub async fn read_all(State(st): State<WebState>, form: CsrfForm<Empty>) -> WebResult<Response> {
    st.service
        .mark_notifications_read(form.user.actor(), None)
        .await?;
    Ok(Redirect::to("/portal/notifications").into_response())
}

/// `POST /portal/notifications/{id}/read`.
pub async fn read_one(
    State(st): State<WebState>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id: NotificationId = id
        .parse()
        .map_err(|_| WebError::from(ServiceError::NotFound("notification")))?;
    st.service
        .mark_notifications_read(form.user.actor(), Some(id))
        .await?;
    Ok(Redirect::to("/portal/notifications").into_response())
}

/// `GET /portal/notifications/count`: the unread count for the navigation's badge (fetched by
/// htmx after the page loads, so no page waits for it); empty when there is none.
pub async fn count(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    let n = st.service.unread_notifications(user.actor()).await?;
    let body = if n > 0 {
        format!("<span class=\"badge\">{n}<span class=\"visually-hidden\"> unread</span></span>")
    } else {
        String::new()
    };
    Ok(Html(body).into_response())
}

/// A job the account ran, as the jobs page shows it.
pub struct JobRow {
    what: String,
    link: String,
    when: String,
    status: &'static str,
    job_state: String,
    detail: String,
    running: bool,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    running: bool,
}

/// `GET /portal/jobs`: the account's import applies and exports, newest first.
pub async fn jobs(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    let mut rows: Vec<(i64, JobRow)> = Vec::new();
    for v in st.service.list_exports(user.actor(), 50).await? {
        let r = ExportRow::of(&v);
        let job_state = v
            .job
            .as_ref()
            .map(|j| j.state.as_str().to_string())
            .unwrap_or_else(|| "done".into());
        rows.push((
            v.record.created_at,
            JobRow {
                what: format!(
                    "Export: {} ({}){}",
                    r.what,
                    r.format,
                    if r.scheduled { ", scheduled" } else { "" }
                ),
                link: "/portal/exports".into(),
                when: r.when.clone(),
                status: r.status,
                running: r.running(),
                job_state: match v.record.status {
                    ExportStatus::Failed => "failed".into(),
                    _ => job_state,
                },
                detail: r.detail,
            },
        ));
    }
    for rec in st.service.list_imports(user.actor(), 50).await? {
        // Only imports that were applied (a plan alone runs no job).
        let Some(job) = rec.job_id else { continue };
        let view = st.service.job_view(job).await?;
        let running = rec.status == ImportStatus::Applying;
        let detail = match (rec.status, &view) {
            (ImportStatus::Applying, Some(j)) => progress_words(j),
            (ImportStatus::Applied, _) => format!(
                "{} {}: {} added, {} updated, {} deleted, {} rejected",
                rec.counts.total,
                if rec.counts.total == 1 { "row" } else { "rows" },
                rec.counts.creates,
                rec.counts.updates,
                rec.counts.deletes,
                rec.counts.rejected
            ),
            (ImportStatus::Failed, _) => rec.error.clone().unwrap_or_default(),
            _ => String::new(),
        };
        rows.push((
            rec.updated_at,
            JobRow {
                what: format!("Import ({}): {}", rec.action.title(), rec.file_name),
                link: format!("/portal/imports/{}", rec.id),
                when: time_of(rec.updated_at),
                status: rec.status.as_str(),
                job_state: view
                    .map(|j| j.state.as_str().to_string())
                    .unwrap_or_else(|| "done".into()),
                detail,
                running,
            },
        ));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let jobs: Vec<JobRow> = rows.into_iter().map(|(_, r)| r).collect();
    Ok(render(
        status_for(false),
        &JobsPage {
            chrome: user.chrome("jobs"),
            running: jobs.iter().any(|j| j.running),
            jobs,
        },
    ))
}
