//! The REST API (SPEC §7–8, docs/API-DESIGN.md): `/oauth/token`, the `/v2` routes, and the
//! OpenAPI document at `/openapi.json` with its reference at `/docs`. Handlers parse their input
//! into domain types and call the service layer; they never touch the store. `startup.rs` puts
//! these routes beside the health checks and `/metrics` under the shared layers.
//!
//! Every `/v2` request passes, outermost first: the shared layers (request id, trace, metrics,
//! panic guard, body limit), then bearer authentication with the per-client rate limit,
//! `Idempotency-Key`, then the handler, whose first extractor checks the route's scope.

pub mod accounts;
pub mod attributes;
pub mod audit;
pub mod error;
pub mod events;
pub mod exchange;
pub mod exports;
pub mod extract;
pub mod forecast;
pub mod idempotency;
pub mod imports;
pub mod jobs;
pub mod numbers;
pub mod oauth;
pub mod providers;
pub mod rate_card;
mod reply;
pub mod responses;
pub mod throttle;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use utoipa::OpenApi;
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityScheme,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::service::{Principal, Service};
use error::ApiError;
use extract::{Caller, bearer};

/// Largest JSON body accepted (1 MiB); more is a 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How the API behaves; from the configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Lifetime of an access token, in seconds.
    pub token_ttl_secs: i64,
    /// Requests per second one API client may make (sustained); 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// Requests one API client may make in a burst above the sustained rate.
    pub rate_limit_burst: u32,
    /// The pool's configured ceiling, reported in `/metrics`.
    pub db_max_connections: u32,
    /// Failed token requests per client id and per address in a window; 0 turns it off.
    pub token_failure_limit: u32,
    /// That window, in seconds.
    pub token_failure_window_secs: u64,
}

/// What every handler shares.
#[derive(Clone)]
pub struct ApiState {
    pub service: Arc<Service>,
    pub token_ttl_secs: i64,
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Failed `/oauth/token` attempts (`throttle`).
    pub token_failures: Option<Arc<throttle::FailureThrottle>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Numberpool API",
        description = "Phone-number (DID) inventory and lifecycle. Conventions: docs/API-DESIGN.md. \
            Authenticate with OAuth 2.0 client credentials at /oauth/token and send the token as \
            `Authorization: Bearer …`. Errors are `{\"code\", \"message\", \"rule\"}` with stable codes.",
        license(name = "Apache-2.0")
    ),
    // Schemas only a query parameter names (responses bring in their own).
    components(schemas(numberpool_domain::NumberSort)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "OAuth", description = "Access tokens"),
        (name = "Phone numbers", description = "The number inventory (seed 002 compatible)"),
        (name = "Assignment", description = "Assigning numbers to users and resources"),
        (name = "Inventory moves", description = "Allocate, release, unbind (SPEC §3)"),
        (name = "Inventory", description = "Counts"),
        (name = "Getting numbers", description = "Searching the numbers a caller may take (SPEC §5)"),
        (name = "Accounts", description = "The account tree"),
        (name = "SIP trunks and carriers", description = "A provider's SIP trunks, voice carriers and SMS carrier profiles"),
        (name = "Attributes", description = "A provider's attribute keys and the values numbers may carry for them"),
        (name = "Rate card", description = "A provider's monthly cost of a number by country and type"),
        (name = "API clients", description = "OAuth clients of an account"),
        (name = "Audit", description = "Who changed what"),
        (name = "Events", description = "The feed of events that concern the caller's subtree, and webhooks that deliver them signed (docs/EVENTS.md)"),
        (name = "Exports", description = "Files of numbers made by jobs, daily or weekly schedules of them, and the notifications that say a file is ready (SPEC §4)"),
        (name = "Imports", description = "CSV and XLSX files of numbers to add or delete: planned first, applied on request (SPEC §4)"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scopes = Scopes::from_iter([
            ("phone:read:admin", "Read numbers and assignments"),
            ("phone:write:admin", "Manage numbers and assignments"),
            ("phone_number:read:admin", "Read the number inventory"),
            (
                "phone_number:write:admin",
                "Provision, upload, move and delete numbers",
            ),
        ]);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                ClientCredentials::new("/oauth/token", scopes),
            )])),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// Every route refuses a control character in its path or query with 400 `invalid_input`
