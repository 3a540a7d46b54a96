//! The portal's imports (issue 13): `/portal/imports` has the tabs Add, Update and Delete,
//! each with its sample files and an upload form, and the account's recent imports;
//! `/portal/imports/{id}` is one import's plan (counts, every rejected row with its reason,
//! the numbers a delete removes), the rejected rows to download, and *Apply*.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::import::{FileFormat, ImportAction, ImportStatus};
use numberpool_domain::{AccountKind, CarrierKind, Country, ImportId};
use serde::Deserialize;

use super::csrf::{CsrfForm, same_token};
use super::errors::{WebError, WebResult};
use super::forms::{Choice, Empty, refusal};
use super::signin::render;
use super::{Chrome, SignedIn, WebState, status_for};
use crate::api::imports::file_response;
use crate::service::progress::Phase;
use crate::service::{AddOptions, ImportRequest, ImportView, PlanRow, RowOutcome, import_sample};

/// One recent import, as the list shows it.
pub struct Recent {
    pub id: String,
    pub when: String,
    pub action: &'static str,
    pub file_name: String,
    pub status: &'static str,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    chrome: Chrome,
    /// The tab shown: `add`, `update` or `delete`.
    tab: &'static str,
    /// The tab's title, which is also the XLSX sheet name it reads.
    tab_title: &'static str,
    tabs: Vec<(&'static str, &'static str)>,
    /// What the tab's rows do, in a sentence.
    about: &'static str,
    countries: Vec<Choice>,
    /// Seed 003's upload form for an add file in a pool: carriers in place of the provider's
    /// defaults, and the account the numbers are allocated to (empty lists hide the fields).
    voice_carriers: Vec<Choice>,
    sms_carriers: Vec<Choice>,
    targets: Vec<Choice>,
    limit_note: String,
    recent: Vec<Recent>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    id: String,
    action: &'static str,
    file_name: String,
    status: &'static str,
    planned: bool,
    creates: i64,
    updates: i64,
    unchanged: i64,
    deletes: i64,
    rejected: i64,
    total: i64,
    rejected_rows: Vec<PlanRow>,
    /// Update rows with their changes.
    updated_rows: Vec<PlanRow>,
    removed: Vec<String>,
    error: Option<String>,
    notice: Option<String>,
    job: Option<JobShown>,
}

/// The apply's job as the plan page shows it while it runs.
struct JobShown {
    label: &'static str,
    done: u64,
    total: u64,
    percent: u64,
    attempts: i32,
    max_attempts: i32,
}

impl JobShown {
    /// `j`, for a file of `rows` rows (the total before the job has read the file).
    fn of(j: &crate::service::JobView, rows: i64) -> JobShown {
        let p = &j.progress;
        let total = if p.total > 0 {
            p.total
        } else {
            u64::try_from(rows).unwrap_or(0)
        };
        let (label, done) = match p.phase {
            Phase::Queued => ("Waiting for a worker", 0),
            Phase::Planning => ("Checking the rows again", p.planned),
            Phase::Writing => ("Writing", p.written),
            Phase::Finished => ("Finishing", total),
        };
        JobShown {
            label,
            done,
            total,
            percent: (done * 100).checked_div(total).unwrap_or(0),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
        }
    }
}

#[derive(Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    action: String,
}

fn tab_of(s: &str) -> ImportAction {
    s.parse().unwrap_or(ImportAction::Add)
}

fn words(a: ImportAction, pool: bool) -> &'static str {
    match a {
        ImportAction::Delete if !pool => {
            "Each row removes a number from your account: it goes back to your provider's pool \
             (seed 004's Delete Phone Numbers). The plan lists the numbers removed and the ones \
             rejected, with the reason, before anything changes."
        }
        ImportAction::Add => {
            "Each row adds a number to your inventory. Only the Phone Number column is required; \
             blank cells take the defaults."
        }
        ImportAction::Update => {
            "Each row changes the columns it fills of a number you have; blank cells leave a \
             field as it is."
        }
        ImportAction::Delete => {
            "Each row deletes a number from your inventory. Only free or returned numbers you \
             uploaded can be deleted."
        }
    }
}

/// A time as the portal's tables show it (UTC, to the minute).
pub(super) fn time_of(ms: i64) -> String {
    crate::api::audit::rfc3339(ms)
        .get(..16)
        .unwrap_or_default()
        .replace('T', " ")
}

/// A recent import's rows in words: what its action does to them, and how many were refused.
fn summary(v: &numberpool_store::ImportRecord) -> String {
    let c = &v.counts;
    let done = match v.action {
        ImportAction::Add => format!("{} to add", c.creates),
        ImportAction::Update => format!("{} to update, {} unchanged", c.updates, c.unchanged),
        ImportAction::Delete => format!("{} to delete", c.deletes),
    };
    format!("{} rows: {done}, {} rejected", c.total, c.rejected)
}

