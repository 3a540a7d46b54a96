//! `Idempotency-Key` on POST: the first request with a key runs and its response is stored for
//! 24 hours; the same key with the same method, path and body replays that response (with
//! `Idempotent-Replayed: true`); the same key with anything else is a 422. Keys belong to the API
//! client, so two clients never share one. A request that is still running answers 409, and a
//! 5xx response is not stored, so the client can retry it. The running request holds its key by
//! a lease of a few seconds that it renews; a request whose process died lets its key go when
//! the lease lapses.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::extract::Caller;
use super::{ApiState, BODY_LIMIT};
use numberpool_domain::now_ms;

/// How long a stored response is replayed.
pub const KEY_TTL_MS: i64 = crate::service::IDEMPOTENCY_KEY_TTL_MS;
/// How long a reservation holds without renewal. A request killed before its commit leaves its
/// key retryable this long after its last renewal; a live one renews every `RENEW_EVERY`, so it
/// would have to miss two renewals in a row (the database unreachable for seconds) to lose it.
const LEASE_MS: i64 = 6_000;
/// How often a running request renews its lease.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// Longest response body we keep for replay; a bigger one is not stored (the key is released).
const MAX_STORED_BODY: usize = 16 * 1024 * 1024;

fn key_of(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or_default().trim();
    if s.is_empty() || s.len() > 255 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key: give 1 to 255 visible ASCII characters (a UUID is a good key)",
        ));
    }
    Ok(Some(s.to_string()))
}

/// Marks a response whose body holds secrets (a client secret): it is kept for replay with
/// those fields blanked, because secrets are shown once and never stored in clear.
#[derive(Debug, Clone, Copy)]
pub struct SecretFields(pub &'static [&'static str]);

/// The body to keep for replay: as sent, or with the secret fields blanked.
fn storable(body: &[u8], secrets: Option<SecretFields>) -> String {
    let Some(SecretFields(fields)) = secrets else {
        return String::from_utf8_lossy(body).into_owned();
    };
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut o)) => {
            for f in fields {
                if o.contains_key(*f) {
                    o.insert((*f).to_string(), serde_json::Value::String(String::new()));
                }
            }
            serde_json::Value::Object(o).to_string()
        }
        // Not the object we expected: keep nothing that could hold the secret.
        _ => String::from("{}"),
    }
}

fn replay(status: i32, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    // A single resource carries its ETag, which is its version: the same header as the first
    // answer, rebuilt from the stored body.
    let etag = status
        .is_success()
        .then(|| serde_json::from_str::<serde_json::Value>(&body).ok())
        .flatten()
        .and_then(|v| v.get("version").and_then(serde_json::Value::as_i64))
        .and_then(|v| HeaderValue::from_str(&super::extract::etag(v)).ok());
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(tag) = etag {
        h.insert(header::ETAG, tag);
    }
    res
}

pub async fn layer(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let key = match key_of(&req) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    // Without a caller the handler answers 401 itself; there is nobody to keep a key for.
    // The key belongs to the client *with the scopes of its token*: a token with fewer scopes
    // finds no record, runs, and meets the route's scope check instead of a replay.
    let Some(owner) = req.extensions().get::<Caller>().map(|c| {
        let mut scopes = c.scopes.clone();
        scopes.sort();
        format!("{} {}", c.client_id, scopes.join(" "))
    }) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return super::extract::body_error(&e).into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update([0]);
    h.update(parts.uri.path().as_bytes());
    h.update([0]);
    h.update(parts.uri.query().unwrap_or_default().as_bytes());
    h.update([0]);
    let content_type = parts.headers.get(header::CONTENT_TYPE);
    h.update(content_type.map_or(&b""[..], |v| v.as_bytes()));
    h.update([0]);
    h.update(&bytes);
    let request_hash = format!("{:x}", h.finalize());
    let now = now_ms();
    let not_before = now - KEY_TTL_MS;

    match st
        .service
        .idempotency_begin(&owner, &key, &request_hash, now, not_before, now + LEASE_MS)
        .await
    {
        Ok(crate::service::IdemBegin::Replay { status, body }) => return replay(status, body),
        Ok(crate::service::IdemBegin::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request; use a new key for a new request",
            )
            .into_response();
        }
        Ok(crate::service::IdemBegin::InProgress) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running; retry shortly",
            );
            e.retry_after = Some(1);
            return e.into_response();
        }
        Ok(crate::service::IdemBegin::Run) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }

    // The handler and the keeping of its answer run in their own task: a client that hangs up
    // drops this future, and the change it asked for must still get its answer stored, or the
    // retry would find the key taken and, five minutes later, run the change a second time.
    let renewer = {
        let (st, owner, key) = (st.clone(), owner.clone(), key.clone());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match st
                    .service
                    .idempotency_renew(&owner, &key, now_ms() + LEASE_MS)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => break,
                    // The next tick tries again; the lease outlives one missed renewal.
                    Err(e) => tracing::warn!(error = %e, "could not renew an idempotency lease"),
                }
            }
        }))
    };
    let task = tokio::spawn(async move {
        // Renewal stops when this task ends, whichever way: the answer is stored or released.
        let _renewer = renewer;
        let res = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        let status = res.status();
        let (rparts, rbody) = res.into_parts();
        let Ok(body) = to_bytes(rbody, MAX_STORED_BODY).await else {
            let _ = st.service.idempotency_release(&owner, &key).await;
            return ApiError::internal().into_response();
        };
        let stored = if worth_replaying(status) {
            let text = storable(&body, rparts.extensions.get::<SecretFields>().copied());
            st.service
                .idempotency_complete(&owner, &key, i32::from(status.as_u16()), &text)
                .await
        } else {
            st.service.idempotency_release(&owner, &key).await
        };
        if let Err(e) = stored {
            // The request itself went through; a lost record only means a retry runs again.
            tracing::error!(error = ?e, "could not store the idempotent response");
        }
        Response::from_parts(rparts, Body::from(body))
    });
    task.await
        .unwrap_or_else(|_| ApiError::internal().into_response())
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether an answer is the outcome of the request, to replay for 24 hours; or a refusal the
/// same request may get past on a retry (nothing ran): auth and scope (401, 403), a lost race
/// or a key in use (409), a wrong content type (415), the rate limit (429), and any 5xx.
fn worth_replaying(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::CONFLICT
                | StatusCode::UNSUPPORTED_MEDIA_TYPE
                | StatusCode::TOO_MANY_REQUESTS
        ))
}
