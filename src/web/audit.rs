//! The audit log (SPEC §6) as a page: every change made in the account and the accounts below
//! it, newest first, filtered by action, kind of record and dates, keyset-paged like the numbers
//! list. Each event says when, what in words, on which record (a number links to its page), who,
//! and through which channel. The words for an action are shared with the notices of
//! `settings.rs` and `clients.rs`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::{Action, AuditId};
use numberpool_store::{AuditEvent, AuditFilter, Channel};
use serde::Deserialize;
use time::{Date, Duration, macros::format_description};

use super::chart::label;
use super::errors::WebResult;
use super::forms::Choice;
use super::number::when;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};
use crate::service::Principal;

/// Events per page.
const PAGE_SIZE: u32 = 50;

/// The filter form as sent: every field a string, empty meaning "any".
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct AuditQuery {
    pub action: String,
    pub entity: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    pub since: String,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    pub until: String,
    /// The last event of the previous page.
    pub before: String,
}

/// An action in words, as a heading of what happened.
pub fn action_words(a: Action) -> &'static str {
    match a {
        Action::NumberAdd => "Numbers added",
        Action::NumberUpdate => "Number edited",
        Action::NumberAllocate => "Number allocated",
        Action::NumberAssign => "Number assigned",
        Action::NumberUnassign => "Number unassigned",
        Action::NumberMoveToUnit => "Number moved to a unit",
        Action::NumberRelease => "Number released",
        Action::NumberUnbind => "Number unbound",
        Action::NumberDelete => "Number deleted",
        Action::BlockCreate => "Number block added",
        Action::BlockRelease => "Number block released",
        Action::NumberReserve => "Number reserved",
        Action::NumberUnreserve => "Number's reservation ended",
        Action::ReservationCreate => "Numbers reserved",
        Action::ReservationExtend => "Reservation extended",
        Action::ReservationRelease => "Reservation released",
        Action::ReservationExpire => "Reservation ran out",
        Action::ReservationFulfil => "Reservation provisioned",
        Action::PortOrderCreate => "Porting order placed",
        Action::PortOrderUpdate => "Porting order changed",
        Action::PortOrderStatus => "Porting order moved",
        Action::AccountCreate => "Account created",
        Action::AccountUpdate => "Account changed",
        Action::AccountDeactivate => "Account deactivated",
        Action::AccountReactivate => "Account reactivated",
        Action::ExchangeConnect => "Provider Exchange connected",
        Action::ExchangeDisconnectRequest => "Disconnection requested",
        Action::ExchangeDeactivate => "Provider Exchange connection deactivated",
        Action::SipTrunkCreate => "SIP trunk created",
        Action::SipTrunkUpdate => "SIP trunk changed",
        Action::SipTrunkDelete => "SIP trunk deleted",
        Action::CarrierCreate => "Carrier created",
        Action::CarrierUpdate => "Carrier changed",
        Action::CarrierDelete => "Carrier deleted",
        Action::AttributeCreate => "Attribute created",
        Action::AttributeUpdate => "Attribute values changed",
        Action::AttributeDelete => "Attribute deleted",
        Action::RateCreate => "Rate created",
        Action::RateUpdate => "Rate changed",
        Action::RateDelete => "Rate deleted",
        Action::ClientCreate => "API client created",
        Action::ClientRotateSecret => "API client secret rotated",
        Action::ClientDelete => "API client deleted",
        Action::UserCreate => "User created",
        Action::UserPasswordReset => "Password reset",
        Action::WebhookCreate => "Webhook added",
        Action::WebhookUpdate => "Webhook changed",
        Action::WebhookRotateSecret => "Webhook secret rotated",
        Action::WebhookDelete => "Webhook removed",
        Action::WebhookDisable => "Webhook disabled after failures",
        Action::PoolThresholdCreate => "Pool threshold added",
        Action::PoolThresholdDelete => "Pool threshold removed",
        Action::PoolAlert => "Pool running low",
        Action::JobDone => "Job finished",
        Action::JobFailed => "Job failed",
    }
}

