//! The background-job runner (ENGINEERING §2.11, docs/ARCHITECTURE.md "Jobs"): a [`Worker`]
//! claims jobs from the database queue, runs each kind's body under its timeout while renewing
//! its lease, and records the outcome: done, queued again with backoff, or failed. One task per
//! [`Queue`], so a long job on one queue never holds back the jobs of another. Bodies live one
//! per file here and go through the service layer, never the store.
//!
//! To add a kind: a file with `pub(crate) async fn run(ctx: JobContext) -> anyhow::Result<()>`,
//! a [`JobKind`] variant, and its row in each `match` below (the compiler lists them).

mod expire_exports;
mod expire_reservations;
mod export;
mod export_schedules;
mod hold;
mod import_apply;
mod pool_forecast;
mod probe;
mod purge_finished_jobs;
mod purge_idempotency_keys;
mod purge_tokens;
mod webhook_deliver;
mod webhook_sweep;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use numberpool_domain::{JobId, job_retry_delay_ms, now_ms};
use numberpool_store::{Job, JobRetry, NewJob};

use crate::service::{Result, Service, ServiceError};
use crate::shutdown::Shutdown;

/// A queue: the worker runs one task per queue, each claiming only its own jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Short jobs that should not wait behind anything.
    Default,
    /// Periodic cleanups.
    Maintenance,
    /// Long jobs (exports and imports to come).
    Bulk,
    /// Webhook deliveries: a slow receiver holds back no other kind of work.
    Webhooks,
}

impl Queue {
    pub const ALL: [Queue; 4] = [
        Queue::Default,
        Queue::Maintenance,
        Queue::Bulk,
        Queue::Webhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Default => "default",
            Queue::Maintenance => "maintenance",
            Queue::Bulk => "bulk",
            Queue::Webhooks => numberpool_store::WEBHOOK_QUEUE,
        }
    }
}

/// What a job does. The stored `kind` is [`JobKind::as_str`]; a worker claims only the kinds it
/// knows, so a row of a kind added by a newer release waits for a worker that knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Deletes expired OAuth access tokens (periodic).
    PurgeTokens,
    /// Deletes expired idempotency records (periodic).
    PurgeIdempotencyKeys,
    /// Deletes finished jobs a week old (periodic).
    PurgeFinishedJobs,
    /// Test only (a worker runs it with `--test-job-kinds`): leaves a marker file per run.
    TestProbe,
    /// Test only: blocks until a release file appears, like a long export.
    TestHold,
    /// Applies an import's plan (issue 13).
    ImportApply,
    /// Writes an export's file (issue 13).
    Export,
    /// Queues the exports of due schedules (periodic).
    ExportSchedules,
    /// Removes expired export files and old notifications (periodic).
    ExpireExports,
    /// Ends the reservations whose time has come and frees their numbers (periodic).
    ExpireReservations,
    /// Sends one webhook subscription's deliveries (issue 15).
    WebhookDeliver,
    /// Queues the delivery jobs that have work waiting (periodic).
    WebhookSweep,
    /// Forecasts the pools' thresholds and raises the alerts that are due (daily).
    PoolForecast,
}

