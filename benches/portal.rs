//! The portal's pages against the API routes they are built on (issue 12), a plain binary that
//! prints its figures.
//!
//! Per backend (SQLite, PostgreSQL), on a fresh database each run, with the seed, server and
//! wrk of `benches/api.rs` (`benches/common/mod.rs`): 1,000,000 numbers, one provider and 100
//! customers, 9,000 numbers each, 100,000 free. Then:
//! - an API client of the provider with a token from `Service::issue_token` (the API side), and
//!   a portal admin of the provider from `Service::create_user`, signed in through
//!   `Service::sign_in` (the portal side: cookie `np_session=<id>`);
//! - three comparisons, each side checked once first (a 200, the same total on both, a full
//!   page of 50 rows where there is a page):
//!   1. the numbers page, unfiltered first page: `GET /portal/numbers` against
//!      `GET /v2/phone/numbers?page_size=50` (the portal shows 50 a page);
//!   2. the numbers page filtered by customer: `GET /portal/numbers?customer=C` against
//!      `GET /v2/phone/numbers?customer_id=C&page_size=50`, C rotating over the 100 customers;
//!   3. the dashboard: `GET /portal` against `GET /v2/phone/inventory` (the route of
//!      `Service::inventory` with no filter, which is the dashboard's call);
//! - each comparison in `NUMBERPOOL_BENCH_ROUNDS` rounds (default 3). A round first times both
//!   sides on one keep-alive connection, one request of each in turn, up to 200 each or
//!   `NUMBERPOOL_BENCH_SEQ_SECS` s (default 10; at least 5 each), then runs wrk on both sides at
//!   the same concurrency (2 threads, 32 connections, `NUMBERPOOL_BENCH_SECS` s each, default 10;
//!   4 connections for twice as long on the routes that count or group the whole million, 1 and
//!   3; the side that goes first alternates between rounds), each wrk run followed by a pause of
//!   its p99 so that the requests wrk leaves in flight are not charged to what comes next. wrk is
//!   skipped when the API side alone takes over a second a request (SQLite's inventory), and a
//!   wrk side that completes fewer than 30 requests does not count.
//!
//! The cost of a portal page against its API route: under load, the API's requests/s over the
//! portal's (the time each request takes of the shared 2 cores); alone, the portal's sequential
//! p50 over the API's. A target of at most 1.25× passes when the median over the rounds of both
//! is at most 1.25 (of the sequential one alone where no round has a figure under load).
//!
//! Run: `NUMBERPOOL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench portal [sqlite|postgres]`.
//! Knobs as `benches/api.rs` (`NUMBERPOOL_BENCH_NUMBERS`, `NUMBERPOOL_BENCH_SECS`,
//! `NUMBERPOOL_BENCH_KEEP_DB`), and `NUMBERPOOL_BENCH_ROUNDS`, `NUMBERPOOL_BENCH_SEQ_SECS`.

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    CONNECTIONS, Conn, Credential, Load, Seeded, THREADS, check, check_ok, die, env_num, p50, pct,
    phone_numbers, wrk_at,
};
use numberpool::service::{Actor, Role};
use numberpool_domain::E164;

/// Numbers on a portal page (`PAGE_SIZE` in src/web/numbers.rs).
const PORTAL_PAGE: usize = 50;
const TARGET: f64 = 1.25;
const PORTAL_EMAIL: &str = "bench-admin@numberpool.example";
const PORTAL_PASSWORD: &str = "bench-portal-password";

/// A portal page and the API route it is built on, each with the paths wrk rotates over.
struct Pair {
    name: &'static str,
    portal: Vec<String>,
    api: Vec<String>,
    /// Over the whole million a request takes a good part of a second of the two cores: wrk
    /// runs it with `HEAVY_CONNECTIONS` for twice as long.
    heavy: bool,
}

/// Enough connections to keep both cores busy with requests that each take hundreds of
/// milliseconds, few enough that they do not queue past wrk's window (32 did, on SQLite).
const HEAVY_CONNECTIONS: u32 = 4;

/// A wrk side that completes fewer requests than this says nothing about throughput.
const MIN_LOAD_REQUESTS: u64 = 30;

/// Above this sequential p50 (API side) a round skips wrk: one request takes more than a second
/// of the machine, so wrk's window would complete too few to count (SQLite's inventory takes
/// seconds over the million).
const WRK_MAX_SEQ_MS: f64 = 1000.0;