/// What kind of record an `entity_type` is, in words.
fn entity_words(entity_type: &str) -> String {
    match entity_type {
        "number" => "Number".into(),
        "number_batch" => "Numbers added together".into(),
        "connection" => "Provider Exchange connection".into(),
        "sip_trunk" => "SIP trunk".into(),
        "api_client" => "API client".into(),
        other => label(other),
    }
}

fn channel_words(c: Channel) -> &'static str {
    match c {
        Channel::Api => "API",
        Channel::Ui => "Portal",
        Channel::Import => "File import",
        Channel::Cli => "Command line",
        Channel::Job => "Background job",
    }
}

/// The kinds of record, in the order of the actions on them.
fn entity_types() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in Action::ALL {
        if !out.contains(&a.entity_type()) {
            out.push(a.entity_type());
        }
    }
    out
}

/// The action filter's options, grouped by the kind of record they change.
#[derive(Debug, Clone)]
pub struct ActionGroup {
    pub label: String,
    pub options: Vec<Choice>,
}

fn action_groups(chosen: &str) -> Vec<ActionGroup> {
    entity_types()
        .into_iter()
        .map(|t| ActionGroup {
            label: entity_words(t),
            options: Choice::list(
                Action::ALL.iter().filter(|a| a.entity_type() == t),
                chosen,
                |a| (a.as_str().to_string(), action_words(**a).to_string()),
            ),
        })
        .collect()
}

/// One event as the table shows it.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub at: String,
    pub what: &'static str,
    pub record: String,
    /// The record's page, for a number.
    pub link: Option<String>,
    pub who: String,
    pub channel: &'static str,
}

/// The record an event changed, named from its snapshots (after the change, else before it:
/// a deletion keeps only the record as it was).
fn record(e: &AuditEvent) -> (String, Option<String>) {
    let get = |k: &str| {
        [e.after.as_ref(), e.before.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|s| s.get(k))
    };
    let field = |k: &str| get(k).and_then(|v| v.as_str()).map(str::to_string);
    let kind = entity_words(&e.entity_type);
    match e.entity_type.as_str() {
        "number" => (
            field("phone_number").unwrap_or(kind),
            Some(format!("/portal/numbers/{}", e.entity_id)),
        ),
        "number_batch" => {
            let numbers: Vec<&str> = get("phone_numbers")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
                .unwrap_or_default();
            let shown = numbers
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if numbers.len() > 3 { ", …" } else { "" };
            (format!("{} numbers: {shown}{more}", numbers.len()), None)
        }
        "rate" => {
            let country = field("country").unwrap_or_default();
            let t = label(&field("number_type").unwrap_or_default());
            (format!("Rate {country} {t}"), None)
        }
        _ => {
            let name = ["name", "key", "client_id", "email"]
                .into_iter()
                .find_map(field);
            (name.map_or(kind.clone(), |n| format!("{kind} {n}")), None)
        }
    }
}

/// Who acted, as the signed-in user reads it: themselves, a user or client of a named account,
/// or the operator.
fn who(e: &AuditEvent, user: &SignedIn, names: &HashMap<String, String>) -> String {
    let of = e
        .actor_account_id
        .as_ref()
        .and_then(|a| names.get(a))
        .map(|n| format!(" of {n}"))
        .unwrap_or_default();
    let me = matches!(&user.actor().principal, Principal::User(id) if *id == e.actor_id);
    match e.actor_type.as_str() {
        "user" if me => format!("You ({})", user.session.email),
        "user" => format!("A user{of}"),
        "client" => format!("API client {}{of}", e.actor_id),
        _ => "The operator".to_string(),
    }
}

