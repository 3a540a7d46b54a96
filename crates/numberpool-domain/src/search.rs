//! The available search's `contains` pattern (SPEC §5): digits, `*` for any one digit, and
//! letters as on a phone keypad (`*FLOWERS` is any digit, then 3569377), matched anywhere in a
//! number's digits (its E.164 form without the `+`).

use std::fmt;

/// The longest pattern: an E.164 number has at most 15 digits.
pub const MAX_PATTERN: usize = 15;

/// One position of a pattern: a digit, or any digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternDigit {
    Digit(u8),
    Any,
}

/// A parsed `contains` pattern: at most 15 positions, at least one of them a digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainsPattern(Vec<PatternDigit>);

/// Why a pattern is refused; the message names the field and what it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern(pub String);

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadPattern {}

/// The digit a letter stands for on a phone keypad (ITU E.161): ABC 2, DEF 3, GHI 4, JKL 5,
/// MNO 6, PQRS 7, TUV 8, WXYZ 9.
fn keypad(letter: char) -> Option<u8> {
    Some(match letter.to_ascii_uppercase() {
        'A'..='C' => 2,
        'D'..='F' => 3,
        'G'..='I' => 4,
        'J'..='L' => 5,
        'M'..='O' => 6,
        'P'..='S' => 7,
        'T'..='V' => 8,
        'W'..='Z' => 9,
        _ => return None,
    })
}

impl ContainsPattern {
    pub fn parse(input: &str) -> Result<ContainsPattern, BadPattern> {
        let refuse = |why: String| {
            Err(BadPattern(format!(
                "contains: {why}; a pattern is up to {MAX_PATTERN} digits, letters (as on a phone \
                 keypad) and `*` (any one digit), such as 415*** or *FLOWERS"
            )))
        };
        let mut out = Vec::with_capacity(input.len().min(MAX_PATTERN));
        for c in input.trim().chars() {
            let p = match c {
                '0'..='9' => PatternDigit::Digit(c as u8 - b'0'),
                '*' => PatternDigit::Any,
                // Separators people type between groups of digits, and the `+` of an E.164.
                '-' | ' ' | '(' | ')' | '.' | '+' => continue,
                other => match keypad(other) {
                    Some(d) => PatternDigit::Digit(d),
                    None => {
                        let shown: String = other.escape_debug().collect();
                        return refuse(format!("`{shown}` is not a digit, a letter or `*`"));
                    }
                },
            };
            if out.len() == MAX_PATTERN {
                return refuse("it is longer than a phone number".into());
            }
            out.push(p);
        }
        if !out.iter().any(|p| matches!(p, PatternDigit::Digit(_))) {
            return refuse("it has no digit or letter".into());
        }
        Ok(ContainsPattern(out))
    }

    pub fn positions(&self) -> &[PatternDigit] {
        &self.0
    }

    /// Whether `digits` (a number's digits, no `+`) has the pattern anywhere in it.
    pub fn matches(&self, digits: &str) -> bool {
        let d = digits.as_bytes();
        d.windows(self.0.len()).any(|w| {
            w.iter().zip(&self.0).all(|(b, p)| match p {
                PatternDigit::Any => b.is_ascii_digit(),
                PatternDigit::Digit(x) => *b == b'0' + x,
            })
        })
    }

    /// The pattern as SQL `LIKE` text for a number's digits without the `+`
    /// (`substr(e164, 2)`; against the E.164 itself a `_` could match the `+`): `%`, then each
    /// digit or `_`, then `%`. Nothing in it needs escaping.
    pub fn like(&self) -> String {
        let mut s = String::with_capacity(self.0.len() + 2);
        s.push('%');
        for p in &self.0 {
            s.push(match p {
                PatternDigit::Digit(d) => char::from(b'0' + d),
                PatternDigit::Any => '_',
            });
        }
        s.push('%');
        s
    }
}

