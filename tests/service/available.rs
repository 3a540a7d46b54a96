//! The available search's `contains` index (issue 14) against a plain pass over the pool: for
//! numbers of several lengths, some allocated, some deleted and one deleted then added again,
//! every pattern (digits, wildcards, found nowhere, with and without three digits in a row)
//! answers exactly the free numbers that have it, in E.164 order, on both backends.

use numberpool::service::Service;
use numberpool_domain::E164;
use numberpool_domain::search::ContainsPattern;
use numberpool_store::NumberLookup;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

/// A small deterministic generator (64-bit LCG): the same numbers and patterns every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// SQLite: how many rows of the trigram table stand for `e` (migration 0020's rowid: the
/// digits padded with zeros to fifteen, times sixteen, plus their count).
async fn indexed(s: &Service, e: &E164) -> i64 {
    let digits = &e.as_str()[1..];
    let padded: i64 = format!("{digits:0<15}").parse().must("digits");
    let rowid = padded * 16 + digits.len() as i64;
    let mut r = s.store().read().await.must("read");
    let numberpool_store::ConnRef::Sqlite(c) = r.connection() else {
        panic!("a SQLite store");
    };
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM number_digits WHERE number_digits MATCH $1 AND rowid = $2",
    )
    .bind(format!("\"{}\"", &digits[..3]))
    .bind(rowid)
    .fetch_one(&mut *c)
    .await
    .must("count");
    n
}

async fn contains_index_agrees_with_a_pass(db: &TestDb) {
    let w = World::build(Service::new(db.store().await)).await;
    let s = &w.service;
    let p = as_(&w.provider);
    let mut rng = Lcg(14);
    // US (11 digits), UK London (12) and Australian Sydney (11) numbers, mixed so that E.164
    // order differs from numeric order; more than PostgreSQL's first ordered pass reads
    // (4,000), so matches past it come from its second, the trigram index.
    let mut texts: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while texts.len() < 6000 {
        let t = match rng.next(3) {
            0 => format!("+1415{}{:04}", 200 + rng.next(800), rng.next(10_000)),
            1 => format!("+44207946{:04}", rng.next(10_000)),
            _ => format!("+6128{:07}", rng.next(10_000_000)),
        };
        if seen.insert(t.clone()) {
            texts.push(t);
        }
    }
    let numbers: Vec<E164> = texts.iter().filter_map(|t| E164::parse(t).ok()).collect();
    assert!(numbers.len() > 5000, "most generated numbers are valid");
    s.add_numbers(&p, numbers.iter().map(add).collect())
        .await
        .must("add");
    let mut free: Vec<String> = numbers.iter().map(|e| e.as_str().to_string()).collect();
    // Some numbers leave the free pool (allocated), some the platform (deleted: the index must
    // forget them), and one comes back.
    for e in numbers.iter().step_by(13) {
        let n = s
            .get_number(&p, &NumberLookup::E164(e.clone()))
            .await
            .must("get");
        allocate(s, &w.provider, &n, &w.customer, Some(w.trunk)).await;
        free.retain(|x| x != e.as_str());
    }
    for e in numbers.iter().skip(3).step_by(17) {
        if !free.iter().any(|x| x == e.as_str()) {
            continue;
        }
        s.delete_number(&p, &NumberLookup::E164(e.clone()), None)
            .await
            .must("delete");
        free.retain(|x| x != e.as_str());
    }
    let back = numbers[3].clone();
    if !free.iter().any(|x| x == back.as_str()) && numbers.iter().step_by(13).all(|e| *e != back) {
        w.add(&w.provider, &back).await;
        free.push(back.as_str().to_string());
    }
    free.sort();
    if db.url.starts_with("sqlite") {
        // The trigram table forgets a deleted number (a stale row would only cost the search
        // time, so it is checked here rather than through the search's answers).
        let deleted: Vec<&E164> = numbers
            .iter()
            .skip(3)
            .step_by(17)
            .filter(|e| **e != back && !free.iter().any(|x| x == e.as_str()))
            .filter(|e| numbers.iter().step_by(13).all(|a| a != *e))
            .collect();
        assert!(!deleted.is_empty());
        assert_eq!(
            indexed(s, deleted[0]).await,
            0,
            "deleted: {}",
            deleted[0].as_str()
        );
        assert_eq!(indexed(s, &back).await, 1, "added again: {}", back.as_str());
        assert_eq!(indexed(s, &numbers[1]).await, 1, "never deleted");
    }

    let mut patterns: Vec<String> = vec![
        "5550".into(),
        "7946".into(),
        "41520".into(),
        "*FLOWERS".into(),
        "99999999".into(),
        "4*5".into(),
        "12".into(),
        "555*5".into(),
        numbers[3].as_str()[1..].to_string(),
    ];
    for _ in 0..60 {
        let e = &numbers[rng.next(numbers.len() as u64) as usize].as_str()[1..];
        let len = 3 + rng.next(5) as usize;
        let at = rng.next((e.len() - len + 1) as u64) as usize;
        let mut pat: Vec<char> = e[at..at + len].chars().collect();
        if rng.next(3) == 0 {
            let star = rng.next(len as u64) as usize;
            pat[star] = '*';
        }
        patterns.push(pat.into_iter().collect());
    }
    for pat in &patterns {
        let parsed = ContainsPattern::parse(pat).must("pattern");
        let want: Vec<String> = free
            .iter()
            .filter(|x| parsed.matches(&x[1..]))
            .take(100)
            .cloned()
            .collect();
        assert_eq!(found(s, &p, pat).await, want, "contains={pat}");
    }
}

backend_tests!(contains_index_agrees_with_a_pass);
