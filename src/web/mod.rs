//! The web portal (issue 12): server-rendered pages (askama templates in `templates/`) over the
//! same service layer, `Actor` and permission checks as the API. htmx only swaps fragments:
//! every page and every form also works as a plain full-page request with JavaScript off.
//!
//! - `session.rs`: the session cookie and the signed-in extractor;
//! - `csrf.rs`: the anti-forgery token of every form;
//! - `errors.rs`: refusals as pages (or as a redirect to sign-in);
//! - `assets.rs`: the CSS and the vendored htmx, compiled in;
//! - one file per area: `signin.rs`, `dashboard.rs`, `numbers.rs` (the list), `number.rs`
//!   (one number and its moves), `add.rs` (the Add Numbers form), `edit.rs` (R-EDIT-1's edit), `customers.rs` (a
//!   provider's customers), `exchange.rs` (a customer's Provider Exchange connections), `delete_list.rs` (seed
//!   004's manual delete list), `settings.rs` (a provider's trunks, carriers, attributes and rate card),
//!   `clients.rs` (API clients and their secrets), `audit.rs` (the audit log), `units.rs` (a
//!   customer's units), `imports.rs` (file imports: upload, the plan, apply, rejected rows),
//!   `available.rs` (*Find numbers*: the available search).

mod add;
mod assets;
mod audit;
mod available;
mod blocks;
mod chart;
mod clients;
mod csrf;
mod customers;
mod dashboard;
mod delete_list;
mod edit;
mod errors;
mod exchange;
mod exports;
mod forms;
mod imports;
mod number;
mod numbers;
mod porting;
mod reservations;
mod session;
mod settings;
mod signin;
mod units;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::api::throttle::FailureThrottle;
use crate::service::{Role, Service};

pub use errors::WebError;
pub use session::SignedIn;

/// What the portal needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark the cookies `Secure` (the portal is reached over HTTPS).
    pub secure_cookies: bool,
    /// Failed sign-ins allowed per email and per address in one window (0: no throttle).
    pub signin_failure_limit: u32,
    pub signin_failure_window: Duration,
}

/// The portal's handlers' state.
#[derive(Clone)]
pub struct WebState {
    pub service: Service,
    pub secure_cookies: bool,
    /// Failed sign-ins, per email and per source address.
    pub signin_failures: Option<Arc<FailureThrottle>>,
}

/// What every page's layout shows: who is signed in, where, and the form token.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub email: String,
    pub account_name: String,
    pub account_kind: String,
    pub account_root: bool,
    pub role: Role,
    pub csrf: String,
    /// The navigation entry of this page (`dashboard`, `numbers`, `customers`, `exchange`,
    /// `settings`, `clients`, `audit`, `account`).
    pub active: &'static str,
}

impl Chrome {
    /// Whether the user may change things (owners and admins; viewers only look).
    pub fn can_write(&self) -> bool {
        self.role != Role::Viewer
    }

    /// Whether the account keeps a pool with customers (a provider or reseller).
    /// Whether *Find numbers* is for this account: a pool's own search, or a customer's over
    /// its self-service providers' pools.
    pub fn finds_numbers(&self) -> bool {
        self.is_pool() || self.account_kind == "customer"
    }

    pub fn is_pool(&self) -> bool {
        matches!(self.account_kind.as_str(), "provider" | "reseller")
    }

    /// Whether the account is a root customer (it may connect through Provider Exchange).
    pub fn is_customer(&self) -> bool {
        self.account_kind == "customer" && self.account_root
    }

    pub fn role_name(&self) -> &'static str {
        self.role.as_str()
    }
}

