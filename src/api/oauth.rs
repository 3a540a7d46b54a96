//! OAuth 2.0 client credentials (`POST /oauth/token`, RFC 6749 §4.4, and Zoom's
//! `account_credentials` form of it) and the API clients of an account under `/v2/api_clients`:
//! list, create, rotate a secret, delete. Rotating or deleting a client ends every token it holds.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use numberpool_domain::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Auth, IdempotencyKey, PhoneRead, PhoneWrite};
use super::responses::{BadIdempotencyKey, CommonErrors, JsonErrors};
use crate::service::{SCOPES, ServiceError};

/// The token request (form-encoded). The client authenticates with HTTP Basic; `client_id` and
/// `client_secret` in the form are accepted for clients that cannot send Basic.
// No `Debug`: it holds a secret, which must never reach a log line.
#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`, or `account_credentials` (Zoom's server-to-server OAuth), which
    /// names the client's account in `account_id`.
    pub grant_type: Option<String>,
    /// Space-separated scopes, a subset of the client's; all of them when absent.
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// With `account_credentials`: the client's own account (any other is refused as a wrong
    /// secret is).
    pub account_id: Option<String>,
}

/// The token request's parameters in the query string, where Zoom's server-to-server clients
/// send them (`?grant_type=account_credentials&account_id=…`, with no form body).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// As the form's `grant_type`; when both are given they must agree.
    pub grant_type: Option<String>,
    /// As the form's `account_id`; when both are given they must agree.
    pub account_id: Option<String>,
}

/// A parameter from the form or the query string, whichever gives it (empty counts as absent);
/// `Err` when both give it and they differ.
fn one_of(form: Option<&str>, query: Option<&str>) -> Result<Option<String>, ()> {
    let given = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_string);
    match (given(form), given(query)) {
        (Some(f), Some(q)) if f != q => Err(()),
        (f, q) => Ok(f.or(q)),
    }
}