impl ContainsPattern {
    /// Every run of three digits in a row in the pattern (no wildcard among them), each once:
    /// what a trigram index can look up. A number that has the pattern has every one of them;
    /// a pattern with none (`4*5`, `12`) cannot use such an index.
    pub fn trigrams(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in self.0.windows(3) {
            let mut g = String::with_capacity(3);
            for p in w {
                match p {
                    PatternDigit::Digit(d) => g.push(char::from(b'0' + d)),
                    PatternDigit::Any => break,
                }
            }
            if g.len() == 3 && !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// Patterns whose matches together are exactly this one's, each with a run of three digits
    /// for a trigram index where this one has none: one wildcard between digits written out as
    /// each of the ten digits (`4*5` is `405` to `495`), the wildcard that leaves each of the ten
    /// the most trigrams. A pattern with trigrams already, or with no wildcard to write out
    /// (`12`), is its own only alternative.
    pub fn alternatives(&self) -> Vec<ContainsPattern> {
        if !self.trigrams().is_empty() {
            return vec![self.clone()];
        }
        let mut best: Option<(usize, Vec<ContainsPattern>)> = None;
        for (i, p) in self.0.iter().enumerate() {
            if *p != PatternDigit::Any {
                continue;
            }
            let alts: Vec<ContainsPattern> = (0..10)
                .map(|d| {
                    let mut v = self.0.clone();
                    v[i] = PatternDigit::Digit(d);
                    ContainsPattern(v)
                })
                .collect();
            let fewest = alts.iter().map(|a| a.trigrams().len()).min().unwrap_or(0);
            if fewest > 0 && best.as_ref().is_none_or(|(n, _)| fewest > *n) {
                best = Some((fewest, alts));
            }
        }
        best.map_or_else(|| vec![self.clone()], |(_, alts)| alts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_wildcards_and_keypad_letters() {
        let p = ContainsPattern::parse("*FLOWERS").expect("a pattern");
        assert_eq!(p.like(), "%_3569377%");
        assert_eq!(p.trigrams(), ["356", "569", "693", "937", "377"]);
        let p2 = ContainsPattern::parse("555*5555").expect("a pattern");
        assert_eq!(
            p2.trigrams(),
            ["555"],
            "each trigram once, none across the wildcard"
        );
        assert!(p.matches("18003569377"));
        assert!(!p.matches("3569377"), "the wildcard needs a digit before");
        assert!(!p.matches("18003569378"));
        let p = ContainsPattern::parse("+1 415 555").expect("spaces and a + are ignored");
        assert_eq!(p.like(), "%1415555%");
        assert!(p.matches("14155551001"));
        assert!(!p.matches("14155661001"), "no match");
        let p = ContainsPattern::parse("4*5").expect("a wildcard in the middle");
        assert!(p.trigrams().is_empty(), "no three digits in a row");
        let alts: Vec<String> = p.alternatives().iter().map(ContainsPattern::like).collect();
        assert_eq!(alts.len(), 10, "{alts:?}");
        assert_eq!(alts[0], "%405%");
        assert_eq!(alts[9], "%495%");
        let p3 = ContainsPattern::parse("12*45*78").expect("a pattern");
        let alts = p3.alternatives();
        assert_eq!(alts.len(), 10);
        assert!(alts.iter().all(|a| a.trigrams().len() == 3), "{alts:?}");
        for d in ["1204567890", "9912345678", "12945078"] {
            assert_eq!(
                p3.matches(d),
                alts.iter().any(|a| a.matches(d)),
                "the alternatives match what the pattern does: {d}"
            );
        }
        let p4 = ContainsPattern::parse("12").expect("a pattern");
        assert_eq!(p4.alternatives(), vec![p4.clone()], "nothing to write out");
        assert!(p.matches("14155551001"));
        assert_eq!(
            ContainsPattern::parse("pqrs wxyz")
                .expect("every key")
                .like(),
            "%77779999%"
        );
    }

    #[test]
    fn bad_patterns_are_refused_naming_the_field() {
        for (input, says) in [
            ("", "no digit or letter"),
            ("***", "no digit or letter"),
            ("41#5", "`#` is not"),
            ("4155é", "`é` is not"),
            ("1234567890123456", "longer than a phone number"),
        ] {
            let e = ContainsPattern::parse(input).expect_err(input);
            assert!(
                e.0.starts_with("contains: ") && e.0.contains(says),
                "{input}: {e}"
            );
        }
    }
}
