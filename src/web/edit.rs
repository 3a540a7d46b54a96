//! Editing a number: only the fields R-EDIT-1 allows for its status and for who is looking.
//! The pool that holds or owns it edits billing reference, service info, SIP trunk and
//! customization (and, while it is pending, its status and type; while unallocated, its
//! product); the customer that holds it edits call purpose and display name.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{Number, NumberPatch, NumberStatus, Product, Rule, TrunkId, ViewPosition};
use serde::Deserialize;

use super::add::{AddForm, Custom, FieldErrors, pick, split_custom};
use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult, explain};
use super::forms::Choice;
use super::number::lookup;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::ServiceError;

/// The form as sent; a field absent from the form is left as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    status: Option<String>,
    #[serde(rename = "type")]
    number_type: Option<String>,
    product: Option<String>,
    sip_trunk: Option<String>,
    billing_reference: Option<String>,
    service_info: Option<String>,
    call_purpose: Option<String>,
    display_name: Option<String>,
    /// Present when the customization part was on the form (its checkboxes are absent when off).
    customization: Option<String>,
    capacity: Option<String>,
    voice_direction: Option<String>,
    messaging: Option<String>,
    outbound_dialer: Option<String>,
    outbound_cli_shared: Option<String>,
}

/// Which parts of the number this viewer may edit.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub pool: bool,
    pub pending: bool,
    pub unallocated: bool,
    pub customer: bool,
}

fn scope_of(n: &Number, me: numberpool_domain::AccountId) -> Scope {
    let position = ViewPosition::of(n, me);
    let customer = matches!(position, ViewPosition::Assigned | ViewPosition::Unassigned);
    let pool = !customer && (n.owner_id == me || n.holder_id == me);
    Scope {
        pool,
        pending: pool && n.status == NumberStatus::Pending,
        unallocated: pool && n.product == Product::Unallocated,
        customer,
    }
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    phone_number: String,
    scope: Scope,
    billing_reference: String,
    service_info: String,
    call_purpose: String,
    display_name: String,
    trunks: Vec<Choice>,
    types: Vec<Choice>,
    products: Vec<Choice>,
    custom: Custom,
    errors: FieldErrors,
}

fn text_or(sent: &Option<String>, stored: &Option<String>) -> String {
    sent.clone().or_else(|| stored.clone()).unwrap_or_default()
}

async fn edit_page(
    st: &WebState,
    user: &SignedIn,
    n: &Number,
    sent: &EditForm,
    errors: HashMap<&'static str, String>,
) -> WebResult<Response> {
    let scope = scope_of(n, user.actor().account);
    let trunks = if scope.pool {
        st.service
            .list_trunks(user.actor())
            .await
            .unwrap_or_default()
    } else {
        vec![]
    };
    let chosen_trunk = sent
        .sip_trunk
        .clone()
        .or_else(|| n.sip_trunk_id.map(|t| t.to_string()))
        .unwrap_or_default();
    let c = n.customization;
    // The customization part as sent, or as stored.
    let custom_form = AddForm {
        product: n.product.as_str().to_string(),
        capacity: sent
            .capacity
            .clone()
            .unwrap_or_else(|| c.capacity.as_str().into()),
        voice_direction: sent
            .voice_direction
            .clone()
            .unwrap_or_else(|| c.voice_direction.as_str().into()),
        messaging: sent
            .messaging
            .clone()
            .unwrap_or_else(|| c.messaging.as_str().into()),
        outbound_dialer: if sent.customization.is_some() {
            sent.outbound_dialer.clone()
        } else {
            c.outbound_dialer.then(|| "on".into())
        },
        outbound_cli_shared: if sent.customization.is_some() {
            sent.outbound_cli_shared.clone()
        } else {
            c.outbound_cli_shared.then(|| "on".into())
        },
        ..AddForm::default()
    };
    let (custom_errors, other) = split_custom(errors);
    let page = EditPage {
        chrome: user.chrome("numbers"),
        id: n.id.to_string(),
        phone_number: n.phone_number.as_str().to_string(),
        scope,
        billing_reference: text_or(&sent.billing_reference, &n.billing_reference),
        service_info: text_or(&sent.service_info, &n.service_info),
        call_purpose: text_or(&sent.call_purpose, &n.call_purpose),
        display_name: text_or(&sent.display_name, &n.display_name),
        trunks: Choice::trunks(&trunks, &chosen_trunk),
        types: Choice::of(
            &numberpool_domain::NumberType::ALL,
            numberpool_domain::NumberType::as_str,
            sent.number_type
                .as_deref()
                .unwrap_or(n.number_type.as_str()),
        ),
        products: Choice::of(
            &Product::ALL,
            Product::as_str,
            sent.product.as_deref().unwrap_or(n.product.as_str()),
        ),
        custom: custom_form.custom(custom_errors),
        errors: FieldErrors(other),
    };
    let status = super::status_for(!(page.errors.is_empty() && page.custom.errors.is_empty()));
    Ok(render(status, &page))
}

