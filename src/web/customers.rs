//! The provider's Customers tab (seed 000): its own child customers and those connected
//! through Provider Exchange, with totals; a customer's page with its settings (R-ACC-2's
//! *Allow External Numbers*), a link to its numbers, and, once a connected customer has asked
//! to disconnect, the *Deactivate* action (R-ACC-1).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{AccountId, ExchangeStatus};
use serde::Deserialize;

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult, explain};
use super::forms::Empty;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{AccountPatch, CustomerRelation, CustomerView, ServiceError};

/// One row of the customers table.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: String,
    pub name: String,
    pub account_number: String,
    pub status: String,
    pub relation: &'static str,
    pub connection: String,
    pub numbers: i64,
}

impl From<&CustomerView> for CustomerRow {
    fn from(c: &CustomerView) -> Self {
        CustomerRow {
            id: c.account_id.to_string(),
            name: c.name.clone(),
            account_number: c.account_number.clone(),
            status: label(c.status.as_str()),
            relation: match c.relation {
                CustomerRelation::Child => "Own customer",
                CustomerRelation::Connected => "Provider Exchange",
            },
            connection: c
                .connection_status
                .map(|s| label(s.as_str()))
                .unwrap_or_default(),
            numbers: c.phone_numbers,
        }
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    chrome: Chrome,
    rows: Vec<CustomerRow>,
    total_numbers: i64,
}

/// `GET /portal/customers`.
pub async fn list(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    let customers = st.service.list_customers(user.actor()).await?;
    let rows: Vec<CustomerRow> = customers.iter().map(CustomerRow::from).collect();
    Ok(render(
        StatusCode::OK,
        &CustomersPage {
            chrome: user.chrome("customers"),
            total_numbers: rows.iter().map(|r| r.numbers).sum(),
            rows,
        },
    ))
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    chrome: Chrome,
    c: CustomerRow,
    allow_external: bool,
    /// A child customer: its settings are the provider's to change.
    child: bool,
    can_deactivate: bool,
    error: Option<String>,
    notice: Option<String>,
}

async fn customer_page(
    st: &WebState,
    user: &SignedIn,
    id: AccountId,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let customers = st.service.list_customers(user.actor()).await?;
    // Only this provider's customers have a page here (R-SEC-1: anything else is not found).
    let c = customers
        .iter()
        .find(|c| c.account_id == id)
        .ok_or(WebError::Service(ServiceError::NotFound("customer")))?;
    let account = st.service.get_account(user.actor(), id).await?;
    let status = super::status_for(error.is_some());
    Ok(render(
        status,
        &CustomerPage {
            chrome: user.chrome("customers"),
            c: CustomerRow::from(c),
            allow_external: account.allow_external_numbers,
            child: c.relation == CustomerRelation::Child,
            can_deactivate: c.connection_status == Some(ExchangeStatus::DisconnectRequested),
            error,
            notice,
        },
    ))
}

fn customer_id(raw: &str) -> WebResult<AccountId> {
    raw.parse()
        .map_err(|_| WebError::Service(ServiceError::NotFound("customer")))
}

/// `GET /portal/customers/{id}`.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    customer_page(&st, &user, customer_id(&id)?, None, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    allow_external_numbers: Option<String>,
}

/// `POST /portal/customers/{id}/settings`.
pub async fn settings(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm<SettingsForm>,
) -> WebResult<Response> {
    let id = customer_id(&id)?;
    let patch = AccountPatch {
        allow_external_numbers: Some(form.allow_external_numbers.is_some()),
        ..AccountPatch::default()
    };
    match st
        .service
        .update_account(user.actor(), id, &patch, None)
        .await
    {
        Ok(_) => customer_page(&st, &user, id, None, Some("Settings saved.".into())).await,
        Err(e @ (ServiceError::Rule(_) | ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let (_, _, m) = explain(&e);
            customer_page(&st, &user, id, Some(m), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /portal/customers/{id}/deactivate`: ends a Provider Exchange connection whose
/// customer asked to disconnect (R-ACC-1).
pub async fn deactivate(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = customer_id(&id)?;
    match st.service.deactivate_connection(user.actor(), id).await {
        Ok(_) => Ok(Redirect::to(&format!("/portal/customers/{id}")).into_response()),
        Err(e @ (ServiceError::Rule(_) | ServiceError::Conflict(_))) => {
            let (_, _, m) = explain(&e);
            customer_page(&st, &user, id, Some(m), None).await
        }
        Err(e) => Err(e.into()),
    }
}
