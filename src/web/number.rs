//! One number's page: its fields, the moves the signed-in account may make from where the
//! number is (allocate, assign, unassign, move to a unit, release, unbind, delete), and its
//! ownership timeline (who held it and when, assigned to whom, changed by whom, through which
//! channel). Destructive moves go through a confirmation page that says what will change.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{
    Account, AccountId, AccountKind, Assignee, AssigneeType, Number, TrunkId, ViewPosition,
};
use numberpool_store::NumberLookup;
use serde::Deserialize;

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult, explain};
use super::forms::Choice;
use super::forms::ConfirmPage;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{AllocateOptions, NumberView, ServiceError};

/// A number's URL segment: its id or its E.164 form.
pub fn lookup(raw: &str) -> WebResult<NumberLookup> {
    NumberLookup::deferred(raw).ok_or(WebError::Service(ServiceError::NotFound("number")))
}

/// `2026-12-03 21:15 UTC` for Unix milliseconds.
pub fn when(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// One labelled field of the number.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub value: String,
}

/// One event of the ownership timeline.
#[derive(Debug, Clone)]
pub struct Moment {
    pub at: String,
    pub what: String,
    pub by: String,
    pub channel: String,
    pub holder: String,
    pub assigned: String,
}

/// What the page offers, decided from where the number is as this account sees it; the
/// service still checks every rule when a form is sent.
#[derive(Debug, Clone, Default)]
pub struct Offers {
    pub allocate: bool,
    pub assign: bool,
    pub unassign: bool,
    pub move_to_unit: bool,
    pub release: bool,
    pub unbind: bool,
    pub delete: bool,
}

#[derive(Template)]
#[template(path = "number.html")]
struct NumberPage {
    chrome: Chrome,
    id: String,
    phone_number: String,
    position: String,
    fields: Vec<Field>,
    assignees: Vec<Assignee>,
    offers: Offers,
    targets: Vec<Choice>,
    trunks: Vec<Choice>,
    units: Vec<Choice>,
    assignee_types: Vec<Choice>,
    timeline: Vec<Moment>,
    /// Seed 004's View Assignments, for the business that holds the number.
    assignments: Vec<Field>,
    error: Option<String>,
    notice: Option<String>,
}

async fn accounts(st: &WebState, user: &SignedIn) -> WebResult<Vec<Account>> {
    Ok(st.service.list_accounts(user.actor()).await?)
}

fn names(accounts: &[Account]) -> HashMap<AccountId, String> {
    accounts.iter().map(|a| (a.id, a.name.clone())).collect()
}

fn name_of(names: &HashMap<AccountId, String>, id: Option<AccountId>) -> String {
    id.map(|id| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "another account".into())
    })
    .unwrap_or_default()
}

