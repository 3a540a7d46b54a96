//! The anti-forgery token of every form. A signed-in form carries its session's token (made at
//! sign-in, kept with the session); the sign-in form, before there is a session, carries a
//! token that must equal the one in a short-lived cookie set with the form (a double submit).
//! Either way a form posted from another site, which can read neither, is refused.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::WebState;
use super::errors::WebError;
use super::session::SignedIn;

/// The cookie holding the sign-in form's token.
pub const SIGNIN_COOKIE: &str = "np_signin";

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
pub fn same_token(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The form's `csrf` field (empty when absent).
pub fn token_of(body: &[u8]) -> String {
    serde_urlencoded::from_bytes::<Token>(body)
        .map(|t| t.csrf)
        .unwrap_or_default()
}

/// Parses a form body into `T`, naming the field in error.
pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}.")))
}

/// A signed-in user's form of fields `T`, its token checked against the session's.
pub struct CsrfForm<T> {
    pub user: SignedIn,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<WebState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let user = SignedIn::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}.")))?;
        if !same_token(&token_of(&body), &user.session.csrf_token) {
            return Err(WebError::Csrf);
        }
        Ok(CsrfForm {
            form: parse_form(&body)?,
            user,
        })
    }
}
