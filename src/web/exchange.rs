//! Provider Exchange from the customer's side (seed 000): connect to a provider by its account
//! number, see each connection's status, ask to disconnect. A refused disconnection lists what
//! blocks it (R-ACC-1): the numbers of that provider still assigned.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use numberpool_domain::AccountId;
use numberpool_store::NumberFilter;
use serde::Deserialize;

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::{WebResult, explain};
use super::number::when;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::ServiceError;

/// One connection as listed.
#[derive(Debug, Clone)]
pub struct ConnRow {
    pub provider_id: String,
    pub provider: String,
    pub account_number: String,
    pub status: String,
    pub since: String,
    pub connected: bool,
}

#[derive(Template)]
#[template(path = "exchange.html")]
struct ExchangePage {
    chrome: Chrome,
    rows: Vec<ConnRow>,
    error: Option<String>,
    notice: Option<String>,
    /// What blocks a refused disconnection: numbers still assigned.
    blockers: Vec<String>,
    blockers_more: i64,
    account_number: String,
}

/// What the page says besides the connections.
#[derive(Debug, Default)]
struct Said {
    error: Option<String>,
    notice: Option<String>,
    /// Up to 20 blocking numbers, and how many more there are.
    blockers: (Vec<String>, i64),
    /// The account number typed, kept when it was refused.
    account_number: String,
}

fn refused(error: String, account_number: String) -> Said {
    Said {
        error: Some(error),
        account_number,
        ..Said::default()
    }
}

fn done(notice: String) -> Said {
    Said {
        notice: Some(notice),
        ..Said::default()
    }
}

async fn page(st: &WebState, user: &SignedIn, said: Said) -> WebResult<Response> {
    let Said {
        error,
        notice,
        blockers,
        account_number,
    } = said;
    let rows = st
        .service
        .list_connections(user.actor())
        .await?
        .into_iter()
        .map(|c| ConnRow {
            provider_id: c.provider_id.to_string(),
            provider: c.provider_name,
            account_number: c.provider_account_number,
            connected: c.status == numberpool_domain::ExchangeStatus::Connected,
            status: label(c.status.as_str()),
            since: when(c.updated_at),
        })
        .collect();
    Ok(render(
        super::status_for(error.is_some()),
        &ExchangePage {
            chrome: user.chrome("exchange"),
            rows,
            error,
            notice,
            blockers: blockers.0,
            blockers_more: blockers.1,
            account_number,
        },
    ))
}

/// `GET /portal/exchange`.
pub async fn show(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    page(&st, &user, Said::default()).await
}

/// The connect form (`account_number`) and each connection's disconnect form (`provider`).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ExchangeForm {
    account_number: String,
    provider: String,
}

/// `POST /portal/exchange/connect`.
pub async fn connect(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<ExchangeForm>,
) -> WebResult<Response> {
    let number = form.account_number.trim().to_string();
    if number.is_empty() {
        let m = "Enter the provider's account number.".to_string();
        return page(&st, &user, refused(m, number)).await;
    }
    let said = match st.service.connect_exchange(user.actor(), &number).await {
        Ok(c) => done(format!("Connected to {}.", c.provider_name)),
        Err(ServiceError::NotFound(_)) => refused(
            format!("No active provider has the account number {number}."),
            number,
        ),
        Err(e @ (ServiceError::Rule(_) | ServiceError::Conflict(_))) => {
            refused(explain(&e).2, number)
        }
        Err(e) => return Err(e.into()),
    };
    page(&st, &user, said).await
}

/// `POST /portal/exchange/disconnect`: asks to disconnect; refused while numbers of that
/// provider are assigned, and then lists them.
pub async fn disconnect(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<ExchangeForm>,
) -> WebResult<Response> {
    let Ok(provider) = form.provider.trim().parse::<AccountId>() else {
        return Err(ServiceError::NotFound("connection").into());
    };
    let said = match st.service.request_disconnect(user.actor(), provider).await {
        Ok(c) => done(format!(
            "Disconnection from {} is requested; the provider deactivates the connection.",
            c.provider_name
        )),
        Err(e @ ServiceError::Rule(_)) => {
            let filter = NumberFilter {
                assigned: Some(true),
                ..NumberFilter::default()
            };
            let assigned = st
                .service
                .list_numbers(user.actor(), &filter, None, 1000)
                .await?;
            let of_provider: Vec<String> = assigned
                .items
                .iter()
                .filter(|n| n.owner_id == provider)
                .map(|n| n.phone_number.as_str().to_string())
                .collect();
            let shown: Vec<String> = of_provider.iter().take(20).cloned().collect();
            let more = i64::try_from(of_provider.len().saturating_sub(shown.len())).unwrap_or(0);
            Said {
                blockers: (shown, more),
                ..refused(explain(&e).2, String::new())
            }
        }
        Err(e) => return Err(e.into()),
    };
    page(&st, &user, said).await
}
