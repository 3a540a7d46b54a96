//! The *Add Numbers* form (seed 000): a Basic part (product, phone number, type, status, SIP
//! trunk, sub account, billing reference, service info) and a Customization part (capacity,
//! voice direction, messaging, outbound dialer, outbound CLI shared). Each R-CUST rule is said
//! beside its field and the options it forbids are disabled; with htmx the customization part
//! is redrawn as choices change, without it the server's check says the same after sending.
//! Text fields go through the one input parser (`numberpool_domain::input`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::input::{TextRow, text_row};
use numberpool_domain::{
    AccountId, AccountKind, Capacity, Customization, NumberStatus, NumberType, Product, Rule,
    TrunkId, VoiceDirection,
};
use serde::Deserialize;

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::{WebResult, explain};
use super::forms::Choice;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{AddNumber, AllocateOptions, ServiceError};

/// The form as sent (every field text; checkboxes absent when off).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct AddForm {
    pub product: String,
    pub phone_number: String,
    pub country: String,
    #[serde(rename = "type")]
    pub number_type: String,
    pub status: String,
    pub sip_trunk: String,
    pub sub_account: String,
    pub billing_reference: String,
    pub service_info: String,
    pub capacity: String,
    pub voice_direction: String,
    pub messaging: String,
    pub outbound_dialer: Option<String>,
    pub outbound_cli_shared: Option<String>,
}

/// An option that a rule may forbid.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
    pub disabled: bool,
}

/// The customization part, with what the rules allow given the other choices.
#[derive(Debug, Clone)]
pub struct Custom {
    pub capacities: Vec<Opt>,
    pub directions: Vec<Opt>,
    pub messagings: Vec<Opt>,
    pub dialer: bool,
    pub dialer_disabled: bool,
    pub cli_shared: bool,
    pub cli_shared_disabled: bool,
    pub errors: HashMap<&'static str, String>,
}

impl Custom {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

fn parsed<T: std::str::FromStr + Copy>(s: &str, default: T) -> T {
    s.trim().parse().unwrap_or(default)
}

impl AddForm {
    fn product(&self) -> Product {
        parsed(&self.product, Product::Phone)
    }

    fn customization(&self) -> Customization {
        self.customization_or(Customization::default())
    }

    /// The customization sent, with `d`'s value for a choice that is absent or unreadable.
    pub fn customization_or(&self, d: Customization) -> Customization {
        Customization {
            capacity: parsed(&self.capacity, d.capacity),
            voice_direction: parsed(&self.voice_direction, d.voice_direction),
            messaging: parsed(&self.messaging, d.messaging),
            outbound_dialer: self.outbound_dialer.is_some(),
            outbound_cli_shared: self.outbound_cli_shared.is_some(),
        }
    }

    /// The customization part for these choices (R-CUST-1..3 decide what is disabled).
    pub fn custom(&self, errors: HashMap<&'static str, String>) -> Custom {
        let product = self.product();
        let c = self.customization();
        let outbound = matches!(
            c.voice_direction,
            VoiceDirection::Both | VoiceDirection::OutboundOnly
        );
        let opts = |all: &'static [&'static str], chosen: &str, off: &dyn Fn(&str) -> bool| {
            all.iter()
                .map(|&v| Opt {
                    value: v,
                    label: label(v),
                    selected: v == chosen,
                    disabled: off(v),
                })
                .collect()
        };
        Custom {
            capacities: opts(
                &["single_user", "single_contact_center", "multiple"],
                c.capacity.as_str(),
                &|v| v == "single_contact_center" && product == Product::ContactCenter,
            ),
            directions: opts(
                &["both", "inbound_only", "outbound_only", "none"],
                c.voice_direction.as_str(),
                &|_| false,
            ),
            messagings: opts(&["none", "sms", "sms_mms"], c.messaging.as_str(), &|_| {
                false
            }),
            dialer: c.outbound_dialer,
            dialer_disabled: !outbound,
            cli_shared: c.outbound_cli_shared,
            cli_shared_disabled: !(outbound && c.capacity == Capacity::Multiple),
            errors,
        }
    }
}