/// Both sides' figures of one round; `None` under load where wrk did not run or completed fewer
/// than `MIN_LOAD_REQUESTS` on a side.
struct Round {
    api: Option<Load>,
    portal: Option<Load>,
    seq_api_p50: f64,
    seq_portal_p50: f64,
    seq_api_p99: f64,
    seq_portal_p99: f64,
    seq_each: usize,
}

impl Round {
    /// Both sides under load, if both completed enough requests to count.
    fn loads(&self) -> Option<(Load, Load)> {
        let (api, portal) = (self.api?, self.portal?);
        (api.requests >= MIN_LOAD_REQUESTS && portal.requests >= MIN_LOAD_REQUESTS)
            .then_some((api, portal))
    }

    /// Under load: how much more of the machine a portal request takes.
    fn load_ratio(&self) -> Option<f64> {
        self.loads().map(|(api, portal)| api.rps / portal.rps)
    }

    fn wrk_p50_ratio(&self) -> Option<f64> {
        self.loads().map(|(api, portal)| portal.p50_ms / api.p50_ms)
    }

    /// Alone on one connection: how much longer a portal request takes.
    fn seq_ratio(&self) -> Option<f64> {
        Some(self.seq_portal_p50 / self.seq_api_p50)
    }
}

struct Outcome {
    backend: &'static str,
    pair: &'static str,
    rounds: Vec<Round>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

impl Outcome {
    /// `f` of the rounds where it has a figure.
    fn of(&self, f: impl Fn(&Round) -> Option<f64>) -> Vec<f64> {
        self.rounds.iter().filter_map(f).collect()
    }

