//! E.164 parse + classify throughput: the bare `rlibphonenumber` calls against our `E164` wrapper,
//! single-threaded, over the 5,000-line reference corpus (`../shared/data/e164/`, beside the repo)
//! and, for context, over the corpus's valid numbers written in canonical `+E.164` form.
//!
//! Run with `cargo bench -p numberpool-domain --bench e164`. In each of `ROUNDS` rounds the two
//! sides run whole passes over the input, interleaved, until each has run for at least `MEASURE`,
//! so both meet the same disturbances. Throughput is the best round of each side (the one least
//! disturbed by whatever else the machine runs), with the median beside it for the spread; the
//! overhead compares the time per pass of the two sides summed over all rounds.
//! Figures go into `docs/PERFORMANCE.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use numberpool_domain::{Country, E164};
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/e164/");
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(2);
const ROUNDS: usize = 5;
/// Our target for the wrapper on one core, over the corpus (numbers per second).
const TARGET_PER_SEC: f64 = 300_000.0;

/// One input, with its region resolved once, outside the timed loops, for both sides.
#[derive(Clone)]
struct Line {
    raw: String,
    country: Option<Country>,
    region: Option<Region>,
}

fn read_data(name: &str) -> String {
    let path = format!("{DATA_DIR}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {path}: {e} (the E.164 reference data lives in ../shared/data/e164/ beside the repo)")
    })
}

/// The corpus as given, and the oracle's E.164 form of every line it calls VALID.
fn load() -> (Vec<Line>, Vec<Line>) {
    let corpus = read_data("e164-corpus.tsv")
        .lines()
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
        .collect();
    let canonical = read_data("e164-oracle.tsv")
        .lines()
        .filter_map(|l| l.strip_prefix("VALID\t"))
        .filter_map(|rest| rest.split('\t').next())
        .map(|e164| Line {
            raw: e164.to_string(),
            country: None,
            region: None,
        })
        .collect();
    (corpus, canonical)
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
        let _ = black_box(parsed);
    }
    accepted
}

/// Runs `f` over `lines` until at least `at_least` has passed; returns numbers per second.
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

/// One round: whole passes of the two sides, interleaved, until each has run for at least
/// `at_least`, so that both meet the same disturbances. Returns (passes, time) per side.
fn interleaved(lines: &[Line], at_least: Duration) -> [(u64, Duration); 2] {
    let sides: [fn(&[Line]) -> usize; 2] = [bare, wrapper];
    let mut totals = [(0u64, Duration::ZERO); 2];
    while totals.iter().any(|(_, t)| *t < at_least) {
        for (side, total) in sides.iter().zip(totals.iter_mut()) {
            let start = Instant::now();
            black_box(side(black_box(lines)));
            total.1 += start.elapsed();
            total.0 += 1;
        }
    }
    totals
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures both sides over `lines`, prints the figures, returns the wrapper's best.
fn compare(title: &str, lines: &[Line]) -> f64 {
    println!("{title}");
    println!(
        "  accepted per pass: bare library (is_valid) {}, E164 wrapper {}",
        bare(lines),
        wrapper(lines)
    );
    measure(lines, WARM_UP, bare);
    measure(lines, WARM_UP, wrapper);
    let rate =
        |(passes, time): (u64, Duration)| (passes * lines.len() as u64) as f64 / time.as_secs_f64();
    let (mut b, mut w) = (Vec::new(), Vec::new());
    let mut time_per_pass = [0f64; 2];
    for round in 1..=ROUNDS {
        let [tb, tw] = interleaved(lines, MEASURE);
        b.push(rate(tb));
        w.push(rate(tw));
        time_per_pass[0] += tb.1.as_secs_f64() / tb.0 as f64;
        time_per_pass[1] += tw.1.as_secs_f64() / tw.0 as f64;
        println!(
            "  round {round}: bare library {:>8.0}/s   E164 wrapper {:>8.0}/s",
            b[round - 1],
            w[round - 1]
        );
    }
    let best_bare = b.iter().copied().fold(0.0, f64::max);
    let best_wrapper = w.iter().copied().fold(0.0, f64::max);
    println!(
        "  bare library (parse + is_valid + region + type + format E.164): {best_bare:>8.0} numbers/s (median {:.0})",
        median(b)
    );
    println!(
        "  E164 wrapper (parse + classify):                               {best_wrapper:>8.0} numbers/s (median {:.0})",
        median(w)
    );
    println!(
        "  wrapper overhead: {:+.1}% time per number against the bare library (all rounds, interleaved)",
        (time_per_pass[1] / time_per_pass[0] - 1.0) * 100.0
    );
    best_wrapper
}

fn main() {
    let (corpus, canonical) = load();
    assert!(
        !corpus.is_empty() && !canonical.is_empty(),
        "the E.164 corpus is empty"
    );
    println!(
        "E.164 parse + classify, single-threaded; {ROUNDS} rounds, each side >= {MEASURE:?} per round, interleaved; best round (median)"
    );
    let on_corpus = compare(
        &format!(
            "corpus: {} lines as given (mixed formats and regions, malformed input)",
            corpus.len()
        ),
        &corpus,
    );
    compare(
        &format!(
            "canonical: the corpus's {} valid numbers in +E.164 form",
            canonical.len()
        ),
        &canonical,
    );
    println!(
        "target >= {TARGET_PER_SEC:.0}/s for the wrapper on the corpus: {} ({on_corpus:.0}/s)",
        if on_corpus >= TARGET_PER_SEC {
            "met"
        } else {
            "NOT met"
        }
    );
}
