//! The defects an attack probe found at the edge (issue 11), each on SQLite and PostgreSQL:
//! slow and idle clients are cut off while others are served, and connections are bounded;
//! NUL bytes in every kind of input are a 400/401 that logs no ERROR; a forged request id is
//! not logged; a request killed before its commit leaves its key retryable within seconds;
//! repeated wrong secrets get 429; invisible characters in names are refused; two credential
//! methods in one token request are refused.

use std::time::Duration;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;
use crate::http::RequestBuilder;
use crate::logs::{Reaper, Where, cli_json, serve};

/// Reads from `s` until the server closes it; what it sent before. Panics if it is still open
/// after `within` (the bound only catches a server that never closes).
async fn until_closed(s: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the server kept the connection open past {within:?}"));
    got
}

async fn connect(app: &App) -> TcpStream {
    TcpStream::connect(app.addr).await.must("connect")
}

/// Slowloris: a client that sends a header line and stops, one that sends nothing, one that
/// stays connected after a response, and one that sends half a body are each disconnected after
/// the timeout, while other clients are served in the meantime.
async fn slow_clients_are_cut_off(db: &TestDb) {
    let config = numberpool::config::Config {
        header_read_timeout_secs: 1,
        body_read_timeout_secs: 1,
        ..test_config(db)
    };
    let w = World::on(spawn_app_with(db, config).await).await;
    let app = &w.app;
    let token = &w.provider_client.token;

    let mut slow_header = connect(app).await;
    slow_header
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .must("write");
    let mut silent = connect(app).await;
    let mut kept_alive = connect(app).await;
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .must("write");
    let mut slow_body = connect(app).await;
    let head = format!(
        "POST /v2/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
    );
    slow_body.write_all(head.as_bytes()).await.must("write");

    // Everyone else is served meanwhile.
    app.get("/healthz").send().await.expect(200);
    app.get("/v2/phone/numbers")
        .bearer(token)
        .send()
        .await
        .expect(200);

    let within = Duration::from_secs(15);
    assert_eq!(until_closed(&mut slow_header, within).await, b"");
    assert_eq!(until_closed(&mut silent, within).await, b"");
    let answered =
        String::from_utf8_lossy(&until_closed(&mut kept_alive, within).await).into_owned();
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    let answered =
        String::from_utf8_lossy(&until_closed(&mut slow_body, within).await).into_owned();
    assert!(
        answered.starts_with("HTTP/1.1 408") && answered.contains("request_timeout"),
        "a body that does not arrive in time is a 408: {answered}"
    );
    // And the server still serves.
    app.get("/healthz").send().await.expect(200);
}

