//! The E.164 reference corpus: every line of `../shared/data/e164/e164-corpus.tsv` (beside the
//! repo) goes through our `E164` parser and is compared with what Google's libphonenumber
//! (`phonenumbers` 9.0.43) answers for it in `e164-oracle.tsv` (R-NUM-2, R-NUM-3).
//!
//! Where we accept a line, our E.164 form, country and fine type must equal the oracle's; where the
//! oracle says INVALID or ERROR, we must reject. Where the oracle says VALID and we reject, the
//! reason must be our stricter input policy (`POLICY`); any other difference must be listed, line by
//! line with its reason and the answer we must give, in `EXCEPTIONS`. The data is required: without
//! it this test fails, it never skips.

use std::collections::{BTreeMap, BTreeSet};

use numberpool_domain::{Country, E164, E164Error};
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, PhoneNumberType, Region};

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/e164/");
/// The README of the data promises this many lines; a short file is a broken copy, not a pass.
const CORPUS_LINES: usize = 5_000;
/// Our input limit, in characters (R-NUM-2; `MAX_INPUT_LEN` in e164.rs).
const MAX_INPUT_CHARS: usize = 64;

/// An E.164 form, a country (`GB`, or `001` for non-geographic numbers) and a libphonenumber fine
/// type (`FIXED_LINE`, …): what both sides answer for an accepted line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    e164: String,
    country: String,
    fine_type: String,
}

impl Answer {
    fn new(e164: &str, country: &str, fine_type: &str) -> Self {
        Self {
            e164: e164.to_string(),
            country: country.to_string(),
            fine_type: fine_type.to_string(),
        }
    }

    fn of(n: &E164) -> Self {
        Self::new(n.as_str(), &n.country().as_str(), n.fine_type().as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Valid,
    Invalid,
    Error,
}

/// One line of the corpus with the oracle's line beside it.
struct Line {
    /// 1-based, as an editor shows it.
    no: usize,
    raw: String,
    region: String,
    verdict: Verdict,
    /// The oracle's answer; only meaningful when `verdict` is `Valid`.
    answer: Answer,
    parse_error: String,
    oracle_text: String,
}

fn read_data(name: &str) -> String {
    let path = format!("{DATA_DIR}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "E.164 reference data missing: cannot read {path}: {e}. The data lives in \
             shared/data/e164/ beside the repo (../shared/data/e164/ from the repo root); \
             this test requires it and never skips."
        )
    })
}

fn load() -> Vec<Line> {
    let corpus = read_data("e164-corpus.tsv");
    let oracle = read_data("e164-oracle.tsv");
    let corpus: Vec<&str> = corpus.lines().collect();
    let oracle: Vec<&str> = oracle.lines().collect();
    assert_eq!(
        corpus.len(),
        oracle.len(),
        "e164-corpus.tsv and e164-oracle.tsv must have one line each per input"
    );
    assert_eq!(
        corpus.len(),
        CORPUS_LINES,
        "the E.164 corpus should hold {CORPUS_LINES} lines (see its README)"
    );
    corpus
        .iter()
        .zip(&oracle)
        .enumerate()
        .map(|(i, (c, o))| {
            let no = i + 1;
            let (raw, region) = c
                .split_once('\t')
                .unwrap_or_else(|| panic!("corpus line {no} has no TAB: {c:?}"));
            let f: Vec<&str> = o.split('\t').collect();
            let [verdict, e164, country, fine_type, parse_error] = f[..] else {
                panic!("oracle line {no} does not have 5 fields: {o:?}");
            };
            let verdict = match verdict {
                "VALID" => Verdict::Valid,
                "INVALID" => Verdict::Invalid,
                "ERROR" => Verdict::Error,
                other => panic!("oracle line {no}: unknown verdict {other:?}"),
            };
            if verdict == Verdict::Valid {
                assert!(
                    e164.starts_with('+') && !country.is_empty() && !fine_type.is_empty(),
                    "oracle line {no} is VALID without an answer: {o:?}"
                );
            }
            Line {
                no,
                raw: raw.to_string(),
                region: region.to_string(),
                verdict,
                answer: Answer::new(e164, country, fine_type),
                parse_error: parse_error.to_string(),
                oracle_text: o.to_string(),
            }
        })
        .collect()
}

