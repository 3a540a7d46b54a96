//! Exports through the service (issue 13): a schedule queues one export per due run (and
//! catches up once after a long stop), the jobs make the files and raise notifications, files
//! expire after the retention time and their records stay, and an export failed for good says
//! so and tells the account.

use numberpool::jobs::{JobKind, Outcome, Queue, Worker, WorkerOptions};
use numberpool::service::{Clock, Service, ServiceError};
use numberpool_domain::import::{Cadence, ExportKind, ExportStatus, FileFormat};
use numberpool_domain::now_ms;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

const DAY: i64 = 24 * 60 * 60 * 1000;
const RETENTION: i64 = 60 * 60 * 1000;

async fn schedules_queue_exports_and_files_expire(db: &TestDb) {
    let w = World::new(db).await;
    let t0 = now_ms();
    let clock = Clock::manual(t0);
    let svc = Service::with_clock(w.store.clone(), clock.clone()).with_export_retention(RETENTION);
    let me = as_(&w.provider);
    for i in 0..3 {
        w.add(&w.provider, &e164(7000 + i)).await;
    }
    let job = |p| JobKind::Export.job(p, now_ms());
    let s = svc
        .create_export_schedule(&me, ExportKind::List, FileFormat::Csv, Cadence::Daily)
        .await
        .must("schedule");
    assert_eq!(s.next_run_at, t0 + DAY);
    assert_eq!(
        svc.run_due_export_schedules(t0 + DAY - 1, job)
            .await
            .must("run"),
        0
    );
    assert_eq!(
        svc.run_due_export_schedules(t0 + DAY, job)
            .await
            .must("run"),
        1
    );
    assert_eq!(
        svc.run_due_export_schedules(t0 + DAY, job)
            .await
            .must("run"),
        0,
        "a run is queued once"
    );
    // Stopped for ten days: one run catches up, and the next is on the schedule's time.
    assert_eq!(
        svc.run_due_export_schedules(t0 + 10 * DAY, job)
            .await
            .must("run"),
        1
    );
    let s = svc.list_export_schedules(&me).await.must("list");
    assert_eq!(s[0].next_run_at, t0 + 11 * DAY);

    let worker = Worker::new(svc.clone(), WorkerOptions::default());
    for _ in 0..2 {
        let out = worker.run_one(Queue::Bulk).await.must("run").must("a job");
        assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
    }
    assert!(worker.run_one(Queue::Bulk).await.must("run").is_none());
    let exports = svc.list_exports(&me, 10).await.must("exports");
    assert_eq!(exports.len(), 2);
    for e in &exports {
        assert_eq!(e.record.status, ExportStatus::Ready, "{e:?}");
        assert_eq!(e.record.schedule_id, Some(s[0].id));
        assert_eq!(e.record.expires_at, Some(t0 + RETENTION));
        assert_eq!(e.record.rows, Some(3));
        let first = svc.export_piece(e.record.id, 0).await.must("piece");
        assert!(first.is_some_and(|p| p.starts_with(b"\xEF\xBB\xBF")));
    }
    let notes = svc.list_notifications(&me, true, 10).await.must("notes");
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n.kind == "export_ready"));

    // A job run again after its export was made changes nothing.
    let id = exports[0].record.id;
    svc.run_export(id, &numberpool::service::progress::Progress::none())
        .await
        .must("again");
    assert_eq!(
        svc.get_export(&me, id).await.must("get").record.status,
        ExportStatus::Ready
    );

    // Retention: kept until its time, then the file goes and the record stays.
    assert_eq!(
        svc.expire_exports(t0 + RETENTION - 1).await.must("expire"),
        0
    );
    assert_eq!(svc.expire_exports(t0 + RETENTION).await.must("expire"), 2);
    let e = svc.get_export(&me, id).await.must("get");
    assert_eq!(e.record.status, ExportStatus::Expired);
    assert!(svc.export_piece(id, 0).await.must("piece").is_none());
    match svc.ready_export(&me, id).await {
        Err(ServiceError::Conflict(m)) => assert!(m.contains("retention"), "{m}"),
        other => panic!("an expired export cannot be downloaded: {other:?}"),
    }
    // Another account sees none of it.
    let other = as_(&w.tenant);
    assert!(matches!(
        svc.get_export(&other, id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(svc.list_exports(&other, 10).await.must("theirs").is_empty());
    assert!(
        svc.list_export_schedules(&other)
            .await
            .must("theirs")
            .is_empty()
    );
}

async fn a_failed_export_says_why_and_tells_the_account(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.customer);
    let e = numberpool::jobs::request_export(svc, &me, ExportKind::Consolidated, FileFormat::Xlsx)
        .await
        .must("export");
    svc.fail_export(e.record.id, "the disk is full")
        .await
        .must("fail");
    let got = svc.get_export(&me, e.record.id).await.must("get");
    assert_eq!(got.record.status, ExportStatus::Failed);
    assert_eq!(got.record.error.as_deref(), Some("the disk is full"));
    let notes = svc.list_notifications(&me, false, 10).await.must("notes");
    assert_eq!(notes[0].kind, "export_failed");
    assert!(
        notes[0].message.contains("the disk is full"),
        "{:?}",
        notes[0]
    );
    // Its job finds it failed and ends without a file.
    let worker = Worker::new(svc.clone(), WorkerOptions::default());
    let out = worker
        .run_one(Queue::Bulk)
        .await
        .must("run")
        .must("the job");
    assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
    assert!(
        svc.export_piece(e.record.id, 0)
            .await
            .must("piece")
            .is_none()
    );
}

backend_tests!(
    schedules_queue_exports_and_files_expire,
    a_failed_export_says_why_and_tells_the_account
);
