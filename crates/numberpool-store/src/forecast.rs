//! Pool-exhaustion thresholds and what the forecast needs (issue 15, `0023_pool_alerts.sql`):
//! a pool's free numbers in a segment (an E.164 prefix and a type), and the numbers that left
//! the pool in a window (its allocations, read from the audit log by time-ordered id).

use numberpool_domain::{AccountId, NumberType, ThresholdId};

use crate::rows::Arg::{Int, OptInt, OptText, Text};
use crate::rows::parse;
use crate::{Reader, Result, Tx, one_row};

/// A pool's alert threshold for one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolThreshold {
    pub id: ThresholdId,
    pub pool_id: AccountId,
    /// E.164 digits the segment's numbers start with (`1415`: +1 415); empty for every number.
    pub prefix: String,
    /// Only numbers of this type; `None` for any.
    pub number_type: Option<NumberType>,
    /// Alert when fewer free numbers than this are left (`None`: no floor, only the horizon).
    pub min_free: Option<i64>,
    /// Alert when the forecast says the segment runs out within this many days.
    pub horizon_days: i64,
    /// When an alert was last raised for it (one a day at most).
    pub alerted_at: Option<i64>,
    pub created_at: i64,
    /// The segment's numbers allocated in the 30 days before `pace_at`, as last measured.
    pub taken_30d: Option<i64>,
    pub pace_at: Option<i64>,
}

type ThresholdRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
);

const THRESHOLD_COLUMNS: &str = "id, pool_id, prefix, number_type, min_free, horizon_days, \
    alerted_at, created_at, taken_30d, pace_at";

fn threshold_from_row(r: ThresholdRow) -> Result<PoolThreshold> {
    Ok(PoolThreshold {
        id: parse("threshold id", &r.0)?,
        pool_id: parse("threshold pool", &r.1)?,
        prefix: r.2,
        number_type: r
            .3
            .as_deref()
            .map(|t| parse("number type", t))
            .transpose()?,
        min_free: r.4,
        horizon_days: r.5,
        alerted_at: r.6,
        created_at: r.7,
        taken_30d: r.8,
        pace_at: r.9,
    })
}

/// The smallest UUIDv7 of a time (Unix ms): ids at or above it were made at or after it.
fn uuid7_floor(ms: i64) -> String {
    let ms = u64::try_from(ms.max(0)).unwrap_or(0) & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-7000-8000-000000000000",
        ms >> 16,
        ms & 0xffff
    )
}

/// The prefix's range of E.164 strings: `[+prefix, +prefix')` where `prefix'` is the next
/// digit string (an index range, where a `LIKE` would not use the index); no upper end when
/// there is no next one (an empty prefix, or all nines). Both ends are `+` and digits, which
/// sort the same under any collation.
pub(crate) fn e164_range(prefix: &str) -> (String, Option<String>) {
    let lo = format!("+{prefix}");
    let mut digits: Vec<u8> = prefix.as_bytes().to_vec();
    while let Some(last) = digits.pop() {
        if last < b'9' {
            digits.push(last + 1);
            return (lo, Some(format!("+{}", String::from_utf8_lossy(&digits))));
        }
    }
    (lo, None)
}

impl Reader {
    /// `pool`'s thresholds, oldest first.
    pub async fn pool_thresholds(&mut self, pool: AccountId) -> Result<Vec<PoolThreshold>> {
        let sql = format!(
            "SELECT {THRESHOLD_COLUMNS} FROM pool_thresholds WHERE pool_id = $1 ORDER BY id"
        );
        self.rows_by(&sql, &pool.to_string(), threshold_from_row)
            .await
    }

    /// Every threshold of every pool (the daily job).
    pub async fn all_pool_thresholds(&mut self) -> Result<Vec<PoolThreshold>> {
        let sql = format!("SELECT {THRESHOLD_COLUMNS} FROM pool_thresholds ORDER BY pool_id, id");
        self.rows_with(&sql, &[], threshold_from_row).await
    }

    /// How many of `pool`'s numbers in the segment are free (free and in normal status).
    pub async fn free_in_segment(
        &mut self,
        pool: AccountId,
        prefix: &str,
        number_type: Option<NumberType>,
    ) -> Result<i64> {
        let (lo, hi) = e164_range(prefix);
        let p = pool.to_string();
        let row: Option<(i64,)> = self
            .row_with(
                "SELECT COUNT(*) FROM numbers WHERE holder_id = $1 AND position = 'free' \
                 AND status = 'normal' AND e164 >= $2 AND ($3 IS NULL OR e164 < $3) \
                 AND ($4 IS NULL OR number_type = $4)",
                &[
                    Text(&p),
                    Text(&lo),
                    OptText(hi.as_deref()),
                    OptText(number_type.map(|t| t.as_str())),
                ],
                Ok,
            )
            .await?;
        Ok(row.map_or(0, |r| r.0))
    }