/// Our parse of a line: `parse_national` with the line's region when it has one, else `parse`.
fn ours(line: &Line) -> Result<E164, E164Error> {
    if line.region.is_empty() {
        E164::parse(&line.raw)
    } else {
        Country::parse(&line.region).and_then(|c| E164::parse_national(&line.raw, c))
    }
}

/// Rejections of numbers the oracle calls valid that are our input policy (R-NUM-2), not a
/// disagreement: a DID is the number alone, without an extension, and input longer than 64
/// characters is refused before parsing. Nothing else may reject an oracle-VALID line.
const POLICY: [&str; 2] = ["HasExtension", "TooLong"];

fn policy_reason(e: &E164Error) -> Option<&'static str> {
    match e {
        E164Error::HasExtension(_) => Some(POLICY[0]),
        E164Error::TooLong => Some(POLICY[1]),
        _ => None,
    }
}

/// The library's own parse of a line, as our wrapper would call it.
fn library_parse(line: &Line) -> Result<PhoneNumber, String> {
    let region = if line.region.is_empty() {
        None
    } else {
        let c = Country::parse(&line.region).map_err(|e| e.to_string())?;
        Some(Region::from_code(&c.as_str()).map_err(|e| format!("{e:?}"))?)
    };
    PHONE_NUMBER_UTIL
        .parse(line.raw.trim(), region)
        .map_err(|e| format!("the library does not parse it: {e}"))
}

/// Whether accepting this line breaks our input policy: it carries an extension, or it is longer
/// than the limit. The oracle would accept such a line, so only this check keeps the policy.
fn breaks_policy(line: &Line) -> Option<&'static str> {
    if line.raw.trim().chars().count() > MAX_INPUT_CHARS {
        return Some("TooLong");
    }
    match library_parse(line) {
        Ok(n) if !n.extension().is_empty() => Some("HasExtension"),
        _ => None,
    }
}

/// Checks that a policy rejection of an oracle-VALID line is only the policy: for an extension, the
/// library does find one, and the number without it is exactly the oracle's answer; for length,
/// the input really is over the limit.
fn check_policy(line: &Line, reason: &str) -> Result<(), String> {
    match reason {
        "HasExtension" => {
            let n = library_parse(line)?;
            if n.extension().is_empty() {
                return Err("rejected for an extension the library does not see".into());
            }
            let country = PHONE_NUMBER_UTIL
                .get_region_for_number(&n)
                .map(|r| r.as_region_str().as_str().to_string())
                .unwrap_or_default();
            let without_ext = Answer {
                e164: PHONE_NUMBER_UTIL
                    .format(&n, PhoneNumberFormat::E164)
                    .into_owned(),
                country,
                fine_type: lib_type_name(PHONE_NUMBER_UTIL.get_number_type(&n)).to_string(),
            };
            if without_ext != line.answer {
                return Err(format!(
                    "without its extension the number is {without_ext:?}, the oracle says {:?}",
                    line.answer
                ));
            }
            Ok(())
        }
        "TooLong" => {
            let chars = line.raw.trim().chars().count();
            if chars > MAX_INPUT_CHARS {
                Ok(())
            } else {
                Err(format!("TooLong for {chars} characters"))
            }
        }
        other => Err(format!("{other} is not a policy reason")),
    }
}

