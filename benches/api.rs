//! The REST API under load (issue 4), a plain binary that prints its figures.
//!
//! Per backend (SQLite, PostgreSQL), on a fresh database each run (nothing is cached between
//! runs):
//! - seeds 1,000,000 numbers through the store's bulk path (`Tx::insert_numbers`, 10,000 a
//!   transaction): one provider and 100 customers under it. In creation (id) order, of every
//!   1,000 numbers 900 are allocated (held, with a SIP trunk), 9 to each customer in turn, and
//!   100 stay free in the provider's pool: 9,000 numbers per customer, 100,000 free, each
//!   customer's numbers spread over the whole id range;
//! - starts the real `Application` in this process (release build, rate limit off, the default
//!   8 database connections), with an API client of the provider and a token from
//!   `Service::issue_token`;
//! - drives it with `wrk` (2 threads, 32 connections, `--latency`), the Authorization header
//!   and the rotating paths set by a Lua script, each figure for 10 s in all: in rounds of 2 s,
//!   the six figures in turn each round, so that a ratio compares figures measured over the
//!   same minutes (a figure's rate is over all its rounds' requests, its p50 the median of its
//!   rounds' and its p99 the highest):
//!   1. a filtered list page as the provider: `GET /v2/phone/numbers?customer_id=C&page_size=30`,
//!      C rotating over the 100 customers;
//!   2. a lookup by E.164: `GET /v2/phone/numbers/%2B…`, rotating over 1,000 numbers spread over
//!      the table;
//!   3. two diagnostics, to show where a request's time goes: `/healthz` (the middleware stack,
//!      no authentication, no database) and `GET /v2/accounts/{provider}` (bearer
//!      authentication and one small scoped read);
//!   4. the floor: a bare axum route in this process returning 1 KB of fixed JSON, measured the
//!      same way right before the backend's runs;
//!   5. the database floor: the same bare route doing one point read through the same store
//!      (`get_account` by primary key on a pooled connection), no authentication, no middleware:
//!      the most any route that reads the database can do with this stack on this machine;
//! - times, on one keep-alive connection, in turn (~200 requests each or 30 s, p50): the
//!   provider's unfiltered first page, its page after 90 % of the rows (its `next_page_token`
//!   built from that row's id, as `encode_page_token` does), the inventory route, a customer's
//!   filtered page, and a page filtered by a 7-digit E.164 prefix (10,000 numbers, 1 % of a
//!   million: a filter the per-holder counts cannot answer). With `NUMBERPOOL_BENCH_COMPARE=N`,
//!   a second database of the first N of the same numbers is seeded the same way and served
//!   beside the first; each turn of the timing sends the five requests to one database and then
//!   the same five to the other, on a connection each, which goes first alternating from turn
//!   to turn: the two sizes timed over the same seconds;
//! - prints the database's size, and the issue-16 targets: the list page ≥ 15 % and the lookup
//!   ≥ 35 % of the database floor, authentication plus one read within 2.5× of one read, the
//!   deep page within 1.5× of the first, the first page and the inventory within 3× of the
//!   customer page, and (with `NUMBERPOOL_BENCH_COMPARE`) the first page and the inventory within
//!   1.5× of the same requests on the smaller database.
//!
//! Run: `scripts/bench` (which provides PostgreSQL and wrk), or
//! `NUMBERPOOL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench api [sqlite|postgres]`.
//! The seed, the server and wrk are shared with `benches/portal.rs` (`benches/common/mod.rs`).
//! Knobs: `NUMBERPOOL_BENCH_NUMBERS` (default 1000000), `NUMBERPOOL_BENCH_SECS` (wrk seconds per
//! figure, default 10; a figure gets the whole rounds that fit), `NUMBERPOOL_BENCH_ROUND_SECS`
//! (seconds of a round, default 2), `NUMBERPOOL_BENCH_COMPARE` (the smaller database's size, off
//! by default; from 10,000, so that the prefix still finds a full page, to under
//! `NUMBERPOOL_BENCH_NUMBERS`; issue 16's pairing is `NUMBERPOOL_BENCH_NUMBERS=10000000
//! NUMBERPOOL_BENCH_COMPARE=1000000`),
//! `NUMBERPOOL_BENCH_KEEP_DB=1` keeps each database and prints its URL (for EXPLAIN afterwards).

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use common::{
    CONNECTIONS, Conn, Credential, Load, Seeded, THREADS, check, die, env_num, p50, phone_numbers,
    wrk,
};
use numberpool_domain::{AccountId, E164};
use numberpool_store::Store;

