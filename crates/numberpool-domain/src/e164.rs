//! The `E164` phone-number type: the one way a number enters the system (R-NUM-2), with its
//! country and type computed once at construction (R-NUM-3).

use std::fmt;
use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, PhoneNumberType, Region};
use serde::{Deserialize, Serialize};

/// Longest input, in characters, we hand to the parser; anything longer is refused before parsing,
/// so hostile input cannot make the parser do unbounded work (64 characters are at most 256 bytes).
const MAX_INPUT_LEN: usize = 64;

string_enum!(
    /// Coarse number type that the product, the API and the files use (SPEC §2).
    #[derive(PartialOrd, Ord)]
    NumberType, "type", "local, mobile, toll_free, national", loose, {
    Local => "local", Mobile => "mobile", TollFree => "toll_free", National => "national" });

/// libphonenumber's fine type, kept beside the coarse one (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FineType {
    FixedLine,
    Mobile,
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

impl FineType {
    pub const ALL: [FineType; 12] = [
        Self::FixedLine,
        Self::Mobile,
        Self::FixedLineOrMobile,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::Voip,
        Self::PersonalNumber,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Unknown,
    ];

    /// The name libphonenumber itself uses (`FIXED_LINE`, `TOLL_FREE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FixedLine => "FIXED_LINE",
            Self::Mobile => "MOBILE",
            Self::FixedLineOrMobile => "FIXED_LINE_OR_MOBILE",
            Self::TollFree => "TOLL_FREE",
            Self::PremiumRate => "PREMIUM_RATE",
            Self::SharedCost => "SHARED_COST",
            Self::Voip => "VOIP",
            Self::PersonalNumber => "PERSONAL_NUMBER",
            Self::Pager => "PAGER",
            Self::Uan => "UAN",
            Self::Voicemail => "VOICEMAIL",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The coarse type: fixed-line numbers (and the North-American "fixed line or mobile") are
    /// `local`, other libphonenumber types that are neither mobile nor toll-free are `national`.
    pub fn coarse(self) -> NumberType {
        match self {
            Self::FixedLine | Self::FixedLineOrMobile => NumberType::Local,
            Self::Mobile => NumberType::Mobile,
            Self::TollFree => NumberType::TollFree,
            Self::PremiumRate
            | Self::SharedCost
            | Self::Voip
            | Self::PersonalNumber
            | Self::Pager
            | Self::Uan
            | Self::Voicemail
            | Self::Unknown => NumberType::National,
        }
    }

    fn from_lib(t: PhoneNumberType) -> Self {
        match t {
            PhoneNumberType::FixedLine => Self::FixedLine,
            PhoneNumberType::Mobile => Self::Mobile,
            PhoneNumberType::FixedLineOrMobile => Self::FixedLineOrMobile,
            PhoneNumberType::TollFree => Self::TollFree,
            PhoneNumberType::PremiumRate => Self::PremiumRate,
            PhoneNumberType::SharedCost => Self::SharedCost,
            PhoneNumberType::VoIP => Self::Voip,
            PhoneNumberType::PersonalNumber => Self::PersonalNumber,
            PhoneNumberType::Pager => Self::Pager,
            PhoneNumberType::UAN => Self::Uan,
            PhoneNumberType::VoiceMail => Self::Voicemail,
            PhoneNumberType::Unknown => Self::Unknown,
        }
    }
}

impl FromStr for FineType {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseEnumError::new("fine_type", s, "a libphonenumber type name"))
    }
}

/// An enum value that did not parse; names the field, what was given and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: '{given}' is not one of {allowed}")]
pub struct ParseEnumError {
    pub field: &'static str,
    pub given: String,
    pub allowed: &'static str,
}

impl ParseEnumError {
    pub fn new(field: &'static str, given: &str, allowed: &'static str) -> Self {
        Self {
            field,
            given: truncated(given),
            allowed,
        }
    }
}