/// libphonenumber's name for a type, straight from the library's enum (independent of our
/// `FineType` mapping).
fn lib_type_name(t: PhoneNumberType) -> &'static str {
    match t {
        PhoneNumberType::FixedLine => "FIXED_LINE",
        PhoneNumberType::Mobile => "MOBILE",
        PhoneNumberType::FixedLineOrMobile => "FIXED_LINE_OR_MOBILE",
        PhoneNumberType::TollFree => "TOLL_FREE",
        PhoneNumberType::PremiumRate => "PREMIUM_RATE",
        PhoneNumberType::SharedCost => "SHARED_COST",
        PhoneNumberType::VoIP => "VOIP",
        PhoneNumberType::PersonalNumber => "PERSONAL_NUMBER",
        PhoneNumberType::Pager => "PAGER",
        PhoneNumberType::UAN => "UAN",
        PhoneNumberType::VoiceMail => "VOICEMAIL",
        PhoneNumberType::Unknown => "UNKNOWN",
    }
}

/// Why a listed line may differ from the oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Why {
    /// The region column is in lower case (`ie`, `au`, …). `phonenumbers` takes region codes in
    /// upper case only and answers ERROR / INVALID_COUNTRY_CODE; our `Country::parse` takes them
    /// in any case on purpose (e164.rs, test `national_needs_a_country`, parses `gb`). The answer
    /// we must give is the one `phonenumbers` 9.0.43 gives for the same line with the region in
    /// upper case (computed with it, not copied from our output).
    LowercaseRegion,
}

/// A line where we knowingly differ from the oracle, with the answer we must give.
struct Exception {
    line: usize,
    why: Why,
    expect: (&'static str, &'static str, &'static str),
}

const fn lowercase_region(
    line: usize,
    e164: &'static str,
    country: &'static str,
    fine_type: &'static str,
) -> Exception {
    Exception {
        line,
        why: Why::LowercaseRegion,
        expect: (e164, country, fine_type),
    }
}

/// Every line where we differ from the oracle other than by policy. No line differs because of
/// metadata: the crate's (libphonenumber 9.0.42) and the oracle's (9.0.43) agree on all 5,000
/// (checked 2026-11-26). A line that differs because of a metadata update goes here, with its own
/// `Why` and the answer the newer metadata gives.
const EXCEPTIONS: &[Exception] = &[
    lowercase_region(487, "+6907249", "TK", "MOBILE"),
    lowercase_region(682, "+5072001244", "PA", "FIXED_LINE"),
    lowercase_region(707, "+41212345679", "CH", "FIXED_LINE"),
    lowercase_region(720, "+50422123454", "HN", "FIXED_LINE"),
    lowercase_region(842, "+611900123454", "AU", "PREMIUM_RATE"),
    lowercase_region(1211, "+8613123456788", "CN", "MOBILE"),
    lowercase_region(1497, "+6913201268", "FM", "FIXED_LINE_OR_MOBILE"),
    lowercase_region(1535, "+353850123456", "IE", "MOBILE"),
    lowercase_region(1659, "+85591234568", "KH", "MOBILE"),
    lowercase_region(2036, "+902123456785", "TR", "FIXED_LINE"),
    lowercase_region(2112, "+68672001247", "KI", "MOBILE"),
    lowercase_region(2201, "+61212345675", "AU", "FIXED_LINE"),
    lowercase_region(2265, "+79123456794", "RU", "MOBILE"),
    lowercase_region(2321, "+963112345677", "SY", "FIXED_LINE"),
    lowercase_region(2378, "+38512345673", "HR", "FIXED_LINE"),
    lowercase_region(2551, "+353850123451", "IE", "MOBILE"),
    lowercase_region(2737, "+393123456799", "IT", "MOBILE"),
    lowercase_region(3323, "+6581234552", "SG", "MOBILE"),
    lowercase_region(3462, "+33123456355", "FR", "FIXED_LINE"),
    lowercase_region(3598, "+441624756754", "IM", "FIXED_LINE"),
    lowercase_region(4087, "+262262161263", "RE", "FIXED_LINE"),
    lowercase_region(4717, "+9671234596", "YE", "FIXED_LINE"),
    lowercase_region(4740, "+12642351239", "AI", "MOBILE"),
    lowercase_region(4794, "+358800123343", "FI", "TOLL_FREE"),
    lowercase_region(4822, "+971900234564", "AE", "PREMIUM_RATE"),
];

/// Checks a listed line: its reason holds for it (so a stale entry fails), and we give exactly the
/// listed answer.
fn check_exception(
    line: &Line,
    ex: &Exception,
    ours: &Result<E164, E164Error>,
) -> Result<(), String> {
    match ex.why {
        Why::LowercaseRegion => {
            if !line.region.bytes().any(|b| b.is_ascii_lowercase()) {
                return Err(format!("region {:?} is not in lower case", line.region));
            }
            if line.verdict != Verdict::Error || line.parse_error != "INVALID_COUNTRY_CODE" {
                return Err(format!(
                    "the oracle does not refuse the region: {:?}",
                    line.oracle_text
                ));
            }
        }
    }
    let (e164, country, fine_type) = ex.expect;
    let expect = Answer::new(e164, country, fine_type);
    match ours {
        Ok(n) if Answer::of(n) == expect => Ok(()),
        Ok(n) => Err(format!(
            "we answer {:?}, expected {expect:?}",
            Answer::of(n)
        )),
        Err(e) => Err(format!("we reject ({e:?}), expected {expect:?}")),
    }
}

/// A tally as the summary prints it: `name count, name count, …`, each key named by `name`.
fn tally<K>(counts: &BTreeMap<K, usize>, name: impl Fn(&K) -> String) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{} {n}", name(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn corpus_agrees_with_the_libphonenumber_oracle() {
    let lines = load();
    let exceptions: BTreeMap<usize, &Exception> = EXCEPTIONS.iter().map(|e| (e.line, e)).collect();
    assert_eq!(
        exceptions.len(),
        EXCEPTIONS.len(),
        "a line is listed twice in EXCEPTIONS"
    );

