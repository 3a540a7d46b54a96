//! The jobs table (migration 0008): enqueueing, claiming, finishing and lease renewal of
//! background jobs. A claim is one statement inside the write transaction: on PostgreSQL it
//! locks its row with `FOR UPDATE SKIP LOCKED`, so concurrent workers each take a different
//! job without waiting on one another; on SQLite the `BEGIN IMMEDIATE` of [`Store::begin`]
//! already makes the claim the only writer. Every later write is fenced by `attempts`: a worker
//! whose lease ran out and whose job was claimed again cannot finish it.
//!
//! [`Store::begin`]: crate::Store::begin

use numberpool_domain::{JobId, JobState};

use crate::rows::{corrupt, parse};
use crate::{Reader, Result, Tx, on_conn, one_row};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: String,
    pub kind: String,
    pub payload: serde_json::Value,
    /// At most one queued or running job per key; `None` for no such limit.
    pub unique_key: Option<String>,
    pub max_attempts: i32,
    pub run_after: i64,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub unique_key: Option<String>,
    /// Claims so far, this one included while running; the fence of every write after a claim.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub progress: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a failed attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRetry {
    /// Queued again, not to be claimed before this time.
    At(i64),
    /// Failed for good.
    Never,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    queue: String,
    kind: String,
    payload: String,
    state: String,
    unique_key: Option<String>,
    attempts: i32,
    max_attempts: i32,
    run_after: i64,
    lease_until: Option<i64>,
    last_error: Option<String>,
    progress: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, queue, kind, payload, state, unique_key, attempts, max_attempts, \
    run_after, lease_until, last_error, progress, created_at, updated_at";

