//! What handlers take from a request, parsed at the edge: the authenticated caller with the
//! scope its route needs, JSON bodies and query strings whose errors name the field, `{numberId}`
//! path segments, `If-Match`, and opaque page tokens.

use std::marker::PhantomData;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use numberpool_store::NumberLookup;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::service::Actor;

/// The caller, as the auth middleware established it (kept in the request's extensions).
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub scopes: Vec<String>,
    /// The API client id: the key for rate limits and idempotency records.
    pub client_id: String,
}

/// A scope a route needs (SPEC §7).
pub trait Scope {
    const NAME: &'static str;
}

macro_rules! scope {
    ($name:ident, $s:literal) => {
        #[derive(Debug)]
        pub struct $name;
        impl Scope for $name {
            const NAME: &'static str = $s;
        }
    };
}
scope!(PhoneRead, "phone:read:admin");
scope!(PhoneWrite, "phone:write:admin");
scope!(NumberRead, "phone_number:read:admin");
scope!(NumberWrite, "phone_number:write:admin");

/// The authenticated actor, checked for scope `S` before anything else in the request is read:
/// put it first among a handler's arguments so a caller without the scope learns that, and
/// nothing about its input.
pub struct Auth<S: Scope> {
    pub actor: Actor,
    pub client_id: String,
    /// Every scope the token carries.
    pub scopes: Vec<String>,
    _scope: PhantomData<S>,
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Auth<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        if !caller.scopes.iter().any(|s| s == S::NAME) {
            return Err(ApiError::missing_scope(S::NAME));
        }
        Ok(Auth {
            actor: caller.actor.clone(),
            client_id: caller.client_id.clone(),
            scopes: caller.scopes.clone(),
            _scope: PhantomData,
        })
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A JSON body. Unknown fields and wrong types are a 400 that names the field (the target types
/// deny unknown fields); a body over the limit is a 413; a missing JSON content type a 415.
/// Every body of this API is an object: serde would also fill a struct from an array
/// (`[null, null]`), so anything else is refused before it gets the chance.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(json_rejection(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(&e))?;
        if let Some(c) = json_control_char(&bytes) {
            return Err(control_char_error("the body", c));
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            None => {
                return Err(ApiError::bad_request(
                    "malformed_json",
                    "the body is empty; send a JSON object",
                ));
            }
            Some(_) => {
                return Err(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                        Ok(_) => ApiError::invalid("the body must be a JSON object"),
                        Err(e) => ApiError::bad_request(
                            "malformed_json",
                            format!("the body is not valid JSON: {e}"),
                        ),
                    },
                );
            }
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| ApiJson(v))
            .map_err(json_rejection)
    }
}

/// `application/json` or an `application/…+json` type, as axum's own check.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => {
            ApiError::invalid(strip_axum_prefix(&e.body_text()).to_string())
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            format!(
                "the body is not valid JSON: {}",
                strip_axum_prefix(&e.body_text())
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => ApiError::bad_request("malformed_json", other.body_text()),
    }
}

/// Why a body could not be read: over the limit (413), or not in before the body-read timeout
/// (408; the client was too slow, or went away).
pub fn body_error(e: &(dyn std::error::Error + 'static)) -> ApiError {
    if crate::server::is_body_timeout(e) {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time; send it at once",
        );
    }
    too_large()
}

/// The first control character (Unicode Cc) a JSON text puts in a string, other than tab and
/// line breaks, which are left to each field's own check (`numberpool_domain::text`, which names
/// the field): written raw (DEL and U+0080..U+009F are legal raw
/// in JSON) or as a `\u` escape. A linear scan of the bytes, so a valid body is parsed once.
/// Outside strings JSON has no backslash, so each one starts an escape.
pub fn json_control_char(bytes: &[u8]) -> Option<char> {
    let bad = |u: u32| matches!(u, 0..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F..=0x9F);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if bytes.get(i + 1) == Some(&b'u')
                    && let Some(hex) = bytes.get(i + 2..i + 6)
                    && let Ok(hex) = std::str::from_utf8(hex)
                    && let Ok(u) = u32::from_str_radix(hex, 16)
                    && bad(u)
                {
                    return char::from_u32(u);
                }
                i += 2;
            }
            0x7F => return Some('\u{7f}'),
            // U+0080..U+009F in UTF-8.
            0xC2 if bytes.get(i + 1).is_some_and(|b| (0x80..=0x9F).contains(b)) => {
                return bytes.get(i + 1).map(|b| char::from(*b));
            }
            _ => i += 1,
        }
    }
    None
}

/// A 400 for a control character in `place`; it is named by code point, never echoed.
pub fn control_char_error(place: &str, c: char) -> ApiError {
    ApiError::invalid(control_char_message(place, c))
}

fn control_char_message(place: &str, c: char) -> String {
    format!(
        "{place} contains a control character (U+{:04X}); no field takes one",
        u32::from(c)
    )
}

