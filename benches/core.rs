//! Core benchmarks (a plain binary that prints its figures): adding 10,000 numbers through the
//! service layer in one transaction, and one allocation's latency, on SQLite and PostgreSQL,
//! each beside a floor measured in the same run (a bare multi-row insert of 10,000 rows).
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

fn numbers(start: u64, count: usize) -> Vec<E164> {
    (start..)
        .filter_map(|n| E164::parse(&format!("+{n}")).ok())
        .take(count)
        .collect()
}

fn fmt(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
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
    if !want("alloc") {
        return;
    }

    let db = TestDb::new(backend).await;
    let service = Service::new(db.store().await);
    let (p, c, trunk) = world(&service).await;
    let batch: Vec<AddNumber> = numbers(16502010000, ALLOCATIONS)
        .into_iter()
        .map(|e| AddNumber {
            phone_number: e,
            fields: NewNumber::default(),
        })
        .collect();
    let added = service
        .add_numbers(&p, batch)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut lat = Vec::with_capacity(ALLOCATIONS);
    for n in &added {
        let opts = AllocateOptions {
            sip_trunk_id: Some(trunk),
            ..Default::default()
        };
        let t = Instant::now();
        service
            .allocate(&p, &NumberLookup::Id(n.id), c.account, opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        lat.push(t.elapsed());
    }
    println!(
        "one allocation ({ALLOCATIONS} sequential, service layer): p50 {:.2} ms, p99 {:.2} ms",
        pct(&lat, 0.50).as_secs_f64() * 1000.0,
        pct(&lat, 0.99).as_secs_f64() * 1000.0
    );
    service.store().close().await;
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments pick backends (`sqlite`, `postgres`)
    // and phases (`add`, `alloc`); none means all.
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
        .filter(|a| *a == "add" || *a == "alloc")
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