#[derive(Template)]
#[template(path = "add.html")]
struct AddPage {
    chrome: Chrome,
    f: AddForm,
    products: Vec<Choice>,
    types: Vec<Choice>,
    statuses: Vec<Choice>,
    trunks: Vec<Choice>,
    sub_accounts: Vec<Choice>,
    custom: Custom,
    errors: FieldErrors,
}

/// The refusals of a form's fields, each shown beside its field.
#[derive(Debug, Default)]
pub struct FieldErrors(pub HashMap<&'static str, String>);

impl FieldErrors {
    pub fn of(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Template)]
#[template(path = "partials/customization.html")]
struct CustomPart {
    custom: Custom,
}

/// The words of an enum's values.
/// `s`, or `default` when it is blank.
fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.trim().is_empty() { default } else { s }
}

async fn add_page(
    st: &WebState,
    user: &SignedIn,
    f: AddForm,
    errors: HashMap<&'static str, String>,
    status: StatusCode,
) -> WebResult<Response> {
    let actor = user.actor();
    let trunks = st.service.list_trunks(actor).await.unwrap_or_default();
    let accounts = st.service.list_accounts(actor).await?;
    let (custom_errors, basic_errors) = split_custom(errors);
    let page = AddPage {
        chrome: user.chrome("numbers"),
        products: Choice::of(&Product::ALL, Product::as_str, or(&f.product, "phone")),
        types: Choice::of(&NumberType::ALL, NumberType::as_str, &f.number_type),
        statuses: Choice::of(
            &NumberStatus::ALL,
            NumberStatus::api_str,
            or(&f.status, "active"),
        ),
        trunks: Choice::trunks(&trunks, &f.sip_trunk),
        sub_accounts: Choice::accounts(
            accounts
                .iter()
                .filter(|a| a.id != actor.account && a.kind != AccountKind::Provider),
            &f.sub_account,
        ),
        custom: f.custom(custom_errors),
        errors: FieldErrors(basic_errors),
        f,
    };
    Ok(render(status, &page))
}