/// (`extract::refuse_control_chars`), before routing; the routes that document no 400 of
/// their own get this one. (Applied to the assembled document: the routes are added after
/// `ApiDoc`'s modifiers run.)
fn document_edge_refusals(openapi: &mut utoipa::openapi::OpenApi) {
    let response =
        responses::error_response("A control character in the path or query (`invalid_input`)");
    for item in openapi.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            op.responses
                .responses
                .entry("400".to_string())
                .or_insert_with(|| response.clone().into());
        }
    }
}

/// The `/v2` routes and `/oauth/token`, with the document that describes them.
fn api_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(numbers::list_numbers, numbers::add_numbers))
        .routes(routes!(numbers::list_unassigned))
        .routes(routes!(numbers::inventory_seed_path))
        .routes(routes!(numbers::search_available))
        .routes(routes!(numbers::search_toll_free))
        .routes(routes!(numbers::provision))
        .routes(routes!(numbers::list_blocks, numbers::create_block))
        .routes(routes!(numbers::get_block, numbers::release_block))
        .routes(routes!(
            numbers::list_reservations,
            numbers::create_reservation
        ))
        .routes(routes!(
            numbers::get_reservation,
            numbers::update_reservation,
            numbers::release_reservation
        ))
        .routes(routes!(
            numbers::reservation_settings,
            numbers::set_reservation_settings
        ))
        .routes(routes!(
            numbers::self_service_settings,
            numbers::set_self_service_settings
        ))
        .routes(routes!(
            numbers::list_port_orders,
            numbers::create_port_order
        ))
        .routes(routes!(
            numbers::get_port_order,
            numbers::update_port_order,
            numbers::cancel_port_order
        ))
        .routes(routes!(numbers::validate_port))
        .merge(
            // The upload is a file, not JSON: its own body limit.
            OpenApiRouter::new()
                .routes(routes!(numbers::attach_to_port_order))
                .layer(axum::extract::DefaultBodyLimit::max(
                    numbers::ATTACHMENT_BODY_LIMIT,
                )),
        )
        .routes(routes!(numbers::port_attachment))
        .routes(routes!(
            numbers::list_toll_free,
            numbers::provision_toll_free
        ))
        .routes(routes!(
            numbers::get_number,
            numbers::update_number,
            numbers::delete_number
        ))
        .routes(routes!(numbers::assign, numbers::unassign))
        .routes(routes!(numbers::allocate))
        .routes(routes!(numbers::release))
        .routes(routes!(numbers::move_to_unit))
        .routes(routes!(numbers::assignments))
        .routes(routes!(numbers::unbind))
        .routes(routes!(numbers::history))
        .routes(routes!(numbers::inventory))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(accounts::get_account, accounts::update_account))
        .routes(routes!(accounts::deactivate_account))
        .routes(routes!(accounts::reactivate_account))
        .routes(routes!(accounts::offboarding))
        .routes(routes!(accounts::entitlements))
        .routes(routes!(exchange::list_connections, exchange::connect))
        .routes(routes!(exchange::request_disconnect))
        .routes(routes!(exchange::list_customers))
        .routes(routes!(exchange::deactivate_customer))
        .routes(routes!(providers::list_trunks, providers::create_trunk))
        .routes(routes!(
            providers::get_trunk,
            providers::update_trunk,
            providers::delete_trunk
        ))
        .routes(routes!(providers::list_carriers, providers::create_carrier))
        .routes(routes!(
            providers::get_carrier,
            providers::update_carrier,
            providers::delete_carrier
        ))
        .routes(routes!(
            attributes::list_attributes,
            attributes::create_attribute
        ))
        .routes(routes!(
            attributes::get_attribute,
            attributes::update_attribute,
            attributes::delete_attribute
        ))
        .routes(routes!(rate_card::list_rates, rate_card::create_rate))
        .routes(routes!(
            rate_card::get_rate,
            rate_card::update_rate,
            rate_card::delete_rate
        ))
        .routes(routes!(oauth::list_clients, oauth::create_client))
        .routes(routes!(oauth::rotate_secret))
        .routes(routes!(oauth::delete_client))
        .routes(routes!(audit::list_audit))
        .routes(routes!(events::list_events))
        .routes(routes!(events::list_webhooks, events::create_webhook))
        .routes(routes!(
            events::get_webhook,
            events::update_webhook,
            events::delete_webhook
        ))
        .routes(routes!(events::rotate_webhook_secret))
        .routes(routes!(events::list_deliveries))
        .routes(routes!(events::get_delivery))
        .routes(routes!(events::replay_webhook))
        .routes(routes!(forecast::pool_forecast))
        .routes(routes!(forecast::create_threshold))
        .routes(routes!(forecast::delete_threshold))
        .merge(
            // The upload is a file, not JSON: its own body limit.
            OpenApiRouter::new()
                .routes(routes!(imports::upload, imports::list))
                .layer(axum::extract::DefaultBodyLimit::max(
                    imports::IMPORT_BODY_LIMIT,
                )),
        )
        .routes(routes!(imports::get))
        .routes(routes!(imports::apply))
        .routes(routes!(imports::rejected))
        .routes(routes!(imports::sample))
        .routes(routes!(exports::create, exports::list))
        .routes(routes!(exports::get))
        .routes(routes!(exports::file))
        .routes(routes!(exports::create_schedule, exports::list_schedules))
        .routes(routes!(exports::delete_schedule))
        .routes(routes!(exports::notifications))
        .routes(routes!(exports::read_one))
        .routes(routes!(exports::read_all))
}

