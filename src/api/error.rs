//! The one error type at the HTTP edge: every failure becomes a status and a JSON body
//! `{"code", "message", "rule"}` with a stable snake_case `code` (docs/API-DESIGN.md lists them).
//! Internal errors are logged here with the request's context and answered with a body that says
//! nothing about the cause.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code; clients branch on this, never on the message.
    pub code: String,
    /// What went wrong, for a person; names the field or rule involved.
    pub message: String,
    /// The rule id (SPEC `R-…`) that refused the request, where one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// An error answered to an API caller.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub rule: Option<&'static str>,
    /// Seconds to wait, for 429 answers.
    pub retry_after: Option<u64>,
    /// The scope that was missing, for 403 answers (also sent in `WWW-Authenticate`).
    pub missing_scope: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            rule: None,
            retry_after: None,
            missing_scope: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_input", message)
    }

    pub fn not_found(what: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        );
        e.rule = Some("R-SEC-1");
        e
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn missing_scope(scope: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this call needs the scope {scope}, which the token does not carry"),
        );
        e.missing_scope = Some(scope);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        // The service's own permission check answers as the route's scope check does.
        if let ServiceError::Forbidden(p) = e {
            return Self::missing_scope(p.scope());
        }
        let status = match &e {
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            // R-ALLOC-1 refusals are lost races, not broken rules: 409 like a lost CAS.
            ServiceError::Rule(v) if v.rule == numberpool_domain::Rule::Alloc1 => {
                StatusCode::CONFLICT
            }
            ServiceError::Rule(_) | ServiceError::FileRefused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ServiceError::Conflict(_)
            | ServiceError::Collided(_)
            | ServiceError::NumberAlreadyExists(_)
            | ServiceError::Duplicate(_) => StatusCode::CONFLICT,
            ServiceError::Invalid(_) | ServiceError::InvalidScope(_) => StatusCode::BAD_REQUEST,
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ServiceError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The detail goes to the log only; the body stays generic.
            tracing::error!(error = ?e, "internal error");
            return Self::internal();
        }
        Self {
            status,
            code: e.code(),
            message: e.to_string(),
            rule: e.rule(),
            retry_after: (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1),
            missing_scope: None,
        }
    }
}

impl ApiError {
    /// The JSON body this error answers with (also one row's error in a partial batch).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
            rule: self.rule.map(str::to_string),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(self.body())).into_response();
        let headers = res.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"numberpool\""),
            );
        }
        if let Some(scope) = self.missing_scope
            && let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer realm=\"numberpool\", error=\"insufficient_scope\", scope=\"{scope}\""
            ))
        {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
