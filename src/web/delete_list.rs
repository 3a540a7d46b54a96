//! Seed 004's manual delete list: numbers typed or pasted, each checked as it is entered,
//! gathered with *Add to Delete List*, then *Delete*. For a customer, deleting is releasing
//! the number to the pool it came from; for a pool, it is deleting it from the inventory
//! (R-DEL-1, R-DEL-2). The result lists Removed Numbers and Rejected Numbers, each with a
//! total, and a reason per rejected number. Works without JavaScript; with htmx the check
//! runs as one types.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::input::phone_number;
use numberpool_store::NumberLookup;
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::{WebResult, explain};
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::ServiceError;

/// Most numbers one list holds (the seed's manual list is for a handful; files are for more).
const MAX: usize = 200;

/// One entry as checked.
#[derive(Debug, Clone)]
pub struct Entry {
    /// As typed, or the E.164 form when it parsed.
    pub number: String,
    pub ok: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "delete_list.html")]
struct DeletePage {
    chrome: Chrome,
    /// What the textarea holds (kept when something in it was refused).
    typed: String,
    list: Vec<Entry>,
    ready: usize,
    verb: &'static str,
    consequence: String,
    removed: Vec<String>,
    rejected: Vec<Entry>,
    done: bool,
    error: Option<String>,
    /// The live check's rows (filled only in the htmx fragment).
    checks: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "partials/checks.html")]
struct CheckedFragment {
    checks: Vec<Entry>,
}

/// The numbers in free text: one per line, or separated by commas, semicolons or spaces
/// between E.164 forms.
fn tokens(text: &str) -> Vec<String> {
    text.split(['\n', '\r', ',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether this account deletes (a pool) or releases (a customer or unit).
fn releases(user: &SignedIn) -> bool {
    !user.chrome("").is_pool()
}

/// Checks one entry: it must be a phone number the account holds, in a state the action
/// allows; what the action would answer is said in words.
async fn check(st: &WebState, user: &SignedIn, raw: &str) -> Entry {
    let e164 = match phone_number(raw, None) {
        Ok(e) => e,
        Err(e) => {
            return Entry {
                number: raw.to_string(),
                ok: false,
                note: format!("Not a phone number: {}", e.message),
            };
        }
    };
    let number = e164.as_str().to_string();
    match st
        .service
        .get_number(user.actor(), &NumberLookup::E164(e164))
        .await
    {
        Err(_) => Entry {
            number,
            ok: false,
            note: "Not one of your numbers.".into(),
        },
        Ok(n) if releases(user) && !n.assignees.is_empty() => Entry {
            number,
            ok: false,
            note: "Assigned: unassign it first (R-MOVE-3).".into(),
        },
        Ok(n) if !releases(user) && n.uploaded_by != user.actor().account => Entry {
            number,
            ok: false,
            note: "Only the account that uploaded it may delete it (R-DEL-2).".into(),
        },
        Ok(n) if !releases(user) && n.customer_id.is_some() => Entry {
            number,
            ok: false,
            note: "It is with a customer (R-DEL-1).".into(),
        },
        Ok(_) => Entry {
            number,
            ok: true,
            note: if releases(user) {
                "Ready: it will return to your provider.".into()
            } else {
                "Ready: it will be deleted.".into()
            },
        },
    }
}

async fn check_all(st: &WebState, user: &SignedIn, raws: &[String]) -> Vec<Entry> {
    let mut out = Vec::with_capacity(raws.len());
    for r in raws {
        out.push(check(st, user, r).await);
    }
    out
}

fn page(user: &SignedIn, typed: String, list: Vec<Entry>, error: Option<String>) -> DeletePage {
    let ready = list.iter().filter(|e| e.ok).count();
    let release = releases(user);
    DeletePage {
        chrome: user.chrome("delete"),
        typed,
        consequence: if release {
            format!(
                "{ready} numbers will leave {} and return to your provider's pool.",
                user.account_name
            )
        } else {
            format!(
                "{ready} numbers will be deleted from {}'s inventory.",
                user.account_name
            )
        },
        verb: if release { "Release" } else { "Delete" },
        ready,
        list,
        removed: vec![],
        rejected: vec![],
        done: false,
        error,
        checks: vec![],
    }
}

/// `GET /portal/delete-list`.
pub async fn show(user: SignedIn) -> Response {
    render(StatusCode::OK, &page(&user, String::new(), vec![], None))
}

#[derive(Deserialize)]
pub struct CheckQuery {
    #[serde(default)]
    numbers: String,
}

/// `GET /portal/delete-list/check?numbers=…`: the check of what is typed, for htmx.
pub async fn check_typed(
    State(st): State<WebState>,
    user: SignedIn,
    Query(q): Query<CheckQuery>,
) -> Response {
    let raws: Vec<String> = tokens(&q.numbers).into_iter().take(MAX).collect();
    let checks = check_all(&st, &user, &raws).await;
    render(StatusCode::OK, &CheckedFragment { checks })
}

/// `POST /portal/delete-list`: `action=add` gathers what is typed into the list (each entry
/// checked, duplicates once); `action=delete` acts on every ready entry of the list.
pub async fn submit(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let get = |k: &'static str| -> Vec<String> {
        form.iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let first = |k: &'static str| get(k).into_iter().next().unwrap_or_default();
    let action = first("action");
    let typed = first("numbers");
    let mut raws: Vec<String> = get("list");
    if action == "add" {
        raws.extend(tokens(&typed));
    }
    let mut seen = std::collections::HashSet::new();
    let mut list = check_all(&st, &user, &raws).await;
    list.retain(|e| seen.insert(e.number.clone()));
    if list.len() > MAX {
        let m = format!("A delete list holds at most {MAX} numbers; use a bulk file for more.");
        list.truncate(MAX);
        return Ok(render(
            StatusCode::BAD_REQUEST,
            &page(&user, typed, list, Some(m)),
        ));
    }
    if action != "delete" {
        if list.is_empty() {
            let m = "Type or paste at least one phone number.".to_string();
            return Ok(render(
                StatusCode::BAD_REQUEST,
                &page(&user, typed, list, Some(m)),
            ));
        }
        // What was gathered leaves the text box; what was refused stays listed with its reason.
        return Ok(render(
            StatusCode::OK,
            &page(&user, String::new(), list, None),
        ));
    }
    let mut removed = vec![];
    let mut rejected = vec![];
    for e in list {
        if !e.ok {
            rejected.push(e);
            continue;
        }
        let outcome = match NumberLookup::parse(&e.number) {
            None => Err(ServiceError::NotFound("number")),
            Some(l) if releases(&user) => st.service.release(user.actor(), &l).await,
            Some(l) => st.service.delete_number(user.actor(), &l, None).await,
        };
        match outcome {
            Ok(_) => removed.push(e.number),
            Err(ServiceError::Internal(i)) => return Err(ServiceError::Internal(i).into()),
            Err(err) => {
                let (_, _, note) = explain(&err);
                rejected.push(Entry {
                    number: e.number,
                    ok: false,
                    note,
                });
            }
        }
    }
    let mut p = page(&user, String::new(), vec![], None);
    p.removed = removed;
    p.rejected = rejected;
    p.done = true;
    Ok(render(StatusCode::OK, &p))
}
