//! What the resource handlers answer with, shared: one resource with its `ETag`, one page of a
//! list the service returns whole, and a keyset page the store made.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numberpool_store::Page;
use serde::Serialize;

use super::extract::{encode_page_token, etag};

/// A resource with its ETag.
pub(super) fn with_etag<T: Serialize>(status: StatusCode, version: i64, body: T) -> Response {
    let tag = etag(version);
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// `body` as a JSON response, written into a buffer of `capacity` bytes sized for it up front:
/// a page of 30 numbers is about 33 KB, which `Json` reaches by doubling from 128 bytes (nine
/// reallocations and copies a request).
pub(super) fn json_sized<T: Serialize>(body: &T, capacity: usize) -> Response {
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, body) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            buf,
        )
            .into_response(),
        Err(_) => super::ApiError::internal().into_response(),
    }
}

/// One page of `all` (sorted by `key`) after the token's position, the token of the next page
/// (empty on the last) and how many there are in all. Accounts, a provider's customers, trunks,
/// carriers, attribute keys and rate card entries number thousands at most, not millions: one
/// query, paged here.
pub(super) fn page_of<T, K>(
    all: Vec<T>,
    key: impl Fn(&T) -> K,
    size: u32,
    after: Option<K>,
) -> (Vec<T>, String, i64)
where
    K: PartialOrd + ToString,
{
    let total = all.len() as i64;
    let mut page: Vec<T> = all
        .into_iter()
        .filter(|x| after.as_ref().is_none_or(|a| key(x) > *a))
        .take(size as usize + 1)
        .collect();
    let next = if page.len() > size as usize {
        page.truncate(size as usize);
        page.last()
            .map(|x| encode_page_token(&key(x).to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    (page, next, total)
}

/// A keyset page of the store (numbers, the audit log) as a list answers it: its items, the token
/// of the next page (empty on the last) and how many there are in all.
pub(super) fn keyset_page<T>(page: Page<T>) -> (Vec<T>, String, i64) {
    let next = page
        .next_after
        .map(|a| encode_page_token(&a))
        .unwrap_or_default();
    (page.items, next, page.total)
}