    /// How many of the segment's numbers `pool` allocated (its own pool's numbers leaving it)
    /// at or after `since` (Unix ms): the audit log read from the first id of that time.
    pub async fn taken_from_segment(
        &mut self,
        pool: AccountId,
        prefix: &str,
        number_type: Option<NumberType>,
        since: i64,
    ) -> Result<i64> {
        let (lo, hi) = e164_range(prefix);
        let p = pool.to_string();
        // The id's own time may trail the event's `at` a little (another process's clock): a
        // day's margin, `at` deciding.
        let floor = uuid7_floor(since.saturating_sub(24 * 60 * 60 * 1000));
        // The snapshots are JSON text: PostgreSQL reads a field after a cast, SQLite as is.
        let j = |col: &str, field: &str| match self.backend() {
            crate::Backend::Sqlite => format!("{col} ->> '{field}'"),
            crate::Backend::Postgres => format!("CAST({col} AS jsonb) ->> '{field}'"),
        };
        let sql = format!(
            "SELECT COUNT(*) FROM audit_events WHERE id >= $1 AND at >= $2 \
             AND action = 'number.allocate' AND {} = $3 AND {phone} >= $4 \
             AND ($5 IS NULL OR {phone} < $5) \
             AND ($6 IS NULL OR {} = $6)",
            j("before_json", "holder_id"),
            j("after_json", "number_type"),
            phone = j("after_json", "phone_number"),
        );
        let row: Option<(i64,)> = self
            .row_with(
                &sql,
                &[
                    Text(&floor),
                    Int(since),
                    Text(&p),
                    Text(&lo),
                    OptText(hi.as_deref()),
                    OptText(number_type.map(|t| t.as_str())),
                ],
                Ok,
            )
            .await?;
        Ok(row.map_or(0, |r| r.0))
    }
}

impl Tx {
    pub async fn insert_pool_threshold(&mut self, t: &PoolThreshold) -> Result<()> {
        self.execute(
            "INSERT INTO pool_thresholds (id, pool_id, prefix, number_type, min_free, \
             horizon_days, alerted_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Text(&t.id.to_string()),
                Text(&t.pool_id.to_string()),
                Text(&t.prefix),
                OptText(t.number_type.map(|n| n.as_str())),
                OptInt(t.min_free),
                Int(t.horizon_days),
                OptInt(t.alerted_at),
                Int(t.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    /// Deletes `pool`'s threshold `id` (another pool's is not found).
    pub async fn delete_pool_threshold(&mut self, pool: AccountId, id: ThresholdId) -> Result<()> {
        let n = self
            .execute(
                "DELETE FROM pool_thresholds WHERE id = $1 AND pool_id = $2",
                &[Text(&id.to_string()), Text(&pool.to_string())],
            )
            .await?;
        one_row(n)
    }

    /// Keeps the pace measured at `at` for threshold `id`.
    pub async fn set_threshold_pace(&mut self, id: ThresholdId, taken: i64, at: i64) -> Result<()> {
        self.execute(
            "UPDATE pool_thresholds SET taken_30d = $1, pace_at = $2 WHERE id = $3",
            &[Int(taken), Int(at), Text(&id.to_string())],
        )
        .await?;
        Ok(())
    }

    /// Marks threshold `id` alerted at `at`, if it was last alerted before `before` (at most
    /// one alert a day, whichever process runs the job): whether this call did.
    pub async fn mark_alerted(&mut self, id: ThresholdId, at: i64, before: i64) -> Result<bool> {
        self.execute_on_one(
            "UPDATE pool_thresholds SET alerted_at = $1 WHERE id = $2 \
             AND (alerted_at IS NULL OR alerted_at < $3)",
            &[Int(at), Text(&id.to_string()), Int(before)],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_a_range_of_e164s() {
        assert_eq!(e164_range("1415"), ("+1415".into(), Some("+1416".into())));
        assert_eq!(e164_range("19"), ("+19".into(), Some("+2".into())));
        assert_eq!(e164_range("99"), ("+99".into(), None));
        assert_eq!(e164_range(""), ("+".into(), None));
        assert!("+14155550100" >= "+1415" && "+14155550100" < "+1416");
        assert!("+19995550100" < "+2");
    }

    #[test]
    fn the_uuid7_floor_sorts_below_every_id_of_its_millisecond() {
        let ms = 1_764_900_000_123_i64;
        let floor = uuid7_floor(ms);
        let id = uuid::Uuid::now_v7().to_string();
        assert!(floor.len() == id.len());
        let at = |s: &str| i64::from_str_radix(&s.replace('-', "")[..12], 16).unwrap_or(-1);
        assert_eq!(at(&floor), ms);
        assert!(floor.as_str() <= "ffffffff");
    }
}
