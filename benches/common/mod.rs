//! What the HTTP benchmarks (`benches/api.rs`, `benches/portal.rs`) share: the seed of 1,000,000
//! numbers through the store's bulk path, the real `Application` started in this process on the
//! seeded database, a keep-alive HTTP/1.1 connection for sequential timings, and `wrk` with its
//! figures. Each bench takes it with `#[path = "common/mod.rs"] mod common;`; not every bench
//! uses every item, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::Request;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use numberpool::config::Config;
use numberpool::service::{Actor, CreateAccount, Service};
use numberpool::startup::Application;
use numberpool_domain::{
    AccountId, AccountKind, Capabilities, Customization, E164, Number, NumberId, NumberStatus,
    Position, Product, TrunkId, initial_type, now_ms,
};
use numberpool_store::testing::TestDb;
use numberpool_store::{Store, StoreOptions};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

pub const CUSTOMERS: usize = 100;
pub const BATCH: usize = 10_000;
pub const CONNECTIONS: u32 = 32;
pub const THREADS: u32 = 2;

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Ends the bench with `msg`: a bench that cannot measure what it says has nothing to print.
pub fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench {}: {msg}", env!("CARGO_CRATE_NAME"));
    std::process::exit(1)
}

/// Ends the bench unless `wrk` is on the PATH.
pub fn require_wrk() {
    if Command::new("wrk").arg("--version").output().is_err() {
        die(
            "wrk is not installed: apt-get install wrk (scripts/bench installs it when run as root)",
        );
    }
}

/// `count` distinct valid E.164 numbers (US, from +1 201 200 0000 upwards).
pub fn phone_numbers(count: usize) -> Vec<E164> {
    (12_012_000_000u64..)
        .filter_map(|n| E164::parse(&format!("+{n}")).ok())
        .take(count)
        .collect()
}

/// The benches' arguments that pick backends (`sqlite`, `postgres`); `cargo bench` also passes
/// `--bench`, which is not one.
pub fn backends() -> Vec<&'static str> {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a == "sqlite" || a == "postgres")
        .collect();
    ["sqlite", "postgres"]
        .into_iter()
        .filter(|b| only.is_empty() || only.iter().any(|o| o == b))
        .collect()
}

pub struct World {
    pub provider: AccountId,
    pub customers: Vec<AccountId>,
    pub trunk: TrunkId,
}

async fn world(service: &Service) -> World {
    let p = service
        .create_account(
            &Actor::operator(),
            CreateAccount::new("Bench Provider", AccountKind::Provider, None),
        )
        .await
        .unwrap_or_else(|e| die(e));
    let mut customers = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let c = service
            .create_account(
                &Actor::operator(),
                CreateAccount::new(
                    &format!("Bench Customer {i}"),
                    AccountKind::Customer,
                    Some(p.id),
                ),
            )
            .await
            .unwrap_or_else(|e| die(e));
        customers.push(c.id);
    }
    let mut tx = service.store().begin().await.unwrap_or_else(|e| die(e));
    let trunk = tx
        .insert_trunk(p.id, "bench", "us")
        .await
        .unwrap_or_else(|e| die(e));
    tx.commit().await.unwrap_or_else(|e| die(e));
    World {
        provider: p.id,
        customers,
        trunk,
    }
}

