//! The session cookie and [`SignedIn`], the extractor every signed-in page takes: it finds the
//! session the cookie names (in the database, so any `serve` process can) and the account it
//! acts for, or sends the browser to the sign-in page.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

use super::errors::WebError;
use super::{Chrome, WebState};
use crate::service::{Actor, PortalSession, ServiceError};

/// The cookie that holds the session id.
pub const SESSION_COOKIE: &str = "np_session";

/// A request's cookie named `name`, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` when configured;
/// `max_age_secs` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    // A cookie built from our own ASCII name and hex value is always a valid header value.
    HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// The signed-in user of this request, with what its pages show in their layout.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: PortalSession,
    pub account_name: String,
    pub account_kind: String,
    /// Whether the account has no parent (only a root customer uses Provider Exchange).
    pub account_root: bool,
}

impl SignedIn {
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }

    /// The layout's context for a page under the navigation entry `active`.
    pub fn chrome(&self, active: &'static str) -> Chrome {
        Chrome {
            email: self.session.email.clone(),
            account_name: self.account_name.clone(),
            account_kind: self.account_kind.clone(),
            account_root: self.account_root,
            role: self.session.role,
            csrf: self.session.csrf_token.clone(),
            active,
        }
    }
}

async fn find(parts: &Parts, state: &WebState) -> Result<Option<SignedIn>, WebError> {
    let Some(id) = cookie_value(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let session = match state.service.portal_session(&id).await {
        Ok(s) => s,
        Err(ServiceError::Unauthorized) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // The layout's account name, kind and root come with the session (one query, not two).
    Ok(Some(SignedIn {
        account_name: session.account_name.clone(),
        account_kind: session.account_kind.clone(),
        account_root: session.account_root,
        session,
    }))
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        find(parts, state).await?.ok_or(WebError::SignIn)
    }
}

impl OptionalFromRequestParts<WebState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Option<Self>, WebError> {
        find(parts, state).await
    }
}
