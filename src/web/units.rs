//! A customer's units (SPEC §2: business unit, program, site): the units below the signed-in
//! account with the numbers each holds, and a form to make one inside the account or inside
//! one of its units. Numbers move into a unit from their own page (*Move to a unit*).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{Account, AccountKind};
use numberpool_store::NumberFilter;
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::{WebResult, explain};
use super::forms::Choice;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{CreateAccount, ServiceError};

/// A unit as listed.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    /// The account it is inside.
    pub parent: String,
    pub numbers: i64,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    chrome: Chrome,
    rows: Vec<UnitRow>,
    parents: Vec<Choice>,
    name: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnitForm {
    pub name: String,
    pub parent: String,
}

/// `?created=<name>` after a unit is made.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Created {
    pub created: String,
}

async fn units_page(
    st: &WebState,
    user: &SignedIn,
    typed: UnitForm,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let actor = user.actor();
    let accounts = st.service.list_accounts(actor).await?;
    let name_of = |id| {
        accounts
            .iter()
            .find(|a: &&Account| Some(a.id) == id)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let units: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.kind == AccountKind::Unit && a.id != actor.account)
        .collect();
    let mut rows = Vec::with_capacity(units.len());
    for u in &units {
        // One count per unit: a customer has a handful, and the count is the store's.
        let held = NumberFilter {
            holder: Some(u.id),
            ..NumberFilter::default()
        };
        let numbers = st.service.list_numbers(actor, &held, None, 1).await?.total;
        rows.push(UnitRow {
            id: u.id.to_string(),
            name: u.name.clone(),
            parent: name_of(u.parent_id),
            numbers,
        });
    }
    let me = accounts.iter().filter(|a| a.id == actor.account);
    let parents = Choice::list(me.chain(units.iter().copied()), &typed.parent, |a| {
        (a.id.to_string(), a.name.clone())
    });
    Ok(render(
        super::status_for(error.is_some()),
        &UnitsPage {
            chrome: user.chrome("units"),
            rows,
            parents,
            name: typed.name,
            error,
            notice,
        },
    ))
}

/// `GET /portal/units`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Created>,
) -> WebResult<Response> {
    let notice = (!done.created.is_empty()).then(|| format!("Unit created: {}.", done.created));
    units_page(&st, &user, UnitForm::default(), None, notice).await
}

/// `POST /portal/units`: a new unit inside the account or one of its units (R-TREE-1 says
/// where a unit may sit).
pub async fn create(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<UnitForm>,
) -> WebResult<Response> {
    let parent = if form.parent.trim().is_empty() {
        Some(user.actor().account)
    } else {
        form.parent.trim().parse().ok()
    };
    let Some(parent) = parent else {
        let m = "Inside: choose the account or one of its units.".to_string();
        return units_page(&st, &user, form, Some(m), None).await;
    };
    let req = CreateAccount::new(&form.name, AccountKind::Unit, Some(parent));
    match st.service.create_account(user.actor(), req).await {
        Ok(a) => {
            let q = serde_urlencoded::to_string([("created", a.name.as_str())]).unwrap_or_default();
            Ok(Redirect::to(&format!("/portal/units?{q}")).into_response())
        }
        Err(e @ (ServiceError::Rule(_) | ServiceError::Invalid(_) | ServiceError::NotFound(_))) => {
            let (_, _, m) = explain(&e);
            units_page(&st, &user, form, Some(m), None).await
        }
        Err(e) => Err(e.into()),
    }
}
