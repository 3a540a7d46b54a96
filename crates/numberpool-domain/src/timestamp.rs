//! Times as every interface writes them (SPEC §8.1): RFC 3339 in UTC with milliseconds, from
//! the Unix milliseconds the stores keep.

use time::OffsetDateTime;

/// RFC 3339 in UTC with exactly three fraction digits (`2026-12-04T17:20:00.123Z`), so that
/// times sort as strings too. A time outside the years 0–9999 (never stored) is written empty.
pub fn rfc3339(ms: i64) -> String {
    let mut buf = [0u8; RFC3339_LEN];
    write_rfc3339(ms, &mut buf).to_string()
}

/// The length of every time [`rfc3339`] writes.
const RFC3339_LEN: usize = 24;

/// [`rfc3339`] into a buffer on the stack: the calendar is the `time` crate's, the fixed
/// layout is written digit by digit. A list page writes two times a number, and `time`'s
/// general formatter with a fresh string for each was 2 % of a list request's time.
fn write_rfc3339(ms: i64, buf: &mut [u8; RFC3339_LEN]) -> &str {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return "";
    };
    let Ok(year) = u32::try_from(t.year()) else {
        return "";
    };
    if year > 9999 {
        return "";
    }
    fn digits(out: &mut [u8], mut v: u32) {
        for b in out.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], u32::from(u8::from(t.month())));
    buf[7] = b'-';
    digits(&mut buf[8..10], u32::from(t.day()));
    buf[10] = b'T';
    digits(&mut buf[11..13], u32::from(t.hour()));
    buf[13] = b':';
    digits(&mut buf[14..16], u32::from(t.minute()));
    buf[16] = b':';
    digits(&mut buf[17..19], u32::from(t.second()));
    buf[19] = b'.';
    digits(&mut buf[20..23], u32::from(t.millisecond()));
    buf[23] = b'Z';
    // Only ASCII digits and separators were written.
    std::str::from_utf8(buf).unwrap_or("")
}

/// An RFC 3339 time someone gave (any offset, surrounding blanks ignored) as Unix ms; `None`
/// when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

/// `#[serde(serialize_with = "…")]` for a stored time: written as [`rfc3339`].
pub fn serialize<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; RFC3339_LEN];
    s.serialize_str(write_rfc3339(*ms, &mut buf))
}

/// [`serialize`] for an optional time (`null` when absent).
pub fn serialize_opt<S: serde::Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => serialize(ms, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn written_in_utc_with_milliseconds() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_705_312_800_123),
            "2024-01-15T10:00:00.123Z"
        );
        assert_eq!(super::rfc3339(i64::MAX), "");
        assert_eq!(super::rfc3339(i64::MIN), "");
        assert_eq!(super::rfc3339(-62_167_219_200_001), "", "the year -1");
        assert_eq!(
            super::rfc3339(-62_167_219_200_000),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            super::rfc3339(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
    }

    /// The digit-by-digit writer agrees with the `time` crate's own formatter, over times
    /// spread across the four-digit years and every millisecond place.
    #[test]
    fn agrees_with_the_time_crates_formatter() {
        const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let first = -62_167_219_200_000_i64;
        let last = 253_402_300_799_999_i64;
        let mut ms = first;
        let mut checked = 0;
        while ms <= last {
            let by_time =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .ok()
                    .and_then(|t| t.format(FORMAT).ok())
                    .unwrap_or_default();
            assert_eq!(super::rfc3339(ms), by_time, "{ms}");
            checked += 1;
            // A step that is prime and not a whole number of seconds, so that every field moves.
            ms += 3_155_760_017;
        }
        assert!(checked > 90_000, "{checked}");
    }

    #[test]
    fn read_back_in_any_offset() {
        assert_eq!(
            super::parse_rfc3339(" 2024-01-15T10:00:00.123Z"),
            Some(1_705_312_800_123)
        );
        assert_eq!(
            super::parse_rfc3339("2024-01-15T12:00:00+02:00"),
            Some(1_705_312_800_000)
        );
        assert_eq!(super::parse_rfc3339("2024-01-15"), None);
    }
}