/// The portal's routes, with the headers every portal answer carries.
pub fn router(service: Service, config: &WebConfig) -> Router {
    let state = WebState {
        service,
        secure_cookies: config.secure_cookies,
        signin_failures: FailureThrottle::new(
            config.signin_failure_limit,
            config.signin_failure_window,
        )
        .map(Arc::new),
    };
    // Everything under /portal needs a signed-in user (the handlers take `SignedIn`).
    let portal =
        Router::new()
            .route(
                "/account/password",
                get(signin::password_form).post(signin::change_password),
            )
            .route("/numbers", get(numbers::list))
            .route("/numbers/available", get(available::page))
            .route("/numbers/self_service", post(available::self_service))
            .route("/blocks", get(blocks::list).post(blocks::create))
            .route("/porting", get(porting::list).post(porting::create))
            .route("/porting/{id}", get(porting::show))
            .route("/porting/{id}/move", post(porting::move_order))
            .route(
                "/porting/{id}/attachments",
                post(porting::attach).layer(axum::extract::DefaultBodyLimit::max(
                    crate::api::numbers::ATTACHMENT_BODY_LIMIT,
                )),
            )
            .route(
                "/porting/{id}/attachments/{attachment}",
                get(porting::attachment),
            )
            .route(
                "/porting/{id}/cancel",
                get(porting::confirm_cancel).post(porting::cancel),
            )
            .route("/reservations", get(reservations::list))
            .route("/reservations/{id}/extend", post(reservations::extend))
            .route(
                "/reservations/{id}/release",
                get(reservations::confirm_release).post(reservations::release),
            )
            .route(
                "/blocks/{id}/release",
                get(blocks::confirm_release).post(blocks::release),
            )
            .route(
                "/numbers/provision",
                get(available::review).post(available::provision),
            )
            .route("/numbers/new", get(add::form).post(add::submit))
            .route("/numbers/new/customization", get(add::customization))
            .route("/numbers/{id}", get(number::show))
            .route("/numbers/{id}/edit", get(edit::form).post(edit::submit))
            // Every other move of a number is a POST to its own word; release, unbind and delete
            // are confirmed first on a page of their own (the GET).
            .route(
                "/numbers/{id}/{verb}",
                get(number::confirm).post(number::move_number),
            )
            .route("/customers", get(customers::list).post(customers::create))
            .route("/customers/{id}", get(customers::show))
            .route("/customers/{id}/settings", post(customers::settings))
            .route("/customers/{id}/deactivate", post(customers::deactivate))
            .route(
                "/delete-list",
                get(delete_list::show).post(delete_list::submit),
            )
            .route("/delete-list/check", get(delete_list::check_typed))
            .route("/exchange", get(exchange::show))
            .route("/exchange/connect", post(exchange::connect))
            .route("/exchange/disconnect", post(exchange::disconnect))
            // Provider settings, API clients and the audit log.
            .route("/settings", get(settings::page))
            .route("/settings/{kind}", post(settings::create))
            .route(
                "/settings/{kind}/{id}/{verb}",
                get(settings::show).post(settings::change),
            )
            .route("/clients", get(clients::list).post(clients::create))
            .route(
                "/clients/{client_id}/{verb}",
                get(clients::confirm).post(clients::change),
            )
            .route("/pool-thresholds", post(dashboard::add_threshold))
            .route(
                "/pool-thresholds/{id}/delete",
                post(dashboard::delete_threshold),
            )
            .route("/webhooks", get(webhooks::list).post(webhooks::create))
            .route("/webhooks/{id}", get(webhooks::show))
            .route(
                "/webhooks/{id}/{verb}",
                get(webhooks::confirm).post(webhooks::change),
            )
            .route("/webhooks/{id}/toggle/{verb}", post(webhooks::toggle))
            .route(
                "/webhooks/{id}/deliveries/{delivery}/replay",
                post(webhooks::replay),
            )
            .route("/audit", get(audit::list))
            .route(
                "/imports",
                get(imports::show).post(imports::upload).layer(
                    axum::extract::DefaultBodyLimit::max(crate::api::imports::IMPORT_BODY_LIMIT),
                ),
            )
            .route("/imports/samples/{action}", get(imports::sample))
            .route("/imports/{id}", get(imports::plan))
            .route("/imports/{id}/apply", post(imports::apply))
            .route("/imports/{id}/rejected", get(imports::rejected))
            .route("/exports", get(exports::list).post(exports::create))
            .route("/exports/{id}/file", get(exports::file))
            .route("/exports/schedules", post(exports::schedule))
            .route("/exports/schedules/{id}/delete", post(exports::unschedule))
            .route("/notifications", get(exports::notifications))
            .route("/notifications/count", get(exports::count))
            .route("/notifications/read", post(exports::read_all))
            .route("/notifications/{id}/read", post(exports::read_one))
            .route("/jobs", get(exports::jobs))
            .route("/units", get(units::list).post(units::create));
    let pages = Router::new()
        .route("/", get(root))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/portal", get(dashboard::page))
        .nest("/portal", portal)
        .with_state(state)
        .layer(middleware::from_fn(page_headers));
    Router::new().merge(pages).merge(assets::router())
}

/// `/`: the portal when signed in, else the sign-in page.
async fn root(signed_in: Option<SignedIn>) -> Response {
    match signed_in {
        Some(_) => Redirect::to("/portal").into_response(),
        None => Redirect::to("/signin").into_response(),
    }
}

/// The Content-Security-Policy of every page: scripts and styles only from this server's own
/// files (no inline script, so stored markup that slipped through escaping still cannot run),
/// no framing, forms only back to this server.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers on every portal answer. `no-store` keeps signed-in pages out of the browser's
/// cache, so after sign-out the back button asks the server again and gets the sign-in page.
async fn page_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    set_headers(
        &mut res,
        &[
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
    );
    res
}

/// Sets fixed headers on a response.
pub fn set_headers(res: &mut Response, headers: &[(header::HeaderName, &'static str)]) {
    for (name, value) in headers {
        res.headers_mut()
            .insert(name.clone(), HeaderValue::from_static(value));
    }
}

/// 422 when the page shows a refusal, else 200.
pub fn status_for(refused: bool) -> axum::http::StatusCode {
    if refused {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

/// Whether htmx sent the request (it then wants a fragment, not a whole page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}
