//! Provider settings (seed 000): the provider's SIP trunks, its carriers with the default of each
//! kind, its attribute keys with their allowed values, and its rate card, one section each on one
//! page. The provider's owners and admins change them (R-PROV-1); a reseller's users see their
//! provider's and change nothing. Every section works alike: create on the page, edit on the
//! item's own page, delete through a confirmation page; a refusal (R-PROV-2, R-PROV-3, R-ATTR-1,
//! a name already taken) is said in its section or on the edit page.
//!
//! Also the pieces `clients.rs` shares: the confirmation page, the notice after a redirect, and
//! which refusals a form shows.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::rate::MAX_MONTHLY_COST_CENTS;
use numberpool_domain::{
    Action, Attribute, AttributeId, Carrier, CarrierId, CarrierKind, NumberType, Rate, RateId,
    SipTrunk, TrunkId,
};
use serde::Deserialize;

use super::audit::action_words;
use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::{WebError, WebResult, explain};
use super::number::Empty;
use super::numbers::Choice;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{Actor, CarrierPatch, RatePatch, ServiceError, TrunkPatch};

/// The four things the page manages; the URL's `{kind}` segment names one, and it is also the
/// id of its section on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Trunks,
    Carriers,
    Attributes,
    Rates,
}

impl Kind {
    fn parse(s: &str) -> WebResult<Kind> {
        match s {
            "trunks" => Ok(Kind::Trunks),
            "carriers" => Ok(Kind::Carriers),
            "attributes" => Ok(Kind::Attributes),
            "rates" => Ok(Kind::Rates),
            _ => Err(ServiceError::NotFound("page").into()),
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Kind::Trunks => "trunks",
            Kind::Carriers => "carriers",
            Kind::Attributes => "attributes",
            Kind::Rates => "rates",
        }
    }

    /// The section an audit action's notice goes to.
    fn of_action(a: Action) -> Option<Kind> {
        match a.entity_type() {
            "sip_trunk" => Some(Kind::Trunks),
            "carrier" => Some(Kind::Carriers),
            "attribute" => Some(Kind::Attributes),
            "rate" => Some(Kind::Rates),
            _ => None,
        }
    }
}

/// Every field of every section's forms (each form sends its own; checkboxes are absent when
/// off). `version` is the edited item's, so an edit made meanwhile by someone else is refused
/// rather than overwritten.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ItemForm {
    pub name: String,
    pub region: String,
    pub kind: String,
    pub default: Option<String>,
    pub key: String,
    pub values: String,
    pub country: String,
    #[serde(rename = "type")]
    pub number_type: String,
    pub cost: String,
    pub currency: String,
    pub version: String,
}

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

/// A cost as typed ("1", "1.5", "0.99") in cents: exact, never through a float.
fn cents(typed: &str) -> Result<i64, ServiceError> {
    let bad = || {
        ServiceError::Invalid(format!(
            "Monthly cost: give an amount such as 1.25, from 0 to {}.",
            MAX_MONTHLY_COST_CENTS / 100
        ))
    };
    let t = typed.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let c = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    if c > MAX_MONTHLY_COST_CENTS {
        return Err(bad());
    }
    Ok(c)
}

/// "1.25": cents as the cost field shows them.
fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// "1.25 USD".
fn money(cents: i64, currency: &str) -> String {
    format!("{} {currency}", amount(cents))
}

/// The allowed values typed one per line: blank lines skipped, spaces around a value dropped.
fn lines(typed: &str) -> Vec<String> {
    typed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `s` with its first letter upper case, to start a sentence (names are kept as they are).
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn parse_or<T: std::str::FromStr>(s: &str, message: &str) -> Result<T, ServiceError> {
    s.trim()
        .parse()
        .map_err(|_| ServiceError::Invalid(message.to_string()))
}

/// The form's `version`, when it carries one.
fn version(f: &ItemForm) -> Result<Option<i64>, ServiceError> {
    non_empty(&f.version)
        .map(|v| parse_or(&v, "The form is damaged: reload the page."))
        .transpose()
}

fn kind_choices(chosen: &str) -> Vec<Choice> {
    CarrierKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_string(),
            label: label(k.noun()),
            selected: k.as_str() == chosen,
        })
        .collect()
}

