//! `/v2/phone/numbers…` and `/v2/phone/inventory`: the number routes of SPEC §8.1 (list, get by
//! id or E.164, add one or a batch, update, delete, assign/unassign, unassigned, inventory) and
//! the moves the seed does not name (allocate, release, unbind), plus a number's history.
//! One file per area: `list.rs` (lists, get, inventory), `add.rs`, `edit.rs` (update, delete),
//! `moves.rs` (assign, unassign, allocate, move, release, unbind), `views.rs` (assignments,
//! history); this file holds what they share.

mod add;
mod available;
mod blocks;
mod edit;
mod list;
mod moves;
mod porting;
mod reservations;
mod self_service;
mod views;

pub use add::*;
pub use available::*;
pub use blocks::*;
pub use edit::*;
pub use list::*;
pub use moves::*;
pub use porting::*;
pub use reservations::*;
pub use self_service::*;
pub use views::*;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use numberpool_domain::{
    AccountId, Assignee, AssigneeType, BlockId, Capabilities, CarrierId, Country, Customization,
    NewNumber, NumberPatch, NumberSort, NumberStatus, NumberType, Product, TrunkId, ViewPosition,
};
use numberpool_store::{AuditEvent, InventoryCounts, NumberCursor, NumberFilter};

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, NumberRead, NumberWrite, PhoneRead, PhoneWrite,
    decode_page_token, if_match, number_lookup, page_size,
};
use super::reply::{json_sized, keyset_page, with_etag};
use super::responses::{
    BadIdempotencyKey, BodyErrors, CommonErrors, ConcurrentChange, DeleteErrors,
    FilteredListErrors, JsonErrors, NotFound, PatchErrors, RuleErrors, Scoped,
};
use numberpool_domain::input;

use crate::service::{AddMode, AddNumber, AllocateOptions, AssignmentsView, NumberView};

/// Most numbers one add request may carry; bigger loads go through imports.
pub const MAX_BATCH: usize = 10_000;

impl Scoped for NumberView {
    const NOUN: &'static str = "number";
}

/// `{numberId}`: a number's id or its E.164 form (URL-encode the `+` as `%2B`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NumberPath {
    /// The number's id, or its E.164 form.
    #[serde(rename = "numberId")]
    #[param(rename = "numberId")]
    pub number_id: String,
}

/// A number after a read or a move, as the caller now sees it, with its ETag.
fn seen_by(n: numberpool_domain::Number, actor: &crate::service::Actor) -> Response {
    let view = NumberView::from_number(n, actor.account);
    with_etag(StatusCode::OK, view.version, view)
}

/// Deserializes a JSON value, naming the path of a bad field.
fn from_value<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::invalid(inner.to_string())
        } else {
            ApiError::invalid(format!("{path}: {inner}"))
        }
    })
}

/// `null` clears a field; an absent field leaves it alone.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A body that may be empty (DELETE with an optional JSON body).
pub struct RawBody(axum::body::Bytes);

impl<St: Send + Sync> axum::extract::FromRequest<St> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &St) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|_| super::extract::too_large())
    }
}

/// A body's `phone_numbers`, each parsed as E.164; the first that is not is a 400 naming its
/// index (`phone_numbers[1]: …`).
fn phone_numbers(given: &[String]) -> ApiResult<Vec<numberpool_domain::E164>> {
    given
        .iter()
        .enumerate()
        .map(|(i, p)| {
            numberpool_domain::E164::parse(p)
                .map_err(|e| ApiError::invalid(format!("phone_numbers[{i}]: {e}")))
        })
        .collect()
}

/// A list key in newest-first order (ids are time-ordered): what `page_of` cuts the pages of a
/// newest-first list by.
#[derive(PartialEq)]
struct Newest<K>(K);

impl<K: Ord> PartialOrd for Newest<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(other.0.cmp(&self.0))
    }
}

impl<K: std::fmt::Display> std::fmt::Display for Newest<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