    let mut accepted = 0usize;
    let mut rejected_as_oracle: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut by_policy: BTreeMap<&str, usize> = POLICY.iter().map(|p| (*p, 0)).collect();
    let mut excepted: BTreeMap<Why, usize> = BTreeMap::new();
    let mut seen_exceptions = BTreeSet::new();
    let mut failures = Vec::new();

    for line in &lines {
        let ours = ours(line);
        let mut fail = |what: String| {
            failures.push(format!(
                "line {}: {:?} (region {:?}): {what}; oracle: {:?}",
                line.no, line.raw, line.region, line.oracle_text
            ))
        };
        if let Some(ex) = exceptions.get(&line.no) {
            seen_exceptions.insert(line.no);
            match check_exception(line, ex, &ours) {
                Ok(()) => *excepted.entry(ex.why).or_default() += 1,
                Err(why) => fail(format!("listed as {:?} but {why}", ex.why)),
            }
            continue;
        }
        match (&ours, line.verdict) {
            (Ok(_), Verdict::Valid) if breaks_policy(line).is_some() => fail(format!(
                "we accept it, but our policy rejects it: {:?}",
                breaks_policy(line)
            )),
            (Ok(n), Verdict::Valid) => {
                let got = Answer::of(n);
                if got == line.answer {
                    accepted += 1;
                } else {
                    fail(format!("we answer {got:?}"));
                }
            }
            (Ok(n), verdict) => fail(format!(
                "we accept ({:?}) what the oracle calls {verdict:?}",
                Answer::of(n)
            )),
            (Err(_), verdict) if verdict != Verdict::Valid => {
                *rejected_as_oracle.entry(verdict).or_default() += 1;
            }
            (Err(e), _) => match policy_reason(e) {
                Some(reason) => match check_policy(line, reason) {
                    Ok(()) => *by_policy.entry(reason).or_default() += 1,
                    Err(why) => fail(format!("rejected as {reason} by policy, but {why}")),
                },
                None => fail(format!("we reject a VALID number: {e:?} ({e})")),
            },
        }
    }
    let unseen: Vec<usize> = exceptions
        .keys()
        .filter(|l| !seen_exceptions.contains(*l))
        .copied()
        .collect();
    assert!(
        unseen.is_empty(),
        "EXCEPTIONS lists lines the corpus does not have: {unseen:?}"
    );

