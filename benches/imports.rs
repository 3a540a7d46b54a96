//! Imports and exports against their floors (issue 13, docs/PERFORMANCE.md "Imports and
//! exports"). Per backend, in one process, on a database seeded as the API bench's
//! (`NUMBERPOOL_BENCH_NUMBERS`, default 1,000,000 numbers):
//!
//! 1. a 9,999-row Add file from upload over HTTP (`POST /v2/imports`, then
//!    `POST /v2/imports/{id}/apply`, then `GET /v2/imports/{id}` until its job has applied it), `NUMBERPOOL_BENCH_ROUNDS` rounds (default 3),
//!    each beside its floor: the same number of rows inserted bare (`Tx::insert_numbers`, one
//!    transaction), measured in the same round;
//! 2. the export of every number (`Service::export_numbers`, list, CSV, to a sink): rows/s;
//! 3. SQLite only: a `NUMBERPOOL_BENCH_BIG` -row Add file (default 1,000,000) with the row limit
//!    raised, planned and applied through the service: rows/s, beside the bare insert.
//!
//! `cargo bench --bench imports -- sqlite|postgres` (both without an argument). PostgreSQL comes
//! from `NUMBERPOOL_TEST_PG_URL`.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Conn, Seeded, die, env_num, phone_numbers, seed_number};
use numberpool::service::progress::Progress;
use numberpool::service::{Actor, ImportLimits, ImportRequest};
use numberpool_domain::import::{ExportKind, FileFormat, ImportAction};
use numberpool_domain::{E164, now_ms};

fn csv_of(phones: &[E164]) -> String {
    let mut s = String::with_capacity(phones.len() * 14 + 16);
    s.push_str("Phone Number\n");
    for p in phones {
        s.push_str(p.as_str());
        s.push('\n');
    }
    s
}

/// The bare insert of `phones` as the provider's free numbers, in one transaction.
async fn floor(s: &Seeded, phones: &[E164], offset: usize) -> Duration {
    let now = now_ms();
    let numbers: Vec<_> = phones
        .iter()
        .enumerate()
        // Slots 900..999 of each thousand are free numbers of the provider.
        .map(|(i, p)| {
            let mut n = seed_number(offset + i, p, &s.world, now);
            n.position = numberpool_domain::Position::Free;
            n.holder_id = s.world.provider;
            n.customer_id = None;
            n.allocated_from = None;
            n.sip_trunk_id = None;
            n
        })
        .collect();
    let t = Instant::now();
    let mut tx = s.store.begin().await.unwrap_or_else(|e| die(e));
    // In the service's statement size: one statement for a million rows spends its time
    // faulting in the pages of a gigabyte of bound cells, which no add does.
    for slice in numbers.chunks(10_000) {
        tx.insert_numbers(slice).await.unwrap_or_else(|e| die(e));
    }
    tx.commit().await.unwrap_or_else(|e| die(e));
    t.elapsed()
}

/// The file's numbers through `E164::parse` alone, split over two threads (the machine's two
/// cores, as the plan splits them): what reading a file's numbers cannot cost less than.
fn parse_floor(phones: &[E164]) -> f64 {
    let texts: Vec<&str> = phones.iter().map(E164::as_str).collect();
    let t = Instant::now();
    let valid: usize = std::thread::scope(|s| {
        let (a, b) = texts.split_at(texts.len() / 2);
        let count = |list: &[&str]| list.iter().filter(|p| E164::parse(p).is_ok()).count();
        let other = s.spawn(move || count(b));
        count(a) + other.join().unwrap_or_else(|_| die("parse thread"))
    });
    if valid != phones.len() {
        die(format!("{valid} of {} parsed", phones.len()));
    }
    t.elapsed().as_secs_f64()
}