async fn page(
    st: &WebState,
    user: &SignedIn,
    tab: ImportAction,
    error: Option<String>,
) -> WebResult<Response> {
    let recent = st
        .service
        .list_imports(user.actor(), 20)
        .await?
        .into_iter()
        .map(|r| Recent {
            id: r.id.to_string(),
            when: time_of(r.created_at),
            action: r.action.title(),
            summary: summary(&r),
            file_name: r.file_name,
            status: r.status.as_str(),
        })
        .collect();
    let chrome = user.chrome("numbers");
    let pool = chrome.is_pool();
    let limit_note = if chrome.is_pool() {
        "A file holds fewer than 10,000 rows (unless your operator set another limit)."
    } else {
        "A file holds at most 200 rows (unless your operator set another limit)."
    }
    .to_string();
    let refused = error.is_some();
    let (mut voice_carriers, mut sms_carriers, mut targets) = (vec![], vec![], vec![]);
    if pool && tab == ImportAction::Add {
        let actor = user.actor();
        let carriers = st.service.list_carriers(actor, None).await?;
        let of_kind = |kind: CarrierKind, none: &str| {
            let mut list = vec![Choice {
                value: String::new(),
                label: none.to_string(),
                selected: true,
            }];
            list.extend(Choice::list(
                carriers.iter().filter(|c| c.kind == kind),
                "",
                |c| (c.name.clone(), c.name.clone()),
            ));
            list
        };
        voice_carriers = of_kind(CarrierKind::Voice, "The provider's default voice carrier");
        sms_carriers = of_kind(CarrierKind::Sms, "The provider's default SMS carrier");
        let accounts = st.service.list_accounts(actor).await?;
        targets.push(Choice {
            value: String::new(),
            label: "No one: keep them in my pool".into(),
            selected: true,
        });
        targets.extend(Choice::accounts(
            accounts
                .iter()
                .filter(|a| a.parent_id == Some(actor.account) || a.parent_id.is_none())
                .filter(|a| a.id != actor.account && a.kind != AccountKind::Provider),
            "",
        ));
    }
    Ok(render(
        status_for(refused),
        &ImportsPage {
            chrome,
            tab: tab.as_str(),
            tab_title: tab.title(),
            tabs: ImportAction::ALL
                .iter()
                .map(|a| (a.as_str(), a.title()))
                .collect(),
            about: words(tab, pool),
            countries: country_choices(),
            voice_carriers,
            sms_carriers,
            targets,
            limit_note,
            recent,
            error,
        },
    ))
}

/// The default countries offered: the ones numbers are most often loaded for.
fn country_choices() -> Vec<Choice> {
    Choice::list(
        [
            ("", "None: the numbers carry their +"),
            ("US", "United States and Canada (+1)"),
            ("GB", "United Kingdom (+44)"),
            ("AU", "Australia (+61)"),
            ("DE", "Germany (+49)"),
            ("FR", "France (+33)"),
            ("IE", "Ireland (+353)"),
            ("NL", "Netherlands (+31)"),
        ]
        .iter(),
        "",
        |(v, l)| (v.to_string(), l.to_string()),
    )
}

/// `GET /portal/imports`.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Query(q): Query<TabQuery>,
) -> WebResult<Response> {
    page(&st, &user, tab_of(&q.action), None).await
}

/// The upload form's fields.
pub struct Upload {
    action: ImportAction,
    default_country: Option<Country>,
    add: AddOptions,
    file_name: String,
    bytes: Vec<u8>,
}

/// A multipart upload of a signed-in user, its token checked like every form's.
pub struct CsrfUpload {
    user: SignedIn,
    /// The tab the form was on, to show again with a refusal.
    tab: ImportAction,
    upload: Result<Upload, String>,
}

impl FromRequest<WebState> for CsrfUpload {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let user = SignedIn::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::Csrf)?;
        let (mut csrf, mut action, mut country, mut file) =
            (String::new(), String::new(), String::new(), None);
        let (mut voice, mut sms, mut target) = (String::new(), String::new(), String::new());
        let bad = |e: axum::extract::multipart::MultipartError| {
            WebError::BadRequest(format!("The upload could not be read: {}.", e.body_text()))
        };
        while let Some(field) = form.next_field().await.map_err(bad)? {
            match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.map_err(bad)?,
                "action" => action = field.text().await.map_err(bad)?,
                "default_country" => country = field.text().await.map_err(bad)?,
                "voice_carrier" => voice = field.text().await.map_err(bad)?,
                "sms_carrier" => sms = field.text().await.map_err(bad)?,
                "target" => target = field.text().await.map_err(bad)?,
                "file" => {
                    let name = field.file_name().unwrap_or("import").to_string();
                    file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
                }
                _ => {}
            }
        }
        // The token first: a forged upload learns nothing about its fields.
        if !same_token(&csrf, &user.session.csrf_token) {
            return Err(WebError::Csrf);
        }
        let tab = tab_of(&action);
        let upload = (|| {
            let action: ImportAction = action.parse().map_err(|e| format!("Action: {e}."))?;
            let default_country = match country.trim() {
                "" => None,
                c => Some(Country::parse(c).map_err(|e| format!("Default country: {e}."))?),
            };
            let filled = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
            let add = AddOptions {
                voice_carrier: filled(&voice),
                sms_carrier: filled(&sms),
                target: filled(&target)
                    .map(|t| {
                        t.parse()
                            .map_err(|_| "Allocate to: choose an account.".to_string())
                    })
                    .transpose()?,
            };
            let (file_name, bytes) = file
                .filter(|(_, b)| !b.is_empty())
                .ok_or("Choose a CSV or XLSX file to upload.")?;
            Ok(Upload {
                action,
                default_country,
                add,
                file_name,
                bytes,
            })
        })();
        Ok(CsrfUpload { user, tab, upload })
    }
}

