//! One settings item (a SIP trunk, a carrier, an attribute or a rate) as the settings pages see
//! it: which kind a URL names, the one form every section's fields come in, how what was typed
//! is read (a cost exactly in cents, allowed values one per line), and the service call that
//! creates, changes or deletes each kind.

use numberpool_domain::rate::MAX_MONTHLY_COST_CENTS;
use numberpool_domain::{Action, Attribute, Carrier, CarrierKind, NumberType, Rate, SipTrunk};
use serde::Deserialize;

use crate::service::{Actor, CarrierPatch, RatePatch, ServiceError, TrunkPatch};
use crate::web::WebState;
use crate::web::chart::label;
use crate::web::errors::{WebError, WebResult};
use crate::web::forms::Choice;

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
    pub(super) fn parse(s: &str) -> WebResult<Kind> {
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
    pub(super) fn of_action(a: Action) -> Option<Kind> {
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

/// A cost as typed ("1", "1.5", "0.99") in cents: exact, never through a float.
pub(super) fn cents(typed: &str) -> Result<i64, ServiceError> {
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
pub(super) fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// "1.25 USD".
pub(super) fn money(cents: i64, currency: &str) -> String {
    format!("{} {currency}", amount(cents))
}

/// The allowed values typed one per line: blank lines skipped, spaces around a value dropped.
pub(super) fn lines(typed: &str) -> Vec<String> {
    typed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `s` with its first letter upper case, to start a sentence (names are kept as they are).
pub(super) fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

pub(super) fn parse_or<T: std::str::FromStr>(s: &str, message: &str) -> Result<T, ServiceError> {
    s.trim()
        .parse()
        .map_err(|_| ServiceError::Invalid(message.to_string()))
}

/// The form's `version`, when it carries one.
pub(super) fn version(f: &ItemForm) -> Result<Option<i64>, ServiceError> {
    non_empty(&f.version)
        .map(|v| parse_or(&v, "The form is damaged: reload the page."))
        .transpose()
}

pub(super) fn kind_choices(chosen: &str) -> Vec<Choice> {
    Choice::list(CarrierKind::ALL, chosen, |k| {
        (k.as_str().to_string(), label(k.noun()))
    })
}

/// One of the page's items, as the service gives it.
pub enum Item {
    Trunk(SipTrunk),
    Carrier(Carrier),
    Attribute(Attribute),
    Rate(Rate),
}

impl Item {
    pub(super) async fn load(
        st: &WebState,
        actor: &Actor,
        kind: Kind,
        id: &str,
    ) -> WebResult<Item> {
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

    pub(super) fn kind(&self) -> Kind {
        match self {
            Item::Trunk(_) => Kind::Trunks,
            Item::Carrier(_) => Kind::Carriers,
            Item::Attribute(_) => Kind::Attributes,
            Item::Rate(_) => Kind::Rates,
        }
    }

    pub(super) fn id(&self) -> String {
        match self {
            Item::Trunk(t) => t.id.to_string(),
            Item::Carrier(c) => c.id.to_string(),
            Item::Attribute(a) => a.id.to_string(),
            Item::Rate(r) => r.id.to_string(),
        }
    }

    /// What notices and the audit log call it: the name, key, or country and type.
    pub(super) fn name(&self) -> String {
        match self {
            Item::Trunk(t) => t.name.clone(),
            Item::Carrier(c) => c.name.clone(),
            Item::Attribute(a) => a.key.clone(),
            Item::Rate(r) => rate_name(r),
        }
    }

    /// "SIP trunk us-east-1", "voice carrier Carrier One", "attribute tier", "rate US Local".
    pub(super) fn title(&self) -> String {
        let what = match self {
            Item::Trunk(_) => "SIP trunk",
            Item::Carrier(c) => c.kind.noun(),
            Item::Attribute(_) => "attribute",
            Item::Rate(_) => "rate",
        };
        format!("{what} {}", self.name())
    }

    /// The item as the edit form starts.
    pub(super) fn form(&self) -> ItemForm {
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
    pub(super) fn consequence(&self, account: &str) -> String {
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

pub(super) fn rate_name(r: &Rate) -> String {
    format!("{} {}", r.country, label(r.number_type.as_str()))
}

/// Creates what the form describes; the audit action and the name for the notice.
pub(super) async fn create_item(
    st: &WebState,
    actor: &Actor,
    kind: Kind,
    f: &ItemForm,
) -> Result<(Action, String), ServiceError> {
    let s = &st.service;
    let created = match kind {
        Kind::Trunks => (
            Action::SipTrunkCreate,
            s.create_trunk(actor, &f.name, &f.region, Some(f.default.is_some()))
                .await?
                .name,
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
pub(super) fn taken(kind: Kind, f: &ItemForm) -> String {
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
pub(super) async fn edit_item(
    st: &WebState,
    actor: &Actor,
    item: &Item,
    f: &ItemForm,
) -> Result<Action, ServiceError> {
    let s = &st.service;
    let v = version(f)?;
    match item {
        Item::Trunk(t) => {
            // The list's *Make default* button sends only that; the edit form sends the rest.
            let patch = TrunkPatch {
                name: non_empty(&f.name),
                region: non_empty(&f.region),
                is_default: f.default.is_some().then_some(true),
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

pub(super) async fn delete_item(
    st: &WebState,
    actor: &Actor,
    item: &Item,
) -> Result<Action, ServiceError> {
    let s = &st.service;
    match item {
        Item::Trunk(t) => s.delete_trunk(actor, t.id, None).await?,
        Item::Carrier(c) => s.delete_carrier(actor, c.id, None).await?,
        Item::Attribute(a) => s.delete_attribute(actor, a.id, None).await?,
        Item::Rate(r) => s.delete_rate(actor, r.id, None).await?,
    };
    Ok(match item {
        Item::Trunk(_) => Action::SipTrunkDelete,
        Item::Carrier(_) => Action::CarrierDelete,
        Item::Attribute(_) => Action::AttributeDelete,
        Item::Rate(_) => Action::RateDelete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::forms::Done;

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
