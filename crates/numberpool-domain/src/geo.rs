//! Where a number is: the state or province and city of US and Canadian numbers, from
//! libphonenumber's geocoding data (Apache-2.0) as `scripts/gen-geo` turns it into the committed
//! table `data/nanp-geo.txt`. No other country is covered yet: a number outside +1's US and
//! Canadian area codes has no derived place.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::e164::E164;

/// The table, built into the binary: nothing is read at run time.
const TABLE: &str = include_str!("../data/nanp-geo.txt");

/// A number's place as the data gives it; either part may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    /// The two-letter USPS state or Canada Post province code (`CA`, `ON`).
    pub state: Option<&'static str>,
    pub city: Option<&'static str>,
}

/// The places by prefix: the national number's first 3 to 6 digits (area code and up to three
/// more), keyed as (digits, how many).
struct Table(HashMap<(u32, u8), Place>);

fn nonempty(s: &'static str) -> Option<&'static str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

impl Table {
    fn parse(text: &'static str) -> Table {
        let mut places = HashMap::with_capacity(33_000);
        let mut area: Option<u32> = None;
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('\t') {
                // `<TAB>city<TAB>state<TAB>suffixes`, under the area code line before it.
                let mut f = rest.split('\t');
                let (Some(npa), Some(city), Some(state), Some(suffixes)) =
                    (area, f.next(), f.next(), f.next())
                else {
                    continue;
                };
                let place = Place {
                    state: nonempty(state),
                    city: nonempty(city),
                };
                for suffix in suffixes.split(' ') {
                    let digits_only = (1..=3).contains(&suffix.len())
                        && suffix.bytes().all(|b| b.is_ascii_digit());
                    if let (true, Ok(digits)) = (digits_only, suffix.parse::<u32>()) {
                        let len = 3 + suffix.len() as u8;
                        places.insert((npa * 10u32.pow(suffix.len() as u32) + digits, len), place);
                    }
                }
            } else {
                // A line that is not a well-formed area code line ends the one before it, so
                // that nothing under it is filed there.
                area = None;
                let fields: Vec<&'static str> = line.split('\t').collect();
                let [npa, state, city] = fields[..] else {
                    continue;
                };
                if npa.len() != 3 || !npa.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                area = npa.parse().ok();
                if let Some(npa) = area {
                    places.insert(
                        (npa, 3),
                        Place {
                            state: nonempty(state),
                            city: nonempty(city),
                        },
                    );
                }
            }
        }
        Table(places)
    }

    /// The longest prefix's place. A prefix whose city the data names without a state has its
    /// area code's state (the generator writes it so).
    fn locate(&self, national: &str) -> Option<Place> {
        let six: u32 = national.get(..6)?.parse().ok()?;
        [(six, 6), (six / 10, 5), (six / 100, 4), (six / 1000, 3)]
            .into_iter()
            .find_map(|key| self.0.get(&key).copied())
    }
}

fn table() -> &'static Table {
    static TABLE_PARSED: OnceLock<Table> = OnceLock::new();
    TABLE_PARSED.get_or_init(|| Table::parse(TABLE))
}

/// The place of a US or Canadian number (`+1` and one of their area codes); `None` for any
/// other number, and for an area code the data does not cover.
pub fn locate(number: &E164) -> Option<Place> {
    let national = number.as_str().strip_prefix("+1")?;
    if national.len() != 10 || !national.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    table().locate(national)
}

/// The state and city a new number is stored with: what the upload gives wins, and what it
/// leaves out is derived. A derived city is taken only where the state given (if any) is the
/// derived one, so that a number never gets a city of another state.
pub fn settle(
    number: &E164,
    state: Option<String>,
    city: Option<String>,
) -> (Option<String>, Option<String>) {
    // A blank value is no value: it does not stop the derived one.
    let given = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let (state, city) = (given(state), given(city));
    if state.is_some() && city.is_some() {
        return (state, city);
    }
    let Some(place) = locate(number) else {
        return (state, city);
    };
    let same_state = match (&state, place.state) {
        (Some(given), Some(derived)) => given.trim().eq_ignore_ascii_case(derived),
        (Some(_), None) => false,
        (None, _) => true,
    };
    let city = city.or_else(|| place.city.filter(|_| same_state).map(str::to_string));
    let state = state.or_else(|| place.state.map(str::to_string));
    (state, city)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str) -> E164 {
        E164::parse(s).expect("a valid number")
    }

    #[test]
    fn the_seed_example_and_a_few_known_places() {
        let sf = locate(&e164("+14155551001")).expect("415 is covered");
        assert_eq!((sf.state, sf.city), (Some("CA"), Some("San Francisco")));
        let toronto = locate(&e164("+14162025555")).expect("416 is covered");
        assert_eq!(toronto.state, Some("ON"));
        // Not the US or Canada: the Bahamas (+1 242) and the UK.
        assert_eq!(locate(&e164("+12423221234")), None);
        assert_eq!(locate(&e164("+442071838750")), None);
    }

    /// Every number of the generator's oracle (libphonenumber's own geocoder, 3,000 numbers
    /// across every area code) gets the place the geocoder gives.
    #[test]
    fn agrees_with_libphonenumbers_geocoder() {
        let oracle = include_str!("../data/nanp-geo-oracle.tsv");
        let mut checked = 0;
        for line in oracle.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split('\t');
            let (Some(number), Some(state), Some(city)) = (f.next(), f.next(), f.next()) else {
                panic!("oracle line {line:?}");
            };
            let got = locate(&e164(number)).unwrap_or_default();
            assert_eq!(
                (got.state.unwrap_or(""), got.city.unwrap_or("")),
                (state, city),
                "{number}"
            );
            checked += 1;
        }
        assert!(checked > 2_900, "{checked} oracle numbers");
    }

    #[test]
    fn given_values_win_and_a_city_never_crosses_states() {
        let n = e164("+14155551001");
        let s = |v: &str| Some(v.to_string());
        assert_eq!(settle(&n, None, None), (s("CA"), s("San Francisco")));
        assert_eq!(settle(&n, None, s("Oakland")), (s("CA"), s("Oakland")));
        assert_eq!(settle(&n, s("ca"), None), (s("ca"), s("San Francisco")));
        // A state other than the derived one: no derived city beside it.
        assert_eq!(settle(&n, s("NY"), None), (s("NY"), None));
        assert_eq!(settle(&n, s("NY"), s("Albany")), (s("NY"), s("Albany")));
        assert_eq!(settle(&n, s(" "), s("")), (s("CA"), s("San Francisco")));
        let uk = e164("+442071838750");
        assert_eq!(settle(&uk, None, None), (None, None));
    }
}