    /// Both medians at most `TARGET`; the one under load only where some round has it (a route
    /// that takes seconds a request is judged on its sequential timing alone).
    fn pass(&self) -> bool {
        let load = self.of(Round::load_ratio);
        (load.is_empty() || median(load) <= TARGET) && median(self.of(Round::seq_ratio)) <= TARGET
    }
}

/// The number of `<tr><th scope="row">` rows and the figure after `marker` in a portal page.
fn rows_and_total(html: &str, marker: &str) -> (usize, Option<i64>) {
    let rows = html.matches("<tr><th scope=\"row\">").count();
    let total = html.find(marker).and_then(|i| {
        html[i + marker.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok())
    });
    (rows, total)
}

/// Checks each side once: the API's total (and page) against what the portal page shows.
async fn check_pair(addr: SocketAddr, pair: &Pair, token: &Credential, cookie: &Credential) {
    let api = check(addr, &pair.api[0], token).await;
    let html = check_ok(addr, &pair.portal[0], cookie).await;
    let html = String::from_utf8_lossy(&html);
    let (api_rows, api_total, marker) = match api.get("phone_numbers") {
        Some(items) => (
            items.as_array().map_or(0, Vec::len),
            api["total_records"].as_i64(),
            "<p class=\"count\">",
        ),
        None => (0, api["total"].as_i64(), "<p class=\"lead\">"),
    };
    let (rows, total) = rows_and_total(&html, marker);
    if total.is_none() || total != api_total || rows != api_rows {
        die(format!(
            "{}: the portal shows {rows} rows of {total:?}, the API {api_rows} of {api_total:?}",
            pair.name
        ));
    }
    println!(
        "  {}: both sides show {} numbers{}",
        pair.name,
        total.unwrap_or_default(),
        if rows > 0 {
            format!(", a page of {rows}")
        } else {
            String::new()
        }
    );
}

/// Both sides on one keep-alive connection, one request of each in turn: (API, portal) times.
async fn sequential(
    addr: SocketAddr,
    pair: &Pair,
    token: &Credential,
    cookie: &Credential,
    secs: u64,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut conn = Conn::open(addr).await;
    let (mut t_api, mut t_portal) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut i = 0;
    while t_api.len() < 200 && (started.elapsed() < Duration::from_secs(secs) || t_api.len() < 5) {
        for (paths, cred, into) in [
            (&pair.api, token, &mut t_api),
            (&pair.portal, cookie, &mut t_portal),
        ] {
            let path = &paths[i % paths.len()];
            let t = Instant::now();
            let (status, _) = conn.get(path, cred).await;
            into.push(t.elapsed());
            if status != 200 {
                die(format!("GET {path} answered {status} during the timing"));
            }
        }
        i += 1;
    }
    (t_api, t_portal)
}

/// `x.xx×`, or `n/a` for no figure.
fn ratio(r: Option<f64>) -> String {
    r.map_or("n/a".into(), |r| format!("{r:.2}×"))
}

/// Returns `load` once the server has finished what wrk left in flight: wrk stops at its window
/// with up to one request per connection unanswered, and the server (and the database) keeps
/// working on those for up to about their p99, which would otherwise be charged to the next
/// measurement (the other side's wrk or the sequential timing).
async fn settled(load: Load) -> Load {
    let p99 = if load.p99_ms.is_finite() {
        load.p99_ms
    } else {
        0.0
    };
    tokio::time::sleep(Duration::from_millis(p99.clamp(100.0, 30_000.0) as u64)).await;
    load
}

struct Knobs {
    secs: u64,
    seq_secs: u64,
    rounds: usize,
}

async fn bench_backend(backend: &'static str, phones: &[E164], k: &Knobs) -> Vec<Outcome> {
    println!("== {backend}");
    let run = Seeded::start(backend, phones).await;
    let (addr, base) = (run.addr, run.base());
    let provider = run.world.provider;
    let token = run.api_token().await;
    run.service
        .create_user(
            &Actor::cli(provider),
            provider,
            PORTAL_EMAIL,
            Role::Admin,
            PORTAL_PASSWORD,
        )
        .await
        .unwrap_or_else(|e| die(e));
    let session = run
        .service
        .sign_in(PORTAL_EMAIL, PORTAL_PASSWORD)
        .await
        .unwrap_or_else(|e| die(e));
    let cookie = Credential::Cookie(format!("np_session={}", session.id));

    let customers = &run.world.customers;
    let pairs = [
        Pair {
            name: "numbers page, first page",
            portal: vec!["/portal/numbers".into()],
            api: vec![format!("/v2/phone/numbers?page_size={PORTAL_PAGE}")],
            heavy: true,
        },
        Pair {
            name: "numbers page, by customer",
            portal: customers
                .iter()
                .map(|c| format!("/portal/numbers?customer={c}"))
                .collect(),
            api: customers
                .iter()
                .map(|c| format!("/v2/phone/numbers?customer_id={c}&page_size={PORTAL_PAGE}"))
                .collect(),
            heavy: false,
        },
        Pair {
            name: "dashboard",
            portal: vec!["/portal".into()],
            api: vec!["/v2/phone/inventory".into()],
            heavy: true,
        },
    ];
    for pair in &pairs {
        check_pair(addr, pair, &token, &cookie).await;
    }

    let mut out = Vec::new();
    for pair in &pairs {
        let mut rounds = Vec::new();
        for r in 0..k.rounds {
            println!("  -- {}, round {}", pair.name, r + 1);
            let api_label = format!("API {}", pair.api[0]);
            let portal_label = format!("portal {}", pair.portal[0]);
            let (connections, secs) = if pair.heavy {
                (HEAVY_CONNECTIONS, 2 * k.secs)
            } else {
                (CONNECTIONS, k.secs)
            };
            let side = |label: &str, cred: &Credential, paths: &[String]| {
                wrk_at(connections, label, &base, Some(cred), paths, secs)
            };
            let (mut t_api, mut t_portal) =
                sequential(addr, pair, &token, &cookie, k.seq_secs).await;
            let seq_api_p50 = p50(&mut t_api);
            let (api, portal) = if seq_api_p50 > WRK_MAX_SEQ_MS {
                println!(
                    "  no wrk: the API side takes {seq_api_p50:.0} ms a request alone, too long for wrk's window"
                );
                (None, None)
            } else {
                let run_api = || settled(side(&api_label, &token, &pair.api));
                let run_portal = || settled(side(&portal_label, &cookie, &pair.portal));
                if r % 2 == 0 {
                    let a = run_api().await;
                    (Some(a), Some(run_portal().await))
                } else {
                    let p = run_portal().await;
                    (Some(run_api().await), Some(p))
                }
            };
            let round = Round {
                api,
                portal,
                seq_each: t_api.len(),
                seq_api_p99: pct(&mut t_api, 0.99),
                seq_portal_p99: pct(&mut t_portal, 0.99),
                seq_api_p50,
                seq_portal_p50: p50(&mut t_portal),
            };
            println!(
                "  sequential, {} each: API p50 {:.2} ms, portal p50 {:.2} ms; ratios: req/s {}, wrk p50 {}, sequential p50 {}",
                round.seq_each,
                round.seq_api_p50,
                round.seq_portal_p50,
                ratio(round.load_ratio()),
                ratio(round.wrk_p50_ratio()),
                ratio(round.seq_ratio())
            );
            rounds.push(round);
        }
        out.push(Outcome {
            backend,
            pair: pair.name,
            rounds,
        });
    }
    run.stop().await;
    out
}

fn main() {
    common::require_wrk();
    let total = env_num("NUMBERPOOL_BENCH_NUMBERS", 1_000_000) as usize;
    let k = Knobs {
        secs: env_num("NUMBERPOOL_BENCH_SECS", 10),
        seq_secs: env_num("NUMBERPOOL_BENCH_SEQ_SECS", 10),
        rounds: env_num("NUMBERPOOL_BENCH_ROUNDS", 3).max(1) as usize,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(e));
    let phones = phone_numbers(total);

    let mut all = Vec::new();
    for backend in common::backends() {
        all.extend(rt.block_on(bench_backend(backend, &phones, &k)));
    }

    println!();
    println!(
        "Portal pages against their API routes: {} numbers, {} rounds; wrk -t{THREADS} -c{CONNECTIONS} -d{}s per side per round (first page and dashboard: -c{HEAVY_CONNECTIONS} -d{}s), then one connection alternating",
        phones.len(),
        k.rounds,
        k.secs,
        2 * k.secs
    );
    println!(
        "| comparison | backend | API p50 / p99 / req/s | portal p50 / p99 / req/s | cost under load (API req/s ÷ portal req/s) min / median | wrk p50 ratio min / median | sequential p50 API / portal | sequential ratio min / median | ≤ {TARGET}× |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for o in &all {
        let loads = |f: fn((Load, Load)) -> Load| {
            let v: Vec<Load> = o.rounds.iter().filter_map(Round::loads).map(f).collect();
            if v.is_empty() {
                return "n/a".to_string();
            }
            format!(
                "{:.2} ms / {:.2} ms / {:.1}",
                median(v.iter().map(|l| l.p50_ms).collect()),
                median(v.iter().map(|l| l.p99_ms).collect()),
                median(v.iter().map(|l| l.rps).collect()),
            )
        };
        let min_med = |v: Vec<f64>| {
            if v.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.2}× / {:.2}×", min(&v), median(v.clone()))
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} ms / {:.2} ms | {} | {} |",
            o.pair,
            o.backend,
            loads(|(api, _)| api),
            loads(|(_, portal)| portal),
            min_med(o.of(Round::load_ratio)),
            min_med(o.of(Round::wrk_p50_ratio)),
            median(o.of(|r| Some(r.seq_api_p50))),
            median(o.of(|r| Some(r.seq_portal_p50))),
            min_med(o.of(Round::seq_ratio)),
            if o.pass() { "PASS" } else { "FAIL" }
        );
    }
    println!(
        "(medians over the rounds; n/a: no round with at least {MIN_LOAD_REQUESTS} requests a side under wrk; sequential p99 API / portal, median:)"
    );
    for o in &all {
        println!(
            "  {} {}: {:.2} ms / {:.2} ms",
            o.pair,
            o.backend,
            median(o.of(|r| Some(r.seq_api_p99))),
            median(o.of(|r| Some(r.seq_portal_p99)))
        );
    }
    println!();
    for (target, pages) in [
        (
            "numbers page ≤ 1.25× the API list page",
            &["numbers page, first page", "numbers page, by customer"][..],
        ),
        ("dashboard ≤ 1.25× the inventory route", &["dashboard"][..]),
    ] {
        for backend in common::backends() {
            let ours: Vec<&Outcome> = all
                .iter()
                .filter(|o| o.backend == backend && pages.contains(&o.pair))
                .collect();
            let pass = ours.iter().all(|o| o.pass());
            println!(
                "{target}, {backend}: {}",
                if pass { "PASS" } else { "FAIL" }
            );
        }
    }
}
