//! Times as every interface writes them (SPEC §8.1): RFC 3339 in UTC with milliseconds, from
//! the Unix milliseconds the stores keep.

use time::OffsetDateTime;

/// RFC 3339 in UTC with exactly three fraction digits (`2026-12-04T17:20:00.123Z`), so that
/// times sort as strings too. A time outside the years 0–9999 (never stored) is written empty.
pub fn rfc3339(ms: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_default()
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
    s.serialize_str(&rfc3339(*ms))
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
