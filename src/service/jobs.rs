//! The background-job use cases the runner in `crate::jobs` drives: enqueue, claim, finish,
//! lease renewal, and the cleanups that run as jobs (expired tokens, expired idempotency keys,
//! old finished jobs). Job rows are the queue's own record (state, attempts, last error), so
//! these writes carry no audit event: nothing a tenant owns changes here.

use numberpool_domain::{JobId, JobState, now_ms};
use numberpool_store::{Job, JobRetry, NewJob};

use super::progress::{JobProgress, Phase};
use super::{Result, Service};

/// A job as the API, portal and CLI show it: its state and how far it has come.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    /// Attempts so far (a job whose worker died is taken up again).
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last attempt's error.
    pub error: Option<String>,
    pub progress: JobProgress,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JobView {
    /// `job` with its live `progress` when it runs in this process, else what it last
    /// recorded on its row.
    fn of(job: Job, live: Option<JobProgress>) -> JobView {
        let mut progress = live
            .or_else(|| {
                job.progress
                    .as_ref()
                    .and_then(|p| serde_json::from_value(p.clone()).ok())
            })
            .unwrap_or_default();
        if job.state.is_final() {
            progress.phase = Phase::Finished;
        }
        JobView {
            id: job.id,
            kind: job.kind,
            state: job.state,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            error: job.last_error,
            progress,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

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

    /// Claims job `id` (of `queue`, among `kinds`) if it is due; `None` when another worker
    /// has it or it is finished.
    pub async fn claim_job_id(
        &self,
        id: JobId,
        queue: &str,
        kinds: &[&str],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        let mut tx = self.store.begin().await?;
        let job = tx
            .claim_job_id(id, queue, kinds, now_ms(), lease_ms)
            .await?;
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

    /// Job `id` with its progress (live when it runs in this process). Callers show only the
    /// jobs of records the actor may see (an import's apply, an export).
    pub async fn job_view(&self, id: JobId) -> Result<Option<JobView>> {
        let job = self.store.read().await?.get_job(id).await?;
        Ok(job.map(|j| JobView::of(j, self.progress.get(id))))
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

/// The event of a bulk job's end, `job.done` or `job.failed`, recorded with the change that ends
/// it: the job (or, without one, what it was about), its kind, the account it ran for (named in
/// `after`, which is how the event reaches that account), and `detail` (counts, the reason).
pub(crate) fn job_event(
    done: bool,
    account: numberpool_domain::AccountId,
    job: Option<numberpool_domain::JobId>,
    kind: &str,
    subject: &str,
    detail: serde_json::Value,
) -> numberpool_store::NewAudit {
    // No one's change: the event names no actor account, so it is in the feed of the account
    // it concerns (and of those above) but in no one's audit log of who changed what.
    let mut actor = super::Actor::operator();
    actor.channel = numberpool_store::Channel::Job;
    actor.event(
        if done {
            numberpool_domain::Action::JobDone
        } else {
            numberpool_domain::Action::JobFailed
        },
        job.map_or_else(|| subject.to_string(), |j| j.to_string()),
        None,
        None,
        Some(serde_json::json!({
            "account_id": account,
            "kind": kind,
            "subject_id": subject,
            "detail": detail,
        })),
    )
}