impl JobKind {
    pub const ALL: [JobKind; 13] = [
        JobKind::ImportApply,
        JobKind::PoolForecast,
        JobKind::WebhookDeliver,
        JobKind::WebhookSweep,
        JobKind::Export,
        JobKind::ExportSchedules,
        JobKind::ExpireExports,
        JobKind::ExpireReservations,
        JobKind::PurgeTokens,
        JobKind::PurgeIdempotencyKeys,
        JobKind::PurgeFinishedJobs,
        JobKind::TestProbe,
        JobKind::TestHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PurgeTokens => "purge_tokens",
            JobKind::PurgeIdempotencyKeys => "purge_idempotency_keys",
            JobKind::PurgeFinishedJobs => "purge_finished_jobs",
            JobKind::TestProbe => "test_probe",
            JobKind::TestHold => "test_hold",
            JobKind::ImportApply => "import_apply",
            JobKind::Export => "export",
            JobKind::ExportSchedules => "export_schedules",
            JobKind::ExpireExports => "expire_exports",
            JobKind::ExpireReservations => "expire_reservations",
            JobKind::WebhookDeliver => numberpool_store::WEBHOOK_JOB_KIND,
            JobKind::WebhookSweep => "webhook_sweep",
            JobKind::PoolForecast => "pool_forecast",
        }
    }

    pub fn queue(self) -> Queue {
        match self {
            JobKind::PurgeTokens
            | JobKind::PurgeIdempotencyKeys
            | JobKind::PurgeFinishedJobs
            | JobKind::ExportSchedules
            | JobKind::ExpireExports
            | JobKind::ExpireReservations
            | JobKind::WebhookSweep
            | JobKind::PoolForecast => Queue::Maintenance,
            JobKind::WebhookDeliver => Queue::Webhooks,
            JobKind::TestProbe => Queue::Default,
            JobKind::TestHold | JobKind::ImportApply | JobKind::Export => Queue::Bulk,
        }
    }

    /// Longest one attempt may run; past it the attempt fails (and is retried), the worker
    /// carries on.
    pub fn timeout(self) -> Duration {
        match self {
            JobKind::PurgeTokens
            | JobKind::PurgeIdempotencyKeys
            | JobKind::PurgeFinishedJobs
            | JobKind::ExportSchedules
            | JobKind::ExpireExports
            | JobKind::ExpireReservations
            | JobKind::WebhookSweep => Duration::from_secs(120),
            // Two queries per threshold; a thousand pools' worth is well inside it.
            JobKind::PoolForecast => Duration::from_secs(15 * 60),
            // Its share of deliveries, each bounded by the request timeout.
            JobKind::WebhookDeliver => Duration::from_secs(15 * 60),
            JobKind::TestProbe => Duration::from_secs(30),
            JobKind::TestHold => Duration::from_secs(300),
            // A million-row file, raised limit and all, is well inside it.
            JobKind::ImportApply | JobKind::Export => Duration::from_secs(30 * 60),
        }
    }

    pub fn max_attempts(self) -> i32 {
        match self {
            JobKind::PurgeTokens
            | JobKind::PurgeIdempotencyKeys
            | JobKind::PurgeFinishedJobs
            | JobKind::ExportSchedules
            | JobKind::ExpireExports
            | JobKind::ExpireReservations
            | JobKind::ImportApply
            | JobKind::Export
            | JobKind::WebhookSweep
            | JobKind::PoolForecast => 3,
            JobKind::WebhookDeliver => numberpool_store::WEBHOOK_JOB_ATTEMPTS,
            JobKind::TestProbe | JobKind::TestHold => 5,
        }
    }

    /// How often a periodic kind runs; `None` for a kind that runs when enqueued.
    pub fn period(self) -> Option<Duration> {
        match self {
            JobKind::PurgeTokens | JobKind::PurgeIdempotencyKeys => {
                Some(Duration::from_secs(10 * 60))
            }
            JobKind::PurgeFinishedJobs | JobKind::ExpireExports => {
                Some(Duration::from_secs(60 * 60))
            }
            JobKind::ExportSchedules => Some(Duration::from_secs(60)),
            // A reservation's numbers show free to search and provision the moment its time
            // comes; the job only tidies the rows, so half a minute late is soon enough.
            JobKind::ExpireReservations => Some(Duration::from_secs(30)),
            // A delivery job is queued with its events; the sweep only catches what one missed.
            JobKind::WebhookSweep => Some(Duration::from_secs(30)),
            JobKind::PoolForecast => Some(Duration::from_secs(24 * 60 * 60)),
            JobKind::TestProbe
            | JobKind::TestHold
            | JobKind::ImportApply
            | JobKind::Export
            | JobKind::WebhookDeliver => None,
        }
    }

    /// Only for the test suite: a production worker never claims these.
    pub fn is_test_only(self) -> bool {
        match self {
            JobKind::TestProbe | JobKind::TestHold => true,
            JobKind::PurgeTokens
            | JobKind::PurgeIdempotencyKeys
            | JobKind::PurgeFinishedJobs
            | JobKind::ImportApply
            | JobKind::Export
            | JobKind::ExportSchedules
            | JobKind::ExpireExports
            | JobKind::ExpireReservations
            | JobKind::WebhookDeliver
            | JobKind::WebhookSweep
            | JobKind::PoolForecast => false,
        }
    }

    /// A job of this kind with `payload`, due at `run_after`.
    pub fn job(self, payload: serde_json::Value, run_after: i64) -> NewJob {
        NewJob {
            queue: self.queue().as_str().to_string(),
            kind: self.as_str().to_string(),
            payload,
            // A periodic kind has one unfinished run at a time, whoever schedules it.
            unique_key: self.period().map(|_| self.as_str().to_string()),
            max_attempts: self.max_attempts(),
            run_after,
        }
    }

    /// The next run of a periodic kind, `period` after `now`.
    fn next_run(self, now: i64) -> Option<NewJob> {
        self.period()
            .map(|p| self.job(serde_json::json!({}), now.saturating_add(millis(p))))
    }

    async fn run(self, ctx: JobContext) -> anyhow::Result<()> {
        match self {
            JobKind::PurgeTokens => purge_tokens::run(ctx).await,
            JobKind::PurgeIdempotencyKeys => purge_idempotency_keys::run(ctx).await,
            JobKind::PurgeFinishedJobs => purge_finished_jobs::run(ctx).await,
            JobKind::TestProbe => probe::run(ctx).await,
            JobKind::TestHold => hold::run(ctx).await,
            JobKind::ImportApply => import_apply::run(ctx).await,
            JobKind::Export => export::run(ctx).await,
            JobKind::ExportSchedules => export_schedules::run(ctx).await,
            JobKind::ExpireExports => expire_exports::run(ctx).await,
            JobKind::ExpireReservations => expire_reservations::run(ctx).await,
            JobKind::WebhookDeliver => webhook_deliver::run(ctx).await,
            JobKind::WebhookSweep => webhook_sweep::run(ctx).await,
            JobKind::PoolForecast => pool_forecast::run(ctx).await,
        }
    }

    /// What a kind does when its job has failed for good (after its last attempt, or as
    /// [`Permanent`]): an import's apply marks the import failed.
    async fn failed(self, ctx: &JobContext, error: &str) -> anyhow::Result<()> {
        match self {
            JobKind::ImportApply => import_apply::failed(ctx, error).await,
            JobKind::Export => export::failed(ctx, error).await,
            JobKind::ExportSchedules
            | JobKind::ExpireExports
            | JobKind::ExpireReservations
            | JobKind::WebhookDeliver
            | JobKind::WebhookSweep
            | JobKind::PoolForecast
            | JobKind::PurgeTokens
            | JobKind::PurgeIdempotencyKeys
            | JobKind::PurgeFinishedJobs
            | JobKind::TestProbe
            | JobKind::TestHold => Ok(()),
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown job kind '{s}'"))
    }
}

