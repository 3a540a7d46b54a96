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
//!   provider's customers), `exchange.rs` (a customer's Provider Exchange connections),
//!   `settings.rs` (a provider's trunks, carriers, attributes and rate card), `clients.rs`
//!   (API clients and their secrets), `audit.rs` (the audit log).

mod add;
mod assets;
mod audit;
mod chart;
mod clients;
mod csrf;
mod customers;
mod dashboard;
mod edit;
mod errors;
mod exchange;
mod number;
mod numbers;
mod session;
mod settings;
mod signin;

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
    pub fn is_pool(&self) -> bool {
        matches!(self.account_kind.as_str(), "provider" | "reseller")
    }

    /// Whether the account is a customer (it may connect through Provider Exchange).
    pub fn is_customer(&self) -> bool {
        self.account_kind == "customer"
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
    let pages = Router::new()
        .route("/", get(root))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route(
            "/portal/account/password",
            get(signin::password_form).post(signin::change_password),
        )
        .route("/portal", get(dashboard::page))
        .route("/portal/numbers", get(numbers::list))
        .route("/portal/customers", get(customers::list))
        .route("/portal/customers/{id}", get(customers::show))
        .route("/portal/customers/{id}/settings", post(customers::settings))
        .route(
            "/portal/customers/{id}/deactivate",
            post(customers::deactivate),
        )
        .route("/portal/exchange", get(exchange::show))
        .route("/portal/exchange/connect", post(exchange::connect))
        .route("/portal/exchange/disconnect", post(exchange::disconnect))
        .route("/portal/numbers/new", get(add::form).post(add::submit))
        .route("/portal/numbers/new/customization", get(add::customization))
        .route("/portal/numbers/{id}", get(number::show))
        .route(
            "/portal/numbers/{id}/edit",
            get(edit::form).post(edit::submit),
        )
        .route("/portal/numbers/{id}/allocate", post(number::allocate))
        .route("/portal/numbers/{id}/assign", post(number::assign))
        .route("/portal/numbers/{id}/unassign", post(number::unassign))
        .route("/portal/numbers/{id}/unit", post(number::move_to_unit))
        .route(
            "/portal/numbers/{id}/release",
            get(number::release_confirm).post(number::release),
        )
        .route(
            "/portal/numbers/{id}/unbind",
            get(number::unbind_confirm).post(number::unbind),
        )
        .route(
            "/portal/numbers/{id}/delete",
            get(number::delete_confirm).post(number::delete),
        )
        // Provider settings, API clients and the audit log.
        .route("/portal/settings", get(settings::page))
        .route("/portal/settings/{kind}", post(settings::create))
        .route(
            "/portal/settings/{kind}/{id}",
            get(settings::edit_form).post(settings::edit),
        )
        .route(
            "/portal/settings/{kind}/{id}/delete",
            get(settings::delete_confirm).post(settings::delete),
        )
        .route("/portal/clients", get(clients::list).post(clients::create))
        .route(
            "/portal/clients/{client_id}/rotate",
            get(clients::rotate_confirm).post(clients::rotate),
        )
        .route(
            "/portal/clients/{client_id}/delete",
            get(clients::delete_confirm).post(clients::delete),
        )
        .route("/portal/audit", get(audit::list))
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
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Whether htmx sent the request (it then wants a fragment, not a whole page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}