/// Why an input is not an acceptable E.164 number (R-NUM-2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("the phone number is empty")]
    Empty,
    #[error("the phone number is longer than {MAX_INPUT_LEN} characters")]
    TooLong,
    #[error("'{0}' is not a phone number ({1})")]
    Unparseable(String, &'static str),
    #[error("'{0}' is in national format; give it in E.164 (+…) or give its country")]
    NeedsCountry(String),
    #[error("'{0}' is not a valid number in any numbering plan")]
    Invalid(String),
    #[error("'{0}' carries an extension; a DID is the number alone")]
    HasExtension(String),
    #[error("'{0}' is not a known country code (ISO 3166 alpha-2)")]
    UnknownCountry(String),
}

/// Two-letter region of a number (ISO 3166-1 alpha-2), or `001` for non-geographic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(Region);

impl Country {
    pub fn parse(code: &str) -> Result<Self, E164Error> {
        let c = code.trim();
        // `from_code` accepts any two letters; a country is one the metadata knows.
        Region::from_code(&c.to_ascii_uppercase())
            .ok()
            .filter(|r| PHONE_NUMBER_UTIL.get_country_code_for_region(*r).is_some())
            .map(Country)
            .ok_or_else(|| E164Error::UnknownCountry(truncated(c)))
    }

    pub fn as_str(&self) -> String {
        self.0.as_region_str().as_str().to_string()
    }

    /// The country's calling code (`1` for `US` and `CA`, `44` for `GB`).
    pub fn calling_code(&self) -> u32 {
        // `parse` keeps only regions the metadata has a calling code for.
        PHONE_NUMBER_UTIL
            .get_country_code_for_region(self.0)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0)
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_region_str().as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_region_str().as_str())
    }
}

/// A valid phone number in E.164 form. The fields are private: the ways to get one are
/// [`E164::parse`] (international input), [`E164::parse_national`] (national input with a
/// country), and [`E164::from_stored`] for what the store wrote after one of those, so holding
/// an `E164` means the number was validated against libphonenumber metadata when it came in.
/// Two are equal when their E.164 forms are: the country and fine type follow from it (a stored
/// number carries the fine type recorded with it, which is the one the parse found).
#[derive(Debug, Clone)]
pub struct E164 {
    e164: String,
    country: Country,
    fine_type: FineType,
}

fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Whether the number in `s` is written with a leading plus, as libphonenumber decides it: the first
/// character that can start a number (a plus sign, ASCII or full-width, or a digit) is a plus. So
/// `(+999) 123` and `tel:+999…` are international input with a bad calling code, not national input.
fn has_leading_plus(s: &str) -> bool {
    s.chars()
        .find(|c| matches!(c, '+' | '\u{FF0B}') || c.is_numeric())
        .is_some_and(|c| !c.is_numeric())
}

impl E164 {
    /// Parse an international number (`+` and country code). Punctuation and spaces are accepted
    /// as libphonenumber accepts them; national format without a country is refused.
    pub fn parse(input: &str) -> Result<Self, E164Error> {
        Self::parse_inner(input, None)
    }

    /// Parse a number that may be in the national format of `country` (the Teams-style upload's
    /// `country_code` column). International input is accepted too.
    pub fn parse_national(input: &str, country: Country) -> Result<Self, E164Error> {
        Self::parse_inner(input, Some(country.0))
    }

