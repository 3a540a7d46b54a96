//! The portal's *Find numbers* page (SPEC §5): the available search of the API as a form, its
//! results with locality, capabilities and what each costs a month; numbers chosen there are
//! provisioned to an account after a review that shows what they will cost.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use numberpool_domain::{
    Account, AccountId, AccountKind, AccountStatus, E164, NumberType, TrunkId,
};
use serde::Deserialize;

use super::chart::label;
use super::csrf::CsrfForm;
use super::errors::WebResult;
use super::forms::{Choice, refusal};
use super::number::urlencoding;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{AvailableNumber, AvailableParams, MAX_PROVISION, ServiceError};

/// The form as sent: every field a string, empty meaning "any"; a capability box is `on`.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct FindQuery {
    pub country: String,
    pub state: String,
    pub city: String,
    pub area_code: String,
    #[serde(rename = "type")]
    pub number_type: String,
    pub contains: String,
    pub quantity: String,
    pub voice: String,
    pub sms: String,
    pub mms: String,
    pub fax: String,
    /// After a provision: how many went, and to which account (named from the account list).
    pub provisioned: String,
    pub to: String,
    /// After the self-service switch: `on` or `off`.
    pub self_service: String,
}

/// Result counts a search may ask for.
const QUANTITIES: [u32; 4] = [10, 25, 50, 100];

impl FindQuery {
    fn boxes(&self) -> [(&'static str, bool); 4] {
        [
            ("voice", !self.voice.is_empty()),
            ("sms", !self.sms.is_empty()),
            ("mms", !self.mms.is_empty()),
            ("fax", !self.fax.is_empty()),
        ]
    }

    /// The API's parameters for this form; a field that does not parse is the message to show.
    fn params(&self) -> Result<AvailableParams, String> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let number_type = match self.number_type.trim() {
            "" => None,
            t => Some(
                t.parse::<NumberType>()
                    .map_err(|_| "Type: choose one of the list.".to_string())?,
            ),
        };
        let quantity = match self.quantity.trim() {
            "" => None,
            q => Some(
                q.parse::<u32>()
                    .map_err(|_| "How many: choose one of the list.".to_string())?,
            ),
        };
        let caps: Vec<&str> = self
            .boxes()
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect();
        Ok(AvailableParams {
            country: text(&self.country),
            state: text(&self.state),
            city: text(&self.city),
            area_code: text(&self.area_code),
            number_type,
            capabilities: (!caps.is_empty()).then(|| caps.join(",")),
            contains: text(&self.contains),
            quantity,
        })
    }
}

/// One number found, as the table shows it.
#[derive(Debug, Clone)]
pub struct FoundRow {
    pub phone_number: String,
    /// The number's page (`+` encoded).
    pub link: String,
    pub place: String,
    pub number_type: String,
    pub capabilities: String,
    pub cost: String,
}