/// `GET /portal/numbers/{id}/edit`.
pub async fn form(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let n = st.service.get_number(user.actor(), &lookup(&id)?).await?;
    edit_page(&st, &user, &n, &EditForm::default(), HashMap::new()).await
}

/// Text as a patch: absent leaves it, blank clears it.
fn text_patch(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref().map(|s| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    })
}

fn choice<T: std::str::FromStr>(
    errors: &mut HashMap<&'static str, String>,
    field: &'static str,
    v: &Option<String>,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let s = v.as_deref()?.trim();
    match s.parse() {
        Ok(t) => Some(t),
        Err(e) => {
            errors.insert(field, e.to_string());
            None
        }
    }
}

/// `POST /portal/numbers/{id}/edit`.
pub async fn submit(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, form: f }: CsrfForm<EditForm>,
) -> WebResult<Response> {
    let l = lookup(&id)?;
    let n = st.service.get_number(user.actor(), &l).await?;
    let scope = scope_of(&n, user.actor().account);
    let mut errors = HashMap::new();
    let mut patch = NumberPatch::default();
    if scope.customer {
        patch.call_purpose = text_patch(&f.call_purpose);
        patch.display_name = text_patch(&f.display_name);
    }
    if scope.pool {
        patch.billing_reference = text_patch(&f.billing_reference);
        patch.service_info = text_patch(&f.service_info);
        // Absent: unchanged; blank: no trunk; else the one chosen.
        patch.sip_trunk_id = f.sip_trunk.as_deref().map(|t| {
            pick::<TrunkId>(
                &mut errors,
                "sip_trunk",
                t,
                "Choose a SIP trunk from the list.",
            )
        });
        if f.customization.is_some() {
            let form = AddForm {
                capacity: f.capacity.clone().unwrap_or_default(),
                voice_direction: f.voice_direction.clone().unwrap_or_default(),
                messaging: f.messaging.clone().unwrap_or_default(),
                outbound_dialer: f.outbound_dialer.clone(),
                outbound_cli_shared: f.outbound_cli_shared.clone(),
                ..AddForm::default()
            };
            patch.customization = Some(form.customization_or(n.customization));
        }
        if scope.pending {
            patch.status = choice::<NumberStatus>(&mut errors, "status", &f.status);
            patch.number_type = choice(&mut errors, "type", &f.number_type);
        }
        if scope.unallocated {
            patch.product = choice::<Product>(&mut errors, "product", &f.product);
        }
    }
    if !errors.is_empty() {
        return edit_page(&st, &user, &n, &f, errors).await;
    }
    match st
        .service
        .update_number(user.actor(), &l, &patch, Some(n.version))
        .await
    {
        Ok(n) => Ok(Redirect::to(&format!("/portal/numbers/{}", n.id)).into_response()),
        Err(
            e @ (ServiceError::Rule(_)
            | ServiceError::Invalid(_)
            | ServiceError::PreconditionFailed(_)
            | ServiceError::Conflict(_)
            | ServiceError::NotFound("SIP trunk")),
        ) => {
            let field = match &e {
                ServiceError::Rule(v) => match v.rule {
                    Rule::Cust1 => "capacity",
                    Rule::Cust2 => "outbound_dialer",
                    Rule::Cust3 => "outbound_cli_shared",
                    _ => "form",
                },
                ServiceError::NotFound(_) => "sip_trunk",
                _ => "form",
            };
            let (_, _, m) = explain(&e);
            errors.insert(field, m);
            edit_page(&st, &user, &n, &f, errors).await
        }
        Err(e) => Err(WebError::from(e)),
    }
}