async fn bench_backend(backend: &str, seed: usize, rounds: usize, big: usize) -> Vec<String> {
    println!("== {backend}");
    let per_round = 9_999;
    let phones = phone_numbers(
        seed + rounds * per_round * 2 + if backend == "sqlite" { big * 2 } else { 0 },
    );
    let s = Seeded::start(backend, &phones[..seed]).await;
    let token = s.api_token().await;
    let mut lines = Vec::new();
    let mut next = seed;
    let mut totals = Vec::new();
    for round in 1..=rounds {
        let file = csv_of(&phones[next..next + per_round]);
        next += per_round;
        let mut conn = Conn::open(s.addr).await;
        let t = Instant::now();
        let (status, body) = conn
            .post(
                "/v2/imports?action=add&file_name=bench.csv",
                &token,
                "text/csv",
                Bytes::from(file),
            )
            .await;
        if status != 201 {
            die(format!(
                "upload: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let plan: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| die(e));
        let planned = t.elapsed();
        let id = plan["id"].as_str().unwrap_or_else(|| die("no id"));
        let (status, body) = conn
            .post(
                &format!("/v2/imports/{id}/apply"),
                &token,
                "application/json",
                Bytes::new(),
            )
            .await;
        if status != 202 {
            die(format!(
                "apply: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        // The apply is a job: polled (every millisecond) until the import says applied.
        loop {
            let (status, body) = conn.get(&format!("/v2/imports/{id}"), &token).await;
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| die(e));
            match v["status"].as_str() {
                Some("applied") => break,
                Some("applying") if status == 200 => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                _ => die(format!("apply: {status} {v}")),
            }
        }
        let total = t.elapsed();
        let bare = floor(&s, &phones[next..next + per_round], next).await;
        next += per_round;
        let ratio = total.as_secs_f64() / bare.as_secs_f64();
        totals.push(total.as_secs_f64());
        println!(
            "  round {round}: 9,999-row Add over HTTP: {:.0} ms (upload + plan {:.0} ms, apply {:.0} ms); floor (bare insert) {:.0} ms; {ratio:.1}x the floor",
            total.as_secs_f64() * 1e3,
            planned.as_secs_f64() * 1e3,
            (total - planned).as_secs_f64() * 1e3,
            bare.as_secs_f64() * 1e3,
        );
    }
    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    let target = if backend == "sqlite" { 0.5 } else { 1.0 };
    lines.push(format!(
        "{backend}: 9,999-row Add, upload to applied, median {:.0} ms (target ≤ {:.0} ms): {}",
        median * 1e3,
        target * 1e3,
        if median <= target { "PASS" } else { "FAIL" }
    ));

    // Export of everything the provider sees.
    let actor = Actor::cli(s.world.provider);
    let t = Instant::now();
    let rows = s
        .service
        .export_numbers(
            &actor,
            ExportKind::List,
            FileFormat::Csv,
            &mut std::io::sink(),
            &Progress::none(),
        )
        .await
        .unwrap_or_else(|e| die(e));
    let el = t.elapsed().as_secs_f64();
    let rate = rows as f64 / el;
    println!("  export (list, CSV, to a sink): {rows} rows in {el:.2} s: {rate:.0} rows/s");
    lines.push(format!(
        "{backend}: export of {rows} rows as CSV: {rate:.0} rows/s (target ≥ 200,000): {}",
        if rate >= 200_000.0 { "PASS" } else { "FAIL" }
    ));

    if backend == "sqlite" && big > 0 {
        let svc = s.service.clone().with_import_limits(ImportLimits {
            pool_rows: big,
            sub_account_rows: 200,
        });
        let file = csv_of(&phones[next..next + big]);
        next += big;
        let req = ImportRequest {
            action: ImportAction::Add,
            file_name: "big.csv".into(),
            default_country: None,
            add: Default::default(),
        };
        let t = Instant::now();
        let plan = svc
            .plan_import(&actor, &req, file.into_bytes())
            .await
            .unwrap_or_else(|e| die(e));
        let planned = t.elapsed();
        svc.apply_import(&actor, plan.record.id)
            .await
            .unwrap_or_else(|e| die(e));
        let total = t.elapsed().as_secs_f64();
        let bare = floor(&s, &phones[next..next + big], next)
            .await
            .as_secs_f64();
        let parse = parse_floor(&phones[next - big..next]);
        let rate = big as f64 / total;
        println!(
            "  {big}-row Add through the service: plan {:.1} s, apply {:.1} s, {rate:.0} rows/s; floor (bare insert) {bare:.1} s ({:.0} rows/s); parse floor (libphonenumber, both cores) {parse:.1} s; the two floors together {:.0} rows/s",
            planned.as_secs_f64(),
            total - planned.as_secs_f64(),
            big as f64 / bare,
            big as f64 / (bare + parse)
        );
        lines.push(format!(
            "{backend}: {big}-row Add planned and applied: {rate:.0} rows/s (target ≥ 100,000): {}",
            if rate >= 100_000.0 { "PASS" } else { "FAIL" }
        ));
    }
    s.stop().await;
    lines
}

fn main() {
    let seed = env_num("NUMBERPOOL_BENCH_NUMBERS", 1_000_000) as usize;
    let rounds = env_num("NUMBERPOOL_BENCH_ROUNDS", 3).max(1) as usize;
    let big = env_num("NUMBERPOOL_BENCH_BIG", 1_000_000) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(e));
    let mut all = Vec::new();
    for backend in common::backends() {
        all.extend(rt.block_on(bench_backend(backend, seed, rounds, big)));
    }
    println!();
    for l in all {
        println!("{l}");
    }
}
