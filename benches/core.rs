//! Core benchmarks (a plain binary that prints its figures): adding 10,000 numbers through the
//! service layer in one transaction, and one allocation's latency, on SQLite and PostgreSQL,
//! each beside a floor measured in the same run (a bare multi-row insert of 10,000 rows); and
//! (phase `search`) the available search with a `contains` pattern over a pool of 1,000,000
//! free numbers and the provisioning of 100 of them, beside a one-row read and a bare
//! 100-row update of the same run.
//!
//! Phase `webhook`: the same 10,000-number add without a webhook subscription and with one
//! active subscription (its deliveries made by a worker running beside, to a receiver in this
//! process), alternating, and the time from the add's commit to the batch event's arrival.
//!
//! Phase `alloc`: 1,000 sequential allocations through the service, timed one by one, after
//! 100 that are not timed (each pooled connection prepares its statements on first use; the
//! warm-up's figures are printed apart): p50, p90, p95, p99 and the longest.
//!
//! Phase `concurrent`: 64 tasks allocating 6,400 free numbers of one provider's pool to a
//! customer at once (100 each, through the default 8 database connections), with the number
//! counters' triggers (migration 0025) and, on a database where they were dropped, without;
//! alternating, three rounds: allocations a second.
//!
//! Run: `NUMBERPOOL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench core`
//! (`scripts/bench` provides the PostgreSQL the same way the tests do.)

use std::time::{Duration, Instant};

use numberpool::service::{Actor, AddNumber, AllocateOptions, CreateAccount, Service};
use numberpool_domain::{AccountKind, E164, NewNumber};
use numberpool_store::NumberLookup;
use numberpool_store::testing::TestDb;

const BATCH: usize = 10_000;
const ROUNDS: usize = 5;
const ALLOCATIONS: usize = 1_000;
/// Allocations made before the timed ones: each pooled connection prepares its statements on
/// first use, which is not the steady state the p99 is about (reported apart).
const WARM_UP: usize = 100;

fn numbers(start: u64, count: usize) -> Vec<E164> {
    (start..)
        .filter_map(|n| E164::parse(&format!("+{n}")).ok())
        .take(count)
        .collect()
}

fn fmt(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A duration in milliseconds to two places, as the latencies are printed.
fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    let idx = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[idx]
}

