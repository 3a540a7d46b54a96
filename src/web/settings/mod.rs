//! Provider settings (seed 000): the provider's SIP trunks, its carriers with the default of each
//! kind, its attribute keys with their allowed values, and its rate card, one section each on one
//! page. The provider's owners and admins change them (R-PROV-1); a reseller's users see their
//! provider's and change nothing. Every section works alike: create on the page, edit on the
//! item's own page, delete through a confirmation page; a refusal (R-PROV-2, R-PROV-3, R-ATTR-1,
//! a name already taken) is said in its section or on the edit page.
//!
//! `item.rs` holds what is per kind: the form, how it is read, and the service calls.

mod item;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::{AttributeId, CarrierId, NumberType, RateId, TrunkId};

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::WebResult;
use super::forms::Choice;
use super::forms::{ConfirmPage, Done, redirect_done, refusal};
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::ServiceError;
use item::{
    Item, ItemForm, Kind, create_item, delete_item, edit_item, kind_choices, money, non_empty,
    sentence, taken,
};

/// A SIP trunk as listed.
#[derive(Debug, Clone)]
pub struct TrunkRow {
    pub id: TrunkId,
    pub name: String,
    pub region: String,
    pub is_default: bool,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct CarrierRow {
    pub id: CarrierId,
    pub name: String,
    /// "Voice carrier"; `noun` is the same inside a sentence.
    pub kind: String,
    pub noun: &'static str,
    pub is_default: bool,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct AttributeRow {
    pub id: AttributeId,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RateRow {
    pub id: RateId,
    pub country: String,
    pub number_type: String,
    pub cost: String,
}

/// A create form the service refused: where, why, and what was typed (to fill it again).
pub struct Refused {
    kind: Kind,
    message: String,
    form: ItemForm,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    /// The account is a provider: it keeps these settings (a reseller reads its provider's).
    provider: bool,
    /// The user may change them: a provider's owner or admin.
    writable: bool,
    trunks: Vec<TrunkRow>,
    carriers: Vec<CarrierRow>,
    attributes: Vec<AttributeRow>,
    rates: Vec<RateRow>,
    carrier_kinds: Vec<Choice>,
    types: Vec<Choice>,
    notice: Option<(Kind, String)>,
    refused: Option<Refused>,
    blank: ItemForm,
}

impl SettingsPage {
    fn error(&self, section: &str) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|r| r.kind.path() == section)
            .map(|r| r.message.as_str())
    }

    fn notice_in(&self, section: &str) -> Option<&str> {
        self.notice
            .as_ref()
            .filter(|(k, _)| k.path() == section)
            .map(|(_, m)| m.as_str())
    }

    /// What the section's create form shows: what was typed when it was refused, else nothing.
    fn typed(&self, section: &str) -> &ItemForm {
        match &self.refused {
            Some(r) if r.kind.path() == section => &r.form,
            _ => &self.blank,
        }
    }
}

async fn settings_page(
    st: &WebState,
    user: &SignedIn,
    notice: Option<(Kind, String)>,
    refused: Option<Refused>,
) -> WebResult<Response> {
    let (s, actor) = (&st.service, user.actor());
    let trunks = s.list_trunks(actor).await?;
    let carriers = s.list_carriers(actor, None).await?;
    let attributes = s.list_attributes(actor).await?;
    let rates = s.list_rates(actor, None, None).await?;
    let chrome = user.chrome("settings");
    let provider = user.account_kind == "provider";
    let typed = refused.as_ref().map(|r| r.form.clone()).unwrap_or_default();
    let page = SettingsPage {
        writable: provider && chrome.can_write(),
        provider,
        chrome,
        trunks: trunks
            .into_iter()
            .map(|t| TrunkRow {
                id: t.id,
                name: t.name,
                region: t.region,
                is_default: t.is_default,
                version: t.version,
            })
            .collect(),
        carriers: carriers
            .into_iter()
            .map(|c| CarrierRow {
                id: c.id,
                kind: label(c.kind.noun()),
                noun: c.kind.noun(),
                name: c.name,
                is_default: c.is_default,
                version: c.version,
            })
            .collect(),
        attributes: attributes
            .into_iter()
            .map(|a| AttributeRow {
                id: a.id,
                key: a.key,
                values: a.allowed_values,
            })
            .collect(),
        rates: rates
            .into_iter()
            .map(|r| RateRow {
                id: r.id,
                country: r.country.clone(),
                number_type: label(r.number_type.as_str()),
                cost: money(r.monthly_cost_cents, &r.currency),
            })
            .collect(),
        carrier_kinds: kind_choices(&typed.kind),
        types: Choice::of(&NumberType::ALL, NumberType::as_str, &typed.number_type),
        notice,
        refused,
        blank: ItemForm::default(),
    };
    let status = crate::web::status_for(page.refused.is_some());
    Ok(render(status, &page))
}

/// `GET /portal/settings`.
pub async fn page(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    let notice = done.action().and_then(Kind::of_action).zip(done.notice());
    settings_page(&st, &user, notice, None).await
}

/// `POST /portal/settings/{kind}`: a new trunk, carrier, attribute or rate.
pub async fn create(
    State(st): State<WebState>,
    Path(kind): Path<String>,
    CsrfForm { user, form }: CsrfForm<ItemForm>,
) -> WebResult<Response> {
    let kind = Kind::parse(&kind)?;
    match create_item(&st, user.actor(), kind, &form).await {
        Ok((action, name)) => Ok(redirect_done(
            "/portal/settings",
            action,
            &name,
            kind.path(),
        )),
        Err(e) => {
            let message = match e {
                ServiceError::Duplicate(_) => taken(kind, &form),
                e => refusal(e)?,
            };
            let refused = Refused {
                kind,
                message,
                form,
            };
            settings_page(&st, &user, None, Some(refused)).await
        }
    }
}

#[derive(Template)]
#[template(path = "setting.html")]
struct EditPage {
    chrome: Chrome,
    kind: &'static str,
    id: String,
    title: String,
    form: ItemForm,
    /// A carrier that is already the default of its kind.
    is_default: bool,
    carrier_noun: &'static str,
    error: Option<String>,
}

fn edit_page(user: &SignedIn, item: &Item, form: ItemForm, error: Option<String>) -> Response {
    let (is_default, carrier_noun) = match item {
        Item::Carrier(c) => (c.is_default, c.kind.noun()),
        _ => (false, ""),
    };
    let status = crate::web::status_for(error.is_some());
    render(
        status,
        &EditPage {
            chrome: user.chrome("settings"),
            kind: item.kind().path(),
            id: item.id(),
            title: item.title(),
            form,
            is_default,
            carrier_noun,
            error,
        },
    )
}

/// What a setting's URL asks of it: `/portal/settings/{kind}/{id}/{edit|delete}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Edit,
    Delete,
}

