//! Idempotency keys (SPEC §8, `Idempotency-Key` on POSTs): a reservation per (owner, key) taken
//! before the request runs, held by a lease the running request renews, completed with the
//! response to replay, or released when the request failed before producing one. A row older
//! than the caller's `not_before` is expired and counts as absent; a reservation whose lease
//! lapsed belongs to a request that died and may be taken over.

use crate::rows::Arg::{Int, Int32, Text};
use crate::{Reader, Result, Tx, on_conn};

/// A stored key: in progress while `status` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemRecord {
    pub request_hash: String,
    pub status: Option<i32>,
    pub body: Option<String>,
    pub created_at: i64,
}

impl Reader {
    /// The live record (created_at >= not_before) for (owner, key).
    pub async fn idem_get(
        &mut self,
        owner: &str,
        key: &str,
        not_before: i64,
    ) -> Result<Option<IdemRecord>> {
        let row: Option<(String, Option<i32>, Option<String>, i64)> = on_conn!(self, c => {
            sqlx::query_as("SELECT request_hash, status, body, created_at FROM idempotency_keys \
                WHERE owner = $1 AND key = $2 AND created_at >= $3")
                .bind(owner)
                .bind(key)
                .bind(not_before)
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(
            row.map(|(request_hash, status, body, created_at)| IdemRecord {
                request_hash,
                status,
                body,
                created_at,
            }),
        )
    }
}

impl Tx {
    /// Deletes an expired row for (owner, key) (created_at < not_before), then inserts an
    /// in-progress row; `false` when a live row exists. The insert is `ON CONFLICT DO NOTHING`,
    /// so of two racing reservations exactly one wins (on PostgreSQL the loser waits for the
    /// winner's transaction and then sees its row), with no error to untangle.
    pub async fn idem_reserve(
        &mut self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        not_before: i64,
    ) -> Result<bool> {
        let expired =
            "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND created_at < $3";
        self.execute(expired, &[Text(owner), Text(key), Int(not_before)])
            .await?;
        let reserve = "INSERT INTO idempotency_keys (owner, key, request_hash, status, body, \
            created_at) VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT DO NOTHING";
        let args = [Text(owner), Text(key), Text(request_hash), Int(now)];
        self.execute_on_one(reserve, &args).await
    }

    /// Sets the lease of an in-progress reservation to `lease_until`; `false` when there is no
    /// such reservation any more (completed, released or expired).
    pub async fn idem_lease(&mut self, owner: &str, key: &str, lease_until: i64) -> Result<bool> {
        let sql = "UPDATE idempotency_keys SET lease_until = $3 \
            WHERE owner = $1 AND key = $2 AND status IS NULL";
        self.execute_on_one(sql, &[Text(owner), Text(key), Int(lease_until)])
            .await
    }

    /// Deletes the in-progress reservation of (owner, key) if its lease lapsed before `now` (a
    /// reservation without a lease lapses five minutes after it was made); `true` when it did.
    /// The condition is in the statement, so of two callers racing to take a key over, the
    /// second finds nothing to delete once the first has reserved it again.
    pub async fn idem_take_over_lapsed(
        &mut self,
        owner: &str,
        key: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 \
            AND status IS NULL AND COALESCE(lease_until, created_at + 300000) < $3";
        self.execute_on_one(sql, &[Text(owner), Text(key), Int(now)])
            .await
    }

    /// Stores the response to replay for (owner, key).
    pub async fn idem_complete(
        &mut self,
        owner: &str,
        key: &str,
        status: i32,
        body: &str,
    ) -> Result<()> {
        let sql =
            "UPDATE idempotency_keys SET status = $3, body = $4 WHERE owner = $1 AND key = $2";
        let args = [Text(owner), Text(key), Int32(status), Text(body)];
        self.execute(sql, &args).await?;
        Ok(())
    }

    /// Removes an in-progress reservation (the request failed before producing a response
    /// worth replaying). A completed record is left alone: its response stays the answer.
    pub async fn idem_release(&mut self, owner: &str, key: &str) -> Result<()> {
        let sql = "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND status IS NULL";
        self.execute(sql, &[Text(owner), Text(key)]).await?;
        Ok(())
    }

    /// Deletes every record created before `not_before`; how many.
    pub async fn idem_purge(&mut self, not_before: i64) -> Result<u64> {
        let sql = "DELETE FROM idempotency_keys WHERE created_at < $1";
        self.execute(sql, &[Int(not_before)]).await
    }
}