async fn world(service: &Service) -> (Actor, Actor, numberpool_domain::TrunkId) {
    let p = service
        .create_account(
            &Actor::operator(),
            CreateAccount::new("Bench Provider", AccountKind::Provider, None),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let c = service
        .create_account(
            &Actor::operator(),
            CreateAccount::new("Bench Customer", AccountKind::Customer, Some(p.id)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tx = service
        .store()
        .begin()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let trunk = tx
        .insert_trunk(p.id, "bench", "us")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    // A default voice carrier, as a provider has: every added number then carries it (and
    // PostgreSQL checks that foreign key per row), which is the path real adds take.
    service
        .create_carrier(
            &Actor::cli(p.id),
            numberpool_domain::CarrierKind::Voice,
            "Bench Carrier",
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (Actor::cli(p.id), Actor::cli(c.id), trunk)
}

/// The floor: 10,000 two-column rows in 500-row multi-row inserts, one transaction.
async fn bare_insert(db: &TestDb) -> Duration {
    let url = db.url.clone();
    let rows: Vec<(String, String)> = (0..BATCH)
        .map(|i| (uuid::Uuid::now_v7().to_string(), format!("+1{i:010}")))
        .collect();
    macro_rules! run {
        ($pool:expr) => {{
            let pool = $pool;
            sqlx::query("CREATE TABLE floor (id TEXT PRIMARY KEY, e164 TEXT NOT NULL UNIQUE)")
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let t = Instant::now();
            let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
            for chunk in rows.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO floor (id, e164) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.0).push_bind(&r.1);
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
            let d = t.elapsed();
            pool.close().await;
            d
        }};
    }
    if url.starts_with("sqlite") {
        let opts: sqlx::sqlite::SqliteConnectOptions =
            url.parse().unwrap_or_else(|e| panic!("{e}"));
        let opts = opts
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        run!(
            sqlx::SqlitePool::connect_with(opts)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        )
    } else {
        run!(
            sqlx::PgPool::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        )
    }
}

async fn bench_backend(backend: &str, phases: &[String]) {
    let want = |p: &str| phases.is_empty() || phases.iter().any(|x| x == p);
    println!("== {backend}");
    if want("add") {
        let mut floors = Vec::new();
        let mut adds = Vec::new();
        for round in 0..ROUNDS {
            let floor_db = TestDb::new(backend).await;
            floors.push(bare_insert(&floor_db).await);
            let db = TestDb::new(backend).await;
            let service = Service::new(db.store().await);
            let (p, _, _) = world(&service).await;
            let batch: Vec<AddNumber> = numbers(14152010000 + round as u64 * 100_000, BATCH)
                .into_iter()
                .map(|e| AddNumber {
                    phone_number: e,
                    fields: NewNumber::default(),
                })
                .collect();
            let t = Instant::now();
            let added = service
                .add_numbers(&p, batch)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            adds.push(t.elapsed());
            assert_eq!(added.len(), BATCH);
            service.store().close().await;
        }
        println!(
            "add {BATCH} numbers, one transaction (service layer, with audit): median {} (min {}, max {}) over {ROUNDS} runs",
            fmt(median(adds.clone())),
            fmt(*adds.iter().min().unwrap_or(&Duration::ZERO)),
            fmt(*adds.iter().max().unwrap_or(&Duration::ZERO)),
        );
        println!(
            "floor: bare multi-row insert of {BATCH} two-column rows: median {}",
            fmt(median(floors))
        );
    }
    if want("search") {
        bench_search(backend).await;
    }
    if want("webhook") {
        bench_webhook(backend).await;
    }
    if want("concurrent") {
        bench_concurrent(backend).await;
    }
    if !want("alloc") {
        return;
    }

    let db = TestDb::new(backend).await;
    let service = Service::new(db.store().await);
    let (p, c, trunk) = world(&service).await;
    let added = add_free(&service, &p, 16502010000, WARM_UP + ALLOCATIONS).await;
    let mut lat = Vec::with_capacity(ALLOCATIONS);
    let mut warm = Vec::with_capacity(WARM_UP);
    for (i, n) in added.iter().enumerate() {
        let opts = AllocateOptions {
            sip_trunk_id: Some(trunk),
            ..Default::default()
        };
        let t = Instant::now();
        service
            .allocate(&p, &NumberLookup::Id(n.id), c.account, opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if i < WARM_UP {
            warm.push(t.elapsed());
        } else {
            lat.push(t.elapsed());
        }
    }
    let all: Vec<Duration> = warm.iter().chain(&lat).copied().collect();
    println!(
        "one allocation ({ALLOCATIONS} sequential after {WARM_UP} not timed, service layer): p50 {}, p90 {}, p95 {}, p99 {}, max {}; the warm-up's own p50 {}, max {}; all {} together: p50 {}, p99 {}",
        ms(pct(&lat, 0.50)),
        ms(pct(&lat, 0.90)),
        ms(pct(&lat, 0.95)),
        ms(pct(&lat, 0.99)),
        ms(*lat.iter().max().unwrap_or(&Duration::ZERO)),
        ms(pct(&warm, 0.50)),
        ms(*warm.iter().max().unwrap_or(&Duration::ZERO)),
        all.len(),
        ms(pct(&all, 0.50)),
        ms(pct(&all, 0.99)),
    );
    service.store().close().await;
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments pick backends (`sqlite`, `postgres`)
    // and phases (`add`, `alloc`, `search`, `webhook`, `concurrent`); none means all.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let only: Vec<String> = args
        .iter()
        .filter(|a| *a == "sqlite" || *a == "postgres")
        .cloned()
        .collect();
    let phases: Vec<String> = args
        .iter()
        .filter(|a| ["add", "alloc", "search", "webhook", "concurrent"].contains(&a.as_str()))
        .cloned()
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    for backend in ["sqlite", "postgres"] {
        if only.is_empty() || only.iter().any(|o| backend.contains(o.as_str())) {
            rt.block_on(bench_backend(backend, &phases));
        }
    }
}

/// One statement on the database outside the store.
async fn exec_raw(url: &str, sql: &str) {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query(sql)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query(sql)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        pool.close().await;
    }
}

const CONCURRENT_TASKS: usize = 64;
const PER_TASK: usize = 100;

/// `count` numbers from `start` on, added to `p`'s pool.
async fn add_free(
    service: &Service,
    p: &Actor,
    start: u64,
    count: usize,
) -> Vec<numberpool_domain::Number> {
    let batch: Vec<AddNumber> = numbers(start, count)
        .into_iter()
        .map(|e| AddNumber {
            phone_number: e,
            fields: NewNumber::default(),
        })
        .collect();
    service
        .add_numbers(p, batch)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One round of the `concurrent` phase: allocations a second, with or without the counters.
async fn concurrent_round(backend: &str, counters: bool, round: u64) -> f64 {
    let db = TestDb::new(backend).await;
    let service = Service::new(db.store().await);
    let (p, c, trunk) = world(&service).await;
    let total = CONCURRENT_TASKS * PER_TASK;
    let added = add_free(&service, &p, 17022010000 + round * 100_000, total).await;
    if !counters {
        // The same schema without the counters' upkeep: what an allocation cost before them.
        let drop = if backend == "sqlite" {
            "DROP TRIGGER number_counts_update"
        } else {
            "DROP TRIGGER number_counts_update ON numbers"
        };
        exec_raw(&db.url, drop).await;
    }
    let service = std::sync::Arc::new(service);
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in added.chunks(PER_TASK) {
        let ids: Vec<_> = chunk.iter().map(|n| n.id).collect();
        let (service, p, c) = (service.clone(), p.clone(), c.account);
        tasks.spawn(async move {
            for id in ids {
                let opts = AllocateOptions {
                    sip_trunk_id: Some(trunk),
                    ..Default::default()
                };
                service
                    .allocate(&p, &NumberLookup::Id(id), c, opts)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap_or_else(|e| panic!("{e}"));
    }
    let rate = total as f64 / t.elapsed().as_secs_f64();
    if counters {
        let mut rd = service
            .store()
            .read()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let wrong = rd.check_counts().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(wrong.is_empty(), "counters after the round: {wrong:?}");
    }
    service.store().close().await;
    rate
}

async fn bench_concurrent(backend: &str) {
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..3u64 {
        without.push(concurrent_round(backend, false, round * 2).await);
        with.push(concurrent_round(backend, true, round * 2 + 1).await);
    }
    let show = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.0}/s"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    println!(
        "{CONCURRENT_TASKS} concurrent allocations from one pool ({} in all): without counters {}; with counters {}; best without / best with: {:.2}x",
        CONCURRENT_TASKS * PER_TASK,
        show(&without),
        show(&with),
        best(&without) / best(&with)
    );
}

/// The search's pool: `SEARCH_BLOCKS` blocks of 10,000 numbers, each an area code and an
/// exchange of its own (the way carriers hand out numbers), 1,000,000 in all;
/// `NUMBERPOOL_BENCH_SEARCH_BLOCKS` sets another count (1,000 for the ten-million run of
/// docs/SCALING.md).
const SEARCH_BLOCKS: u64 = 100;
const SEARCH_RUNS: usize = 100;
const PROVISIONS: usize = 50;

/// Area codes in service, ten exchanges each.
const AREA_CODES: [u64; 10] = [212, 305, 312, 415, 503, 617, 702, 808, 917, 650];

fn search_pool() -> Vec<Vec<E164>> {
    let blocks: u64 = std::env::var("NUMBERPOOL_BENCH_SEARCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEARCH_BLOCKS)
        .clamp(1, 7_000);
    (0..blocks)
        .map(|b| {
            let npa = AREA_CODES[(b % 10) as usize];
            // Up to 100 blocks, the exchanges every earlier run had; past that, 700 per area
            // code, from 230 up.
            let nxx = if blocks <= SEARCH_BLOCKS {
                230 + b * 7
            } else {
                230 + b / 10
            };
            (0..10_000u64)
                .filter_map(|i| E164::parse(&format!("+1{npa}{nxx}{i:04}")).ok())
                .collect()
        })
        .collect()
}

/// Search patterns of one kind, `SEARCH_RUNS` of them, drawn from `rng`.
fn patterns(kind: &str, rng: &mut u64, pool: &[Vec<E164>]) -> Vec<String> {
    let mut next = |below: u64| {
        *rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*rng >> 33) % below
    };
    const WORDS: [&str; 10] = [
        "FLOWERS", "PIZZA", "TAXICAB", "DENTIST", "LAWYER", "PLUMBER", "HOTEL", "CARS", "SUSHI",
        "MOVERS",
    ];
    (0..SEARCH_RUNS)
        .map(|_| {
            let some = |next: &mut dyn FnMut(u64) -> u64| {
                let block = &pool[next(pool.len() as u64) as usize];
                block[next(block.len() as u64) as usize].as_str()[1..].to_string()
            };
            match kind {
                // The last seven digits of a number in the pool: one or a few numbers have them.
                "rare" => some(&mut next)[4..].to_string(),
                // Eight random digits: almost always found nowhere.
                "none" => format!("{:08}", next(100_000_000)),
                "keypad" => format!("*{}", WORDS[next(WORDS.len() as u64) as usize]),
                // Three or four random digits: thousands of numbers have them.
                "common" => format!("{:03}", next(1000)) + &"7".repeat(next(2) as usize),
                // A number's digits with two of them any digit.
                "wildcard" => {
                    let mut d: Vec<char> = some(&mut next)[3..].chars().collect();
                    let a = next(d.len() as u64) as usize;
                    let b = next(d.len() as u64) as usize;
                    d[a] = '*';
                    d[b] = '*';
                    d.into_iter().collect()
                }
                // One or two digits: most numbers have them.
                "short" => format!("{}", next(100)),
                "nopattern" => String::new(),
                // An area code and exchange: a whole block, contiguous in E.164 order.
                _ => some(&mut next)[1..7].to_string(),
            }
        })
        .collect()
}

/// The available search over 1,000,000 free numbers by pattern kind, and provisioning 100.
async fn bench_search(backend: &str) {
    use numberpool::service::AvailableParams;
    let db = TestDb::new(backend).await;
    let service = Service::new(db.store().await);
    let (p, c, trunk) = world(&service).await;
    let pool = search_pool();
    let t = Instant::now();
    for block in &pool {
        let batch: Vec<AddNumber> = block
            .iter()
            .map(|e| AddNumber {
                phone_number: e.clone(),
                fields: NewNumber::default(),
            })
            .collect();
        service
            .add_numbers(&p, batch)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let total: usize = pool.iter().map(Vec::len).sum();
    println!(
        "search pool: {total} free numbers added in {} blocks of 10,000 in {:.1} s",
        pool.len(),
        t.elapsed().as_secs_f64()
    );
    if backend == "postgres" {
        // What autovacuum would do minutes after a bulk add; the planner needs the statistics.
        let mut tx = service
            .store()
            .begin()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if let numberpool_store::ConnRef::Postgres(conn) = tx.connection() {
            sqlx::query("ANALYZE numbers")
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }

    // The floor: one number read by its E.164 through the store (index lookup, one row).
    let mut floor = Vec::with_capacity(SEARCH_RUNS);
    for i in 0..SEARCH_RUNS {
        let e = pool[i % pool.len()][i * 97 % 10_000].clone();
        let t = Instant::now();
        let mut r = service
            .store()
            .read()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        r.get_number(&NumberLookup::E164(e))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        floor.push(t.elapsed());
    }
    println!(
        "floor: one number read by E.164: p50 {}, p99 {}",
        ms(pct(&floor, 0.50)),
        ms(pct(&floor, 0.99))
    );

    let mut rng = 2026u64;
    let mut all = Vec::new();
    for kind in [
        "rare",
        "none",
        "keypad",
        "common",
        "wildcard",
        "exchange",
        "short",
        "nopattern",
    ] {
        let mut lat = Vec::with_capacity(SEARCH_RUNS);
        let mut found = 0usize;
        for pat in patterns(kind, &mut rng, &pool) {
            let q = AvailableParams {
                contains: (kind != "nopattern").then(|| pat.clone()),
                quantity: Some(10),
                ..AvailableParams::default()
            }
            .parse(None)
            .unwrap_or_else(|e| panic!("{pat}: {e}"));
            let t = Instant::now();
            let got = service
                .search_available(&p, &q)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            lat.push(t.elapsed());
            found += got.len();
        }
        println!(
            "search contains ({kind}, {SEARCH_RUNS} patterns, quantity 10, {:.1} found on average): p50 {}, p99 {}, max {}",
            found as f64 / SEARCH_RUNS as f64,
            ms(pct(&lat, 0.50)),
            ms(pct(&lat, 0.99)),
            ms(*lat.iter().max().unwrap_or(&Duration::ZERO)),
        );
        all.extend(lat);
    }
    println!(
        "search contains, all {} searches: p50 {}, p99 {}",
        all.len(),
        ms(pct(&all, 0.50)),
        ms(pct(&all, 0.99))
    );

    // Provisioning 100 numbers at a time into the customer, each set from a block of its own.
    let mut lat = Vec::with_capacity(PROVISIONS);
    for i in 0..PROVISIONS {
        let set: Vec<E164> = pool[i % pool.len()][5_000 + (i / pool.len()) * 100..]
            .iter()
            .take(100)
            .cloned()
            .collect();
        let t = Instant::now();
        let got = service
            .provision(&p, &set, c.account, Some(trunk))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        lat.push(t.elapsed());
        assert_eq!(got.len(), 100);
    }
    println!(
        "provision 100 numbers ({PROVISIONS} sequential, service layer): p50 {}, p99 {}",
        ms(pct(&lat, 0.50)),
        ms(pct(&lat, 0.99))
    );
    service.store().close().await;
    provision_floor(backend).await;
}

/// The floor beside provisioning: 100 single-row updates by primary key and a commit, on a
/// bare two-column table of 1,000 rows.
async fn provision_floor(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let mut lat = Vec::with_capacity(PROVISIONS);
    macro_rules! run {
        ($tx:expr, $c:ident => $body:expr) => {
            match $tx.connection() {
                numberpool_store::ConnRef::Sqlite($c) => $body,
                numberpool_store::ConnRef::Postgres($c) => $body,
            }
        };
    }
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    run!(tx, c => {
        sqlx::query("CREATE TABLE floor (id BIGINT PRIMARY KEY, holder TEXT NOT NULL)")
            .execute(&mut *c)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..1000i64 {
            sqlx::query("INSERT INTO floor (id, holder) VALUES ($1, 'pool')")
                .bind(i)
                .execute(&mut *c)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    for round in 0..PROVISIONS {
        let t = Instant::now();
        let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        run!(tx, c => {
            for i in 0..100i64 {
                sqlx::query("UPDATE floor SET holder = $1 WHERE id = $2")
                    .bind(format!("customer{round}"))
                    .bind((round as i64 * 100 + i) % 1000)
                    .execute(&mut *c)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        });
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        lat.push(t.elapsed());
    }
    println!(
        "floor: 100 single-row updates and a commit: p50 {}, p99 {}",
        ms(pct(&lat, 0.50)),
        ms(pct(&lat, 0.99))
    );
    store.close().await;
}

/// A receiver for the webhook phase: counts the requests and keeps when the last arrived.
#[derive(Default)]
struct Received {
    count: std::sync::atomic::AtomicUsize,
    last: std::sync::Mutex<Option<Instant>>,
}

async fn receiver() -> (String, std::sync::Arc<Received>) {
    use axum::extract::State;
    let got = std::sync::Arc::new(Received::default());
    async fn take(State(got): State<std::sync::Arc<Received>>) -> &'static str {
        if let Ok(mut l) = got.last.lock() {
            *l = Some(Instant::now());
        }
        got.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        "ok"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

async fn bench_webhook(backend: &str) {
    use numberpool::service::webhooks::{WebhookInput, WebhookOptions};
    let (url, got) = receiver().await;
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut arrivals = Vec::new();
    for round in 0..ROUNDS {
        for subscribed in [false, true] {
            let db = TestDb::new(backend).await;
            let service = Service::new(db.store().await).with_webhook_options(WebhookOptions {
                allow_private: true,
                ..WebhookOptions::default()
            });
            let (p, _, _) = world(&service).await;
            let (stop, shutdown) = numberpool::shutdown::channel();
            let worker = if subscribed {
                service
                    .create_webhook(
                        &p,
                        WebhookInput {
                            url: Some(url.clone()),
                            ..WebhookInput::default()
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                // The worker as a server runs it (its queues polled every second when idle).
                let w = numberpool::jobs::Worker::new(
                    service.clone(),
                    numberpool::jobs::WorkerOptions::default(),
                );
                Some(tokio::spawn(w.run_until_stopped(shutdown)))
            } else {
                None
            };
            let before = got.count.load(std::sync::atomic::Ordering::SeqCst);
            let batch: Vec<AddNumber> = numbers(14153010000 + round as u64 * 100_000, BATCH)
                .into_iter()
                .map(|e| AddNumber {
                    phone_number: e,
                    fields: NewNumber::default(),
                })
                .collect();
            let t = Instant::now();
            service
                .add_numbers(&p, batch)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let took = t.elapsed();
            if let Some(worker) = worker {
                with.push(took);
                let deadline = Instant::now() + Duration::from_secs(30);
                while got.count.load(std::sync::atomic::Ordering::SeqCst) == before {
                    assert!(Instant::now() < deadline, "the batch event did not arrive");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let at = got
                    .last
                    .lock()
                    .ok()
                    .and_then(|l| *l)
                    .unwrap_or_else(Instant::now);
                arrivals.push(at.saturating_duration_since(t + took));
                stop.fire();
                let _ = worker.await;
            } else {
                without.push(took);
            }
            service.store().close().await;
        }
    }
    let (a, b) = (median(without.clone()), median(with.clone()));
    println!(
        "add {BATCH} numbers without a webhook subscription: median {} (min {}, max {}) over {ROUNDS} runs",
        fmt(a),
        fmt(*without.iter().min().unwrap_or(&Duration::ZERO)),
        fmt(*without.iter().max().unwrap_or(&Duration::ZERO)),
    );
    println!(
        "the same with one active subscription and its worker delivering: median {} (min {}, max {}); {:.2}x (target <= 1.2x)",
        fmt(b),
        fmt(*with.iter().min().unwrap_or(&Duration::ZERO)),
        fmt(*with.iter().max().unwrap_or(&Duration::ZERO)),
        b.as_secs_f64() / a.as_secs_f64().max(1e-9),
    );
    println!(
        "the batch's one event at the receiver, after the add's commit: median {} (max {})",
        fmt(median(arrivals.clone())),
        fmt(*arrivals.iter().max().unwrap_or(&Duration::ZERO)),
    );
}