/// Queues import `id`'s apply as a job for `actor` (the API, portal and CLI ask this way).
pub async fn request_import_apply(
    service: &Service,
    actor: &crate::service::Actor,
    id: numberpool_domain::ImportId,
) -> Result<crate::service::ImportView> {
    service
        .request_apply(actor, id, |payload| {
            JobKind::ImportApply.job(payload, now_ms())
        })
        .await
}

/// Queues an export of what `actor` sees (the API, portal and CLI ask this way).
pub async fn request_export(
    service: &Service,
    actor: &crate::service::Actor,
    kind: numberpool_domain::import::ExportKind,
    format: numberpool_domain::import::FileFormat,
) -> Result<crate::service::ExportView> {
    service
        .request_export(actor, kind, format, |payload| {
            JobKind::Export.job(payload, now_ms())
        })
        .await
}

/// What a job body gets: the service, and the claimed job (its payload, id and attempt).
#[derive(Clone)]
pub struct JobContext {
    pub service: Service,
    pub job: Job,
}

/// A job body's error that another attempt would meet again (a stale plan, a refused file):
/// the job fails at once instead of being retried.
#[derive(Debug)]
pub struct Permanent(String);

impl Permanent {
    pub fn new(why: impl Into<String>) -> Permanent {
        Permanent(why.into())
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Permanent {}

/// A job body's answer that it has more to do at a time (Unix ms), not now: the job is queued
/// again for then, which is no failure (a webhook delivery waiting for its next try).
#[derive(Debug)]
pub struct Later(pub i64);

impl fmt::Display for Later {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("waiting until its next try")
    }
}

impl std::error::Error for Later {}

impl JobContext {
    /// Writes `progress` on the job's row, for other processes to see; a failure is logged and
    /// the job goes on (the progress is a display, the work is what counts).
    pub async fn record_progress(&self, progress: &crate::service::progress::JobProgress) {
        let value = serde_json::json!(progress);
        if let Err(e) = self.service.set_job_progress(&self.job, &value).await {
            tracing::debug!(job = %self.job.id, error = %e, "job progress not recorded");
        }
    }

