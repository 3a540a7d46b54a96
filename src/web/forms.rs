//! What several pages' forms share: the body of a form that carries only its CSRF token, the
//! confirmation page of a destructive action, which refusals a form says in words beside it, and
//! the notice a redirect after a change carries to the page it lands on.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{Account, Action, SipTrunk};
use serde::Deserialize;

use super::Chrome;
use super::audit::action_words;
use super::chart::label;
use super::errors::{WebResult, explain};
use crate::service::ServiceError;

/// An option of a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// The options for `items`, each shown as `show` says (value, label); the one whose value is
    /// `chosen` (spaces and case aside) is selected.
    pub fn list<T>(
        items: impl IntoIterator<Item = T>,
        chosen: &str,
        show: impl Fn(&T) -> (String, String),
    ) -> Vec<Choice> {
        let chosen = chosen.trim();
        items
            .into_iter()
            .map(|item| {
                let (value, label) = show(&item);
                Choice {
                    selected: value.eq_ignore_ascii_case(chosen),
                    value,
                    label,
                }
            })
            .collect()
    }

    /// The options for an enum's variants: its wire name as the value, in words as the label.
    pub fn of<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str, chosen: &str) -> Vec<Choice> {
        Choice::list(all.iter().map(|&v| name(v)), chosen, |w| {
            (w.to_string(), label(w))
        })
    }

    /// The provider's SIP trunks, each as "name (region)".
    pub fn trunks(trunks: &[SipTrunk], chosen: &str) -> Vec<Choice> {
        Choice::list(trunks, chosen, |t| {
            (t.id.to_string(), format!("{} ({})", t.name, t.region))
        })
    }

    /// Accounts, each as "name (kind)".
    pub fn accounts<'a>(
        accounts: impl IntoIterator<Item = &'a Account>,
        chosen: &str,
    ) -> Vec<Choice> {
        Choice::list(accounts, chosen, |a| {
            (
                a.id.to_string(),
                format!("{} ({})", a.name, a.kind.as_str()),
            )
        })
    }
}

/// A form with no fields of its own (its CSRF token is checked by `CsrfForm`).
#[derive(Deserialize)]
pub struct Empty {}

/// Which refusals a form shows in words beside it; the others (not found, not allowed, a
/// server fault) become the error page.
pub fn refusal(e: ServiceError) -> WebResult<String> {
    match e {
        ServiceError::Rule(_)
        | ServiceError::Invalid(_)
        | ServiceError::InvalidScope(_)
        | ServiceError::Conflict(_)
        | ServiceError::Collided(_)
        | ServiceError::PreconditionFailed(_)
        | ServiceError::FileRefused(_)
        | ServiceError::Duplicate(_) => Ok(explain(&e).2),
        e => Err(e.into()),
    }
}

/// `?done=<action>&name=<what>`: what a redirect after a change says on the page it lands on.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    pub done: String,
    pub name: String,
}

impl Done {
    pub fn action(&self) -> Option<Action> {
        self.done.parse().ok()
    }

    /// "SIP trunk created: us-west-2."
    pub fn notice(&self) -> Option<String> {
        let a = self.action()?;
        Some(format!("{}: {}.", action_words(a), self.name))
    }
}

/// The 303 after a change: back to `page`, scrolled to `section`, saying what was done.
pub fn redirect_done(page: &str, action: Action, name: &str, section: &str) -> Response {
    let q = serde_urlencoded::to_string([("done", action.as_str()), ("name", name)])
        .unwrap_or_default();
    Redirect::to(&format!("{page}?{q}#{section}")).into_response()
}

/// A destructive action's confirmation page: what will change, and the button that does it.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub title: String,
    pub consequence: String,
    pub action: String,
    pub verb: &'static str,
    pub back: String,
    pub danger: bool,
}