/// A `YYYY-MM-DD` day as Unix ms at its start (UTC); `days` later for an end.
fn day_ms(field: &str, typed: &str, days: i64) -> Result<Option<i64>, String> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let d = Date::parse(t, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{field}: give a date such as 2026-11-26."))?;
    let start = d.midnight().assume_utc() + Duration::days(days);
    Ok(Some(
        i64::try_from(start.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

impl AuditQuery {
    fn filter(&self) -> Result<(AuditFilter, Option<AuditId>), String> {
        let action = self.action.trim();
        if !action.is_empty() && action.parse::<Action>().is_err() {
            return Err("Action: choose one of the list.".into());
        }
        let entity = self.entity.trim();
        if !entity.is_empty() && !entity_types().contains(&entity) {
            return Err("Record: choose one of the list.".into());
        }
        let before = match self.before.trim() {
            "" => None,
            b => Some(
                b.parse::<AuditId>()
                    .map_err(|_| "This page link is damaged: start from the first page.")?,
            ),
        };
        let filter = AuditFilter {
            action: (!action.is_empty()).then(|| action.to_string()),
            entity_type: (!entity.is_empty()).then(|| entity.to_string()),
            entity_id: None,
            since: day_ms("From", &self.since, 0)?,
            // The whole of the last day: events before the start of the next one.
            until: day_ms("To", &self.until, 1)?,
        };
        Ok((filter, before))
    }

    fn is_filtered(&self) -> bool {
        [&self.action, &self.entity, &self.since, &self.until]
            .iter()
            .any(|v| !v.trim().is_empty())
    }

    /// This query as a URL query string, with `before` set to `before`.
    fn with_before(&self, before: &str) -> String {
        let pairs = [
            ("action", self.action.trim()),
            ("entity", self.entity.trim()),
            ("since", self.since.trim()),
            ("until", self.until.trim()),
            ("before", before),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    actions: Vec<ActionGroup>,
    entities: Vec<Choice>,
    error: Option<String>,
    rows: Vec<EventRow>,
    total: i64,
    next: Option<String>,
    first_page: Option<String>,
    filtered: bool,
}

/// `GET /portal/audit`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    let actor = user.actor();
    let mut page = AuditPage {
        chrome: user.chrome("audit"),
        actions: action_groups(q.action.trim()),
        entities: Choice::list(entity_types(), &q.entity, |t| {
            (t.to_string(), entity_words(t))
        }),
        error: None,
        rows: vec![],
        total: 0,
        next: None,
        first_page: None,
        filtered: q.is_filtered(),
        q: q.clone(),
    };
    let mut status = StatusCode::OK;
    match q.filter() {
        Err(e) => {
            page.error = Some(e);
            status = StatusCode::BAD_REQUEST;
        }
        Ok((filter, before)) => {
            let events = st
                .service
                .audit_log(actor, &filter, before, PAGE_SIZE)
                .await?;
            let names: HashMap<String, String> = st
                .service
                .list_accounts(actor)
                .await?
                .into_iter()
                .map(|a| (a.id.to_string(), a.name))
                .collect();
            page.total = events.total;
            page.next = events.next_after.as_deref().map(|b| q.with_before(b));
            page.first_page = before.map(|_| q.with_before(""));
            page.rows = events
                .items
                .iter()
                .map(|e| {
                    let (record, link) = record(e);
                    EventRow {
                        at: when(e.at),
                        what: action_words(e.action),
                        record,
                        link,
                        who: who(e, &user, &names),
                        channel: channel_words(e.channel),
                    }
                })
                .collect();
        }
    }
    Ok(render(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_whole_days_in_utc() {
        assert_eq!(day_ms("From", "", 0), Ok(None));
        assert_eq!(day_ms("From", "1970-01-02", 0), Ok(Some(86_400_000)));
        assert_eq!(day_ms("To", "1970-01-01", 1), Ok(Some(86_400_000)));
        assert!(day_ms("From", "26/11/2026", 0).is_err_and(|m| m.starts_with("From: ")));
    }

    #[test]
    fn every_action_is_in_one_group_of_the_filter() {
        let groups = action_groups("rate.delete");
        let all: Vec<&Choice> = groups.iter().flat_map(|g| &g.options).collect();
        assert_eq!(all.len(), Action::ALL.len());
        let chosen: Vec<&str> = all
            .iter()
            .filter(|c| c.selected)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(chosen, ["rate.delete"]);
    }

    #[test]
    fn a_bad_filter_is_said_in_words() {
        let q = AuditQuery {
            action: "number.explode".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            q.filter().err().as_deref(),
            Some("Action: choose one of the list.")
        );
        let q = AuditQuery {
            entity: "sip_trunk".into(),
            since: "2026-01-01".into(),
            ..AuditQuery::default()
        };
        assert!(q.filter().is_ok());
        assert_eq!(
            q.with_before("x"),
            "entity=sip_trunk&since=2026-01-01&before=x"
        );
    }
}