impl FoundRow {
    fn of(n: &AvailableNumber) -> Self {
        let place = [
            n.city.as_deref(),
            n.state.as_deref(),
            Some(n.country.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let caps: Vec<String> = n.capabilities.names().map(capability_word).collect();
        FoundRow {
            link: format!("/portal/numbers/{}", urlencoding(&n.phone_number)),
            phone_number: n.phone_number.clone(),
            place,
            number_type: label(n.number_type.as_str()),
            capabilities: if caps.is_empty() {
                "None".into()
            } else {
                caps.join(", ")
            },
            cost: match (n.monthly_cost, &n.currency) {
                (Some(c), Some(cur)) => format!("{c:.2} {cur} a month"),
                _ => "No rate set".into(),
            },
        }
    }
}

fn capability_word(name: &str) -> String {
    match name {
        "sms" | "mms" => name.to_uppercase(),
        other => label(other),
    }
}

#[derive(Template)]
#[template(path = "available.html")]
struct FindPage {
    chrome: Chrome,
    q: FindQuery,
    types: Vec<Choice>,
    quantities: Vec<Choice>,
    boxes: Vec<(String, &'static str, bool)>,
    error: Option<String>,
    notice: Option<String>,
    rows: Vec<FoundRow>,
    has_pool: bool,
    /// Where chosen numbers may go; empty when the user cannot provision.
    sites: Vec<Choice>,
    /// A pool's own self-service switch (`None` for a customer).
    self_service: Option<bool>,
    /// A customer's providers that opened their pools to it, by name.
    providers: Vec<String>,
}

/// The accounts a pool provisions to (R-MOVE-1): its active resellers and customers one level
/// down, and the customers connected to it through Provider Exchange (roots in its scope). A
/// customer provisions to itself only (from its self-service providers' pools).
async fn sites(st: &WebState, user: &SignedIn) -> WebResult<Vec<Account>> {
    let me = user.actor().account;
    Ok(st
        .service
        .list_accounts(user.actor())
        .await?
        .into_iter()
        .filter(|a| {
            a.status == AccountStatus::Active
                && match a.kind {
                    AccountKind::Reseller => a.parent_id == Some(me),
                    AccountKind::Customer => {
                        a.id == me || a.parent_id == Some(me) || a.parent_id.is_none()
                    }
                    AccountKind::Provider | AccountKind::Unit => false,
                }
        })
        .collect())
}

/// `GET /portal/numbers/available`: the form, and what it finds (the first ten free numbers
/// before anything is typed).
pub async fn page(
    State(st): State<WebState>,
    user: SignedIn,
    Query(q): Query<FindQuery>,
) -> WebResult<Response> {
    let chrome = user.chrome("available");
    let (self_service, providers) = if chrome.is_pool() {
        (
            Some(st.service.self_service_setting(user.actor()).await?),
            Vec::new(),
        )
    } else {
        let pools = st.service.pools_to_take_from(user.actor()).await?;
        (None, pools.into_iter().map(|a| a.name).collect())
    };
    // A unit, and a customer no provider opened a pool to, have nowhere to provision from.
    let accounts = if chrome.can_write() && (chrome.is_pool() || !providers.is_empty()) {
        sites(&st, &user).await?
    } else {
        Vec::new()
    };
    let notice = match (
        q.provisioned.trim().parse::<usize>(),
        q.to.parse::<AccountId>(),
    ) {
        (Ok(n), Ok(to)) => accounts.iter().find(|a| a.id == to).map(|a| {
            let what = if n == 1 {
                "1 number"
            } else {
                &format!("{n} numbers")
            };
            format!("{what} provisioned to {}.", a.name)
        }),
        _ => match q.self_service.as_str() {
            "on" => Some(
                "Self-service is on: your customers find this pool's free numbers and provision \
                 them for themselves."
                    .to_string(),
            ),
            "off" => Some("Self-service is off: your customers no longer see this pool.".into()),
            _ => None,
        },
    };
    let mut page = FindPage {
        self_service,
        providers,
        has_pool: chrome.is_pool(),
        sites: Choice::accounts(&accounts, ""),
        notice,
        chrome,
        types: Choice::list(NumberType::ALL, &q.number_type, |t| {
            (t.as_str().to_string(), label(t.as_str()))
        }),
        quantities: Choice::list(QUANTITIES, &q.quantity, |n| (n.to_string(), n.to_string())),
        boxes: q
            .boxes()
            .into_iter()
            .map(|(name, on)| (capability_word(name), name, on))
            .collect(),
        error: None,
        rows: vec![],
        q: q.clone(),
    };
    let found = match q.params() {
        Err(e) => Err(e),
        Ok(params) => match params.parse(None) {
            Err(ServiceError::Invalid(m)) => Err(m),
            Err(e) => return Err(e.into()),
            Ok(query) => match st.service.search_available(user.actor(), &query).await {
                Err(ServiceError::Invalid(m)) => Err(m),
                Err(e) => return Err(e.into()),
                Ok(found) => Ok(found),
            },
        },
    };
    let status = match found {
        Ok(found) => {
            page.rows = found.iter().map(FoundRow::of).collect();
            StatusCode::OK
        }
        Err(e) => {
            page.error = Some(e);
            StatusCode::BAD_REQUEST
        }
    };
    Ok(render(status, &page))
}

/// Numbers chosen on the search, each with what it costs if it is still free.
#[derive(Debug, Clone)]
pub struct ChosenRow {
    pub phone_number: String,
    /// As the search shows it; `None` when it was taken since it was found (or never was the
    /// pool's): it cannot be provisioned.
    pub found: Option<FoundRow>,
}

#[derive(Template)]
#[template(path = "provision.html")]
struct ReviewPage {
    chrome: Chrome,
    error: Option<String>,
    rows: Vec<ChosenRow>,
    /// The monthly cost of the free ones, a line per currency.
    totals: Vec<String>,
    /// The numbers, space-separated, as the form sends them.
    numbers: String,
    free: usize,
    /// Free numbers whose country and type have no rate.
    unpriced: usize,
    sites: Vec<Choice>,
    trunks: Vec<Choice>,
    default_trunk: Option<String>,
    /// How long a reservation made from here lasts, in words ("1 day").
    hold_for: String,
}

/// The numbers of a review or a provision, parsed; the first that is not E.164 is the error.
fn parse_numbers<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Vec<E164>, String> {
    let mut out: Vec<E164> = Vec::new();
    for t in texts {
        let e = E164::parse(t).map_err(|e| format!("{t}: {e}"))?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Builds the review of `numbers` for `site` (preselected), with an error to show.
async fn review_page(
    st: &WebState,
    user: &SignedIn,
    numbers: &[E164],
    site: &str,
    error: Option<String>,
) -> WebResult<ReviewPage> {
    let actor = user.actor();
    let shown = st
        .service
        .available_by_number(actor, numbers, site.trim().parse().ok())
        .await?;
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut rows = Vec::with_capacity(shown.len());
    for (e, a) in &shown {
        if let Some(a) = a
            && let (Some(c), Some(cur)) = (a.monthly_cost, &a.currency)
        {
            *totals.entry(cur.clone()).or_default() += (c * 100.0).round() as i64;
        }
        rows.push(ChosenRow {
            phone_number: e.as_str().to_string(),
            found: a.as_ref().map(FoundRow::of),
        });
    }
    let trunks = st.service.list_trunks(actor).await?;
    let default_trunk = trunks
        .iter()
        .find(|t| t.is_default)
        .map(|t| format!("{} ({})", t.name, t.region));
    let others: Vec<_> = trunks.into_iter().filter(|t| !t.is_default).collect();
    Ok(ReviewPage {
        chrome: user.chrome("available"),
        error,
        free: rows.iter().filter(|r| r.found.is_some()).count(),
        unpriced: shown
            .iter()
            .filter(|(_, a)| a.as_ref().is_some_and(|a| a.monthly_cost.is_none()))
            .count(),
        numbers: numbers
            .iter()
            .map(E164::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        rows,
        totals: totals
            .into_iter()
            .map(|(cur, cents)| format!("{:.2} {cur} a month", cents as f64 / 100.0))
            .collect(),
        sites: Choice::accounts(&sites(st, user).await?, site),
        trunks: Choice::trunks(&others, ""),
        default_trunk,
        hold_for: super::reservations::duration_words(
            st.service.reservation_ttl_setting(actor).await? / 1000,
        ),
    })
}

/// `GET /portal/numbers/provision?site=…&n=…&n=…`: the numbers chosen on the search, what each
/// costs a month and the total, before anything is taken.
pub async fn review(
    State(st): State<WebState>,
    user: SignedIn,
    RawQuery(q): RawQuery,
) -> WebResult<Response> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let site = pairs
        .iter()
        .find(|(k, _)| k == "site")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let chosen = pairs
        .iter()
        .filter(|(k, _)| k == "n")
        .map(|(_, v)| v.as_str());
    let (numbers, error) = match parse_numbers(chosen) {
        Ok(n) if n.is_empty() => (n, Some("Choose numbers on the search first.".to_string())),
        Ok(n) if n.len() > MAX_PROVISION => (
            Vec::new(),
            Some(format!(
                "At most {MAX_PROVISION} numbers go at once: choose fewer."
            )),
        ),
        Ok(n) => (n, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = review_page(&st, &user, &numbers, &site, error).await?;
    Ok(render(status, &page))
}

/// The review's form.
#[derive(Debug, Deserialize)]
pub struct ProvisionForm {
    /// Space-separated E.164 numbers.
    numbers: String,
    site: String,
    /// Empty: the provider's default trunk.
    #[serde(default)]
    sip_trunk: String,
    /// `reserve`: hold the numbers for the account instead of provisioning them.
    #[serde(default)]
    intent: String,
}

/// `POST /portal/numbers/provision`: takes the reviewed numbers, all or none; back to the
/// search with a notice, or the review again with what went wrong.
pub async fn provision(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<ProvisionForm>,
) -> WebResult<Response> {
    let numbers = match parse_numbers(form.numbers.split_whitespace()) {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => Vec::new(),
        Err(e) => {
            let page = review_page(&st, &user, &[], &form.site, Some(e)).await?;
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
    };
    match try_provision(&st, &user, &numbers, &form).await? {
        Ok(done) => Ok(done),
        Err(message) => {
            let page = review_page(&st, &user, &numbers, &form.site, Some(message)).await?;
            Ok(render(StatusCode::BAD_REQUEST, &page))
        }
    }
}

/// The provision the form asks for: the redirect after it, or what to say on the review.
async fn try_provision(
    st: &WebState,
    user: &SignedIn,
    numbers: &[E164],
    form: &ProvisionForm,
) -> WebResult<Result<Response, String>> {
    let Ok(site) = form.site.trim().parse::<AccountId>() else {
        return Ok(Err("Provision to: choose an account from the list.".into()));
    };
    if form.intent == "reserve" {
        return match st.service.reserve(user.actor(), numbers, site, None).await {
            Ok(r) => Ok(Ok(super::forms::redirect_done(
                "/portal/reservations",
                numberpool_domain::Action::ReservationCreate,
                &format!(
                    "{} until {}",
                    r.phone_numbers.join(", "),
                    super::reservations::when(r.expires_at)
                ),
                "reservations",
            ))),
            Err(e) => Ok(Err(refusal(e)?)),
        };
    }
    let trunk = match form.sip_trunk.trim() {
        "" => None,
        t => match t.parse::<TrunkId>() {
            Ok(t) => Some(t),
            Err(_) => return Ok(Err("SIP trunk: choose one from the list.".into())),
        },
    };
    match st
        .service
        .provision(user.actor(), numbers, site, trunk)
        .await
    {
        Ok(done) => Ok(Ok(Redirect::to(&format!(
            "/portal/numbers/available?provisioned={}&to={}",
            done.len(),
            urlencoding(&site.to_string())
        ))
        .into_response())),
        Err(e) => Ok(Err(refusal(e)?)),
    }
}

/// The self-service switch's form.
#[derive(Debug, Deserialize)]
pub struct SelfServiceForm {
    /// `on` or `off`.
    enabled: String,
}

/// `POST /portal/numbers/self_service`: a pool opens itself to its customers' search and
/// provisioning, or closes; back to *Find numbers* saying which.
pub async fn self_service(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<SelfServiceForm>,
) -> WebResult<Response> {
    let on = match form.enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(ServiceError::Invalid("enabled: on or off".into()).into()),
    };
    st.service.set_self_service(user.actor(), on).await?;
    Ok(Redirect::to(&format!(
        "/portal/numbers/available?self_service={}",
        if on { "on" } else { "off" }
    ))
    .into_response())
}