impl JobRow {
    fn parse(self) -> Result<Job> {
        Ok(Job {
            id: parse("job id", &self.id)?,
            queue: self.queue,
            kind: self.kind,
            payload: serde_json::from_str(&self.payload).map_err(corrupt("job payload"))?,
            state: parse("job state", &self.state)?,
            unique_key: self.unique_key,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            run_after: self.run_after,
            lease_until: self.lease_until,
            last_error: self.last_error,
            progress: self
                .progress
                .map(|p| serde_json::from_str(&p).map_err(corrupt("job progress")))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Longest `last_error` kept; an error is for the operator's eye, not a log archive.
const ERROR_MAX_CHARS: usize = 2000;

impl Reader {
    pub async fn get_job(&mut self, id: JobId) -> Result<Option<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(JobRow::parse).transpose()
    }

    /// The jobs of `kind`, oldest first (at most `limit`): for operators and tests.
    pub async fn list_jobs(&mut self, kind: &str, limit: i64) -> Result<Vec<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE kind = $1 ORDER BY id LIMIT $2");
        let rows: Vec<JobRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(kind)
                .bind(limit)
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter().map(JobRow::parse).collect()
    }
}

impl Tx {
    /// Inserts a queued job; `None` when its `unique_key` already names a queued or running
    /// job (the insert does nothing, so racing schedulers never both add one).
    pub async fn enqueue_job(&mut self, job: &NewJob, now: i64) -> Result<Option<JobId>> {
        self.queued_job = true;
        let id = JobId::new();
        let payload = job.payload.to_string();
        let inserted = on_conn!(self, c => {
            sqlx::query("INSERT INTO jobs (id, queue, kind, payload, state, unique_key, attempts, \
                max_attempts, run_after, lease_until, last_error, progress, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, NULL, NULL, NULL, $9, $9) \
                ON CONFLICT DO NOTHING")
                .bind(id.to_string())
                .bind(&job.queue)
                .bind(&job.kind)
                .bind(&payload)
                .bind(JobState::Queued.as_str())
                .bind(&job.unique_key)
                .bind(job.max_attempts)
                .bind(job.run_after)
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok((inserted == 1).then_some(id))
    }

    /// Makes `job` (which must have a `unique_key`) run after this transaction commits: queued
    /// due now when no job of its key is unfinished; a queued one waiting for later is made due
    /// now; a running one is marked to run again when its claim ends (`0026_job_rerun.sql`),
    /// because it may have read before this transaction committed. For a kind without a
    /// period only: a periodic job's own next run would find its key taken.
    ///
    /// The wake is written as the transaction commits ([`Tx::commit`]), not here: it locks the
    /// row of the key's unfinished job, and a running job whose row stayed locked for the rest
    /// of a long transaction (an import's apply records events from its start) could neither
    /// renew its lease nor end. A wake of a key already woken in this transaction is the same
    /// wake.
    pub async fn wake_job(&mut self, job: &NewJob, now: i64) -> Result<()> {
        if !self
            .wakes
            .iter()
            .any(|(j, _)| j.unique_key == job.unique_key)
        {
            self.wakes.push((job.clone(), now));
        }
        Ok(())
    }

    /// Writes the wakes of [`Tx::wake_job`], just before the commit. Each update takes the row
    /// lock of an unfinished job of its key until the commit: an end of claim that races with it
    /// waits and then sees the flag, and a claim either skips the row (PostgreSQL's `SKIP
    /// LOCKED`; the job is due and the workers are told once this commits) or comes after it
    /// and reads what this transaction wrote.
    pub(crate) async fn write_wakes(&mut self) -> Result<()> {
        let (queued, running) = (JobState::Queued.as_str(), JobState::Running.as_str());
        let sql = format!(
            "UPDATE jobs SET rerun = (state = '{running}'), \
             run_after = CASE WHEN state = '{queued}' AND run_after > $1 THEN $1 ELSE run_after END \
             WHERE unique_key = $2 AND state IN ('{queued}', '{running}')"
        );
        for (job, now) in std::mem::take(&mut self.wakes) {
            on_conn!(self, c => {
                sqlx::query(&sql)
                    .bind(now)
                    .bind(job.unique_key.as_deref())
                    .execute(&mut *c)
                    .await?;
            });
            self.enqueue_job(&job, now).await?;
        }
        Ok(())
    }

    /// Claims the next job of `queue` among `kinds`: the queued one due longest ago, or a
    /// running one whose lease ran out (its worker died). The job comes back running, with
    /// `attempts` raised by one and a lease until `now + lease_ms`. `None` when nothing is due.
    pub async fn claim_job(
        &mut self,
        queue: &str,
        kinds: &[&str],
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        self.claim(queue, kinds, None, now, lease_ms).await
    }

    /// Claims job `id` of `queue` among `kinds` if it is due, as [`Tx::claim_job`] would (the
    /// CLI runs the apply it asked for itself); `None` when it is not claimable (another
    /// worker has it, or it is finished).
    pub async fn claim_job_id(
        &mut self,
        id: JobId,
        queue: &str,
        kinds: &[&str],
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        self.claim(queue, kinds, Some(id), now, lease_ms).await
    }

    async fn claim(
        &mut self,
        queue: &str,
        kinds: &[&str],
        only: Option<JobId>,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // Job `id` is $4 when asked for; the kinds follow.
        let first_kind = if only.is_some() { 5 } else { 4 };
        let only_sql = if only.is_some() { " AND id = $4" } else { "" };
        let kind_params = (0..kinds.len())
            .map(|i| format!("${}", i + first_kind))
            .collect::<Vec<_>>()
            .join(", ");
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        // The states are written into the SQL, not bound, so that both planners can match the
        // partial index jobs_claim.
        let (queued, running) = (JobState::Queued.as_str(), JobState::Running.as_str());
        // The outer statement checks again that the row is claimable: should a backend ever
        // hand the subquery a row another claim just took, the update then changes nothing.
        let due = format!(
            "state IN ('{queued}', '{running}') \
             AND ((state = '{queued}' AND run_after <= $1) \
                OR (state = '{running}' AND lease_until < $1))"
        );
        let sql = format!(
            "UPDATE jobs SET state = '{running}', attempts = attempts + 1, lease_until = $2, \
                rerun = FALSE, updated_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE queue = $3 AND kind IN ({kind_params}) \
                {only_sql} AND {due} ORDER BY run_after, id LIMIT 1{lock}) \
             AND {due} \
             RETURNING {COLUMNS}"
        );
        let row: Option<JobRow> = on_conn!(self, c => {
            let mut q = sqlx::query_as(&sql)
                .bind(now)
                .bind(now.saturating_add(lease_ms))
                .bind(queue);
            if let Some(id) = only {
                q = q.bind(id.to_string());
            }
            for k in kinds {
                q = q.bind(*k);
            }
            q.fetch_optional(&mut *c).await?
        });
        row.map(JobRow::parse).transpose()
    }

    /// Marks the claim `attempts` of job `id` done. `Conflict` when the claim is no longer
    /// this worker's (its lease ran out and another worker took the job).
    pub async fn complete_job(&mut self, id: JobId, attempts: i32, now: i64) -> Result<()> {
        self.end_claim(id, attempts, JobState::Done, None, None, now)
            .await
    }

    /// Ends the claim `attempts` of job `id` with `error`: queued again for `retry`, or failed
    /// for good. `Conflict` as for [`Tx::complete_job`].
    pub async fn fail_job(
        &mut self,
        id: JobId,
        attempts: i32,
        error: &str,
        retry: JobRetry,
        now: i64,
    ) -> Result<()> {
        let (state, run_after) = match retry {
            JobRetry::At(at) => (JobState::Queued, Some(at)),
            JobRetry::Never => (JobState::Failed, None),
        };
        let error: String = error.chars().take(ERROR_MAX_CHARS).collect();
        self.end_claim(id, attempts, state, run_after, Some(&error), now)
            .await
    }

    /// Moves a running job out of claim `attempts` into `state`; `run_after` and `error`
    /// replace the stored ones when given (a success keeps the last error for the record).
    async fn end_claim(
        &mut self,
        id: JobId,
        attempts: i32,
        state: JobState,
        run_after: Option<i64>,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        // Woken while it ran (Tx::wake_job): unless it failed for good, it is queued again, due
        // now, for what committed after it read.
        let n = on_conn!(self, c => {
            sqlx::query("UPDATE jobs SET \
                state = CASE WHEN rerun AND $3 <> 'failed' THEN 'queued' ELSE $3 END, \
                run_after = CASE WHEN rerun AND $3 <> 'failed' THEN $6 \
                    ELSE COALESCE($4, run_after) END, \
                rerun = FALSE, lease_until = NULL, last_error = COALESCE($5, last_error), \
                updated_at = $6 \
                WHERE id = $1 AND attempts = $2 AND state = $7")
                .bind(id.to_string())
                .bind(attempts)
                .bind(state.as_str())
                .bind(run_after)
                .bind(error)
                .bind(now)
                .bind(JobState::Running.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        one_row(n)
    }

    /// Extends the lease of claim `attempts` of job `id` to `until`; `false` when the claim is
    /// no longer this worker's.
    pub async fn renew_job_lease(
        &mut self,
        id: JobId,
        attempts: i32,
        until: i64,
        now: i64,
    ) -> Result<bool> {
        self.touch_claim(id, attempts, Some(until), None, now).await
    }

    /// Records what a running job has done so far (claim `attempts` only).
    pub async fn set_job_progress(
        &mut self,
        id: JobId,
        attempts: i32,
        progress: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let held = self
            .touch_claim(id, attempts, None, Some(progress.to_string()), now)
            .await?;
        one_row(u64::from(held))
    }

    /// Updates the lease and/or progress of a running job still in claim `attempts`; `false`
    /// when the claim is no longer this worker's.
    async fn touch_claim(
        &mut self,
        id: JobId,
        attempts: i32,
        lease_until: Option<i64>,
        progress: Option<String>,
        now: i64,
    ) -> Result<bool> {
        let n = on_conn!(self, c => {
            sqlx::query("UPDATE jobs SET lease_until = COALESCE($3, lease_until), \
                progress = COALESCE($4, progress), updated_at = $5 \
                WHERE id = $1 AND attempts = $2 AND state = $6")
                .bind(id.to_string())
                .bind(attempts)
                .bind(lease_until)
                .bind(&progress)
                .bind(now)
                .bind(JobState::Running.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes done and failed jobs last changed before `before`; how many.
    pub async fn purge_finished_jobs(&mut self, before: i64) -> Result<u64> {
        let sql = format!(
            "DELETE FROM jobs WHERE state IN ('{}', '{}') AND updated_at < $1",
            JobState::Done.as_str(),
            JobState::Failed.as_str()
        );
        Ok(on_conn!(self, c => {
            sqlx::query(&sql)
                .bind(before)
                .execute(&mut *c)
                .await?
                .rows_affected()
        }))
    }
}