    /// The payload's string field `key`; an error naming it when absent.
    pub fn payload_str(&self, key: &str) -> anyhow::Result<&str> {
        self.job
            .payload
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| anyhow::anyhow!("the payload has no string '{key}'"))
    }
}

/// How the worker behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long a claim lasts without renewal: a killed worker's job is claimed again after
    /// this. Renewed every third of it while the job runs.
    pub lease: Duration,
    /// How long an idle queue task waits before looking again.
    pub poll: Duration,
    /// Also run the test-only kinds (the test suite's workers).
    pub test_kinds: bool,
    /// Caps every kind's timeout: lets a test see a timeout without waiting minutes.
    pub timeout_cap: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            test_kinds: false,
            timeout_cap: None,
        }
    }
}

/// How one claimed job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done {
        id: JobId,
        kind: JobKind,
    },
    /// The attempt failed; the job runs again at `at`.
    Retry {
        id: JobId,
        kind: JobKind,
        at: i64,
        error: String,
    },
    /// The last attempt failed; the job is failed for good.
    Failed {
        id: JobId,
        kind: JobKind,
        error: String,
    },
    /// The lease ran out while the job ran and another worker took it over; this worker's
    /// result was not recorded.
    LostLease {
        id: JobId,
        kind: JobKind,
    },
}

/// Claims and runs jobs. Several workers (in several processes) may share one database.
#[derive(Clone)]
pub struct Worker {
    service: Service,
    options: WorkerOptions,
}

impl Worker {
    pub fn new(service: Service, options: WorkerOptions) -> Worker {
        Worker { service, options }
    }

