//! The portal's *Find numbers* page (SPEC §5): the available search of the API as a form, its
//! results with locality, capabilities and what each costs a month before anyone takes it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::NumberType;
use serde::Deserialize;

use super::chart::label;
use super::errors::WebResult;
use super::forms::Choice;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::{AvailableNumber, AvailableParams, ServiceError};

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
            link: format!("/portal/numbers/{}", n.phone_number.replace('+', "%2B")),
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
    rows: Vec<FoundRow>,
    has_pool: bool,
}

/// `GET /portal/numbers/available`: the form, and what it finds (the first ten free numbers
/// before anything is typed).
pub async fn page(
    State(st): State<WebState>,
    user: SignedIn,
    Query(q): Query<FindQuery>,
) -> WebResult<Response> {
    let chrome = user.chrome("available");
    let mut page = FindPage {
        has_pool: chrome.is_pool(),
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