/// A bearer token.
// No `Debug`: it holds a secret, which must never reach a log line.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// A token endpoint error: RFC 6749's `error` beside our `code` and `message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
    pub code: String,
    pub message: String,
}

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthErrorBody {
        error: error.to_string(),
        error_description: description.to_string(),
        code: error.to_string(),
        message: description.to_string(),
    };
    let mut res = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"numberpool\""),
        );
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The client id and secret of an HTTP Basic header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding, but the
    // clients we issue never need escaping, and callers send them as is.
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Get an access token
///
/// Client credentials grant: HTTP Basic with the client id and secret, form body
/// `grant_type=client_credentials` and optionally `scope`. The token lasts an hour by default.
/// Zoom's server-to-server form is accepted as Zoom's clients send it:
/// `grant_type=account_credentials&account_id=…` in the query string (or the form), where
/// `account_id` must be the client's own account; the body may then be empty.
/// Credentials in both HTTP Basic and the form are refused (`invalid_request`). After 10
/// failures in a minute (by default) for one client id or from one address, the endpoint
/// answers 429 `rate_limited` until the minute ends, even to the right secret.
#[utoipa::path(post, path = "/oauth/token", tag = "OAuth",
    params(TokenQuery),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`", body = OAuthErrorBody),
        (status = 401, description = "Unknown client, wrong secret, or an `account_id` that is not the client's account (`invalid_client`)", body = OAuthErrorBody),
        (status = 415, description = "Not form-encoded (`invalid_request`)", body = OAuthErrorBody),
        (status = 429, description = "Too many failed attempts for this client id or from this address (`rate_limited`); retry after `Retry-After`", body = OAuthErrorBody),
        (status = 503, description = "Too many credential checks at once (`service_unavailable`); retry after `Retry-After`", body = ErrorBody),
    ))]
pub async fn token(
    State(st): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    // The client first (RFC 6749 §5.2: without credentials the answer is `invalid_client`),
    // from HTTP Basic or else the form; empty form fields count as absent.
    let (req, rejection) = match form {
        Ok(Form(req)) => (Some(req), None),
        Err(r) => (None, Some(r)),
    };
    let from_form = || {
        let r = req.as_ref()?;
        Some((
            r.client_id.clone().filter(|v| !v.is_empty())?,
            r.client_secret.clone().filter(|v| !v.is_empty())?,
        ))
    };
    let from_basic = basic(&headers);
    // RFC 6749 §2.3: a client uses one authentication method per request. A secret in the form
    // beside HTTP Basic (or a form client id that is not Basic's) is two, and which one counts
    // must not be a guess.
    if let (Some((basic_id, _)), Some(r)) = (&from_basic, &req)
        && (r.client_secret.as_deref().is_some_and(|s| !s.is_empty())
            || r.client_id
                .as_deref()
                .is_some_and(|id| !id.is_empty() && id != basic_id))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the client credentials one way: HTTP Basic or the form, not both",
        );
    }
    let Some((client_id, secret)) = from_basic.or_else(from_form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "authenticate with HTTP Basic: the client id and secret",
        );
    };
    // No client id or secret we issue holds a control character; such input is refused here,
    // alike on both backends, before it reaches a query (PostgreSQL refuses a NUL outright).
    if client_id
        .chars()
        .chain(secret.chars())
        .any(char::is_control)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let Ok(Query(query)) = query else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the query string is not one this endpoint reads: grant_type and account_id",
        );
    };
    let req = match req {
        Some(req) => req,
        // Zoom's clients put the grant in the query string and send no form: the body is then
        // not read at all.
        None if query.grant_type.as_deref().is_some_and(|g| !g.is_empty())
            && matches!(
                rejection,
                Some(axum::extract::rejection::FormRejection::InvalidFormContentType(_))
            ) =>
        {
            TokenRequest {
                grant_type: None,
                scope: None,
                client_id: None,
                client_secret: None,
                account_id: None,
            }
        }
        None => {
            // As documented: a body that is not form-encoded is a 415, a bad form a 400.
            let status = match rejection {
                Some(axum::extract::rejection::FormRejection::InvalidFormContentType(_)) => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            return oauth_error(
                status,
                "invalid_request",
                "send grant_type=client_credentials as application/x-www-form-urlencoded",
            );
        }
    };
    let (Ok(grant), Ok(account)) = (
        one_of(req.grant_type.as_deref(), query.grant_type.as_deref()),
        one_of(req.account_id.as_deref(), query.account_id.as_deref()),
    ) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type and account_id are each given in the query string and in the form, \
             differently: give each once",
        );
    };
    // The account an `account_credentials` grant names; a client credentials grant names none
    // (an `account_id` beside it is not read, as RFC 6749 §3.2 has unknown parameters ignored).
    let account = match grant.as_deref() {
        Some("client_credentials") => None,
        Some("account_credentials") => match account {
            Some(a) => Some(a),
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "account_id is required with grant_type=account_credentials: the client's \
                     account id",
                );
            }
        },
        // RFC 6749 §5.2: a missing parameter is `invalid_request`; another grant is unsupported.
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required: send grant_type=client_credentials",
            );
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be client_credentials or account_credentials",
            );
        }
    };
    let addr = peer.map(|Extension(ConnectInfo(a))| a.ip());
    if let Some(t) = &st.token_failures
        && let Err(wait) = t.begin(&client_id, addr)
    {
        let mut res = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed attempts for this client or from this address; wait as Retry-After says",
        );
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    // The attempt counts as a failure (see `throttle`) unless it turns out not to be one.
    let not_a_failure = |secret_was_right: bool| {
        if let Some(t) = &st.token_failures {
            t.not_a_failure(&client_id, addr, secret_was_right);
        }
    };
    match st
        .service
        .issue_token(
            &client_id,
            &secret,
            req.scope.as_deref(),
            account.as_deref(),
            st.token_ttl_secs,
        )
        .await
    {
        Ok(t) => {
            not_a_failure(true);
            let mut res = Json(TokenResponse {
                access_token: t.access_token,
                token_type: t.token_type.to_string(),
                expires_in: t.expires_in,
                scope: t.scope,
            })
            .into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(ServiceError::Unauthorized) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        ),
        Err(ServiceError::InvalidScope(m)) => {
            not_a_failure(true);
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &m)
        }
        Err(e) => {
            // Busy or unavailable: the secret was not judged.
            not_a_failure(false);
            ApiError::from(e).into_response()
        }
    }
}

/// An API client, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub account_id: AccountId,
    pub scopes: Vec<String>,
    /// RFC 3339 creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The API clients of the caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    pub api_clients: Vec<ClientView>,
    pub total_records: usize,
}

/// A client with its secret, shown once.
// No `Debug`: it holds a secret, which must never reach a log line.
#[derive(Serialize, ToSchema)]
pub struct ClientSecret {
    pub client_id: String,
    /// Shown only in this response; stored hashed.
    pub client_secret: String,
    pub account_id: AccountId,
    pub scopes: Vec<String>,
}

impl From<crate::service::CreatedClient> for ClientSecret {
    fn from(c: crate::service::CreatedClient) -> Self {
        Self {
            client_id: c.client_id,
            client_secret: c.client_secret,
            account_id: c.account_id,
            scopes: c.scopes,
        }
    }
}

/// A response showing a secret: never cached, and kept for an idempotent replay only without it.
fn with_secret(status: StatusCode, body: ClientSecret) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut()
        .insert(super::idempotency::SecretFields(&["client_secret"]));
    res
}

/// List API clients
///
/// The clients of the caller's own account (secrets are never shown again).
#[utoipa::path(get, path = "/v2/api_clients", tag = "API clients",
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The clients", body = ClientList),
        CommonErrors,
    ))]
pub async fn list_clients(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ClientList>> {
    let clients = st.service.list_clients(&auth.actor).await?;
    let api_clients: Vec<ClientView> = clients
        .into_iter()
        .map(|c| ClientView {
            client_id: c.client_id,
            account_id: c.account_id,
            scopes: c.scopes,
            created_at: super::audit::rfc3339(c.created_at),
        })
        .collect();
    Ok(Json(ClientList {
        total_records: api_clients.len(),
        api_clients,
    }))
}

/// A new API client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientBody {
    /// The caller's account or one below it; the caller's account when absent.
    pub account_id: Option<AccountId>,
    /// A subset of the calling token's scopes; all of them when absent.
    pub scopes: Option<Vec<String>>,
}

/// Create an API client
///
/// The secret is in this response only. A client gets at most the scopes of the token that
/// creates it.
#[utoipa::path(post, path = "/v2/api_clients", tag = "API clients",
    params(IdempotencyKey),
    request_body = NewClientBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 201, description = "The client and its secret", body = ClientSecret),
        CommonErrors,
        JsonErrors,
        (status = 404, description = "The account is not in the caller's own subtree (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn create_client(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewClientBody>,
) -> ApiResult<Response> {
    let wanted: Vec<String> = match body.scopes {
        Some(s) => s,
        None => auth.scopes.clone(),
    };
    for s in &wanted {
        match SCOPES.iter().find(|k| **k == s.as_str()) {
            None => {
                return Err(ApiError::invalid(format!(
                    "scopes: '{}' is not one of {}",
                    s.chars().take(60).collect::<String>(),
                    SCOPES.join(", ")
                )));
            }
            Some(k) if !auth.scopes.iter().any(|c| c == k) => {
                return Err(ApiError::missing_scope(k));
            }
            Some(_) => {}
        }
    }
    let account = body.account_id.unwrap_or(auth.actor.account);
    let created = st
        .service
        .create_client(&auth.actor, account, Some(&wanted.join(" ")))
        .await?;
    Ok(with_secret(StatusCode::CREATED, created.into()))
}

/// A token manages only clients whose every scope it holds itself: otherwise rotating a
/// stronger client's secret would hand the caller that client's scopes.
async fn check_reach(st: &ApiState, auth: &Auth<PhoneWrite>, client_id: &str) -> ApiResult<()> {
    let target = st.service.own_client_scopes(&auth.actor, client_id).await?;
    match SCOPES
        .iter()
        .find(|s| target.iter().any(|t| t == *s) && !auth.scopes.iter().any(|c| c == *s))
    {
        Some(missing) => Err(ApiError::missing_scope(missing)),
        None => Ok(()),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    #[serde(rename = "clientId")]
    #[param(rename = "clientId")]
    pub client_id: String,
}

/// Rotate an API client's secret
///
/// Issues a new secret (in this response only); the old secret and every token of the client stop
/// working at once. The calling token must hold every scope of the client (else 403).
#[utoipa::path(post, path = "/v2/api_clients/{clientId}/rotate_secret", tag = "API clients",
    params(ClientPath, IdempotencyKey),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The client and its new secret", body = ClientSecret),
        CommonErrors,
        BadIdempotencyKey,
        (status = 404, description = "No such client in the caller's own subtree (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn rotate_secret(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ClientPath>,
) -> ApiResult<Response> {
    check_reach(&st, &auth, &p.client_id).await?;
    let c = st
        .service
        .rotate_client_secret(&auth.actor, &p.client_id)
        .await?;
    Ok(with_secret(StatusCode::OK, c.into()))
}

/// Delete an API client
///
/// The client and every token it holds stop working at once. The calling token must hold every
/// scope of the client (else 403).
#[utoipa::path(delete, path = "/v2/api_clients/{clientId}", tag = "API clients",
    params(ClientPath),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        (status = 404, description = "No such client in the caller's own subtree (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn delete_client(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ClientPath>,
) -> ApiResult<StatusCode> {
    check_reach(&st, &auth, &p.client_id).await?;
    st.service.delete_client(&auth.actor, &p.client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
