//! A small HTTP/1.1 client over hyper's connection API: one connection per request, the whole
//! response read into memory. Every response is checked for an `x-request-id` header here, so
//! each test checks it without saying so.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    /// `METHOD path`, for messages.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics naming the request when it is not.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: answered {} with a body that is not JSON ({e}): {}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The error `code` of a JSON error body ("" when there is none).
    pub fn code(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn message(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Asserts the status; returns the response for more checks.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status,
            status,
            "{}: expected {status}, got {}: {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts an error answer: the status, a JSON body with this `code`, and a message.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Resp {
        let r = self.expect(status);
        let v = r.json();
        assert_eq!(
            v["code"].as_str(),
            Some(code),
            "{}: expected code {code}: {v}",
            r.what
        );
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}: an error has a message: {v}",
            r.what
        );
        r
    }
}

/// A request being put together.
pub struct RequestBuilder {
    addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl RequestBuilder {
    pub fn new(addr: SocketAddr, method: Method, path: &str) -> Self {
        Self {
            addr,
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    #[track_caller]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("header name {name}: {e}"));
        let value =
            HeaderValue::from_str(value).unwrap_or_else(|e| panic!("header value {value}: {e}"));
        self.headers.push((name, value));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn basic(self, id: &str, secret: &str) -> Self {
        self.header("authorization", &basic_value(id, secret))
    }

    /// A JSON body with its content type.
    pub fn json(self, v: &Value) -> Self {
        self.raw("application/json", v.to_string().into_bytes())
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        self.raw(
            "application/x-www-form-urlencoded",
            body.join("&").into_bytes(),
        )
    }

    /// Any body with the given content type ("" for none).
    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        if !content_type.is_empty() {
            self = self.header("content-type", content_type);
        }
        self.body = Bytes::from(body);
        self
    }

    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("idempotency-key", key)
    }

    /// Sends the request; panics (naming it) on a transport failure.
    pub async fn send(self) -> Resp {
        let what = format!("{} {}", self.method, self.path);
        match self.try_send().await {
            Ok(r) => r,
            Err(e) => panic!("{what}: transport error: {e}"),
        }
    }

    /// Sends the request; a transport failure is an `Err`.
    pub async fn try_send(self) -> Result<Resp, String> {
        let what = format!("{} {}", self.method, self.path);
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header(header::HOST, self.addr.to_string());
        for (k, v) in self.headers {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(self.body))
            .map_err(|e| format!("building the request: {e}"))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes();
        let r = Resp {
            what,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        };
        assert!(
            r.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{}: every response carries x-request-id; this one ({}) did not: {:?}",
            r.what,
            r.status,
            r.headers
        );
        Ok(r)
    }
}

/// The value of an HTTP Basic `Authorization` header.
pub fn basic_value(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// `application/x-www-form-urlencoded` / query-string encoding of one value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string from pairs (`?a=1&b=2`; "" when empty).
pub fn query(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}