fn type_choices(chosen: &str) -> Vec<Choice> {
    NumberType::ALL
        .iter()
        .map(|t| Choice {
            value: t.as_str().to_string(),
            label: label(t.as_str()),
            selected: t.as_str() == chosen,
        })
        .collect()
}

/// One of the page's items, as the service gives it.
pub enum Item {
    Trunk(SipTrunk),
    Carrier(Carrier),
    Attribute(Attribute),
    Rate(Rate),
}

impl Item {
    async fn load(st: &WebState, actor: &Actor, kind: Kind, id: &str) -> WebResult<Item> {
        let s = &st.service;
        let missing = || WebError::Service(ServiceError::NotFound("setting"));
        Ok(match kind {
            Kind::Trunks => Item::Trunk(
                s.get_trunk(actor, id.parse().map_err(|_| missing())?)
                    .await?,
            ),
            Kind::Carriers => Item::Carrier(
                s.get_carrier(actor, id.parse().map_err(|_| missing())?)
                    .await?,
            ),
            Kind::Attributes => Item::Attribute(
                s.get_attribute(actor, id.parse().map_err(|_| missing())?)
                    .await?,
            ),
            Kind::Rates => Item::Rate(
                s.get_rate(actor, id.parse().map_err(|_| missing())?)
                    .await?,
            ),
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Item::Trunk(_) => Kind::Trunks,
            Item::Carrier(_) => Kind::Carriers,
            Item::Attribute(_) => Kind::Attributes,
            Item::Rate(_) => Kind::Rates,
        }
    }

    fn id(&self) -> String {
        match self {
            Item::Trunk(t) => t.id.to_string(),
            Item::Carrier(c) => c.id.to_string(),
            Item::Attribute(a) => a.id.to_string(),
            Item::Rate(r) => r.id.to_string(),
        }
    }

    /// What notices and the audit log call it: the name, key, or country and type.
    fn name(&self) -> String {
        match self {
            Item::Trunk(t) => t.name.clone(),
            Item::Carrier(c) => c.name.clone(),
            Item::Attribute(a) => a.key.clone(),
            Item::Rate(r) => rate_name(r),
        }
    }

    /// "SIP trunk us-east-1", "voice carrier Carrier One", "attribute tier", "rate US Local".
    fn title(&self) -> String {
        let what = match self {
            Item::Trunk(_) => "SIP trunk",
            Item::Carrier(c) => c.kind.noun(),
            Item::Attribute(_) => "attribute",
            Item::Rate(_) => "rate",
        };
        format!("{what} {}", self.name())
    }

    /// The item as the edit form starts.
    fn form(&self) -> ItemForm {
        let (v, mut f) = match self {
            Item::Trunk(t) => (
                t.version,
                ItemForm {
                    name: t.name.clone(),
                    region: t.region.clone(),
                    ..ItemForm::default()
                },
            ),
            Item::Carrier(c) => (
                c.version,
                ItemForm {
                    name: c.name.clone(),
                    ..ItemForm::default()
                },
            ),
            Item::Attribute(a) => (
                a.version,
                ItemForm {
                    values: a.allowed_values.join("\n"),
                    ..ItemForm::default()
                },
            ),
            Item::Rate(r) => (
                r.version,
                ItemForm {
                    cost: amount(r.monthly_cost_cents),
                    currency: r.currency.clone(),
                    ..ItemForm::default()
                },
            ),
        };
        f.version = v.to_string();
        f
    }

    /// What deleting it changes, in words, with the rule that may refuse it.
    fn consequence(&self, account: &str) -> String {
        match self {
            Item::Trunk(t) => format!(
                "The SIP trunk {} ({}) will be deleted from {account}'s settings. If numbers still use it, the deletion is refused (R-PROV-2): move them to another trunk first.",
                t.name, t.region
            ),
            Item::Carrier(c) => format!(
                "The {} {} will be deleted. If numbers still use it, the deletion is refused (R-PROV-2); {}",
                c.kind.noun(),
                c.name,
                if c.is_default {
                    format!(
                        "it is the default {}, which goes only as the last of its kind (R-PROV-3).",
                        c.kind.noun()
                    )
                } else {
                    "numbers asking for the default are not affected.".to_string()
                }
            ),
            Item::Attribute(a) => format!(
                "The attribute {} and its {} allowed values ({}) will be deleted. If numbers still carry it, the deletion is refused (R-ATTR-1).",
                a.key,
                a.allowed_values.len(),
                a.allowed_values.join(", ")
            ),
            Item::Rate(r) => format!(
                "The rate for {} numbers in {} ({} a month) will be removed from the rate card. Numbers are not changed.",
                label(r.number_type.as_str()),
                r.country,
                money(r.monthly_cost_cents, &r.currency)
            ),
        }
    }
}

fn rate_name(r: &Rate) -> String {
    format!("{} {}", r.country, label(r.number_type.as_str()))
}

/// Creates what the form describes; the audit action and the name for the notice.
async fn create_item(
    st: &WebState,
    actor: &Actor,
    kind: Kind,
    f: &ItemForm,
) -> Result<(Action, String), ServiceError> {
    let s = &st.service;
    let created = match kind {
        Kind::Trunks => (
            Action::SipTrunkCreate,
            s.create_trunk(actor, &f.name, &f.region).await?.name,
        ),
        Kind::Carriers => {
            let k: CarrierKind = parse_or(&f.kind, "Kind: choose one of the list.")?;
            let made_default = Some(f.default.is_some());
            let c = s.create_carrier(actor, k, &f.name, made_default).await?;
            (Action::CarrierCreate, c.name)
        }
        Kind::Attributes => {
            let a = s
                .create_attribute(actor, f.key.trim(), lines(&f.values))
                .await?;
            (Action::AttributeCreate, a.key)
        }
        Kind::Rates => {
            let t: NumberType = parse_or(&f.number_type, "Number type: choose one of the list.")?;
            let c = cents(&f.cost)?;
            let currency = non_empty(&f.currency);
            let r = s
                .create_rate(actor, &f.country, t, c, currency.as_deref())
                .await?;
            (Action::RateCreate, rate_name(&r))
        }
    };
    Ok(created)
}

/// A name already taken, said for the section it happened in.
fn taken(kind: Kind, f: &ItemForm) -> String {
    match kind {
        Kind::Trunks => format!("A SIP trunk named {} already exists.", f.name.trim()),
        Kind::Carriers => format!("A carrier named {} already exists.", f.name.trim()),
        Kind::Attributes => format!("The attribute {} already exists.", f.key.trim()),
        Kind::Rates => format!(
            "The rate card already has a rate for {} {} numbers: edit that one.",
            f.country.trim().to_ascii_uppercase(),
            label(f.number_type.trim())
        ),
    }
}

/// Changes the item as the edit form (or a carrier's *Make default* button) says.
async fn edit_item(
    st: &WebState,
    actor: &Actor,
    item: &Item,
    f: &ItemForm,
) -> Result<Action, ServiceError> {
    let s = &st.service;
    let v = version(f)?;
    match item {
        Item::Trunk(t) => {
            let patch = TrunkPatch {
                name: Some(f.name.clone()),
                region: Some(f.region.clone()),
            };
            s.update_trunk(actor, t.id, &patch, v).await?;
            Ok(Action::SipTrunkUpdate)
        }
        Item::Carrier(c) => {
            let patch = CarrierPatch {
                name: non_empty(&f.name),
                is_default: f.default.is_some().then_some(true),
            };
            s.update_carrier(actor, c.id, &patch, v).await?;
            Ok(Action::CarrierUpdate)
        }
        Item::Attribute(a) => {
            s.update_attribute(actor, a.id, Some(lines(&f.values)), v)
                .await?;
            Ok(Action::AttributeUpdate)
        }
        Item::Rate(r) => {
            let patch = RatePatch {
                monthly_cost_cents: Some(cents(&f.cost)?),
                currency: non_empty(&f.currency),
            };
            s.update_rate(actor, r.id, patch, v).await?;
            Ok(Action::RateUpdate)
        }
    }
}

async fn delete_item(st: &WebState, actor: &Actor, item: &Item) -> Result<Action, ServiceError> {
    let s = &st.service;
    match item {
        Item::Trunk(t) => s
            .delete_trunk(actor, t.id, None)
            .await
            .map(|_| Action::SipTrunkDelete),
        Item::Carrier(c) => s
            .delete_carrier(actor, c.id, None)
            .await
            .map(|_| Action::CarrierDelete),
        Item::Attribute(a) => s
            .delete_attribute(actor, a.id, None)
            .await
            .map(|_| Action::AttributeDelete),
        Item::Rate(r) => s
            .delete_rate(actor, r.id, None)
            .await
            .map(|_| Action::RateDelete),
    }
}

/// A SIP trunk as listed.
#[derive(Debug, Clone)]
pub struct TrunkRow {
    pub id: TrunkId,
    pub name: String,
    pub region: String,
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
        types: type_choices(&typed.number_type),
        notice,
        refused,
        blank: ItemForm::default(),
    };
    let status = if page.refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
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
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
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

/// `GET /portal/settings/{kind}/{id}`: the edit form.
pub async fn edit_form(
    State(st): State<WebState>,
    user: SignedIn,
    Path((kind, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let item = Item::load(&st, user.actor(), Kind::parse(&kind)?, &id).await?;
    Ok(edit_page(&user, &item, item.form(), None))
}

/// `POST /portal/settings/{kind}/{id}`.
pub async fn edit(
    State(st): State<WebState>,
    Path((kind, id)): Path<(String, String)>,
    CsrfForm { user, form }: CsrfForm<ItemForm>,
) -> WebResult<Response> {
    let item = Item::load(&st, user.actor(), Kind::parse(&kind)?, &id).await?;
    match edit_item(&st, user.actor(), &item, &form).await {
        Ok(action) => {
            // The name may be the one just given.
            let name = non_empty(&form.name).unwrap_or_else(|| item.name());
            Ok(redirect_done(
                "/portal/settings",
                action,
                &name,
                item.kind().path(),
            ))
        }
        Err(e) => {
            let message = match e {
                ServiceError::Duplicate(_) => taken(item.kind(), &form),
                e => refusal(e)?,
            };
            let mut typed = form;
            if let Item::Carrier(c) = &item {
                typed.name = non_empty(&typed.name).unwrap_or_else(|| c.name.clone());
            }
            Ok(edit_page(&user, &item, typed, Some(message)))
        }
    }
}

/// `GET /portal/settings/{kind}/{id}/delete`: the confirmation.
pub async fn delete_confirm(
    State(st): State<WebState>,
    user: SignedIn,
    Path((kind, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let item = Item::load(&st, user.actor(), Kind::parse(&kind)?, &id).await?;
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

/// `POST /portal/settings/{kind}/{id}/delete`; a refusal is said in the item's section.
pub async fn delete(
    State(st): State<WebState>,
    Path((kind, id)): Path<(String, String)>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let kind = Kind::parse(&kind)?;
    let item = Item::load(&st, user.actor(), kind, &id).await?;
    match delete_item(&st, user.actor(), &item).await {
        Ok(action) => Ok(redirect_done(
            "/portal/settings",
            action,
            &item.name(),
            kind.path(),
        )),
        Err(e) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_read_exactly_in_cents() {
        for (typed, want) in [
            ("1", 100),
            ("1.5", 150),
            ("0.99", 99),
            (".5", 50),
            ("12.", 1200),
            (" 3.07 ", 307),
            ("0", 0),
            ("1000000", 100_000_000),
        ] {
            assert_eq!(cents(typed).ok(), Some(want), "{typed}");
        }
        for bad in [
            "",
            ".",
            "1.234",
            "-1",
            "1,25",
            "1e3",
            "abc",
            "1000000.01",
            "99999999999999999999",
        ] {
            assert!(cents(bad).is_err(), "{bad}");
        }
        assert_eq!(money(307, "USD"), "3.07 USD");
    }

    #[test]
    fn values_are_one_per_line() {
        assert_eq!(
            lines("gold\r\n\r\n silver \nbronze"),
            ["gold", "silver", "bronze"]
        );
        assert!(lines(" \n").is_empty());
    }

    #[test]
    fn done_notices_name_the_action() {
        let d = Done {
            done: "sip_trunk.create".into(),
            name: "edge-1".into(),
        };
        assert_eq!(d.notice().as_deref(), Some("SIP trunk created: edge-1."));
        assert_eq!(d.action().and_then(Kind::of_action), Some(Kind::Trunks));
        let unknown = Done {
            done: "nothing".into(),
            name: "x".into(),
        };
        assert_eq!(unknown.notice(), None);
    }
}
