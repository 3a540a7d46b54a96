//! E.164 parse + classify throughput: the bare `rlibphonenumber` calls against our `E164` wrapper,
//! over the 5,000-line reference corpus (`../shared/data/e164/`), single-threaded.
//!
//! Run with `cargo bench -p numberpool-domain --bench e164`. Each side runs for at least
//! `MEASURE` per round, the two sides alternate for `ROUNDS` rounds, and the best round of each is
//! reported (the least disturbed by whatever else the machine is doing). Figures go into
//! `docs/PERFORMANCE.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use numberpool_domain::{Country, E164};
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/e164/");
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(2);
const ROUNDS: usize = 3;
/// Our target for the wrapper on one core (numbers per second).
const TARGET_PER_SEC: f64 = 300_000.0;

/// One corpus line, with its region resolved once, outside the timed loops, for both sides.
struct Line {
    raw: String,
    country: Option<Country>,
    region: Option<Region>,
}

fn load() -> Vec<Line> {
    let path = format!("{DATA_DIR}e164-corpus.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read the E.164 corpus at {path}: {e} (the repo expects ../shared/data/e164/ beside it)")
    });
    text.lines()
        .map(|l| {
            let (raw, region) = l.split_once('\t').unwrap_or((l, ""));
            // A region our `Country` refuses is refused before parsing; give both sides no region
            // so they do the same parsing work on that line.
            let country = (!region.is_empty())
                .then(|| Country::parse(region).ok())
                .flatten();
            let region = country.and_then(|c| Region::from_code(&c.as_str()).ok());
            Line {
                raw: raw.to_string(),
                country,
                region,
            }
        })
        .collect()
}

/// The bare library: parse, validate, region, type, format E.164. Returns how many were valid.
fn bare(lines: &[Line]) -> usize {
    let mut valid = 0;
    for line in lines {
        match PHONE_NUMBER_UTIL.parse(black_box(line.raw.as_str()), line.region) {
            Ok(number) => {
                let is_valid = PHONE_NUMBER_UTIL.is_valid_number(&number);
                let region = PHONE_NUMBER_UTIL.get_region_for_number(&number);
                let kind = PHONE_NUMBER_UTIL.get_number_type(&number);
                let e164 = PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164);
                valid += usize::from(is_valid);
                black_box((is_valid, region, kind, e164));
            }
            Err(e) => {
                black_box(e);
            }
        }
    }
    valid
}

/// Our wrapper: `E164::parse` / `E164::parse_national`, which also classify. Returns how many
/// were accepted.
fn wrapper(lines: &[Line]) -> usize {
    let mut accepted = 0;
    for line in lines {
        let raw = black_box(line.raw.as_str());
        let parsed = match line.country {
            Some(country) => E164::parse_national(raw, country),
            None => E164::parse(raw),
        };
        if let Ok(n) = &parsed {
            accepted += 1;
            black_box((n.as_str(), n.country(), n.fine_type()));
        }
        black_box(parsed);
    }
    accepted
}

/// Runs `f` over the corpus until at least `at_least` has passed; returns numbers per second.
fn measure(lines: &[Line], at_least: Duration, f: fn(&[Line]) -> usize) -> f64 {
    let start = Instant::now();
    let mut passes = 0u64;
    loop {
        black_box(f(black_box(lines)));
        passes += 1;
        let elapsed = start.elapsed();
        if elapsed >= at_least {
            return (passes * lines.len() as u64) as f64 / elapsed.as_secs_f64();
        }
    }
}

fn main() {
    let lines = load();
    assert!(!lines.is_empty(), "the E.164 corpus is empty");
    println!(
        "E.164 parse + classify: {} corpus lines, single-threaded, {ROUNDS} rounds of >= {:?} per side",
        lines.len(),
        MEASURE
    );
    println!(
        "  accepted per pass: bare library (is_valid) {}, E164 wrapper {}",
        bare(&lines),
        wrapper(&lines)
    );

    measure(&lines, WARM_UP, bare);
    measure(&lines, WARM_UP, wrapper);

    let mut best_bare = 0f64;
    let mut best_wrapper = 0f64;
    for round in 1..=ROUNDS {
        let b = measure(&lines, MEASURE, bare);
        let w = measure(&lines, MEASURE, wrapper);
        println!("  round {round}: bare library {b:>10.0}/s   E164 wrapper {w:>10.0}/s");
        best_bare = best_bare.max(b);
        best_wrapper = best_wrapper.max(w);
    }
    let overhead = (best_bare / best_wrapper - 1.0) * 100.0;
    println!(
        "bare library (parse + is_valid + region + type + format E.164): {best_bare:.0} numbers/s"
    );
    println!(
        "E164 wrapper (parse + classify):                               {best_wrapper:.0} numbers/s"
    );
    println!(
        "wrapper overhead: {overhead:.1}% more time per number than the bare library (wrapper at {:.1}% of its throughput)",
        best_wrapper / best_bare * 100.0
    );
    println!(
        "target >= {TARGET_PER_SEC:.0}/s for the wrapper: {}",
        if best_wrapper >= TARGET_PER_SEC {
            "met"
        } else {
            "NOT met"
        }
    );
}