    let count = |v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    let total_policy: usize = by_policy.values().sum();
    let total_excepted: usize = excepted.values().sum();
    let total_rejected: usize = rejected_as_oracle.values().sum();
    println!(
        "E.164 corpus: {} lines; oracle (phonenumbers 9.0.43): {} VALID, {} INVALID, {} ERROR",
        lines.len(),
        count(Verdict::Valid),
        count(Verdict::Invalid),
        count(Verdict::Error)
    );
    println!("  accepted, equal to the oracle (E.164, country, fine type): {accepted}");
    println!(
        "  rejected, as the oracle:                                   {total_rejected} ({})",
        tally(&rejected_as_oracle, |v| format!("{v:?}"))
    );
    println!(
        "  rejected by policy (oracle VALID):                         {total_policy} ({})",
        tally(&by_policy, |r| r.to_string())
    );
    println!(
        "  listed exceptions:                                         {total_excepted} ({})",
        tally(&excepted, |w| format!("{w:?}"))
    );
    println!(
        "  disagreements:                                             {}",
        failures.len()
    );

    assert!(
        failures.is_empty(),
        "{} corpus lines disagree with the oracle:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        accepted + total_rejected + total_policy + total_excepted,
        lines.len(),
        "every line is accounted for"
    );
}

/// Corpus lines written without a plus sign (national format, or dialled with the region's
/// international prefix) that the oracle calls valid with their region: without the region,
/// `E164::parse` must refuse them as needing a country.
#[test]
fn national_format_without_a_region_needs_a_country() {
    // A few by hand, in different national styles: a trunk 0 with dashes (IL), bare digits (FI),
    // parentheses (LR), Chinese grouping (CN), Russia's trunk 8, and Bengali digits (CG).
    const CHOSEN: [usize; 6] = [1, 6, 15, 46, 95, 156];
    let lines = load();
    let is_plus = |c: char| c == '+' || c == '\u{FF0B}';
    for no in CHOSEN {
        let line = &lines[no - 1];
        assert!(
            !line.region.is_empty()
                && !line.raw.contains(is_plus)
                && line.verdict == Verdict::Valid,
            "line {no} ({:?}, region {:?}) is not a valid national-format line",
            line.raw,
            line.region
        );
        // With its region it is the oracle's number, so what follows is about the missing region.
        let with_region = ours(line).map(|n| Answer::of(&n));
        assert_eq!(
            with_region,
            Ok(line.answer.clone()),
            "line {no} with its region"
        );
        let without = E164::parse(&line.raw);
        assert!(
            matches!(without, Err(E164Error::NeedsCountry(_))),
            "line {no} ({:?}) without a region: {without:?}, expected NeedsCountry",
            line.raw
        );
    }

    // And every such line of the corpus.
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in lines.iter().filter(|l| {
        !l.region.is_empty()
            && l.verdict == Verdict::Valid
            && !l.raw.contains(is_plus)
            && l.raw.trim().chars().count() <= MAX_INPUT_CHARS
    }) {
        checked += 1;
        let without = E164::parse(&line.raw);
        if !matches!(without, Err(E164Error::NeedsCountry(_))) {
            wrong.push(format!("line {}: {:?} -> {without:?}", line.no, line.raw));
        }
    }
    println!("national-format lines refused without a region (NeedsCountry): {checked}");
    assert!(checked >= CHOSEN.len(), "too few national-format lines");
    assert!(
        wrong.is_empty(),
        "{} national-format lines without a region are not NeedsCountry:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