/// The k-th number of the seed: 900 of every 1,000 held by a customer (in turn), 100 free.
pub fn seed_number(k: usize, phone: &E164, w: &World, now: i64) -> Number {
    let slot = k % 1000;
    let customer = (slot < 900).then(|| w.customers[slot % CUSTOMERS]);
    Number {
        id: NumberId::new(),
        number_type: initial_type(phone, None),
        fine_type: phone.fine_type(),
        phone_number: phone.clone(),
        region_state: None,
        city: None,
        product: Product::Unallocated,
        status: NumberStatus::Normal,
        position: if customer.is_some() {
            Position::Held
        } else {
            Position::Free
        },
        holder_id: customer.unwrap_or(w.provider),
        customer_id: customer,
        allocated_from: customer.map(|_| w.provider),
        owner_id: w.provider,
        uploaded_by: w.provider,
        assignees: vec![],
        sip_trunk_id: customer.map(|_| w.trunk),
        billing_reference: None,
        service_info: None,
        capabilities: Capabilities {
            voice: true,
            ..Default::default()
        },
        voice_carrier_id: None,
        sms_carrier_id: None,
        customization: Customization::default(),
        call_purpose: None,
        display_name: None,
        program_duration: None,
        attributes: Default::default(),
        source: "BYOC - Cloud".to_string(),
        block_id: None,
        port_order_id: None,
        reservation: None,
        add_event_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

async fn seed(store: &Store, w: &World, phones: &[E164]) -> Duration {
    let t = Instant::now();
    let now = now_ms();
    for (b, chunk) in phones.chunks(BATCH).enumerate() {
        let numbers: Vec<Number> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| seed_number(b * BATCH + i, p, w, now))
            .collect();
        let mut tx = store.begin().await.unwrap_or_else(|e| die(e));
        tx.insert_numbers(&numbers).await.unwrap_or_else(|e| die(e));
        tx.commit().await.unwrap_or_else(|e| die(e));
    }
    t.elapsed()
}

async fn pg_analyze(url: &str) -> Duration {
    let t = Instant::now();
    let pool = sqlx::PgPool::connect(url).await.unwrap_or_else(|e| die(e));
    // VACUUM sets the visibility map that lets a count run on an index alone; autovacuum does
    // both after a load this size (inserts trigger it since PostgreSQL 13).
    sqlx::query("VACUUM ANALYZE")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| die(e));
    pool.close().await;
    t.elapsed()
}