/// `%XX`-decodes a path or query component (and `+` as a space in a query); bytes that do not
/// form UTF-8 become U+FFFD, which is no control character.
fn percent_decoded(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses a request whose path or query string holds a control character once decoded, before
/// routing: no path segment or query parameter of this API takes one, and PostgreSQL refuses a
/// NUL outright (a 500 where SQLite answered 400 or 404). A query parameter is named. The
/// portal's (`/portal/…`) query strings are its own to read.
pub async fn refuse_control_chars(
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(c) = percent_decoded(req.uri().path(), false)
        .chars()
        .find(|c| c.is_control())
    {
        return control_char_error("the path", c).into_response();
    }
    // The portal's query strings carry what people type (a pasted list of numbers, one per
    // line); its handlers parse them as text and never pass a control character to the store.
    let portal = req.uri().path().starts_with("/portal/");
    if let Some(q) = req.uri().query().filter(|_| !portal) {
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decoded(k, true), percent_decoded(v, true));
            if let Some(c) = k.chars().chain(v.chars()).find(|c| c.is_control()) {
                let name: String = k
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect();
                let place = if name.is_empty() {
                    "the query".to_string()
                } else {
                    format!("query parameter {name}")
                };
                // The token endpoint answers every error in RFC 6749's shape, as documented.
                if req.uri().path() == "/oauth/token" {
                    return super::oauth::oauth_error(
                        axum::http::StatusCode::BAD_REQUEST,
                        "invalid_request",
                        &control_char_message(&place, c),
                    );
                }
                return control_char_error(&place, c).into_response();
            }
        }
    }
    next.run(req).await
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is over the {} byte limit", super::BODY_LIMIT),
    )
}

/// axum prefixes serde's message (which names the field path) with its own sentence; and our
/// enum parse errors name their field too, which would say it twice (`status: status: …`).
fn strip_axum_prefix(s: &str) -> &str {
    let s = match s.split_once(": ") {
        Some((head, rest)) if head.starts_with("Failed to") => rest,
        _ => s,
    };
    match s.split_once(": ") {
        Some((field, rest)) if rest.starts_with(field) && rest[field.len()..].starts_with(": ") => {
            rest
        }
        _ => s,
    }
}

/// A query string; a bad value is a 400 that names the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequestParts<St> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::invalid(
                strip_axum_prefix(&e.body_text()).to_string(),
            )),
            Err(e) => Err(ApiError::invalid(e.body_text())),
        }
    }
}

/// The `Idempotency-Key` header of a POST, for the OpenAPI document (the idempotency layer
/// reads it).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// Replays the stored response of an earlier request with this key and body (24 hours).
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = r"^[\x21-\x7E]+$"
    )]
    pub idempotency_key: Option<String>,
}

/// `{numberId}`: the number's id or its E.164 form (SPEC §8.1). Anything else names no number.
pub fn number_lookup(raw: &str) -> Result<NumberLookup, ApiError> {
    NumberLookup::deferred(raw).ok_or_else(|| ApiError::not_found("number"))
}

/// Page size: default 30, at most 300 (SPEC §8).
pub fn page_size(given: Option<u32>) -> Result<u32, ApiError> {
    match given {
        None => Ok(30),
        Some(n @ 1..=300) => Ok(n),
        Some(n) => Err(ApiError::invalid(format!(
            "page_size: {n} is out of range; give 1 to 300 (default 30)"
        ))),
    }
}

const TOKEN_PREFIX: &str = "np1.";

/// An opaque page token: the keyset position, base64url-encoded behind a version tag.
pub fn encode_page_token(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{after}"))
}

/// The keyset position in a page token; anything that is not one we issued is a 400.
pub fn decode_page_token<T: std::str::FromStr>(token: Option<&str>) -> Result<Option<T>, ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(
            "invalid_page_token",
            "next_page_token is not a token this server issued; start again without it",
        )
    };
    if token.len() > 200 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let pos = text.strip_prefix(TOKEN_PREFIX).ok_or_else(bad)?;
    pos.parse::<T>().map(Some).map_err(|_| bad())
}

/// `If-Match`: `None` when absent or `*`; otherwise the one version it names. The ETag is the
/// resource's version, so a list of several tags cannot name the current state better than one.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(
            "invalid_if_match",
            "If-Match must be * or the one ETag of the resource, e.g. \"3\"",
        )
    };
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s == "*" {
        return Ok(None);
    }
    if s.starts_with("W/") {
        // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "a weak ETag never matches If-Match; send the ETag as given",
        ));
    }
    let inner = s
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(bad)?;
    inner.parse::<i64>().map(Some).map_err(|_| bad())
}

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_tampering() {
        let t = encode_page_token("0195f3c2-0000-7000-8000-000000000001");
        let back: Option<uuid::Uuid> = decode_page_token(Some(&t)).ok().flatten();
        assert_eq!(
            back.map(|u| u.to_string()).as_deref(),
            Some("0195f3c2-0000-7000-8000-000000000001")
        );
        for bad in ["x", "%%%", &t[..t.len() - 3], "bnAxLm5vdC1hLXV1aWQ"] {
            let r: Result<Option<uuid::Uuid>, _> = decode_page_token(Some(bad));
            assert_eq!(r.err().map(|e| e.code), Some("invalid_page_token"), "{bad}");
        }
    }

    #[test]
    fn if_match_parses_etags() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).ok(), Some(None));
        h.insert(
            header::IF_MATCH,
            "\"3\"".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(if_match(&h).ok(), Some(Some(3)));
        h.insert(
            header::IF_MATCH,
            "3".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(if_match(&h).err().map(|e| e.code), Some("invalid_if_match"));
    }
}
