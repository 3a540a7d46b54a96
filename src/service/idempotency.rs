//! Idempotency records: reserving a key before a request runs, renewing its lease while it runs,
//! storing its response after, and deciding what a repeated key means. The reservation is one
//! write transaction, so two concurrent requests with one key never both run, on SQLite and
//! PostgreSQL alike; a reservation whose lease lapsed (its process died) is taken over.

use super::{Result, Service};

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemBegin {
    /// The key is new (or its last use expired or was abandoned): run the request.
    Run,
    /// The same request ran before: answer what it answered.
    Replay { status: i32, body: String },
    /// The key was used with another request.
    Mismatch,
    /// The same request is running right now.
    InProgress,
}

impl Service {
    /// Looks the key up for `owner` and reserves it, leased until `lease_until`, when it is free.
    /// Records older than `not_before` are expired; a reservation without a response whose
    /// lease lapsed before `now` belongs to a request that died and is taken over.
    pub async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        not_before: i64,
        lease_until: i64,
    ) -> Result<IdemBegin> {
        let mut tx = self.store.begin().await?;
        // Expired records are ignored here and deleted by the periodic purge job
        // (`crate::jobs::purge_idempotency_keys`), off the request path.
        if let Some(rec) = tx.idem_get(owner, key, not_before).await? {
            if rec.request_hash != request_hash {
                tx.commit().await?;
                return Ok(IdemBegin::Mismatch);
            }
            match (rec.status, rec.body) {
                (Some(status), Some(body)) => {
                    tx.commit().await?;
                    return Ok(IdemBegin::Replay { status, body });
                }
                _ => {
                    if !tx.idem_take_over_lapsed(owner, key, now).await? {
                        tx.commit().await?;
                        return Ok(IdemBegin::InProgress);
                    }
                }
            }
        }
        let reserved = tx
            .idem_reserve(owner, key, request_hash, now, not_before)
            .await?
            && tx.idem_lease(owner, key, lease_until).await?;
        tx.commit().await?;
        Ok(if reserved {
            IdemBegin::Run
        } else {
            IdemBegin::InProgress
        })
    }

    /// Extends the lease of a reservation whose request is still running; `false` when it is no
    /// longer reserved.
    pub async fn idempotency_renew(
        &self,
        owner: &str,
        key: &str,
        lease_until: i64,
    ) -> Result<bool> {
        let mut tx = self.store.begin().await?;
        let held = tx.idem_lease(owner, key, lease_until).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Stores the response of a reserved request for replay.
    pub async fn idempotency_complete(
        &self,
        owner: &str,
        key: &str,
        status: i32,
        body: &str,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.idem_complete(owner, key, status, body).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Frees a reserved key whose request failed in a way worth retrying.
    pub async fn idempotency_release(&self, owner: &str, key: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.idem_release(owner, key).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes expired records; returns how many.
    pub async fn idempotency_purge(&self, not_before: i64) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.idem_purge(not_before).await?;
        tx.commit().await?;
        Ok(n)
    }
}