/// The setting the URL names, if the actor may see it, and what is asked of it.
async fn setting(
    st: &WebState,
    user: &SignedIn,
    (kind, id, verb): &(String, String, String),
) -> WebResult<(Item, Verb)> {
    let verb = match verb.as_str() {
        "edit" => Verb::Edit,
        "delete" => Verb::Delete,
        _ => return Err(ServiceError::NotFound("page").into()),
    };
    let item = Item::load(st, user.actor(), Kind::parse(kind)?, id).await?;
    Ok((item, verb))
}

/// `GET /portal/settings/{kind}/{id}/edit`: the edit form; `…/delete`: the confirmation.
pub async fn show(
    State(st): State<WebState>,
    user: SignedIn,
    Path(path): Path<(String, String, String)>,
) -> WebResult<Response> {
    let (item, verb) = setting(&st, &user, &path).await?;
    if verb == Verb::Edit {
        return Ok(edit_page(&user, &item, item.form(), None));
    }
    let section = item.kind().path();
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            consequence: item.consequence(&user.account_name),
            chrome: user.chrome("settings"),
            title: format!("Delete {}?", item.title()),
            action: format!("/portal/settings/{section}/{}/delete#{section}", item.id()),
            verb: "Delete",
            back: format!("/portal/settings#{section}"),
            danger: true,
        },
    ))
}

/// `POST /portal/settings/{kind}/{id}/edit` (also a carrier's *Make default*) and
/// `…/delete`; a refusal is said on the edit page, or for a deletion in the item's section.
pub async fn change(
    State(st): State<WebState>,
    Path(path): Path<(String, String, String)>,
    CsrfForm { user, form }: CsrfForm<ItemForm>,
) -> WebResult<Response> {
    let (item, verb) = setting(&st, &user, &path).await?;
    let kind = item.kind();
    let done = match verb {
        Verb::Edit => edit_item(&st, user.actor(), &item, &form).await,
        Verb::Delete => delete_item(&st, user.actor(), &item).await,
    };
    match (done, verb) {
        (Ok(action), _) => {
            // An edit's name may be the one just given.
            let name = non_empty(&form.name).unwrap_or_else(|| item.name());
            Ok(redirect_done(
                "/portal/settings",
                action,
                &name,
                kind.path(),
            ))
        }
        (Err(e), Verb::Edit) => {
            let message = match e {
                ServiceError::Duplicate(_) => taken(kind, &form),
                e => refusal(e)?,
            };
            let mut typed = form;
            if let Item::Carrier(c) = &item {
                typed.name = non_empty(&typed.name).unwrap_or_else(|| c.name.clone());
            }
            Ok(edit_page(&user, &item, typed, Some(message)))
        }
        (Err(e), Verb::Delete) => {
            let message = format!(
                "{} was not deleted: {}",
                sentence(&item.title()),
                refusal(e)?
            );
            let refused = Refused {
                kind,
                message,
                form: ItemForm::default(),
            };
            settings_page(&st, &user, None, Some(refused)).await
        }
    }
}