    /// The kinds this worker runs on `queue`.
    fn kinds(&self, queue: Queue) -> Vec<&'static str> {
        JobKind::ALL
            .into_iter()
            .filter(|k| k.queue() == queue && (self.options.test_kinds || !k.is_test_only()))
            .map(JobKind::as_str)
            .collect()
    }

    /// Queues the first run of every periodic kind that has no unfinished run yet; with
    /// several workers, the unique key lets one insert win and the rest do nothing.
    pub async fn schedule_periodic(&self) -> Result<()> {
        let now = now_ms();
        for kind in JobKind::ALL {
            if kind.period().is_some() && (self.options.test_kinds || !kind.is_test_only()) {
                self.service
                    .enqueue_job(&kind.job(serde_json::json!({}), now))
                    .await?;
            }
        }
        Ok(())
    }

    /// Claims one due job of `queue` and runs it to its outcome; `None` when nothing is due.
    /// Tests call this to drain a queue deterministically.
    pub async fn run_one(&self, queue: Queue) -> Result<Option<Outcome>> {
        let kinds = self.kinds(queue);
        let lease_ms = millis(self.options.lease);
        let Some(job) = self
            .service
            .claim_job(queue.as_str(), &kinds, lease_ms)
            .await?
        else {
            return Ok(None);
        };
        self.run_claimed(job).await.map(Some)
    }

    /// Claims job `id` of `kind` and runs it to its outcome, as a worker would (the CLI runs
    /// the apply it queued); `None` when another worker has it or it is finished.
    pub async fn run_job(&self, id: JobId, kind: JobKind) -> Result<Option<Outcome>> {
        let lease_ms = millis(self.options.lease);
        let Some(job) = self
            .service
            .claim_job_id(id, kind.queue().as_str(), &[kind.as_str()], lease_ms)
            .await?
        else {
            return Ok(None);
        };
        self.run_claimed(job).await.map(Some)
    }

    async fn run_claimed(&self, job: Job) -> Result<Outcome> {
        let lease_ms = millis(self.options.lease);
        let kind = job
            .kind
            .parse::<JobKind>()
            .map_err(|e| ServiceError::Internal(numberpool_store::StoreError::Corrupt(e)))?;
        let (id, attempts, max_attempts) = (job.id, job.attempts, job.max_attempts);
        let next = kind.next_run(now_ms());
        if attempts > max_attempts {
            // Its last attempt's worker died holding it: nothing ran to completion, and no
            // attempt is left.
            let error =
                Failure::retry("the worker running the last attempt stopped before it finished");
            return self.finish(&job, kind, Err(error), next.as_ref()).await;
        }
        tracing::debug!(job = %id, %kind, attempts, "job claimed");
        let mut body = tokio::spawn(kind.run(JobContext {
            service: self.service.clone(),
            job: job.clone(),
        }));
        let limit = match self.options.timeout_cap {
            Some(cap) => kind.timeout().min(cap),
            None => kind.timeout(),
        };
        let timeout = tokio::time::sleep(limit);
        tokio::pin!(timeout);
        let mut renew =
            tokio::time::interval((self.options.lease / 3).max(Duration::from_millis(10)));
        renew.tick().await;
        let result = loop {
            tokio::select! {
                joined = &mut body => break match joined {
                    Ok(Ok(())) => Ok(()),
                    // The stored error is shown to the account (a job's `error`, an export's or
                    // import's): its top line only; the chain, which may name the database's
                    // own words, goes to the log.
                    Ok(Err(e)) if e.is::<Later>() => {
                        let at = e.downcast_ref::<Later>().map_or_else(now_ms, |l| l.0);
                        Err(Failure::later(e.to_string(), at))
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(job = %id, %kind, error = format!("{e:#}"), "job attempt failed");
                        if e.is::<Permanent>() {
                            Err(Failure::permanent(e.to_string()))
                        } else {
                            Err(Failure::retry(e.to_string()))
                        }
                    }
                    Err(e) if e.is_panic() => Err(Failure::retry("the job panicked")),
                    Err(_) => Err(Failure::retry("the job was cancelled")),
                },
                () = &mut timeout => {
                    body.abort();
                    break Err(Failure::retry(format!("timed out after {} ms", limit.as_millis())));
                }
                _ = renew.tick() => match self.service.renew_job_lease(&job, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => {
                        body.abort();
                        metrics::counter!("jobs_finished_total", "kind" => kind.as_str(), "outcome" => "lost_lease")
                            .increment(1);
                        tracing::warn!(job = %id, %kind, "job lease lost; another worker has it");
                        return Ok(Outcome::LostLease { id, kind });
                    }
                    // The database may be back by the next tick; the lease has two more.
                    Err(e) => tracing::warn!(job = %id, error = %e, "job lease renewal failed"),
                },
            }
        };
        self.finish(&job, kind, result, next.as_ref()).await
    }

    async fn finish(
        &self,
        job: &Job,
        kind: JobKind,
        result: std::result::Result<(), Failure>,
        next: Option<&NewJob>,
    ) -> Result<Outcome> {
        let id = job.id;
        let outcome = match result {
            Ok(()) => self.service.complete_job(job, next).await.map(|()| {
                tracing::info!(job = %id, %kind, "job done");
                Outcome::Done { id, kind }
            }),
            Err(Failure {
                error,
                later: Some(at),
                ..
            }) if job.attempts < job.max_attempts => {
                tracing::debug!(job = %id, %kind, at, "job waits for its next run");
                self.service
                    .fail_job(job, &error, JobRetry::At(at), next)
                    .await
                    .map(|()| Outcome::Retry {
                        id,
                        kind,
                        at,
                        error,
                    })
            }
            Err(Failure {
                error, permanent, ..
            }) if !permanent && job.attempts < job.max_attempts => {
                let at = now_ms().saturating_add(job_retry_delay_ms(job.attempts));
                tracing::warn!(job = %id, %kind, attempts = job.attempts, %error, "job attempt failed; will retry");
                self.service
                    .fail_job(job, &error, JobRetry::At(at), next)
                    .await
                    .map(|()| Outcome::Retry {
                        id,
                        kind,
                        at,
                        error,
                    })
            }
            Err(Failure { error, .. }) => {
                tracing::error!(job = %id, %kind, attempts = job.attempts, %error, "job failed");
                let ctx = JobContext {
                    service: self.service.clone(),
                    job: job.clone(),
                };
                if let Err(e) = kind.failed(&ctx, &error).await {
                    // Left running: once its lease ends it is claimed again, finds no attempt
                    // left, and runs this hook again, so its record does not stay `applying` or
                    // `running` for ever.
                    tracing::warn!(job = %id, %kind, error = format!("{e:#}"), "the failed job's cleanup did not run; it will be tried again");
                    return Ok(Outcome::LostLease { id, kind });
                }
                self.service
                    .fail_job(job, &error, JobRetry::Never, next)
                    .await
                    .map(|()| Outcome::Failed { id, kind, error })
            }
        };
        let outcome = match outcome {
            Err(ServiceError::Conflict(_)) => Ok(Outcome::LostLease { id, kind }),
            other => other,
        };
        if let Ok(o) = &outcome {
            let label = match o {
                Outcome::Done { .. } => "done",
                Outcome::Retry { .. } => "retry",
                Outcome::Failed { .. } => "failed",
                Outcome::LostLease { .. } => "lost_lease",
            };
            metrics::counter!("jobs_finished_total", "kind" => kind.as_str(), "outcome" => label)
                .increment(1);
        }
        outcome
    }

    /// Runs every queue until `shutdown` fires: schedules the periodic kinds, then one task per
    /// queue claims and runs jobs, and waits `poll` when its queue is empty. On shutdown each
    /// task finishes the job it is running (bounded by the kind's timeout) and claims no more.
    pub async fn run_until_stopped(self, shutdown: Shutdown) {
        if let Err(e) = self.schedule_periodic().await {
            tracing::warn!(error = %e, "cannot schedule the periodic jobs; the next start will");
        }
        let mut tasks = tokio::task::JoinSet::new();
        for queue in Queue::ALL {
            if self.kinds(queue).is_empty() {
                continue;
            }
            let worker = self.clone();
            let shutdown = shutdown.clone();
            tasks.spawn(async move { worker.run_queue(queue, shutdown).await });
        }
        tracing::info!("job worker started");
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a job queue task ended abnormally");
            }
        }
        tracing::info!("job worker stopped");
    }

    async fn run_queue(&self, queue: Queue, shutdown: Shutdown) {
        let mut queued = self.service.job_signal();
        while !shutdown.is_fired() {
            let idle = match self.run_one(queue).await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(e) => {
                    tracing::warn!(queue = queue.as_str(), error = %e, "job queue poll failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = tokio::time::sleep(self.options.poll) => {}
                    () = shutdown.wait() => {}
                    _ = queued.changed() => {}
                }
            }
        }
    }
}

/// Why an attempt failed, and whether another could do better.
struct Failure {
    error: String,
    permanent: bool,
    /// Not a failure: the body asked to run again at this time ([`Later`]).
    later: Option<i64>,
}

impl Failure {
    fn retry(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            permanent: false,
            later: None,
        }
    }

    fn later(error: impl Into<String>, at: i64) -> Failure {
        Failure {
            error: error.into(),
            permanent: false,
            later: Some(at),
        }
    }

    fn permanent(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            permanent: true,
            later: None,
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
