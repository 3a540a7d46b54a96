//! Logging: a tracing subscriber writing text or JSON to stderr, filtered by the configured
//! level, and the screening of caller-given request ids. Nothing secret is ever passed to it:
//! URLs go through `redact_url`, and secrets and passwords are not logged at all.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Longest caller-given `X-Request-Id` kept.
const MAX_REQUEST_ID: usize = 64;

/// Whether a caller's request id is safe to log and echo: 1 to 64 ASCII letters, digits, `-`,
/// `_`, `.` or `:` (a UUID, a ULID or a trace id all fit). Anything else could forge log fields
/// (quotes, spaces, `=`) or bloat every log line.
pub fn is_safe_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Drops an unsafe `X-Request-Id` (or a repeated one) before the request-id layer, which then
/// generates a fresh id; a safe one is kept, logged and echoed as given.
pub async fn screen_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let headers = req.headers_mut();
    let mut ids = headers.get_all("x-request-id").iter();
    let keep = match (ids.next(), ids.next()) {
        (Some(v), None) => is_safe_request_id(v.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove("x-request-id");
    }
    req
}

#[cfg(test)]
mod tests {
    use super::is_safe_request_id;

    #[test]
    fn request_ids_are_screened() {
        for ok in ["0195f3c2-0000-7000-8000-000000000001", "abc", "a.b_c:d"] {
            assert!(is_safe_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "fake\" status=200", "a b", "a=b", &"x".repeat(65)] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad}");
        }
    }
}