fn assignee_words(a: &[Assignee]) -> String {
    a.iter()
        .map(|a| match &a.display_name {
            Some(d) => format!("{d} ({} {})", label(a.kind.as_str()), a.id),
            None => format!("{} {}", label(a.kind.as_str()), a.id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the page for `n`, with an error or notice to show at the top.
async fn page(
    st: &WebState,
    user: &SignedIn,
    n: &Number,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let me = user.actor().account;
    let accounts = accounts(st, user).await?;
    let names = names(&accounts);
    let v = NumberView::of(n, me);
    let trunks = st
        .service
        .list_trunks(user.actor())
        .await
        .unwrap_or_default();
    let trunk_name = |id: Option<TrunkId>| {
        id.map(|id| {
            trunks
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| "a trunk of the provider".to_string(), |t| t.name.clone())
        })
        .unwrap_or_default()
    };
    let c = &v.customization;
    let flag = |on: bool, what: &'static str| if on { what } else { "" };
    let customization = format!(
        "capacity {}, voice {}, messaging {}{}{}",
        label(c.capacity.as_str()).to_lowercase(),
        label(c.voice_direction.as_str()).to_lowercase(),
        label(c.messaging.as_str()).to_lowercase(),
        flag(c.outbound_dialer, ", outbound dialer"),
        flag(c.outbound_cli_shared, ", outbound CLI shared"),
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // "San Francisco, CA", either part alone when the other is unknown.
    let location = [&v.city, &v.state]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let attributes: Vec<String> = v
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let fields: Vec<Field> = [
        ("Type", label(v.number_type.as_str())),
        ("Location", location),
        ("Status", label(v.status.api_str())),
        ("Product", label(v.product.as_str())),
        ("Position", label(v.position.as_str())),
        ("Held by", name_of(&names, Some(v.holder_id))),
        ("Customer", name_of(&names, v.customer_id)),
        ("SIP trunk", trunk_name(v.sip_trunk_id)),
        ("Billing reference", text(&v.billing_reference)),
        ("Service info", text(&v.service_info)),
        ("Display name", text(&v.display_name)),
        ("Call purpose", text(&v.call_purpose)),
        ("Program duration", text(&v.program_duration)),
        ("Source", v.source.clone()),
        ("Customization", customization),
        ("Attributes", attributes.join(", ")),
        ("Uploaded by", name_of(&names, Some(v.uploaded_by))),
        ("Added", when(v.created_at)),
        ("Changed", when(v.updated_at)),
    ]
    .into_iter()
    .map(|(name, value)| Field { name, value })
    .collect();
    let writer = user.chrome("numbers").can_write();
    let is_held = matches!(
        v.position,
        ViewPosition::Assigned | ViewPosition::Unassigned
    );
    let children: Vec<&Account> = accounts.iter().filter(|a| a.id != me).collect();
    let units = Choice::list(
        children.iter().filter(|a| a.kind == AccountKind::Unit),
        "",
        |a| (a.id.to_string(), a.name.clone()),
    );
    let offers = Offers {
        allocate: writer && v.position == ViewPosition::Free && !children.is_empty(),
        assign: writer && is_held,
        unassign: writer && !v.assignees.is_empty() && is_held,
        move_to_unit: writer && is_held && !units.is_empty(),
        release: writer && is_held,
        unbind: writer && v.position == ViewPosition::Returned,
        // R-DEL-1/R-DEL-2 as the domain decides them (a customer's own upload, free in its
        // pool, included): the action is absent wherever the move would be refused.
        delete: writer
            && accounts
                .iter()
                .find(|a| a.id == me)
                .is_some_and(|a| numberpool_domain::moves::delete(n, a).is_ok()),
    };
    let targets = Choice::accounts(
        children
            .iter()
            .copied()
            .filter(|a| a.kind != AccountKind::Provider),
        "",
    );
    let trunk_choices = Choice::trunks(&trunks, "");
    let assignments = if is_held {
        let a = st
            .service
            .number_assignments(user.actor(), &NumberLookup::Id(n.id))
            .await?;
        let name = |r: &Option<crate::service::AccountRef>| {
            r.as_ref().map(|r| r.name.clone()).unwrap_or_default()
        };
        [
            ("Business", name(&a.business)),
            ("Business unit", name(&a.business_unit)),
            ("Program", name(&a.program)),
            ("Display name", a.display_name.clone().unwrap_or_default()),
            (
                "Program duration",
                a.program_duration.clone().unwrap_or_default(),
            ),
        ]
        .into_iter()
        .map(|(name, value)| Field { name, value })
        .collect()
    } else {
        vec![]
    };
    let history = st
        .service
        .number_history(user.actor(), &NumberLookup::Id(n.id))
        .await?;
    let timeline = history
        .iter()
        .rev()
        .map(|e| {
            let after = e.after.as_ref();
            let holder = after
                .and_then(|a| a.get("holder_id"))
                .and_then(|h| h.as_str())
                .and_then(|h| h.parse::<AccountId>().ok());
            let assigned: Vec<Assignee> = after
                .and_then(|a| a.get("assignees"))
                .and_then(|a| serde_json::from_value(a.clone()).ok())
                .unwrap_or_default();
            let actor_account = e
                .actor_account_id
                .as_deref()
                .and_then(|a| a.parse::<AccountId>().ok());
            Moment {
                at: when(e.at),
                what: label(e.action.as_str().rsplit('.').next().unwrap_or("")),
                by: match actor_account {
                    Some(a) => format!(
                        "{} ({} {})",
                        name_of(&names, Some(a)),
                        e.actor_type,
                        e.actor_id
                    ),
                    None => format!("operator ({})", e.actor_type),
                },
                channel: e.channel.as_str().to_string(),
                holder: if after.is_none() {
                    "deleted".into()
                } else {
                    name_of(&names, holder)
                },
                assigned: assignee_words(&assigned),
            }
        })
        .collect();
    Ok(render(
        super::status_for(error.is_some()),
        &NumberPage {
            chrome: user.chrome("numbers"),
            id: v.id.to_string(),
            phone_number: v.phone_number.clone(),
            position: label(v.position.as_str()),
            fields,
            assignees: v.assignees.clone(),
            offers,
            targets,
            trunks: trunk_choices,
            units,
            assignee_types: Choice::of(&AssigneeType::ALL, AssigneeType::as_str, ""),
            timeline,
            assignments,
            error,
            notice,
        },
    ))
}

/// What the page says after a redirect to it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    added: Option<String>,
    warning: Option<String>,
}

/// `GET /portal/numbers/{id}`.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> WebResult<Response> {
    let n = st.service.get_number(user.actor(), &lookup(&id)?).await?;
    let notice = q
        .added
        .map(|_| format!("{} is added.", n.phone_number.as_str()));
    page(&st, &user, &n, q.warning, notice).await
}

/// After a move: back to the number's page (303, so a reload does not send it again), or the
/// page again with the refusal in words.
async fn after_move(
    st: &WebState,
    user: &SignedIn,
    id: &str,
    outcome: Result<Number, ServiceError>,
) -> WebResult<Response> {
    match outcome {
        Ok(n) => Ok(Redirect::to(&format!("/portal/numbers/{}", n.id)).into_response()),
        Err(
            e @ (ServiceError::Rule(_)
            | ServiceError::Conflict(_)
            | ServiceError::Invalid(_)
            | ServiceError::NotFound("SIP trunk" | "account" | "unit")),
        ) => {
            let n = st.service.get_number(user.actor(), &lookup(id)?).await?;
            let (_, _, message) = explain(&e);
            page(st, user, &n, Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}

fn blank(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The fields of every move's form; each move reads its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    account: String,
    sip_trunk: String,
    billing_reference: String,
    service_info: String,
    assignee_type: String,
    assignee_id: String,
    display_name: String,
    unit: String,
}

/// A move's input that does not parse: said on the number's page.
struct Unreadable(&'static str);

/// The move a form asks for, from its path's last segment.
async fn run_move(
    st: &WebState,
    user: &SignedIn,
    l: &NumberLookup,
    verb: &str,
    f: &MoveForm,
) -> WebResult<Result<Result<Number, ServiceError>, Unreadable>> {
    let actor = user.actor();
    let id_of = |raw: &str, what: &'static str| {
        raw.trim()
            .parse::<AccountId>()
            .map_err(|_| Unreadable(what))
    };
    let svc = &st.service;
    Ok(Ok(match verb {
        "allocate" => {
            let target = match id_of(&f.account, "Choose the account to allocate the number to.") {
                Ok(t) => t,
                Err(u) => return Ok(Err(u)),
            };
            let sip_trunk_id = match blank(&f.sip_trunk).map(|t| t.parse::<TrunkId>()) {
                None => None,
                Some(Ok(t)) => Some(t),
                Some(Err(_)) => return Ok(Err(Unreadable("Choose a SIP trunk from the list."))),
            };
            let opts = AllocateOptions {
                sip_trunk_id,
                billing_reference: blank(&f.billing_reference),
                service_info: blank(&f.service_info),
            };
            svc.allocate(actor, l, target, opts).await
        }
        "assign" => {
            let Ok(kind) = f.assignee_type.parse::<AssigneeType>() else {
                return Ok(Err(Unreadable("Choose what to assign the number to.")));
            };
            let Some(who) = blank(&f.assignee_id) else {
                return Ok(Err(Unreadable(
                    "Enter the id of the user, queue or room to assign the number to.",
                )));
            };
            let display_name = blank(&f.display_name);
            svc.assign(
                actor,
                l,
                Assignee {
                    kind,
                    id: who,
                    display_name,
                },
            )
            .await
        }
        "unassign" => {
            svc.unassign(actor, l, blank(&f.assignee_id).as_deref())
                .await
        }
        "unit" => match id_of(&f.unit, "Choose a unit from the list.") {
            Ok(unit) => svc.move_to_unit(actor, l, unit).await,
            Err(u) => return Ok(Err(u)),
        },
        _ => return Err(ServiceError::NotFound("page").into()),
    }))
}

/// `POST /portal/numbers/{id}/{allocate|assign|unassign|unit|release|unbind|delete}`.
pub async fn move_number(
    State(st): State<WebState>,
    Path((id, verb)): Path<(String, String)>,
    CsrfForm { user, form }: CsrfForm<MoveForm>,
) -> WebResult<Response> {
    if let Some(what) = Destructive::from_path(&verb) {
        return what.run(&st, &user, &id).await;
    }
    let l = lookup(&id)?;
    match run_move(&st, &user, &l, &verb, &form).await? {
        Ok(outcome) => after_move(&st, &user, &id, outcome).await,
        Err(Unreadable(message)) => {
            let n = st.service.get_number(user.actor(), &l).await?;
            page(&st, &user, &n, Some(message.to_string()), None).await
        }
    }
}

/// A destructive move, confirmed on its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destructive {
    Release,
    Unbind,
    Delete,
}

impl Destructive {
    /// Makes the move; a release or delete leads back to the list (the number left the view).
    async fn run(self, st: &WebState, user: &SignedIn, id: &str) -> WebResult<Response> {
        let what = self;
        let l = lookup(id)?;
        let actor = user.actor();
        let outcome = match what {
            Destructive::Release => st.service.release(actor, &l).await,
            Destructive::Unbind => st.service.unbind(actor, &l).await,
            Destructive::Delete => st.service.delete_number(actor, &l, None).await,
        };
        match (what, outcome) {
            // A released number leaves the customer's view; a deleted one is gone.
            (Destructive::Release | Destructive::Delete, Ok(n)) => Ok(Redirect::to(&format!(
                "/portal/numbers?done={}&number={}",
                what.path(),
                urlencoding(n.phone_number.as_str())
            ))
            .into_response()),
            (_, outcome) => after_move(st, user, id, outcome).await,
        }
    }

    /// The move a path's last segment names; `None` (then 404) for any other word.
    fn from_path(word: &str) -> Option<Destructive> {
        [Self::Release, Self::Unbind, Self::Delete]
            .into_iter()
            .find(|d| d.path() == word)
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Release => "Release",
            Self::Unbind => "Unbind",
            Self::Delete => "Delete",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Unbind => "unbind",
            Self::Delete => "delete",
        }
    }
}

/// What the move will change, in words.
async fn consequence(
    st: &WebState,
    user: &SignedIn,
    n: &Number,
    what: Destructive,
) -> WebResult<String> {
    let names = names(&accounts(st, user).await?);
    let pool = n.allocated_from.unwrap_or(n.owner_id);
    let pool_name = match names.get(&pool) {
        Some(name) => name.clone(),
        None => st
            .service
            .name_above(user.actor(), pool)
            .await?
            .unwrap_or_else(|| "your provider".into()),
    };
    let e = n.phone_number.as_str();
    Ok(match what {
        Destructive::Release => {
            // The pool that allocated it takes it back (R-MOVE-3).
            format!(
                "{e} will return to {pool_name}'s pool as Returned. Its display name, call purpose and customization are cleared, and {} will no longer see it.",
                user.account_name
            )
        }
        Destructive::Unbind => format!(
            "{e} will leave its customer for good and become Free in {}'s pool, ready to allocate again.",
            user.account_name
        ),
        Destructive::Delete => format!(
            "{e} will be deleted from the inventory. Its history stays in the audit log; the number itself cannot be brought back except by adding it again."
        ),
    })
}

async fn confirm_page(
    st: &WebState,
    user: SignedIn,
    id: &str,
    what: Destructive,
) -> WebResult<Response> {
    let n = st.service.get_number(user.actor(), &lookup(id)?).await?;
    let consequence = consequence(st, &user, &n, what).await?;
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("numbers"),
            title: format!("{} {}?", what.verb(), n.phone_number.as_str()),
            consequence,
            action: format!("/portal/numbers/{}/{}", n.id, what.path()),
            verb: what.verb(),
            back: format!("/portal/numbers/{}", n.id),
            danger: what == Destructive::Delete,
        },
    ))
}

pub fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|q| q.trim_start_matches("x=").to_string())
        .unwrap_or_default()
}

fn destructive(word: &str) -> WebResult<Destructive> {
    Destructive::from_path(word).ok_or(WebError::Service(ServiceError::NotFound("page")))
}

/// `GET /portal/numbers/{id}/{release|unbind|delete}`: the confirmation, naming what changes.
pub async fn confirm(
    State(st): State<WebState>,
    user: SignedIn,
    Path((id, word)): Path<(String, String)>,
) -> WebResult<Response> {
    let what = destructive(&word)?;
    confirm_page(&st, user, &id, what).await
}
