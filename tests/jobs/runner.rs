//! The runner in process: `run_one` drains a queue deterministically; `run_until_stopped` runs
//! every queue at once.

use std::collections::BTreeSet;
use std::time::Duration;

use numberpool::jobs::{JobKind, Outcome, Queue, Worker, WorkerOptions};
use numberpool::service::{IdemBegin, Service};
use numberpool_domain::{AccountId, JobState, now_ms};
use numberpool_store::testing::TestDb;
use numberpool_store::{NewJob, NewToken, backend_tests};
use serde_json::json;

use crate::support::*;

backend_tests!(
    purges_run_as_periodic_jobs,
    failed_attempts_retry_with_backoff_then_fail,
    a_timeout_fails_the_job_not_the_worker,
    a_long_job_does_not_hold_up_other_queues,
);

fn test_worker(service: &Service) -> Worker {
    Worker::new(
        service.clone(),
        WorkerOptions {
            test_kinds: true,
            poll: Duration::from_millis(20),
            ..WorkerOptions::default()
        },
    )
}

fn probe(dir: &std::path::Path, fail: i64) -> NewJob {
    JobKind::TestProbe.job(json!({"dir": dir, "fail": fail}), now_ms())
}

async fn purges_run_as_periodic_jobs(db: &TestDb) {
    let store = db.store().await;
    let service = Service::new(store.clone());
    let now = now_ms();
    let mut tx = store.begin().await.must("begin");
    for (hash, expires_at) in [("expired", now - 1), ("live", now + 60_000)] {
        tx.insert_token(&NewToken {
            token_hash: hash.into(),
            client_id: "c".into(),
            account_id: AccountId::new(),
            scopes: String::new(),
            created_at: now - 10,
            expires_at,
        })
        .await
        .must("token");
    }
    tx.commit().await.must("commit");
    let day = 24 * 60 * 60 * 1000;
    for (key, at) in [("old", now - 2 * day), ("fresh", now)] {
        let begun = service
            .idempotency_begin("o", key, "h", at, at - day, at - 1000)
            .await
            .must("idempotency");
        assert_eq!(begun, IdemBegin::Run);
    }

    let worker = Worker::new(service.clone(), WorkerOptions::default());
    worker.schedule_periodic().await.must("schedule");
    worker.schedule_periodic().await.must("schedule again");
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM jobs").await,
        8,
        "one per periodic kind"
    );
    let mut done = BTreeSet::new();
    while let Some(outcome) = worker.run_one(Queue::Maintenance).await.must("run") {
        match outcome {
            Outcome::Done { kind, .. } => assert!(done.insert(kind), "{kind} ran twice"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        done,
        BTreeSet::from([
            JobKind::PurgeTokens,
            JobKind::PurgeIdempotencyKeys,
            JobKind::PurgeFinishedJobs,
            JobKind::ExportSchedules,
            JobKind::ExpireExports,
            JobKind::ExpireReservations,
            JobKind::WebhookSweep,
            JobKind::PoolForecast,
        ])
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM oauth_tokens").await,
        1,
        "the expired token is gone, the live one stays"
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'fresh'"
        )
        .await,
        1
    );
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM idempotency_keys").await, 1);

    // Each periodic kind queued its next run one period on, in the transaction that finished
    // this one; scheduling again adds nothing.
    for kind in [
        JobKind::PurgeTokens,
        JobKind::PurgeIdempotencyKeys,
        JobKind::PurgeFinishedJobs,
        JobKind::ExportSchedules,
        JobKind::ExpireExports,
        JobKind::ExpireReservations,
        JobKind::WebhookSweep,
        JobKind::PoolForecast,
    ] {
        let runs = service.jobs_of_kind(kind.as_str(), 10).await.must("jobs");
        let states: Vec<_> = runs.iter().map(|j| j.state).collect();
        assert_eq!(states, [JobState::Done, JobState::Queued], "{kind}");
        let period = i64::try_from(kind.period().must("periodic").as_millis()).must("ms");
        assert!(
            runs[1].run_after >= now + period,
            "{kind} next run a period on"
        );
        assert_eq!(runs[0].attempts, 1);
    }
    worker.schedule_periodic().await.must("schedule");
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM jobs").await, 16);
    assert_eq!(
        worker.run_one(Queue::Maintenance).await.must("run"),
        None,
        "not due"
    );
}

