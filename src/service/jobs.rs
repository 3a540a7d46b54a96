//! The background-job use cases the runner in `crate::jobs` drives: enqueue, claim, finish,
//! lease renewal, and the cleanups that run as jobs (expired tokens, expired idempotency keys,
//! old finished jobs). Job rows are the queue's own record (state, attempts, last error), so
//! these writes carry no audit event: nothing a tenant owns changes here.

use numberpool_domain::{JobId, now_ms};
use numberpool_store::{Job, JobRetry, NewJob};

use super::{Result, Service};

/// How long an idempotency record answers a repeated key (SPEC §8: a day); older ones are
/// expired and purged.
pub const IDEMPOTENCY_KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

impl Service {
    /// Queues a job; `None` when its unique key already names an unfinished one.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Option<JobId>> {
        let mut tx = self.store.begin().await?;
        let id = tx.enqueue_job(job, now_ms()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the next due job of `queue` among `kinds` for `lease_ms`.
    pub async fn claim_job(
        &self,
        queue: &str,
        kinds: &[&str],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        let mut tx = self.store.begin().await?;
        let job = tx.claim_job(queue, kinds, now_ms(), lease_ms).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Marks the claimed `job` done and, for a periodic job, queues its next run in the same
    /// transaction, so the chain of runs is never broken nor doubled. `Conflict` when the claim
    /// was lost (the lease ran out and another worker took the job).
    pub async fn complete_job(&self, job: &Job, next: Option<&NewJob>) -> Result<()> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        tx.complete_job(job.id, job.attempts, now).await?;
        if let Some(next) = next {
            tx.enqueue_job(next, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends the claimed `job`'s attempt with `error`, to be retried or failed for good as
    /// `retry` says; a periodic job's next run is queued when this one is final.
    pub async fn fail_job(
        &self,
        job: &Job,
        error: &str,
        retry: JobRetry,
        next: Option<&NewJob>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        tx.fail_job(job.id, job.attempts, error, retry, now).await?;
        if let (JobRetry::Never, Some(next)) = (retry, next) {
            tx.enqueue_job(next, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Extends the claimed `job`'s lease by `lease_ms` from now; `false` when the claim was lost.
    pub async fn renew_job_lease(&self, job: &Job, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let held = tx
            .renew_job_lease(job.id, job.attempts, now.saturating_add(lease_ms), now)
            .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Records how far the claimed `job` has come (shown to whoever watches it).
    pub async fn set_job_progress(&self, job: &Job, progress: &serde_json::Value) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.set_job_progress(job.id, job.attempts, progress, now_ms())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.store.read().await?.get_job(id).await?)
    }

    /// The jobs of one kind, oldest first.
    pub async fn jobs_of_kind(&self, kind: &str, limit: i64) -> Result<Vec<Job>> {
        Ok(self.store.read().await?.list_jobs(kind, limit).await?)
    }

    /// Deletes the access tokens expired at `now`; how many.
    pub async fn purge_expired_tokens(&self, now: i64) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.purge_expired_tokens(now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes the idempotency records expired at `now`; how many.
    pub async fn purge_expired_idempotency_keys(&self, now: i64) -> Result<u64> {
        self.idempotency_purge(now.saturating_sub(IDEMPOTENCY_KEY_TTL_MS))
            .await
    }

    /// Deletes done and failed jobs last changed before `before`; how many.
    pub async fn purge_finished_jobs(&self, before: i64) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.purge_finished_jobs(before).await?;
        tx.commit().await?;
        Ok(n)
    }
}
