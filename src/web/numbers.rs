//! The numbers list: filters (position, status, product, type, customer, prefix), an order
//! (when added or by number, either way) and keyset paging over the same service call as the API's list. With htmx the filter form swaps only
//! the results; without it the same URL renders the whole page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numberpool_domain::{
    AccountId, AccountKind, BlockId, NumberSort, NumberStatus, NumberType, Product, ViewPosition,
};
use numberpool_store::{NumberCursor, NumberFilter};
use serde::Deserialize;

use super::chart::label;
use super::errors::WebResult;
use super::forms::Choice;
use super::signin::render;
use super::{Chrome, SignedIn, WebState, is_htmx};
use crate::service::NumberView;

/// Numbers per page.
const PAGE_SIZE: u32 = 50;

/// The filter form as sent: every field a string, empty meaning "any".
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ListQuery {
    pub position: String,
    pub status: String,
    pub product: String,
    #[serde(rename = "type")]
    pub number_type: String,
    pub customer: String,
    /// A unit of the signed-in customer: the numbers it holds.
    pub unit: String,
    pub prefix: String,
    /// A number block of the signed-in pool: its numbers (from the blocks page).
    pub block: String,
    pub sort: String,
    pub after: String,
    /// Set after a release or delete, to say it was done.
    pub done: String,
    pub number: String,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub phone_number: String,
    pub number_type: String,
    pub status: String,
    pub product: String,
    pub position: String,
    pub customer: String,
    pub assigned_to: String,
    pub source: String,
    /// What a pool's admin may do to it from the list (seed 001's menu beside each number):
    /// a free number is allocated ("assigned to a sub account") or deleted, a returned one
    /// unbound. Each leads to the number's form or confirmation page.
    pub actions: Vec<RowAction>,
}

/// A link in a row's actions cell.
#[derive(Debug, Clone)]
pub struct RowAction {
    pub label: &'static str,
    /// The label with the number, for screen readers ("Unbind +14155550100").
    pub name: String,
    pub href: String,
    pub danger: bool,
}

/// The actions of a number's row for `viewer`, who may write: the moves its page offers on a
/// pool's number (R-DEL-2: delete only where it was uploaded).
fn row_actions(v: &NumberView, viewer: AccountId) -> Vec<RowAction> {
    let page = format!("/portal/numbers/{}", v.id);
    let action = |label: &'static str, href: String, danger| RowAction {
        label,
        name: format!("{} {}", label.trim_end_matches('…'), v.phone_number),
        href,
        danger,
    };
    match v.position {
        ViewPosition::Free => {
            let mut out = vec![action("Allocate…", format!("{page}#allocate"), false)];
            if v.uploaded_by == viewer {
                out.push(action("Delete…", format!("{page}/delete"), true));
            }
            out
        }
        ViewPosition::Returned => vec![action("Unbind…", format!("{page}/unbind"), false)],
        ViewPosition::InUse | ViewPosition::Assigned | ViewPosition::Unassigned => vec![],
    }
}

#[derive(Template)]
#[template(path = "numbers.html")]
struct NumbersPage {
    chrome: Chrome,
    q: ListQuery,
    positions: Vec<Choice>,
    statuses: Vec<Choice>,
    products: Vec<Choice>,
    types: Vec<Choice>,
    customers: Vec<Choice>,
    units: Vec<Choice>,
    sorts: Vec<Choice>,
    results: Results,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "numbers.html", block = "results")]
struct ResultsFragment {
    results: Results,
}

/// The table and its paging: what htmx swaps.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub error: Option<String>,
    pub rows: Vec<Row>,
    pub total: i64,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    pub first_page: Option<String>,
    pub filtered: bool,
    /// Whether any row has actions (the table then has their column).
    pub actions: bool,
    /// `ascending` or `descending` when the list is in E.164 order (the phone number column's
    /// `aria-sort`), else empty.
    pub number_order: &'static str,
}

fn parse<T: std::str::FromStr>(field: &str, s: &str) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    // The parse error names the field itself ("position: 'x' is not one of …").
    t.parse::<T>().map(Some).map_err(|e| {
        let m = e.to_string();
        if let Some(rest) = m.strip_prefix(field) {
            format!("{}{rest}", label(field))
        } else {
            format!("{}: {m}", label(field))
        }
    })
}

impl ListQuery {
    fn filter(&self) -> Result<(NumberFilter, Option<NumberCursor>), String> {
        let prefix = self.prefix.trim();
        let digits = prefix.strip_prefix('+').unwrap_or(prefix);
        if !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 15 {
            return Err("Starts with: give up to 15 digits, with or without a leading +.".into());
        }
        let filter = NumberFilter {
            view_position: parse::<ViewPosition>("position", &self.position)?,
            status: parse::<NumberStatus>("status", &self.status)?,
            product: parse::<Product>("product", &self.product)?,
            number_type: parse::<NumberType>("type", &self.number_type)?,
            customer: parse::<AccountId>("customer", &self.customer)?,
            holder: parse::<AccountId>("unit", &self.unit)?,
            e164_prefix: (!digits.is_empty()).then(|| format!("+{digits}")),
            block: parse::<BlockId>("block", &self.block)?,
            sort: parse::<NumberSort>("sort", &self.sort)?.unwrap_or_default(),
            ..NumberFilter::default()
        };
        let after = parse::<NumberCursor>("page", &self.after)?;
        Ok((filter, after))
    }