async fn failed_attempts_retry_with_backoff_then_fail(db: &TestDb) {
    let service = Service::new(db.store().await);
    let dir = tempfile::tempdir().must("dir");
    let worker = test_worker(&service);

    // A production worker does not claim test kinds, nor does any worker claim a kind it does
    // not know.
    let id = service
        .enqueue_job(&probe(dir.path(), 1))
        .await
        .must("enqueue")
        .must("id");
    let mut unknown = probe(dir.path(), 0);
    unknown.kind = "from_a_newer_release".into();
    let unknown = service
        .enqueue_job(&unknown)
        .await
        .must("enqueue")
        .must("id");
    let production = Worker::new(service.clone(), WorkerOptions::default());
    assert_eq!(production.run_one(Queue::Default).await.must("run"), None);

    // The first attempt fails: queued again after the backoff, with the error kept.
    let before = now_ms();
    let Some(Outcome::Retry {
        id: rid, at, error, ..
    }) = worker.run_one(Queue::Default).await.must("run")
    else {
        panic!("expected a retry");
    };
    assert_eq!(rid, id);
    assert!(at >= before + 5_000, "backs off at least 5 s");
    assert!(error.contains("failing attempt 1"), "{error}");
    let job = service.job(id).await.must("get").must("job");
    assert_eq!(
        (job.state, job.attempts, job.run_after),
        (JobState::Queued, 1, at)
    );
    assert_eq!(job.last_error.as_deref(), Some(error.as_str()));
    assert_eq!(
        worker.run_one(Queue::Default).await.must("run"),
        None,
        "backoff holds"
    );
    assert_eq!(files(dir.path(), &id.to_string()).len(), 1, "it ran once");

    // Out of attempts: failed for good.
    let mut last = probe(dir.path(), 1);
    last.max_attempts = 1;
    let last = service.enqueue_job(&last).await.must("enqueue").must("id");
    let outcome = worker.run_one(Queue::Default).await.must("run");
    assert!(
        matches!(&outcome, Some(Outcome::Failed { id, .. }) if *id == last),
        "{outcome:?}"
    );
    let job = service.job(last).await.must("get").must("job");
    assert_eq!((job.state, job.attempts), (JobState::Failed, 1));

    // A body that works is done.
    let ok = service
        .enqueue_job(&probe(dir.path(), 0))
        .await
        .must("enqueue")
        .must("id");
    let outcome = worker.run_one(Queue::Default).await.must("run");
    assert!(
        matches!(&outcome, Some(Outcome::Done { id, kind: JobKind::TestProbe }) if *id == ok),
        "{outcome:?}"
    );
    assert_eq!(worker.run_one(Queue::Default).await.must("run"), None);
    let job = service.job(unknown).await.must("get").must("job");
    assert_eq!(
        (job.state, job.attempts),
        (JobState::Queued, 0),
        "never claimed"
    );

    // A worker that died on the last attempt (a claim whose lease is already over): the next
    // claim fails the job instead of running it again.
    let mut dead = probe(dir.path(), 0);
    dead.max_attempts = 1;
    let dead = service.enqueue_job(&dead).await.must("enqueue").must("id");
    let claimed = service
        .claim_job(Queue::Default.as_str(), &[JobKind::TestProbe.as_str()], -1)
        .await
        .must("claim")
        .must("the job");
    assert_eq!(claimed.id, dead);
    let outcome = worker.run_one(Queue::Default).await.must("run");
    let Some(Outcome::Failed { id, error, .. }) = outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(id, dead);
    assert!(error.contains("stopped before it finished"), "{error}");
    assert!(
        files(dir.path(), &dead.to_string()).is_empty(),
        "not run again"
    );
    let job = service.job(dead).await.must("get").must("job");
    assert_eq!((job.state, job.attempts), (JobState::Failed, 2));
}

async fn a_timeout_fails_the_job_not_the_worker(db: &TestDb) {
    let service = Service::new(db.store().await);
    let dir = tempfile::tempdir().must("dir");
    let worker = Worker::new(
        service.clone(),
        WorkerOptions {
            test_kinds: true,
            timeout_cap: Some(Duration::from_millis(300)),
            ..WorkerOptions::default()
        },
    );
    // Never released: it runs into its timeout.
    let hold = service
        .enqueue_job(&JobKind::TestHold.job(json!({"dir": dir.path()}), now_ms()))
        .await
        .must("enqueue")
        .must("id");
    let outcome = worker.run_one(Queue::Bulk).await.must("run");
    let Some(Outcome::Retry { id, error, .. }) = outcome else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert_eq!((id, error.as_str()), (hold, "timed out after 300 ms"));
    let job = service.job(hold).await.must("get").must("job");
    assert_eq!((job.state, job.lease_until), (JobState::Queued, None));
    assert_eq!(files(dir.path(), "started-").len(), 1);
    assert_eq!(
        files(dir.path(), "finished-").len(),
        0,
        "the body was stopped"
    );

    // The same worker carries on.
    service
        .enqueue_job(&probe(dir.path(), 0))
        .await
        .must("enqueue");
    let outcome = worker.run_one(Queue::Default).await.must("run");
    assert!(matches!(outcome, Some(Outcome::Done { .. })), "{outcome:?}");
}

async fn a_long_job_does_not_hold_up_other_queues(db: &TestDb) {
    let service = Service::new(db.store().await);
    let dir = tempfile::tempdir().must("dir");
    let hold = service
        .enqueue_job(&JobKind::TestHold.job(json!({"dir": dir.path()}), now_ms()))
        .await
        .must("enqueue")
        .must("id");
    let (trigger, stop) = numberpool::shutdown::channel();
    let running = tokio::spawn(test_worker(&service).run_until_stopped(stop));
    wait_file(dir.path(), &format!("started-1-{}", std::process::id())).await;

    // While the long job holds its queue, a short one on another queue runs.
    let short = service
        .enqueue_job(&probe(dir.path(), 0))
        .await
        .must("enqueue")
        .must("id");
    eventually("the short job to finish", 60, || {
        let service = service.clone();
        async move {
            let job = service.job(short).await.must("get").must("job");
            (job.state == JobState::Done).then_some(())
        }
    })
    .await;
    let job = service.job(hold).await.must("get").must("job");
    assert_eq!(
        job.state,
        JobState::Running,
        "the long job is still running"
    );

    // Shutdown lets the running job finish and stops the worker.
    trigger.fire();
    std::fs::write(dir.path().join("release"), b"").must("release");
    tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .must("the worker stops")
        .must("worker task");
    let job = service.job(hold).await.must("get").must("job");
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
    assert_eq!(files(dir.path(), "finished-").len(), 1);
}