const LOOKUPS: usize = 1_000;

/// A one-off SQL statement on the database (outside the store): the deep page's keyset
/// position.
async fn nth_id(url: &str, offset: usize) -> String {
    let sql = format!("SELECT id FROM numbers ORDER BY id LIMIT 1 OFFSET {offset}");
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url)
            .await
            .unwrap_or_else(|e| die(e));
        let (id,): (String,) = sqlx::query_as(&sql)
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|e| die(e));
        pool.close().await;
        id
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap_or_else(|e| die(e));
        let (id,): (String,) = sqlx::query_as(&sql)
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|e| die(e));
        pool.close().await;
        id
    }
}

// ---------------------------------------------------------------------------------------------
// The floor: a bare axum route with 1 KB of fixed JSON.

async fn start_floor() -> SocketAddr {
    // {"data":"xxx…"} padded to exactly 1,024 bytes.
    let pad = 1024 - r#"{"data":""}"#.len();
    let body: &'static str =
        Box::leak(format!(r#"{{"data":"{}"}}"#, "x".repeat(pad)).into_boxed_str());
    assert_eq!(body.len(), 1024);
    let app = axum::Router::new().route(
        "/floor",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }),
    );
    serve_bare(app).await
}

/// Serves `app` on a free port of 127.0.0.1 in this process, with nothing around it.
async fn serve_bare(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| die(e));
    let addr = listener.local_addr().unwrap_or_else(|e| die(e));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A bare axum route that reads one account by primary key through `store` (a pooled read, one
/// query) and returns it as JSON: no middleware, no authentication. What any route that touches
/// the database costs at the least here.
async fn start_db_floor(store: Store, account: AccountId) -> SocketAddr {
    let app = axum::Router::new().route(
        "/dbfloor",
        axum::routing::get(move || {
            let store = store.clone();
            async move {
                let mut r = match store.read().await {
                    Ok(r) => r,
                    Err(_) => return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
                };
                match r.get_account(account).await {
                    Ok(Some(a)) => axum::Json(a).into_response(),
                    _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }),
    );
    serve_bare(app).await
}

// ---------------------------------------------------------------------------------------------
// The sequential requests.

/// The requests timed one at a time on a seeded run, each checked once: the provider's
/// unfiltered first page, its page after 90 % of the rows, the inventory, a customer's filtered
/// page (rotating over the customers) and a page filtered by an E.164 prefix (a filter the
/// counters cannot answer, so its count reads the matches).
struct Pages {
    addr: SocketAddr,
    token: Credential,
    customers: Vec<String>,
    first: String,
    deep: String,
    inventory: String,
    prefix: String,
    total_records: i64,
    deep_at: usize,
}

impl Pages {
    async fn of(run: &Seeded, phones: &[E164]) -> Pages {
        let (addr, token) = (run.addr, run.api_token().await);
        let customers: Vec<String> = run
            .world
            .customers
            .iter()
            .map(|c| format!("/v2/phone/numbers?customer_id={c}&page_size=30"))
            .collect();
        let page = check(addr, &customers[0], &token).await;
        let n_items = page["phone_numbers"].as_array().map_or(0, Vec::len);
        if n_items != 30 {
            die(format!(
                "the filtered list returned {n_items} numbers, not 30"
            ));
        }
        println!(
            "  filtered list: total_records {} per customer",
            page["total_records"]
        );
        let first = "/v2/phone/numbers?page_size=30".to_string();
        let deep_at = phones.len() * 9 / 10;
        let after = nth_id(&run.db.url, deep_at - 1).await;
        let deep = format!(
            "/v2/phone/numbers?page_size=30&next_page_token={}",
            numberpool::api::extract::encode_page_token(&after)
        );
        let total_records = check(addr, &first, &token).await["total_records"]
            .as_i64()
            .unwrap_or(-1);
        if check(addr, &deep, &token).await["phone_numbers"]
            .as_array()
            .map_or(0, Vec::len)
            != 30
        {
            die("the page after 90 % of the rows is not a full page");
        }
        let inventory = "/v2/phone/inventory".to_string();
        check(addr, &inventory, &token).await;
        // Seven digits of the first number: 10,000 of the seeded numbers (1 % of a million, and
        // all 10,000 at any size from 10,000 up).
        let prefix = format!(
            "/v2/phone/numbers?page_size=30&prefix={}",
            &phones[0].as_str()[1..8]
        );
        println!(
            "  prefix filter {}: total_records {}",
            &phones[0].as_str()[..8],
            check(addr, &prefix, &token).await["total_records"]
        );
        Pages {
            addr,
            token,
            customers,
            first,
            deep,
            inventory,
            prefix,
            total_records,
            deep_at,
        }
    }
}

/// [`Pages`] timed on one keep-alive connection.
struct Timed<'a> {
    pages: &'a Pages,
    conn: Conn,
    /// First page, deep page, inventory, customer page, prefix page.
    times: [Vec<Duration>; 5],
}

impl<'a> Timed<'a> {
    async fn open(pages: &'a Pages) -> Timed<'a> {
        let conn = Conn::open(pages.addr).await;
        Timed {
            pages,
            conn,
            times: Default::default(),
        }
    }

    /// The five requests in turn, the `k`-th customer's page among them.
    async fn once(&mut self, k: usize) {
        let p = self.pages;
        let customer = &p.customers[k % p.customers.len()];
        for (path, into) in [&p.first, &p.deep, &p.inventory, customer, &p.prefix]
            .into_iter()
            .zip(self.times.iter_mut())
        {
            let t = Instant::now();
            let (status, _) = self.conn.get(path, &p.token).await;
            into.push(t.elapsed());
            if status != 200 {
                die(format!("GET {path} answered {status} during the timing"));
            }
        }
    }

    fn p50s(&mut self) -> [f64; 5] {
        std::array::from_fn(|i| p50(&mut self.times[i]))
    }
}

// ---------------------------------------------------------------------------------------------

struct Figures {
    backend: &'static str,
    seed: Duration,
    floor: Load,
    db_floor: Load,
    list: Load,
    lookup: Load,
    health: Load,
    account: Load,
    first_p50_ms: f64,
    deep_p50_ms: f64,
    inventory_p50_ms: f64,
    customer_p50_ms: f64,
    prefix_p50_ms: f64,
    pages_timed: usize,
    total_records: i64,
    db_bytes: i64,
    /// With `NUMBERPOOL_BENCH_COMPARE`: the five sequential p50s on the smaller database,
    /// timed alternating with these, and its `total_records`.
    compared: Option<([f64; 5], i64)>,
}

/// The database's size on disk after the seed: the SQLite file with its log, or PostgreSQL's
/// `pg_database_size`.
async fn db_size(url: &str) -> i64 {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let size = |p: &str| std::fs::metadata(p).map_or(0, |m| m.len() as i64);
        return size(path) + size(&format!("{path}-wal"));
    }
    let pool = sqlx::PgPool::connect(url).await.unwrap_or_else(|e| die(e));
    let (n,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| die(e));
    pool.close().await;
    n
}

async fn bench_backend(
    backend: &'static str,
    phones: &[E164],
    floor_addr: SocketAddr,
    secs: u64,
    secs_per_round: u64,
    compare: Option<usize>,
) -> Figures {
    println!("== {backend}");
    // The smaller database first, so that the larger one's load phases find the larger one's
    // pages in the caches, not the smaller one's seed; the smaller one's pages are read again
    // by its untimed turn before the timing.
    let small_run = match compare {
        Some(n) => {
            println!("  beside it, for the sequential requests: {n} numbers");
            Some((Seeded::start(backend, &phones[..n]).await, n))
        }
        None => None,
    };
    let run = Seeded::start(backend, phones).await;
    let (addr, w, store) = (run.addr, &run.world, run.store.clone());
    let base = run.base();
    // The paths, each checked once before the load.
    let pages = Pages::of(&run, phones).await;
    let (token, list_paths) = (&pages.token, &pages.customers);
    // The smaller database's checks (its deep page's position is a scan of 90 % of its ids)
    // before the load, not right before the timing, where they would leave it the warmer.
    let small = match &small_run {
        Some((r, n)) => {
            println!("  the database of {n} numbers beside it:");
            Some(Pages::of(r, &phones[..*n]).await)
        }
        None => None,
    };
    let step = (phones.len() / LOOKUPS).max(1);
    let lookup_paths: Vec<String> = (0..LOOKUPS.min(phones.len()))
        .map(|i| {
            format!(
                "/v2/phone/numbers/%2B{}",
                &phones[(i * step + i % step) % phones.len()].as_str()[1..]
            )
        })
        .collect();
    check(addr, &lookup_paths[0], token).await;

    // Load: the six figures in turn, in rounds, so that the figures a ratio compares are
    // measured over the same minutes. This machine's speed moves from one minute to the next
    // (by up to 40 %: docs/PERFORMANCE.md, issue 16), and with each figure measured once, for
    // the whole time, a ratio could compare a fast spell's floor with a slow spell's route.
    let rounds = (secs / secs_per_round).max(1);
    let db_floor_addr = start_db_floor(store.clone(), w.provider).await;
    let floor_base = format!("http://{floor_addr}");
    let db_floor_base = format!("http://{db_floor_addr}");
    let account_path = [format!("/v2/accounts/{}", w.provider)];
    let (floor_path, db_floor_path, health_path) = (
        ["/floor".to_string()],
        ["/dbfloor".to_string()],
        ["/healthz".to_string()],
    );
    // Where a request's time goes, for the report: the application's middleware stack alone
    // (no authentication, no database), and authentication plus one small scoped read.
    let loads: [(&str, &str, Option<&Credential>, &[String]); 6] = [
        (
            "floor (bare axum, 1 KB JSON)",
            &floor_base,
            None,
            &floor_path,
        ),
        (
            "database floor (bare axum + one point read through the store)",
            &db_floor_base,
            None,
            &db_floor_path,
        ),
        (
            "list page, filtered by customer",
            &base,
            Some(token),
            list_paths,
        ),
        ("lookup by E.164", &base, Some(token), &lookup_paths),
        (
            "diagnostic: /healthz (app stack, no auth, no database)",
            &base,
            None,
            &health_path,
        ),
        (
            "diagnostic: GET /v2/accounts/{provider} (bearer auth + one scoped read)",
            &base,
            Some(token),
            &account_path,
        ),
    ];
    let mut measured: [Vec<Load>; 6] = Default::default();
    for round in 1..=rounds {
        for ((label, at, cred, paths), into) in loads.iter().zip(measured.iter_mut()) {
            into.push(wrk(
                &format!("round {round}/{rounds}: {label}"),
                at,
                *cred,
                paths,
                secs_per_round,
            ));
        }
    }
    let [floor, db_floor, list, lookup, health, account] =
        std::array::from_fn(|i| Load::of_rounds(loads[i].0, &measured[i]));

    // Sequential, on one keep-alive connection, in turn; with a smaller database beside it
    // (`NUMBERPOOL_BENCH_COMPARE`), the same five requests to it in the same turn, on a
    // connection of its own, so that the two sizes are compared over the same seconds. Each
    // side gets one turn untimed first (the load phases left only the larger one's pages
    // cached), and which side goes first alternates from turn to turn.
    let mut seq = vec![Timed::open(&pages).await];
    if let Some(small) = &small {
        seq.push(Timed::open(small).await);
    }
    for t in &mut seq {
        t.once(0).await;
        t.times = Default::default();
    }
    let started = Instant::now();
    let mut k = 0;
    while seq[0].times[0].len() < 200
        && (started.elapsed() < Duration::from_secs(30) || seq[0].times[0].len() < 5)
    {
        for i in 0..seq.len() {
            let side = if k % 2 == 0 { i } else { seq.len() - 1 - i };
            seq[side].once(k).await;
        }
        k += 1;
    }
    let pages_timed = seq[0].times[0].len();
    let [
        first_p50_ms,
        deep_p50_ms,
        inventory_p50_ms,
        customer_p50_ms,
        prefix_p50_ms,
    ] = seq[0].p50s();
    let compared = seq
        .get_mut(1)
        .map(Timed::p50s)
        .zip(small.as_ref().map(|s| s.total_records));
    let total_records = pages.total_records;
    let deep_at = pages.deep_at;
    println!(
        "  sequential, {pages_timed} requests each, p50: unfiltered first page (total_records {total_records}) {first_p50_ms:.2} ms, page after {deep_at} rows {deep_p50_ms:.2} ms, inventory {inventory_p50_ms:.2} ms, customer page {customer_p50_ms:.2} ms, prefix page {prefix_p50_ms:.2} ms"
    );
    if let (Some(([first, deep, inventory, customer, prefix], _)), Some(s)) = (compared, &small) {
        println!(
            "  the same, alternating, at {} numbers: first page {first:.2} ms, page after {} rows {deep:.2} ms, inventory {inventory:.2} ms, customer page {customer:.2} ms, prefix page {prefix:.2} ms",
            s.total_records, s.deep_at
        );
    }
    let db_bytes = db_size(&run.db.url).await;
    println!("  database size: {:.2} GB", db_bytes as f64 / 1e9);

    let seed_time = run.seed_time;
    run.stop().await;
    if let Some((r, _)) = small_run {
        r.stop().await;
    }
    Figures {
        backend,
        seed: seed_time,
        floor,
        db_floor,
        list,
        lookup,
        health,
        account,
        first_p50_ms,
        deep_p50_ms,
        inventory_p50_ms,
        customer_p50_ms,
        prefix_p50_ms,
        pages_timed,
        total_records,
        db_bytes,
        compared,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments pick backends (`sqlite`, `postgres`).
    common::require_wrk();
    let total = env_num("NUMBERPOOL_BENCH_NUMBERS", 1_000_000) as usize;
    let secs = env_num("NUMBERPOOL_BENCH_SECS", 10);
    let secs_per_round = env_num("NUMBERPOOL_BENCH_ROUND_SECS", 2).clamp(1, secs.max(1));
    // Parsed strictly: a size mistyped would otherwise turn the comparison off unnoticed.
    let compare = match std::env::var("NUMBERPOOL_BENCH_COMPARE") {
        Err(_) => None,
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if (10_000..total).contains(&n) => Some(n),
            _ => die(format!(
                "NUMBERPOOL_BENCH_COMPARE={v}: the smaller database's size, a whole number from 10000 to under NUMBERPOOL_BENCH_NUMBERS ({total})"
            )),
        },
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(e));

    let t = Instant::now();
    let phones = phone_numbers(total);
    println!(
        "parsed {} E.164 numbers in {:.1} s (not part of any figure)",
        phones.len(),
        t.elapsed().as_secs_f64()
    );
    let floor_addr = rt.block_on(start_floor());

    let mut all = Vec::new();
    for backend in common::backends() {
        all.push(rt.block_on(bench_backend(
            backend,
            &phones,
            floor_addr,
            secs,
            secs_per_round,
            compare,
        )));
    }

    println!();
    println!(
        "REST API under load: {} numbers, wrk -t{THREADS} -c{CONNECTIONS}, {secs} s a figure in rounds of {secs_per_round} s",
        phones.len(),
    );
    println!("| figure | backend | p50 | p99 | req/s | target |");
    println!("|---|---|---|---|---|---|");
    for f in &all {
        let row = |name: &str, l: &Load, target: &str| {
            println!(
                "| {name} | {} | {:.2} ms | {:.2} ms | {:.0} | {target} |",
                f.backend, l.p50_ms, l.p99_ms, l.rps
            );
        };
        row("floor: bare axum, 1 KB JSON", &f.floor, "");
        row(
            "database floor: bare axum + one point read",
            &f.db_floor,
            &format!("{:.1}% of floor", 100.0 * f.db_floor.rps / f.floor.rps),
        );
        let of_db = |l: &Load| 100.0 * l.rps / f.db_floor.rps;
        row(
            "list page, filtered by customer",
            &f.list,
            &format!(
                "≥ 15% of the database floor: {:.1}%, {}",
                of_db(&f.list),
                verdict(of_db(&f.list) >= 15.0)
            ),
        );
        row(
            "lookup by E.164",
            &f.lookup,
            &format!(
                "≥ 35% of the database floor: {:.1}%, {}",
                of_db(&f.lookup),
                verdict(of_db(&f.lookup) >= 35.0)
            ),
        );
        row("diagnostic: /healthz", &f.health, "");
        row(
            "GET /v2/accounts/{id}: bearer authentication + one read",
            &f.account,
            &format!(
                "within 2.5× of one read (≥ 40% of the database floor): {:.1}%, {}",
                of_db(&f.account),
                verdict(of_db(&f.account) >= 40.0)
            ),
        );
    }
    println!();
    println!(
        "| sequential p50 | backend | first page | page after 90% | inventory | customer page | prefix page | deep / first ≤ 1.5× | first / customer ≤ 3× | inventory / customer ≤ 3× |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in &all {
        let r = |a: f64, b: f64, max: f64| format!("{:.2}×, {}", a / b, verdict(a / b <= max));
        println!(
            "| {} requests each, total_records {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} | {} |",
            f.pages_timed,
            f.total_records,
            f.backend,
            f.first_p50_ms,
            f.deep_p50_ms,
            f.inventory_p50_ms,
            f.customer_p50_ms,
            f.prefix_p50_ms,
            r(f.deep_p50_ms, f.first_p50_ms, 1.5),
            r(f.first_p50_ms, f.customer_p50_ms, 3.0),
            r(f.inventory_p50_ms, f.customer_p50_ms, 3.0),
        );
    }
    if all.iter().any(|f| f.compared.is_some()) {
        println!();
        println!(
            "| sequential p50, the two sizes alternating | backend | first page | inventory | first page ≤ 1.5× | inventory ≤ 1.5× |"
        );
        println!("|---|---|---|---|---|---|");
    }
    for f in &all {
        let Some(([first, _, inventory, _, _], small_total)) = f.compared else {
            continue;
        };
        let r = |a: f64, b: f64| format!("{:.2}×, {}", a / b, verdict(a / b <= 1.5));
        println!(
            "| {} against {small_total} numbers | {} | {:.2} / {first:.2} ms | {:.2} / {inventory:.2} ms | {} | {} |",
            f.total_records,
            f.backend,
            f.first_p50_ms,
            f.inventory_p50_ms,
            r(f.first_p50_ms, first),
            r(f.inventory_p50_ms, inventory),
        );
    }
    for f in &all {
        println!(
            "seed {}: {:.1} s for {} numbers; database {:.2} GB",
            f.backend,
            f.seed.as_secs_f64(),
            phones.len(),
            f.db_bytes as f64 / 1e9
        );
    }
}