    /// This query as a URL query string, with `after` set to `next`.
    fn with_after(&self, next: &str) -> String {
        let mut q = self.clone();
        q.after = next.to_string();
        q.to_query()
    }

    fn to_query(&self) -> String {
        let pairs = [
            ("position", &self.position),
            ("status", &self.status),
            ("product", &self.product),
            ("type", &self.number_type),
            ("customer", &self.customer),
            ("unit", &self.unit),
            ("prefix", &self.prefix),
            ("block", &self.block),
            ("sort", &self.sort),
            ("after", &self.after),
        ];
        let mut s = form_urlencoded(&pairs);
        if s.is_empty() {
            s.push_str("position=");
        }
        s
    }

    fn is_filtered(&self) -> bool {
        [
            &self.position,
            &self.status,
            &self.product,
            &self.number_type,
            &self.customer,
            &self.unit,
            &self.prefix,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

/// `k=v&…` of the non-empty pairs, encoded.
fn form_urlencoded(pairs: &[(&str, &String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (*k, v.trim()))
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// An order in words, as the *Sort by* select offers it.
fn sort_words(s: NumberSort) -> &'static str {
    match s {
        NumberSort::Added => "Added, oldest first",
        NumberSort::AddedDesc => "Added, newest first",
        NumberSort::PhoneNumber => "Phone number, ascending",
        NumberSort::PhoneNumberDesc => "Phone number, descending",
    }
}

/// `GET /portal/numbers`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let actor = user.actor();
    let writer = user.chrome("numbers").can_write();
    // Only the customers and units of the scope: the rows name customers (a number's customer
    // is always a customer account) and the filters offer customers and units. Names and kinds
    // only, kept between requests while no account or connection changes: the scope query was
    // a good part of the page's cost (issue 12).
    let accounts = st
        .service
        .account_names(
            actor,
            &[AccountKind::Customer, AccountKind::Unit],
            user.session.scope_generation,
        )
        .await?;
    let names: HashMap<AccountId, &str> =
        accounts.iter().map(|a| (a.id, a.name.as_str())).collect();
    let mut results = Results {
        filtered: q.is_filtered(),
        ..Results::default()
    };
    match q.filter() {
        Err(e) => results.error = Some(e),
        Ok((filter, after)) => {
            let page = st
                .service
                .list_numbers(actor, &filter, after.clone(), PAGE_SIZE)
                .await?;
            results.total = page.total;
            results.next = page.next_after.as_deref().map(|n| q.with_after(n));
            results.first_page = after.map(|_| q.with_after(""));
            results.number_order = match filter.sort {
                NumberSort::PhoneNumber => "ascending",
                NumberSort::PhoneNumberDesc => "descending",
                NumberSort::Added | NumberSort::AddedDesc => "",
            };
            results.rows = page
                .items
                .iter()
                .map(|n| {
                    let v = NumberView::of(n, actor.account);
                    let actions = if writer {
                        row_actions(&v, actor.account)
                    } else {
                        vec![]
                    };
                    let name = |id: Option<AccountId>| {
                        id.map(|id| names.get(&id).map_or("—".to_string(), |s| s.to_string()))
                            .unwrap_or_default()
                    };
                    Row {
                        phone_number: v.phone_number,
                        number_type: label(v.number_type.as_str()),
                        status: label(v.status.api_str()),
                        product: label(v.product.as_str()),
                        position: label(v.position.as_str()),
                        customer: name(v.customer_id),
                        assigned_to: v
                            .assignees
                            .iter()
                            .map(|a| {
                                a.display_name.clone().unwrap_or_else(|| {
                                    format!("{} {}", label(a.kind.as_str()), a.id)
                                })
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        actions,
                        source: v.source,
                    }
                })
                .collect::<Vec<Row>>();
            results.actions = results.rows.iter().any(|r| !r.actions.is_empty());
        }
    }
    if is_htmx(&headers) {
        return Ok(render(StatusCode::OK, &ResultsFragment { results }));
    }
    // The accounts below of one kind, by name, for the customer and unit filters.
    let below = |kind: AccountKind, chosen: &str| {
        Choice::list(
            accounts
                .iter()
                .filter(|a| a.kind == kind && a.id != actor.account),
            chosen,
            |a| (a.id.to_string(), a.name.clone()),
        )
    };
    let customers = below(AccountKind::Customer, &q.customer);
    let units = below(AccountKind::Unit, &q.unit);
    let notice = match q.done.as_str() {
        "release" => Some(format!("{} is released to your provider.", q.number)),
        "delete" => Some(format!("{} is deleted.", q.number)),
        _ => None,
    };
    Ok(render(
        StatusCode::OK,
        &NumbersPage {
            notice,
            chrome: user.chrome("numbers"),
            positions: Choice::of(&ViewPosition::ALL, ViewPosition::as_str, &q.position),
            statuses: Choice::of(&NumberStatus::ALL, NumberStatus::api_str, &q.status),
            products: Choice::of(&Product::ALL, Product::as_str, &q.product),
            types: Choice::of(&NumberType::ALL, NumberType::as_str, &q.number_type),
            customers,
            units,
            sorts: Choice::list(NumberSort::ALL, &q.sort, |s| {
                (s.as_str().to_string(), sort_words(*s).to_string())
            }),
            q,
            results,
        },
    ))
}
