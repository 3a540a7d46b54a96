//! The portal's static files, compiled into the binary so a single file serves everything:
//! our one stylesheet and the vendored htmx (`static/vendor/README.md` says where it is from).
//! Their URLs carry a hash of their content, so browsers may cache them for a year and still
//! fetch the new files after an upgrade.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const CSS: &str = include_str!("../../static/app.css");
const HTMX: &str = include_str!("../../static/vendor/htmx.min.js");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    super::set_headers(
        &mut res,
        &[
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    );
    res
}

/// `/static/<tag>/app.css` and `/static/<tag>/htmx.min.js`. Any tag is served (an old page
/// still gets its files); the pages link the current [`tag`].
pub fn router() -> Router {
    Router::new()
        .route(
            "/static/{tag}/app.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/{tag}/htmx.min.js",
            get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }),
        )
}

/// The first 12 hex digits of the SHA-256 of the files: the path segment the pages link.
pub fn tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(CSS.as_bytes());
        h.update(HTMX.as_bytes());
        h.finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}
