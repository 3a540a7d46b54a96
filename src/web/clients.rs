//! API clients (SPEC §7): the account's OAuth clients with their scopes; create one (scopes as
//! checkboxes), rotate its secret, delete it. A secret is shown once, on the page that answers
//! the create or the rotation, and never again: only its hash is kept. Rotation and deletion
//! end the client's tokens, so both go through a confirmation page that says so.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::Action;

use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult};
use super::forms::{ConfirmPage, Done, Empty, redirect_done, refusal};
use super::number::when;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{CreatedClient, Permission, ServiceError};

/// What a scope lets a client do, in words.
fn scope_words(p: Permission) -> &'static str {
    match p {
        Permission::PhoneRead => "Read accounts, connections, API clients and the audit log",
        Permission::PhoneWrite => "Change accounts, connections and credentials",
        Permission::NumberRead => {
            "Read numbers and the provider's SIP trunks, carriers, attributes and rates"
        }
        Permission::NumberWrite => {
            "Add, change and move numbers; change trunks, carriers, attributes and rates"
        }
    }
}

/// A scope checkbox of the create form.
#[derive(Debug, Clone)]
pub struct ScopeBox {
    pub scope: &'static str,
    pub words: &'static str,
    /// The checkbox's element id.
    pub id: String,
    pub checked: bool,
}

/// A client as listed: never its secret.
#[derive(Debug, Clone)]
pub struct ClientRow {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created: String,
}

/// A secret just made: shown on this page only.
#[derive(Debug, Clone)]
pub struct Shown {
    pub client_id: String,
    pub secret: String,
    pub scopes: Vec<String>,
    pub rotated: bool,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    chrome: Chrome,
    rows: Vec<ClientRow>,
    scopes: Vec<ScopeBox>,
    shown: Option<Shown>,
    notice: Option<String>,
    error: Option<String>,
}

async fn clients_page(
    st: &WebState,
    user: &SignedIn,
    shown: Option<Shown>,
    notice: Option<String>,
    refused: Option<(String, Vec<String>)>,
) -> WebResult<Response> {
    let rows = st
        .service
        .list_clients(user.actor())
        .await?
        .into_iter()
        .map(|c| ClientRow {
            client_id: c.client_id,
            scopes: c.scopes,
            created: when(c.created_at),
        })
        .collect();
    let (error, typed) = match refused {
        Some((m, typed)) => (Some(m), Some(typed)),
        None => (None, None),
    };
    let scopes = Permission::ALL
        .into_iter()
        .map(|p| ScopeBox {
            scope: p.scope(),
            words: scope_words(p),
            id: format!("scope-{}", p.scope().replace([':', '_'], "-")),
            // A new form offers reading; a refused one keeps what was ticked.
            checked: match &typed {
                Some(t) => t.iter().any(|s| s == p.scope()),
                None => p.is_read(),
            },
        })
        .collect();
    let status = super::status_for(error.is_some());
    Ok(render(
        status,
        &ClientsPage {
            chrome: user.chrome("clients"),
            rows,
            scopes,
            shown,
            notice,
            error,
        },
    ))
}

/// `GET /portal/clients`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    clients_page(&st, &user, None, done.notice(), None).await
}

fn shown(c: CreatedClient, rotated: bool) -> Shown {
    Shown {
        client_id: c.client_id,
        secret: c.client_secret,
        scopes: c.scopes,
        rotated,
    }
}

/// `POST /portal/clients`: the form's `scope` checkboxes (one pair each) become the client's
/// scopes. The answer is the page with the new secret: a redirect would have to carry it.
pub async fn create(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let ticked: Vec<String> = form
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    if ticked.is_empty() {
        // The service gives every scope when none is named: here none ticked is a mistake.
        let m = "Tick at least one scope: a client with none could do nothing.".to_string();
        return clients_page(&st, &user, None, None, Some((m, ticked))).await;
    }
    let account = user.actor().account;
    match st
        .service
        .create_client(user.actor(), account, Some(&ticked.join(" ")))
        .await
    {
        Ok(c) => clients_page(&st, &user, Some(shown(c, false)), None, None).await,
        Err(e) => {
            let m = refusal(e)?;
            clients_page(&st, &user, None, None, Some((m, ticked))).await
        }
    }
}

/// The client of the URL, if it is the account's (not found otherwise, as for no client).
async fn own(st: &WebState, user: &SignedIn, client_id: &str) -> WebResult<String> {
    let clients = st.service.list_clients(user.actor()).await?;
    clients
        .into_iter()
        .find(|c| c.client_id == client_id)
        .map(|c| c.client_id)
        .ok_or(WebError::Service(ServiceError::NotFound("api client")))
}

/// The two changes a listed client offers, each confirmed first: `/portal/clients/{id}/{verb}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Rotate,
    Delete,
}

impl Change {
    fn parse(verb: &str) -> WebResult<Change> {
        match verb {
            "rotate" => Ok(Change::Rotate),
            "delete" => Ok(Change::Delete),
            _ => Err(ServiceError::NotFound("page").into()),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Change::Rotate => "rotate",
            Change::Delete => "delete",
        }
    }
}

/// `GET /portal/clients/{client_id}/{rotate|delete}`: the confirmation, which says that the
/// client's tokens end.
pub async fn confirm(
    State(st): State<WebState>,
    user: SignedIn,
    Path((client_id, verb)): Path<(String, String)>,
) -> WebResult<Response> {
    let change = Change::parse(&verb)?;
    let client_id = own(&st, &user, &client_id).await?;
    let (title, consequence, verb) = match change {
        Change::Rotate => (
            format!("Rotate the secret of {client_id}?"),
            format!(
                "A new secret replaces the current one of {client_id}: the current secret stops working at once and every access token it was used for ends. Programs using this client need the new secret, which is shown once on the next page."
            ),
            "Rotate secret",
        ),
        Change::Delete => (
            format!("Delete {client_id}?"),
            format!(
                "{client_id} will be deleted: its secret stops working and every access token it holds ends at once. Programs using it lose access to {}. This cannot be undone.",
                user.account_name
            ),
            "Delete client",
        ),
    };
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("clients"),
            title,
            consequence,
            action: format!("/portal/clients/{client_id}/{}", change.path()),
            verb,
            back: "/portal/clients".into(),
            danger: true,
        },
    ))
}

/// `POST /portal/clients/{client_id}/{rotate|delete}`: a rotation answers the page with the new
/// secret; a deletion goes back to the list, saying so.
pub async fn change(
    State(st): State<WebState>,
    Path((client_id, verb)): Path<(String, String)>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    match Change::parse(&verb)? {
        Change::Rotate => {
            let c = st
                .service
                .rotate_client_secret(user.actor(), &client_id)
                .await?;
            clients_page(&st, &user, Some(shown(c, true)), None, None).await
        }
        Change::Delete => {
            st.service.delete_client(user.actor(), &client_id).await?;
            Ok(redirect_done(
                "/portal/clients",
                Action::ClientDelete,
                &client_id,
                "clients",
            ))
        }
    }
}