/// A fresh database of `backend`, seeded, with the real `Application` serving it in this process.
pub struct Seeded {
    pub db: TestDb,
    pub store: Store,
    pub service: Service,
    pub world: World,
    pub seed_time: Duration,
    pub addr: SocketAddr,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Seeded {
    /// Per backend, on a fresh database each run (nothing is cached between runs): one provider
    /// and 100 customers under it, and `phones` through the store's bulk path
    /// (`Tx::insert_numbers`, 10,000 a transaction). In creation (id) order, of every 1,000
    /// numbers 900 are allocated (held, with a SIP trunk), 9 to each customer in turn, and 100
    /// stay free in the provider's pool: each customer's numbers spread over the whole id range.
    /// Then `VACUUM ANALYZE` on PostgreSQL, and the real `Application` (rate limit off, the
    /// default 8 database connections) on a free port of 127.0.0.1.
    pub async fn start(backend: &str, phones: &[E164]) -> Seeded {
        let db = TestDb::new(backend).await;
        let config = Config {
            database_url: db.url.clone(),
            listen: "127.0.0.1:0".into(),
            rate_limit_per_second: 0,
            ..Config::default()
        };
        let opts = StoreOptions {
            max_connections: config.db_max_connections,
            ..Default::default()
        };
        let store = Store::connect(&db.url, &opts)
            .await
            .unwrap_or_else(|e| die(e));
        store.migrate().await.unwrap_or_else(|e| die(e));
        let service = Service::new(store.clone());
        let world = world(&service).await;

        let seed_time = seed(&store, &world, phones).await;
        println!(
            "  seeded {} numbers in {:.1} s ({:.0}/s) through Tx::insert_numbers, {BATCH} a transaction",
            phones.len(),
            seed_time.as_secs_f64(),
            phones.len() as f64 / seed_time.as_secs_f64()
        );
        if backend == "postgres" {
            let t = pg_analyze(&db.url).await;
            println!(
                "  VACUUM ANALYZE: {:.1} s (what autovacuum does on its own after a load this size)",
                t.as_secs_f64()
            );
        }

        let app = Application::build_with_store(&config, store.clone())
            .await
            .unwrap_or_else(|e| die(e));
        let addr = app.local_addr().unwrap_or_else(|e| die(e));
        let server = tokio::spawn(app.run_until_stopped());
        Seeded {
            db,
            store,
            service,
            world,
            seed_time,
            addr,
            server,
        }
    }

    /// A bearer token of a new API client of the provider (every scope), from
    /// `Service::issue_token`.
    pub async fn api_token(&self) -> Credential {
        let provider = self.world.provider;
        let client = self
            .service
            .create_client(&Actor::cli(provider), provider, None)
            .await
            .unwrap_or_else(|e| die(e));
        let token = self
            .service
            .issue_token(&client.client_id, &client.client_secret, None, None, 3600)
            .await
            .unwrap_or_else(|e| die(e))
            .access_token;
        Credential::Bearer(token)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and closes the pool; `NUMBERPOOL_BENCH_KEEP_DB=1` keeps the database
    /// and prints its URL (for EXPLAIN afterwards).
    pub async fn stop(self) {
        self.server.abort();
        self.store.close().await;
        if std::env::var("NUMBERPOOL_BENCH_KEEP_DB").as_deref() == Ok("1") {
            println!("  kept the database: {}", self.db.url);
            std::mem::forget(self.db);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP: a keep-alive HTTP/1.1 connection for checks and the sequential timings.

/// What a request carries to be let in: an API bearer token or a portal session cookie.
pub enum Credential {
    Bearer(String),
    /// The whole `Cookie` header value, e.g. `np_session=…`.
    Cookie(String),
}

impl Credential {
    fn header(&self) -> (&'static str, String) {
        match self {
            Credential::Bearer(t) => ("Authorization", format!("Bearer {t}")),
            Credential::Cookie(c) => ("Cookie", c.clone()),
        }
    }
}

pub struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap_or_else(|e| die(e));
        stream.set_nodelay(true).unwrap_or_else(|e| die(e));
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap_or_else(|e| die(e));
        tokio::spawn(conn);
        Conn { sender }
    }

    /// POSTs `body` as `content_type`; the status and the body.
    pub async fn post(
        &mut self,
        path: &str,
        cred: &Credential,
        content_type: &str,
        body: Bytes,
    ) -> (u16, Bytes) {
        let req = Request::post(path).header("content-type", content_type);
        self.send(req, cred, body).await
    }

    pub async fn get(&mut self, path: &str, cred: &Credential) -> (u16, Bytes) {
        self.send(Request::get(path), cred, Bytes::new()).await
    }

    /// Sends `req` with the host and credential headers and `body`; the status and the body.
    async fn send(
        &mut self,
        req: hyper::http::request::Builder,
        cred: &Credential,
        body: Bytes,
    ) -> (u16, Bytes) {
        self.sender.ready().await.unwrap_or_else(|e| die(e));
        let (name, value) = cred.header();
        let req = req
            .header("host", "127.0.0.1")
            .header(name, value)
            .body(Full::new(body))
            .unwrap_or_else(|e| die(e));
        let resp = self
            .sender
            .send_request(req)
            .await
            .unwrap_or_else(|e| die(e));
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| die(e))
            .to_bytes();
        (status, body)
    }
}

/// GETs `path` once on a new connection and checks it is a 200; returns the body.
pub async fn check_ok(addr: SocketAddr, path: &str, cred: &Credential) -> Bytes {
    let mut c = Conn::open(addr).await;
    let (status, body) = c.get(path, cred).await;
    if status != 200 {
        die(format!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    body
}

/// GETs `path` once and checks it is a 200 with JSON; returns the JSON.
pub async fn check(addr: SocketAddr, path: &str, cred: &Credential) -> serde_json::Value {
    let body = check_ok(addr, path, cred).await;
    serde_json::from_slice(&body).unwrap_or_else(|e| die(format!("GET {path}: not JSON: {e}")))
}

/// The median of `v` in milliseconds (sorts `v`).
pub fn p50(v: &mut [Duration]) -> f64 {
    pct(v, 0.5)
}

/// The `p` quantile (0..1) of `v` in milliseconds (sorts `v`).
pub fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1));
    v[i].as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// wrk

#[derive(Clone, Copy, Default)]
pub struct Load {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rps: f64,
    pub requests: u64,
}

impl Load {
    /// One figure from the rounds it was measured in: the rate over all of their requests,
    /// the median of their p50s, and the highest of their p99s. Printed under `label`.
    pub fn of_rounds(label: &str, rounds: &[Load]) -> Load {
        // A round whose rate did not read counts neither its requests nor its seconds.
        let timed = || rounds.iter().filter(|l| l.rps > 0.0);
        let requests: u64 = timed().map(|l| l.requests).sum();
        let seconds: f64 = timed().map(|l| l.requests as f64 / l.rps).sum();
        let mut p50s: Vec<f64> = rounds.iter().map(|l| l.p50_ms).collect();
        p50s.sort_by(f64::total_cmp);
        let median = match p50s.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => p50s[n / 2],
            n => (p50s[n / 2 - 1] + p50s[n / 2]) / 2.0,
        };
        let load = Load {
            p50_ms: median,
            p99_ms: rounds.iter().map(|l| l.p99_ms).fold(f64::NAN, f64::max),
            rps: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                f64::NAN
            },
            requests,
        };
        println!(
            "  {label}, {} rounds: p50 {:.2} ms (median of rounds), p99 {:.2} ms (highest), {:.0} req/s ({} requests)",
            rounds.len(),
            load.p50_ms,
            load.p99_ms,
            load.rps,
            load.requests
        );
        load
    }
}