/// Everything the document describes: `/v2` behind authentication and idempotency, and the
/// token route outside them.
fn all_routes(state: &ApiState) -> OpenApiRouter<ApiState> {
    api_routes()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .merge(OpenApiRouter::new().routes(routes!(oauth::token)))
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_routes()
        .merge(OpenApiRouter::new().routes(routes!(oauth::token)))
        .into_openapi();
    document_edge_refusals(&mut doc);
    doc
}

/// The API's routes: `/v2` behind bearer authentication, the per-client rate limit and
/// idempotency, `/oauth/token`, the document at `/openapi.json` and its reference at `/docs`.
/// The layers every route shares (request id, trace, metrics, panic guard, body limit) and the
/// fallbacks are `startup.rs`'s.
pub fn router(service: Service, config: &ApiConfig) -> Router {
    let limiter = match (
        NonZeroU32::new(config.rate_limit_per_second),
        NonZeroU32::new(config.rate_limit_burst.max(config.rate_limit_per_second)),
    ) {
        (Some(rate), Some(burst)) => Some(Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        ))),
        _ => None,
    };
    let state = ApiState {
        service: Arc::new(service),
        token_ttl_secs: config.token_ttl_secs,
        limiter,
        token_failures: throttle::FailureThrottle::new(
            config.token_failure_limit,
            std::time::Duration::from_secs(config.token_failure_window_secs),
        )
        .map(Arc::new),
    };
    let (api, mut doc) = all_routes(&state).split_for_parts();
    document_edge_refusals(&mut doc);
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .with_state(state)
}

/// Bearer authentication for `/v2`: resolves the token to its caller, applies the client's rate
/// limit, and leaves the caller in the request's extensions for `Auth<Scope>` and the
/// idempotency layer.
async fn authenticate(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return ApiError::unauthorized(
            "send Authorization: Bearer <token>; get a token from POST /oauth/token",
        )
        .into_response();
    };
    let (actor, scopes, reader) = match st.service.authenticate_token_keeping(token).await {
        Ok(v) => v,
        Err(crate::service::ServiceError::Unauthorized) => {
            return ApiError::unauthorized("the bearer token is unknown, expired or revoked")
                .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let client_id = match &actor.principal {
        Principal::Client(id) => id.clone(),
        Principal::User(id) => id.clone(),
        Principal::Operator => String::from("operator"),
    };
    if let Some(limiter) = &st.limiter
        && let Err(not_until) = limiter.check_key(&client_id)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this API client; wait as Retry-After says",
        );
        e.retry_after = Some(wait.as_secs().max(1));
        return e.into_response();
    }
    req.extensions_mut().insert(Caller {
        actor,
        scopes,
        client_id,
    });
    // A read request's handler goes on with the connection authentication read with: one
    // checkout per request instead of two. Other methods give it back first: their bodies may
    // take a while to arrive, and their writes take a transaction of their own.
    if matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        st.service.hold_reader_for(reader, next.run(req)).await
    } else {
        drop(reader);
        next.run(req).await
    }
}
