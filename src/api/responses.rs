//! The error answers the OpenAPI document lists for the routes, in groups the routes share, so a
//! refusal many routes give is described once: every authenticated route's, a JSON body's, a
//! versioned update's or delete's, a provider's create, a list's, and the 404 of a resource the
//! caller cannot see. A route lists its groups beside the rows that are its own; every group answers
//! with an `ErrorBody`.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

use super::error::ErrorBody;

/// The answers every authenticated route may give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum CommonErrors {
    /// No valid bearer token (`unauthorized`); `WWW-Authenticate` says how to get one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token lacks the route's scope (`insufficient_scope`); the message names it.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Over the API client's rate (`rate_limited`); `Retry-After` says how long to wait.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// Overloaded for a moment (`service_unavailable`: no database connection free in time);
    /// `Retry-After` says when to try again.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The answers of every route that takes a JSON body, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// The body is over 1 MiB (`payload_too_large`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json` (`unsupported_media_type`).
    #[response(status = 415)]
    NotJson(ErrorBody),
}

/// An answer with an `ErrorBody`.
pub(super) fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

pub(super) type Responses = BTreeMap<String, RefOr<Response>>;

/// A group's rows: status and description, each answered with an `ErrorBody`.
pub(super) fn rows<const N: usize>(rows: [(u16, &str); N]) -> Responses {
    rows.into_iter()
        .map(|(status, description)| (status.to_string(), error_response(description).into()))
        .collect()
}

/// A group's rows and those of the routes that take a JSON body.
fn with_body<const N: usize>(own: [(u16, &str); N]) -> Responses {
    let mut all = BodyErrors::responses();
    all.extend(rows(own));
    all
}

const BAD_INPUT: (u16, &str) = (400, "Bad input (`invalid_input`, `malformed_json`)");
pub(super) const STALE: (u16, &str) = (
    412,
    "If-Match names another version (`precondition_failed`)",
);

/// The refusals of a route that takes a JSON body: bad input (400), too large (413), not JSON
/// (415).
pub struct JsonErrors;

impl IntoResponses for JsonErrors {
    fn responses() -> Responses {
        with_body([BAD_INPUT])
    }
}

/// The refusals of a PATCH of a versioned resource: bad input or `If-Match` (400), another
/// version than `If-Match` names (412), and those of its JSON body.
pub struct PatchErrors;

impl IntoResponses for PatchErrors {
    fn responses() -> Responses {
        with_body([
            (
                400,
                "Bad input (`invalid_input`, `malformed_json`, `invalid_if_match`)",
            ),
            STALE,
        ])
    }
}

/// The refusals of a DELETE of a versioned resource: a bad `If-Match` (400), or another version
/// than it names (412).
pub struct DeleteErrors;

impl IntoResponses for DeleteErrors {
    fn responses() -> Responses {
        rows([(400, "Bad If-Match (`invalid_if_match`)"), STALE])
    }
}

/// The refusals of creating one of a provider's resources (trunk, carrier, attribute key, rate
/// card entry): those of its JSON body, and a caller that is not a provider (R-PROV-1) or an
/// `Idempotency-Key` used with another body (422).
pub struct ProviderCreateErrors;

impl IntoResponses for ProviderCreateErrors {
    fn responses() -> Responses {
        with_body([
            BAD_INPUT,
            (
                422,
                "The caller is not a provider (`rule_violation`, R-PROV-1), or the Idempotency-Key was used with another body (`idempotency_key_reused`)",
            ),
        ])
    }
}

/// The 409 of a write whose compare-and-set lost to a change made at the same time.
pub struct ConcurrentChange;

impl IntoResponses for ConcurrentChange {
    fn responses() -> Responses {
        rows([(409, "Changed at the same time by someone else (`conflict`)")])
    }
}

/// The 400 of a POST without a body, whose only input to refuse is its `Idempotency-Key`.
pub struct BadIdempotencyKey;

impl IntoResponses for BadIdempotencyKey {
    fn responses() -> Responses {
        rows([(400, "A malformed Idempotency-Key (`invalid_input`)")])
    }
}

/// The 422 of a number's POST: a rule refused it (`rule_violation`), or the `Idempotency-Key`
/// was used with another body.
pub struct RuleErrors;

impl IntoResponses for RuleErrors {
    fn responses() -> Responses {
        rows([(
            422,
            "A rule refused it (`rule_violation`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)",
        )])
    }
}

/// The 400 of a list whose query has paging parameters (and perhaps others): a bad one, or a
/// page token this server did not issue.
pub struct ListErrors;

impl IntoResponses for ListErrors {
    fn responses() -> Responses {
        rows([(
            400,
            "A parameter or the page token is invalid (`invalid_input`, `invalid_page_token`)",
        )])
    }
}

/// The 400 of a list with filters: a bad filter, or a page token this server did not issue.
pub struct FilteredListErrors;

impl IntoResponses for FilteredListErrors {
    fn responses() -> Responses {
        rows([(
            400,
            "A filter or the page token is invalid (`invalid_input`, `invalid_page_token`)",
        )])
    }
}

/// A resource that answers 404 when it is not in the caller's scope, as if it did not exist
/// (R-SEC-1); `NOUN` names it in the document.
pub trait Scoped {
    const NOUN: &'static str;
}

/// The 404 of a route on one resource `R`.
pub struct NotFound<R>(PhantomData<R>);

impl<R: Scoped> IntoResponses for NotFound<R> {
    fn responses() -> Responses {
        let description = format!(
            "No such {} in the caller's scope (`not_found`, R-SEC-1)",
            R::NOUN
        );
        rows([(404, description.as_str())])
    }
}