fn parse_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = if let Some(v) = s.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1000.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60_000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|n| n * mult)
}

/// Runs wrk (`THREADS` threads, `CONNECTIONS` connections, `secs` seconds, `--latency`) against
/// `base` with the paths rotating (each thread from its own offset) and `cred`'s header on every
/// request. Any non-2xx answer or socket error ends the bench.
pub fn wrk(
    label: &str,
    base: &str,
    cred: Option<&Credential>,
    paths: &[String],
    secs: u64,
) -> Load {
    wrk_at(CONNECTIONS, label, base, cred, paths, secs)
}

/// [`wrk`] with `connections` connections (at least `THREADS`): for routes that take the
/// machine's two cores for a good part of a second each, which 32 connections would only queue
/// past wrk's window.
pub fn wrk_at(
    connections: u32,
    label: &str,
    base: &str,
    cred: Option<&Credential>,
    paths: &[String],
    secs: u64,
) -> Load {
    let dir = tempfile::tempdir().unwrap_or_else(|e| die(e));
    let script = dir.path().join("bench.lua");
    let mut lua = String::new();
    if let Some(c) = cred {
        let (name, value) = c.header();
        let _ = writeln!(lua, "wrk.headers[\"{name}\"] = \"{value}\"");
    }
    lua.push_str("local paths = {\n");
    for p in paths {
        let _ = writeln!(lua, "  \"{p}\",");
    }
    lua.push_str(
        "}\nlocal threads = 0\n\
         function setup(thread)\n  thread:set(\"offset\", threads * 7919)\n  threads = threads + 1\nend\n\
         local i = 0\n\
         function init(args)\n  i = offset or 0\nend\n\
         function request()\n  i = i + 1\n  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n",
    );
    std::fs::write(&script, lua).unwrap_or_else(|e| die(e));
    let out = Command::new("wrk")
        .args([
            "-t",
            &THREADS.to_string(),
            "-c",
            &connections.max(THREADS).to_string(),
            "-d",
            &format!("{secs}s"),
            "--timeout",
            "30s",
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .output()
        .unwrap_or_else(|e| die(format!("cannot run wrk: {e}")));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        die(format!(
            "wrk failed for {label}: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut load = Load::default();
    for line in text.lines() {
        let l = line.trim();
        if let Some(v) = l.strip_prefix("50%") {
            load.p50_ms = parse_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = l.strip_prefix("99%") {
            load.p99_ms = parse_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = l.strip_prefix("Requests/sec:") {
            load.rps = v.trim().parse().unwrap_or(f64::NAN);
        } else if l.contains(" requests in ") {
            load.requests = l
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if l.starts_with("Non-2xx or 3xx responses:") || l.starts_with("Socket errors:") {
            die(format!("wrk for {label}: {l}\n{text}"));
        }
    }
    println!(
        "  {label}: p50 {:.2} ms, p99 {:.2} ms, {:.0} req/s ({} requests)",
        load.p50_ms, load.p99_ms, load.rps, load.requests
    );
    load
}