/// With `max_connections` = 1, a second connection is served only once the first closes.
async fn connections_are_bounded(db: &TestDb) {
    let config = numberpool::config::Config {
        max_connections: 1,
        header_read_timeout_secs: 60,
        ..test_config(db)
    };
    let app = spawn_app_with(db, config).await;
    let mut first = connect(&app).await;
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .must("write");
    let mut buf = [0u8; 512];
    let n = first.read(&mut buf).await.must("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // `first` is kept alive and holds the one slot: the next request waits for it. (Only a
    // broken bound makes this answer early; a slow machine makes it wait longer, so it cannot
    // fail for being slow.)
    let second = tokio::spawn(app.get("/healthz").send());
    let early = tokio::time::timeout(Duration::from_millis(500), async {
        while !second.is_finished() {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        early.is_err(),
        "a second connection was served beside the first"
    );
    drop(first);
    second.await.must("second request").expect(200);
}

/// A JSON line of the log, if it is one.
fn log_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The real binary, its JSON log read back: NUL bytes in a form field, HTTP Basic, query
/// parameters, path segments and a JSON string are 400 or 401 on both backends, and nothing is
/// logged at ERROR; a forged `X-Request-Id` is neither echoed nor logged.
async fn nul_bytes_and_forged_ids(db: &TestDb) {
    let dir = tempfile::tempdir().must("temp dir");
    let place = std::sync::Arc::new(Where::Url(db.url.clone()));
    let p = place.clone();
    let client = tokio::task::spawn_blocking(move || {
        let a = cli_json(
            &p,
            &[
                "account", "create", "--name", "Edge", "--kind", "provider", "--json",
            ],
        );
        let id = a["id"].as_str().must("account id").to_string();
        cli_json(&p, &["client", "create", "--account", &id, "--json"])
    })
    .await
    .must("CLI");
    let client_id = client["client_id"].as_str().must("client_id").to_string();
    let secret = client["client_secret"].as_str().must("secret").to_string();
    let log = dir.path().join("serve.log");
    let (p, l) = (place.clone(), log.clone());
    let (child, addr, _stdout) = tokio::task::spawn_blocking(move || serve(&p, &l))
        .await
        .must("serve");
    let mut guard = Reaper(Some(child));
    let req = |m: &str, path: &str| RequestBuilder::new(addr, m.parse().must("method"), path);
    let token = req("POST", "/oauth/token")
        .basic(&client_id, &secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(200)
        .json()["access_token"]
        .as_str()
        .must("token")
        .to_string();

    let form = "application/x-www-form-urlencoded";
    let mut answers = Vec::new();
    answers.push(
        req("POST", "/oauth/token")
            .raw(
                form,
                b"grant_type=client_credentials&client_id=np_%00&client_secret=x".to_vec(),
            )
            .send()
            .await,
    );
    answers.push(
        req("POST", "/oauth/token")
            .basic("np_\u{0}", "x")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await,
    );
    for q in ["action", "entity_type", "entity_id"] {
        answers.push(
            req("GET", &format!("/v2/audit?{q}=%00"))
                .bearer(&token)
                .send()
                .await,
        );
    }
    answers.push(
        req("DELETE", "/v2/api_clients/np_%00")
            .bearer(&token)
            .send()
            .await,
    );
    answers.push(
        req("POST", "/v2/api_clients/np_%00/rotate_secret")
            .bearer(&token)
            .send()
            .await,
    );
    answers.push(
        req("POST", "/v2/provider_exchange/connections")
            .bearer(&token)
            .raw(
                "application/json",
                br#"{"provider_account_number":"\u0000"}"#.to_vec(),
            )
            .send()
            .await,
    );
    answers.push(
        req("POST", "/v2/accounts")
            .bearer(&token)
            .raw(
                "application/json",
                br#"{"name":"a\u0000b","kind":"customer"}"#.to_vec(),
            )
            .send()
            .await,
    );
    for r in &answers {
        assert!(
            matches!(r.status, 400 | 401),
            "{}: a NUL byte is a 400 or 401, not {}: {}",
            r.what,
            r.status,
            r.text()
        );
    }

    let forged = "fake\" status=200 injected=\"1";
    let r = req("GET", "/healthz")
        .header("x-request-id", forged)
        .send()
        .await
        .expect(200);
    let given = r.header("x-request-id").must("x-request-id");
    assert_ne!(given, forged);
    let long = "a".repeat(8 * 1024);
    let r = req("GET", "/healthz")
        .header("x-request-id", &long)
        .send()
        .await
        .expect(200);
    assert!(r.header("x-request-id").must("x-request-id").len() <= 64);
    let r = req("GET", "/healthz")
        .header("x-request-id", "edge-check-1")
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("x-request-id").as_deref(), Some("edge-check-1"));

    let mut child = guard.0.take().must("the server process");
    tokio::task::spawn_blocking(move || {
        let _ = child.kill();
        child.wait().must("wait")
    })
    .await
    .must("stop");
    let text = std::fs::read_to_string(&log).must("read the log");
    let lines = log_lines(&text);
    assert!(
        text.contains("edge-check-1"),
        "the log carries request ids (is request logging off?)"
    );
    for l in &lines {
        assert_ne!(l["level"], "ERROR", "nothing here is a server error: {l}");
    }
    assert!(
        !text.contains("injected") && !text.contains(&long),
        "a forged request id reached the log"
    );
}

/// The test's own connections to the server's database, to watch it from outside.
enum Peek {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Peek {
    async fn open(db: &TestDb) -> Peek {
        if db.url.starts_with("sqlite") {
            Peek::Sqlite(sqlx::SqlitePool::connect(&db.url).await.must("sqlite"))
        } else {
            Peek::Postgres(sqlx::PgPool::connect(&db.url).await.must("postgres"))
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        match self {
            Peek::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.must(sql),
            Peek::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.must(sql),
        }
    }
}

/// The real binary is killed (SIGKILL) while a 10,000-number add with an Idempotency-Key runs,
/// after the key is reserved and before the add commits. A second `serve` process then runs the
/// retry within 10 s (the key's lease lapses), once; a further retry replays it.
async fn a_key_whose_request_died_is_retryable(db: &TestDb) {
    let dir = tempfile::tempdir().must("temp dir");
    let place = std::sync::Arc::new(Where::Url(db.url.clone()));
    let p = place.clone();
    let client = tokio::task::spawn_blocking(move || {
        let a = cli_json(
            &p,
            &[
                "account", "create", "--name", "Crash", "--kind", "provider", "--json",
            ],
        );
        let id = a["id"].as_str().must("account id").to_string();
        cli_json(&p, &["client", "create", "--account", &id, "--json"])
    })
    .await
    .must("CLI");
    let client_id = client["client_id"].as_str().must("client_id").to_string();
    let secret = client["client_secret"].as_str().must("secret").to_string();
    let start = |name: &str| {
        let (p, l) = (place.clone(), dir.path().join(name));
        tokio::task::spawn_blocking(move || serve(&p, &l))
    };
    let (child, addr, _out) = start("first.log").await.must("serve");
    let mut first = Reaper(Some(child));
    let token = RequestBuilder::new(addr, "POST".parse().must("method"), "/oauth/token")
        .basic(&client_id, &secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(200)
        .json()["access_token"]
        .as_str()
        .must("token")
        .to_string();
    let numbers: Vec<Value> = (0..10_000)
        .map(|i| json!({"phone_number": format!("+1415555{i:04}")}))
        .collect();
    let body = json!({ "numbers": numbers });
    let key = "crash-before-commit-1";
    let add = |addr| {
        RequestBuilder::new(addr, "POST".parse().must("method"), "/v2/phone/numbers")
            .bearer(&token)
            .idempotency_key(key)
            .json(&body)
    };
    let peek = Peek::open(db).await;
    let in_flight = tokio::spawn(add(addr).try_send());
    // The moment the key is reserved, the add is running: kill the process there.
    let reserved = format!("SELECT COUNT(*) FROM idempotency_keys WHERE key = '{key}'");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while peek.count(&reserved).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key was never reserved"
        );
        tokio::task::yield_now().await;
    }
    let mut child = first.0.take().must("the first server");
    tokio::task::spawn_blocking(move || {
        let _ = child.kill();
        child.wait().must("wait")
    })
    .await
    .must("kill");
    let killed_at = tokio::time::Instant::now();
    assert!(
        in_flight.await.must("join").is_err(),
        "the killed server answered"
    );
    assert_eq!(
        peek.count("SELECT COUNT(*) FROM numbers").await,
        0,
        "the add committed before the kill; this test needs it killed before"
    );
    assert_eq!(peek.count(&reserved).await, 1, "the key is still reserved");

    let (child, addr2, _out2) = start("second.log").await.must("serve again");
    let _second = Reaper(Some(child));
    let done = loop {
        let r = add(addr2).send().await;
        if r.status == 409 && r.code() == "idempotency_in_progress" {
            assert!(
                killed_at.elapsed() < Duration::from_secs(10),
                "the key of a dead request is still reserved 10 s after the kill"
            );
            let wait: u64 = r
                .header("retry-after")
                .and_then(|v| v.parse().ok())
                .must("Retry-After");
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        break r.expect(201);
    };
    assert_eq!(done.header("idempotent-replayed"), None);
    assert_eq!(peek.count("SELECT COUNT(*) FROM numbers").await, 10_000);
    let again = add(addr2).send().await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(peek.count("SELECT COUNT(*) FROM numbers").await, 10_000);
}

/// Wrong secrets: after the limit, 429 with Retry-After for the client id (even with the right
/// secret) and for the address (even for another client); the right secret works once the
/// window has passed.
async fn wrong_secrets_are_throttled(db: &TestDb) {
    let config = numberpool::config::Config {
        token_failure_limit: 3,
        token_failure_window_secs: 2,
        ..test_config(db)
    };
    let w = World::on(spawn_app_with(db, config).await).await;
    let app = &w.app;
    let c = &w.provider_client;
    for _ in 0..3 {
        app.token_request(&c.id, "wrong", None)
            .await
            .expect_error(401, "invalid_client");
    }
    let r = app
        .token_request(&c.id, "wrong", None)
        .await
        .expect_error(429, "rate_limited");
    let wait: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .must("Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    app.token_request(&c.id, &c.secret, None)
        .await
        .expect_error(429, "rate_limited");
    // The address is over its limit too: another client from it waits as well.
    let other = &w.customer_client;
    app.token_request(&other.id, &other.secret, None)
        .await
        .expect_error(429, "rate_limited");
    // Once the window has passed, the right secret works.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = app.token_request(&c.id, &c.secret, None).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(tokio::time::Instant::now() < deadline, "still throttled");
        let wait: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .must("Retry-After");
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// A zero-width space, a bidirectional override and a noncharacter are refused in account,
/// trunk and carrier names and in trunk regions, and the message names the field.
async fn invisible_names_are_refused(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    for bad in ["\u{200b}", "\u{202e}\u{202d}abc", "\u{ffff}", "a\u{2066}b"] {
        let cases = [
            (
                "/v2/accounts",
                json!({"name": bad, "kind": "customer"}),
                "name",
            ),
            (
                "/v2/sip_trunks",
                json!({"name": bad, "region": "eu"}),
                "name",
            ),
            (
                "/v2/sip_trunks",
                json!({"name": "t-x", "region": bad}),
                "region",
            ),
            (
                "/v2/carriers",
                json!({"kind": "voice", "name": bad}),
                "name",
            ),
        ];
        for (path, body, field) in cases {
            let r = app
                .post(path)
                .bearer(t)
                .json(&body)
                .send()
                .await
                .expect_error(400, "invalid_input");
            assert!(
                r.message().starts_with(field),
                "{path} {body}: the message names {field}: {}",
                r.message()
            );
        }
    }
    // The account's rename takes the same check.
    let r = app
        .patch(&format!("/v2/accounts/{}", w.customer.id))
        .bearer(t)
        .json(&json!({"name": "x\u{200b}"}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().starts_with("name"), "{}", r.message());
}

/// RFC 6749 §2.3: credentials in HTTP Basic and in the form at once are refused.
async fn two_credential_methods_are_refused(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;
    app.post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
        ])
        .send()
        .await
        .expect_error(400, "invalid_request");
    let other = &w.customer_client;
    app.post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &other.id),
        ])
        .send()
        .await
        .expect_error(400, "invalid_request");
    // Each way alone still works.
    app.post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(200);
    app.post("/oauth/token")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
        ])
        .send()
        .await
        .expect(200);
}

backend_tests!(
    slow_clients_are_cut_off,
    connections_are_bounded,
    nul_bytes_and_forged_ids,
    a_key_whose_request_died_is_retryable,
    wrong_secrets_are_throttled,
    invisible_names_are_refused,
    two_credential_methods_are_refused,
);