    fn parse_inner(input: &str, region: Option<Region>) -> Result<Self, E164Error> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(E164Error::Empty);
        }
        // Characters, not bytes: full-width or other non-ASCII digits take 3 or 4 bytes each.
        if trimmed.len() > MAX_INPUT_LEN && trimmed.chars().count() > MAX_INPUT_LEN {
            return Err(E164Error::TooLong);
        }
        let number = PHONE_NUMBER_UTIL.parse(trimmed, region).map_err(|e| {
            use rlibphonenumber::ParseError as P;
            match e {
                P::InvalidCountryCode if region.is_none() && !has_leading_plus(trimmed) => {
                    E164Error::NeedsCountry(truncated(trimmed))
                }
                P::InvalidCountryCode => {
                    E164Error::Unparseable(truncated(trimmed), "unknown country calling code")
                }
                P::NotANumber(_) => E164Error::Unparseable(truncated(trimmed), "not a number"),
                P::TooShortAfterIdd | P::TooShortNsn => {
                    E164Error::Unparseable(truncated(trimmed), "too short")
                }
                P::TooLongNsn => E164Error::Unparseable(truncated(trimmed), "too long"),
                #[allow(unreachable_patterns)]
                _ => E164Error::Unparseable(truncated(trimmed), "not a number"),
            }
        })?;
        if !number.extension().is_empty() {
            return Err(E164Error::HasExtension(truncated(trimmed)));
        }
        // `is_valid_number` is exactly "a region is found for the number and its type in that
        // region's metadata is not UNKNOWN", and `get_number_type` computes that same type from that
        // same region. So the type decides validity, and the number's region (a regex walk over
        // every region sharing the calling code, e.g. 25 for +1) is looked up twice, not three times.
        let fine_type = PHONE_NUMBER_UTIL.get_number_type(&number);
        if fine_type == PhoneNumberType::Unknown {
            return Err(E164Error::Invalid(truncated(trimmed)));
        }
        let fine_type = FineType::from_lib(fine_type);
        let country = PHONE_NUMBER_UTIL
            .get_region_for_number(&number)
            .ok_or_else(|| E164Error::Invalid(truncated(trimmed)))?;
        let e164 = PHONE_NUMBER_UTIL
            .format(&number, PhoneNumberFormat::E164)
            .into_owned();
        Ok(Self {
            e164,
            country: Country(country),
            fine_type,
        })
    }

    /// A number as the store keeps it: the E.164 string with the country and fine type that
    /// [`E164::parse`] found when it was written. Only the shape is checked again (a `+`, 1 to
    /// 15 digits), and that the country's calling code begins the digits, not libphonenumber's
    /// whole validation: re-parsing every stored number cost 5–8 µs a row, more than an
    /// export of 200,000 rows a second may spend on a row (docs/PERFORMANCE.md, issue 13). A
    /// row that fails these checks is corrupt; one the application did not write through
    /// `parse` is the database administrator's to answer for.
    pub fn from_stored(e164: &str, country: &str, fine_type: &str) -> Result<Self, E164Error> {
        let digits = e164
            .strip_prefix('+')
            .filter(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| E164Error::Unparseable(truncated(e164), "not in E.164 form"))?;
        let country = Country::parse(country)?;
        // The calling code (one to three digits) against the number's first digits, without
        // writing it out: every number a list page or an export reads comes through here.
        let code = country.calling_code();
        let width = match code {
            1..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            _ => return Err(E164Error::Invalid(truncated(e164))),
        };
        if digits.get(..width).and_then(|d| d.parse::<u32>().ok()) != Some(code) {
            return Err(E164Error::Invalid(truncated(e164)));
        }
        let fine_type: FineType = fine_type
            .parse()
            .map_err(|_| E164Error::Unparseable(truncated(e164), "unknown fine type"))?;
        Ok(Self {
            e164: e164.to_string(),
            country,
            fine_type,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.e164
    }

    pub fn country(&self) -> Country {
        self.country
    }

    pub fn fine_type(&self) -> FineType {
        self.fine_type
    }

    /// Coarse type derived from the fine one (R-NUM-3).
    pub fn number_type(&self) -> NumberType {
        self.fine_type.coarse()
    }

    pub fn into_string(self) -> String {
        self.e164
    }
}

impl PartialEq for E164 {
    fn eq(&self, other: &Self) -> bool {
        self.e164 == other.e164
    }
}

impl Eq for E164 {}

impl std::hash::Hash for E164 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.e164.hash(state);
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl FromStr for E164 {
    type Err = E164Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for E164 {
    type Error = E164Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for E164 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.e164)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        E164::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_numbers_are_checked_for_shape_and_calling_code() {
        let ok = E164::from_stored("+14155550100", "US", "fixed_line_or_mobile")
            .unwrap_or_else(|e| panic!("{e}"));
        let parsed = E164::parse("+14155550100").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok, parsed);
        assert_eq!(ok.country().as_str(), "US");
        for (e164, country, fine) in [
            ("garbage", "US", "fixed_line_or_mobile"),
            ("14155550100", "US", "fixed_line_or_mobile"),
            ("+1415555010012345", "US", "fixed_line_or_mobile"),
            ("+14155550100", "FR", "fixed_line_or_mobile"),
            ("+14155550100", "XX", "fixed_line_or_mobile"),
            ("+14155550100", "US", "bogus"),
        ] {
            assert!(
                E164::from_stored(e164, country, fine).is_err(),
                "{e164} {country} {fine}"
            );
        }
    }

    #[test]
    fn parses_international_and_classifies() {
        let n = E164::parse("+1 415-555-2671").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.as_str(), "+14155552671");
        assert_eq!(n.country().as_str(), "US");
        assert_eq!(n.number_type(), NumberType::Local);
        let tf = E164::parse("+18005550100").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tf.number_type(), NumberType::TollFree);
        let mobile = E164::parse("+447400123456").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mobile.number_type(), NumberType::Mobile);
        assert_eq!(mobile.country().as_str(), "GB");
    }

    #[test]
    fn national_needs_a_country() {
        assert!(matches!(
            E164::parse("020 7183 8750"),
            Err(E164Error::NeedsCountry(_))
        ));
        let gb = Country::parse("gb").unwrap_or_else(|e| panic!("{e}"));
        let n = E164::parse_national("020 7183 8750", gb).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.as_str(), "+442071838750");
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        assert_eq!(E164::parse("  "), Err(E164Error::Empty));
        assert_eq!(E164::parse(&"1".repeat(100)), Err(E164Error::TooLong));
        assert!(matches!(
            E164::parse("hello"),
            Err(E164Error::Unparseable(..))
        ));
        assert!(matches!(
            E164::parse("+1 000 000 0000"),
            Err(E164Error::Invalid(_))
        ));
        assert!(matches!(
            E164::parse("+1 415 555 2671 ext. 5"),
            Err(E164Error::HasExtension(_))
        ));
        assert!(matches!(
            Country::parse("XX"),
            Err(E164Error::UnknownCountry(_))
        ));
    }

    #[test]
    fn length_limit_counts_characters_not_bytes() {
        // 22 characters but 69 bytes: full-width plus and spaces, mathematical bold digits.
        let wide = "＋𝟒𝟒\u{3000}(𝟎)\u{3000}𝟐𝟎\u{3000}𝟕𝟏𝟖𝟑\u{3000}𝟖𝟕𝟓𝟎";
        assert!(wide.len() > MAX_INPUT_LEN && wide.chars().count() <= MAX_INPUT_LEN);
        let n = E164::parse(wide).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.as_str(), "+442071838750");
        assert_eq!(E164::parse(&"２".repeat(65)), Err(E164Error::TooLong));
    }

    #[test]
    fn bad_calling_code_with_a_plus_is_not_national_input() {
        for s in [
            "+999 123 456",
            "(+999) 123 456",
            "＋999 123456",
            "tel:+999123456",
        ] {
            assert!(
                matches!(
                    E164::parse(s),
                    Err(E164Error::Unparseable(_, "unknown country calling code"))
                ),
                "{s}: {:?}",
                E164::parse(s)
            );
        }
        assert!(matches!(
            E164::parse("(020) 7183 8750"),
            Err(E164Error::NeedsCountry(_))
        ));
    }

    #[test]
    fn enum_errors_truncate_on_char_boundaries() {
        let given = format!("a{}", "é".repeat(30));
        let e = ParseEnumError::new("type", &given, "x");
        assert_eq!(e.given.chars().count(), 31);
        assert!("local".parse::<NumberType>().is_ok());
        assert!(given.parse::<NumberType>().is_err());
    }

    #[test]
    fn serde_parses_on_decode() {
        let ok: Result<E164, _> = serde_json::from_str("\"+14155552671\"");
        assert!(ok.is_ok());
        let bad: Result<E164, _> = serde_json::from_str("\"555\"");
        assert!(bad.is_err());
    }
}