/// `POST /portal/imports`: plan the file; the plan's page follows.
pub async fn upload(State(st): State<WebState>, form: CsrfUpload) -> WebResult<Response> {
    let user = form.user;
    let up = match form.upload {
        Ok(u) => u,
        Err(e) => return page(&st, &user, form.tab, Some(e)).await,
    };
    let req = ImportRequest {
        action: up.action,
        file_name: up.file_name,
        default_country: up.default_country,
        add: up.add,
    };
    match st.service.plan_import(user.actor(), &req, up.bytes).await {
        Ok(v) => Ok(Redirect::to(&format!("/portal/imports/{}", v.record.id)).into_response()),
        Err(e) => page(&st, &user, up.action, Some(refusal(e)?)).await,
    }
}

fn id_of(raw: &str) -> WebResult<ImportId> {
    raw.parse()
        .map_err(|_| WebError::from(crate::service::ServiceError::NotFound("import")))
}

fn plan_page(
    user: &SignedIn,
    v: ImportView,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let r = &v.record;
    let page = ImportPage {
        chrome: user.chrome("numbers"),
        id: r.id.to_string(),
        action: r.action.title(),
        file_name: r.file_name.clone(),
        status: r.status.as_str(),
        planned: r.status == ImportStatus::Planned,
        creates: r.counts.creates,
        updates: r.counts.updates,
        unchanged: r.counts.unchanged,
        deletes: r.counts.deletes,
        rejected: r.counts.rejected,
        total: r.counts.total,
        removed: v
            .rows
            .iter()
            .filter(|p| p.outcome == RowOutcome::Delete)
            .map(|p| p.phone_number.clone())
            .collect(),
        updated_rows: v
            .rows
            .iter()
            .filter(|p| p.outcome == RowOutcome::Update)
            .cloned()
            .collect(),
        rejected_rows: v
            .rows
            .into_iter()
            .filter(|p| p.outcome == RowOutcome::Reject)
            .collect(),
        error: error.or_else(|| r.error.clone()),
        notice,
        job: v.job.as_ref().map(|j| JobShown::of(j, r.counts.total)),
    };
    let refused = page.error.is_some();
    render(status_for(refused), &page)
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /portal/imports/{id}`.
pub async fn plan(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> WebResult<Response> {
    let v = st.service.get_import(user.actor(), id_of(&id)?).await?;
    let notice = (q.done == "applied" && v.record.status == ImportStatus::Applied).then(|| {
        let c = &v.record.counts;
        let (n, verb) = match v.record.action {
            ImportAction::Delete => (c.deletes, "deleted"),
            ImportAction::Update => (c.updates, "updated"),
            ImportAction::Add => (c.creates, "added"),
        };
        format!(
            "Applied: {n} {} {verb}.",
            if n == 1 { "number" } else { "numbers" }
        )
    });
    Ok(plan_page(&user, v, None, notice))
}

/// `POST /portal/imports/{id}/apply`.
pub async fn apply(
    State(st): State<WebState>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> WebResult<Response> {
    let user = form.user;
    let id = id_of(&id)?;
    match crate::jobs::request_import_apply(&st.service, user.actor(), id).await {
        Ok(_) => Ok(Redirect::to(&format!("/portal/imports/{id}?done=applied")).into_response()),
        Err(e) => {
            let message = refusal(e)?;
            let v = st.service.get_import(user.actor(), id).await?;
            Ok(plan_page(&user, v, Some(message), None))
        }
    }
}

/// `GET /portal/imports/{id}/rejected`: the rejected rows, in the uploaded format.
pub async fn rejected(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (format, name, data) = st
        .service
        .rejected_rows_file(user.actor(), id_of(&id)?)
        .await?;
    Ok(file_response(format, &name, data))
}

#[derive(Deserialize)]
pub struct SampleQuery {
    #[serde(default)]
    format: String,
}

/// `GET /portal/imports/samples/{action}?format=csv|xlsx`.
pub async fn sample(
    _user: SignedIn,
    Path(action): Path<String>,
    Query(q): Query<SampleQuery>,
) -> WebResult<Response> {
    let action: ImportAction = action
        .parse()
        .map_err(|_| WebError::from(crate::service::ServiceError::NotFound("sample")))?;
    let format = q.format.parse().unwrap_or(FileFormat::Csv);
    let data = import_sample(action, format)?;
    Ok(file_response(
        format,
        &format!("numberpool-{action}-sample.{format}"),
        data,
    ))
}
