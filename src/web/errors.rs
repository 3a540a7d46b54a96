//! Refusals as the portal answers them: a page in plain words (never a raw code alone, never
//! an internal detail), or, when nobody is signed in, the way to the sign-in page. Refusals a
//! form can show beside its fields are rendered by the form's own handler instead.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::service::ServiceError;

/// A portal request that cannot be answered with its page.
#[derive(Debug)]
pub enum WebError {
    /// Nobody is signed in (or the session ended): go to the sign-in page.
    SignIn,
    /// A form came without this session's anti-forgery token.
    Csrf,
    /// Bad input in the URL (a filter, a page token), said for a person.
    BadRequest(String),
    Service(ServiceError),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        WebError::Service(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

/// The status, heading and sentence a refusal is shown with.
pub fn explain(e: &ServiceError) -> (StatusCode, &'static str, String) {
    match e {
        ServiceError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no such {what}, or it is not yours to see."),
        ),
        ServiceError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Your role lets you look, not change anything. Ask an owner or admin of your account."
                .to_string(),
        ),
        ServiceError::Rule(v) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not allowed by a rule",
            format!("{} ({})", v.message, v.rule.id()),
        ),
        ServiceError::Conflict(m)
        | ServiceError::Collided(m)
        | ServiceError::PreconditionFailed(m) => (
            StatusCode::CONFLICT,
            "Changed meanwhile",
            format!("{m}. Reload the page to see the current state and try again."),
        ),
        ServiceError::Invalid(m) | ServiceError::InvalidScope(m) => {
            (StatusCode::BAD_REQUEST, "Check your input", m.clone())
        }
        ServiceError::FileRefused(r) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "The file cannot be imported",
            r.message.clone(),
        ),
        ServiceError::NumberAlreadyExists(_) | ServiceError::Duplicate(_) => {
            (StatusCode::CONFLICT, "Already exists", e.to_string())
        }
        ServiceError::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "Sign in again",
            "Your session has ended.".to_string(),
        ),
        ServiceError::Busy(m) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            format!("{m}. Try again in a moment."),
        ),
        ServiceError::Internal(_) => {
            // The detail goes to the log only; the page stays generic.
            tracing::error!(error = ?e, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server could not do this; its log has the details.".to_string(),
            )
        }
    }
}

/// An error page with this status.
pub fn error_page(status: StatusCode, title: &'static str, message: String) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page did not render");
            (status, title).into_response()
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn => {
                let mut res = Redirect::to("/signin").into_response();
                // htmx follows a redirect inside the fragment; this makes it load the page.
                res.headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/signin"));
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                res
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form did not carry a valid token of your session (it is old, or it did not \
                 come from this portal). Reload the page and send it again."
                    .to_string(),
            ),
            WebError::BadRequest(m) => error_page(StatusCode::BAD_REQUEST, "Check your input", m),
            WebError::Service(ServiceError::Unauthorized) => WebError::SignIn.into_response(),
            WebError::Service(e) => {
                let (status, title, message) = explain(&e);
                error_page(status, title, message)
            }
        }
    }
}

pub type WebResult<T> = Result<T, WebError>;
