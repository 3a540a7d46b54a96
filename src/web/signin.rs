//! Signing in and out, and changing one's own password. A new session id at every sign-in (no
//! fixation); failed sign-ins are counted per email and per source address, and past the limit
//! the form answers "try again in N seconds" without checking the password.

use std::net::SocketAddr;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::csrf::{CsrfForm, SIGNIN_COOKIE, parse_form, same_token, token_of};
use super::errors::{WebResult, explain};
use super::session::{SESSION_COOKIE, SignedIn, cookie_value, set_cookie};
use super::{Chrome, WebState};
use crate::service::{SESSION_TTL_MS, ServiceError, credentials_token as random_token};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Renders a template as a page with `status`.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template did not render");
            super::errors::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be drawn; the server log has the details.".to_string(),
            )
        }
    }
}

/// The sign-in form with a fresh token, set in its cookie too.
fn signin_page(
    status: StatusCode,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
    secure: bool,
) -> Response {
    let csrf = random_token(32);
    let mut res = render(
        status,
        &SignInPage {
            csrf: csrf.clone(),
            email,
            error,
            notice,
        },
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SIGNIN_COOKIE, &csrf, 3600, secure),
    );
    res
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    signed_out: Option<String>,
}

/// `GET /signin`.
pub async fn form(
    State(st): State<WebState>,
    signed_in: Option<SignedIn>,
    axum::extract::Query(q): axum::extract::Query<SignInQuery>,
) -> Response {
    if signed_in.is_some() {
        return Redirect::to("/portal").into_response();
    }
    let notice = q.signed_out.map(|_| "You are signed out.");
    signin_page(
        StatusCode::OK,
        String::new(),
        None,
        notice,
        st.secure_cookies,
    )
}

/// `POST /signin`.
pub async fn submit(
    State(st): State<WebState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let secure = st.secure_cookies;
    let expected = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if !same_token(&token_of(&body), &expected) {
        return signin_page(
            StatusCode::FORBIDDEN,
            String::new(),
            Some("The sign-in form had expired. Please sign in again.".into()),
            None,
            secure,
        );
    }
    let form: SignInForm = match parse_form(&body) {
        Ok(f) => f,
        Err(_) => SignInForm {
            email: String::new(),
            password: String::new(),
        },
    };
    let email = form.email.trim().to_ascii_lowercase();
    if email.is_empty() || form.password.is_empty() {
        return signin_page(
            StatusCode::BAD_REQUEST,
            email,
            Some("Enter your email and your password.".into()),
            None,
            secure,
        );
    }
    let addr = peer.map(|Extension(ConnectInfo(a))| a.ip());
    if let Some(t) = &st.signin_failures
        && let Err(wait) = t.begin(&email, addr)
    {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut res = signin_page(
            StatusCode::TOO_MANY_REQUESTS,
            email,
            Some(format!(
                "Too many failed sign-ins for this email or from this address. Try again in \
                 {secs} seconds."
            )),
            None,
            secure,
        );
        if let Ok(v) = secs.to_string().parse() {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let outcome = st.service.sign_in(&email, &form.password).await;
    if let Some(t) = &st.signin_failures {
        match &outcome {
            Ok(_) => t.not_a_failure(&email, addr, true),
            Err(ServiceError::Unauthorized) => {}
            Err(_) => t.not_a_failure(&email, addr, false),
        }
    }
    match outcome {
        Ok(session) => {
            let mut res = Redirect::to("/portal").into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.id, SESSION_TTL_MS / 1000, secure),
            );
            h.append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, "", 0, secure));
            res
        }
        Err(ServiceError::Unauthorized) => signin_page(
            StatusCode::UNAUTHORIZED,
            email,
            Some("That email and password do not match an active user.".into()),
            None,
            secure,
        ),
        Err(e) => {
            let (status, _, message) = explain(&e);
            signin_page(status, email, Some(message), None, secure)
        }
    }
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /signout`: ends the session here and everywhere, and forgets the cookie.
pub async fn sign_out(State(st): State<WebState>, f: CsrfForm<NoFields>) -> WebResult<Response> {
    st.service.sign_out(&f.user.session).await?;
    let mut res = Redirect::to("/signin?signed_out=1").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, st.secure_cookies),
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    error: Option<String>,
    done: bool,
}

/// `GET /portal/account/password`.
pub async fn password_form(user: SignedIn) -> Response {
    render(
        StatusCode::OK,
        &PasswordPage {
            chrome: user.chrome("account"),
            error: None,
            done: false,
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /portal/account/password`: every other session of the user ends.
pub async fn change_password(State(st): State<WebState>, f: CsrfForm<PasswordForm>) -> Response {
    let page = |status, error: Option<String>, done| {
        render(
            status,
            &PasswordPage {
                chrome: f.user.chrome("account"),
                error,
                done,
            },
        )
    };
    if f.form.new != f.form.confirm {
        return page(
            StatusCode::BAD_REQUEST,
            Some("The new password and its confirmation differ.".into()),
            false,
        );
    }
    match st
        .service
        .change_own_password(&f.user.session, &f.form.current, &f.form.new)
        .await
    {
        Ok(()) => page(StatusCode::OK, None, true),
        Err(ServiceError::Unauthorized) => page(
            StatusCode::BAD_REQUEST,
            Some("The current password is not right.".into()),
            false,
        ),
        Err(e) => {
            let (status, _, message) = explain(&e);
            page(status, Some(message), false)
        }
    }
}