/// `GET /portal/numbers/new`.
pub async fn form(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
    add_page(
        &st,
        &user,
        AddForm::default(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /portal/numbers/new/customization`: the customization part redrawn for htmx.
pub async fn customization(_user: SignedIn, Query(f): Query<AddForm>) -> Response {
    render(
        StatusCode::OK,
        &CustomPart {
            custom: f.custom(HashMap::new()),
        },
    )
}

/// Errors of the customization part, apart from the others (each part shows its own).
pub fn split_custom(
    errors: HashMap<&'static str, String>,
) -> (HashMap<&'static str, String>, HashMap<&'static str, String>) {
    errors
        .into_iter()
        .partition(|(k, _)| matches!(*k, "capacity" | "outbound_dialer" | "outbound_cli_shared"))
}

/// A chosen id from a select: `None` when blank; an unreadable one is an error beside `field`.
pub fn pick<T: std::str::FromStr>(
    errors: &mut HashMap<&'static str, String>,
    field: &'static str,
    raw: &str,
    message: &str,
) -> Option<T> {
    match raw.trim() {
        "" => None,
        t => t
            .parse()
            .map_err(|_| errors.insert(field, message.into()))
            .ok(),
    }
}

/// The field a refusal belongs beside.
fn field_of(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Rule(v) => match v.rule {
            Rule::Cust1 => "capacity",
            Rule::Cust2 => "outbound_dialer",
            Rule::Cust3 => "outbound_cli_shared",
            Rule::Num1 | Rule::Num2 | Rule::Num3 => "phone_number",
            _ => "form",
        },
        ServiceError::NumberAlreadyExists(_) => "phone_number",
        ServiceError::NotFound("SIP trunk") => "sip_trunk",
        ServiceError::NotFound(_) => "sub_account",
        _ => "form",
    }
}

/// `POST /portal/numbers/new`.
pub async fn submit(
    State(st): State<WebState>,
    CsrfForm { user, form: f }: CsrfForm<AddForm>,
) -> WebResult<Response> {
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let row = TextRow {
        phone_number: f.phone_number.clone(),
        country: Some(f.country.clone()),
        product: Some(f.product.clone()),
        status: Some(f.status.clone()),
        number_type: Some(f.number_type.clone()),
        billing_reference: Some(f.billing_reference.clone()),
        service_info: Some(f.service_info.clone()),
        ..TextRow::default()
    };
    let parsed = text_row(&row);
    let trunk: Option<TrunkId> = pick(
        &mut errors,
        "sip_trunk",
        &f.sip_trunk,
        "Choose a SIP trunk from the list.",
    );
    let sub: Option<AccountId> = pick(
        &mut errors,
        "sub_account",
        &f.sub_account,
        "Choose a sub account from the list.",
    );
    let (number, mut fields) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let field = match e.field {
                "phone_number" => "phone_number",
                "country" => "country",
                "type" => "type",
                "status" => "status",
                "product" => "product",
                _ => "form",
            };
            errors.insert(field, e.message);
            return add_page(&st, &user, f, errors, StatusCode::BAD_REQUEST).await;
        }
    };
    if !errors.is_empty() {
        return add_page(&st, &user, f, errors, StatusCode::BAD_REQUEST).await;
    }
    fields.sip_trunk_id = trunk;
    fields.customization = Some(f.customization());
    let added = st
        .service
        .add_numbers(
            user.actor(),
            vec![AddNumber {
                phone_number: number,
                fields,
            }],
        )
        .await;
    let n = match added {
        Ok(mut v) if !v.is_empty() => v.swap_remove(0),
        Ok(_) => return Err(ServiceError::NotFound("number").into()),
        Err(
            e @ (ServiceError::Rule(_)
            | ServiceError::Invalid(_)
            | ServiceError::NumberAlreadyExists(_)
            | ServiceError::NotFound(_)),
        ) => {
            let (_, _, message) = explain(&e);
            errors.insert(field_of(&e), message);
            return add_page(&st, &user, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(to) = sub {
        let allocated = st
            .service
            .allocate(
                user.actor(),
                &numberpool_store::NumberLookup::Id(n.id),
                to,
                AllocateOptions {
                    sip_trunk_id: trunk,
                    billing_reference: n.billing_reference.clone(),
                    service_info: n.service_info.clone(),
                },
            )
            .await;
        if let Err(e) = allocated {
            // The number is added; only the hand-over failed: say so on the number's page.
            let (_, _, message) = explain(&e);
            return Ok(Redirect::to(&format!(
                "/portal/numbers/{}?warning={}",
                n.id,
                super::number::urlencoding(&format!(
                    "Added to your pool, but not allocated to the sub account: {message}"
                ))
            ))
            .into_response());
        }
    }
    Ok(Redirect::to(&format!("/portal/numbers/{}?added=1", n.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_disable_what_they_forbid() {
        let f = AddForm {
            product: "contact_center".into(),
            voice_direction: "inbound_only".into(),
            capacity: "multiple".into(),
            ..AddForm::default()
        };
        let c = f.custom(HashMap::new());
        let cc = c
            .capacities
            .iter()
            .find(|o| o.value == "single_contact_center");
        assert!(cc.is_some_and(|o| o.disabled), "R-CUST-1");
        assert!(c.dialer_disabled, "R-CUST-2");
        assert!(c.cli_shared_disabled, "R-CUST-3: not outbound");
        let ok = AddForm {
            capacity: "multiple".into(),
            voice_direction: "outbound_only".into(),
            ..AddForm::default()
        }
        .custom(HashMap::new());
        assert!(!ok.dialer_disabled && !ok.cli_shared_disabled);
        assert!(ok.capacities.iter().all(|o| !o.disabled));
    }
}
