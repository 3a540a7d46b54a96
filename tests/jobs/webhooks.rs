//! `kill -9` of `numberpool serve` with webhook deliveries pending (issue 15): twice, once while
//! the receiver is failing (deliveries wait for their retry) and once while it is slowly taking
//! them (a request in flight). Started again, the server sends every event at least once: each
//! event id reaches the receiver with a 200, some perhaps twice, none never. The test counts
//! them. And in process: the worker as `serve` runs it delivers an event as it commits.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::receiver::Receiver;
use crate::support::*;

backend_tests!(kill_9_with_deliveries_pending_loses_no_event);

/// `numberpool serve` delivering to loopback with a 1 s first retry (and the 1 s lease).
fn serve(db: &TestDb) -> (Child, String) {
    crate::support::serve(
        db,
        &[
            ("NUMBERPOOL_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("NUMBERPOOL_WEBHOOK_RETRY_BASE_SECS", "1"),
        ],
    )
}

/// Adds one number through the API: one `number.add` event.
async fn add(addr: &str, t: &str, i: u32) {
    let body = format!(r#"{{"phone_number": "+1415555{i:04}"}}"#);
    let (status, v) = http(
        addr,
        "POST",
        "/v2/phone/numbers",
        t,
        "application/json",
        body.as_bytes(),
    )
    .await;
    assert!(status == 200 || status == 201, "add: {status} {v}");
}

/// How many times each event id was answered 200.
fn accepted(rx: &Receiver) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rx.seen().iter().filter(|r| r.answered == 200) {
        *m.entry(r.header("numberpool-event-id").to_string())
            .or_insert(0) += 1;
    }
    m
}

async fn kill_9_with_deliveries_pending_loses_no_event(db: &TestDb) {
    let (client_id, secret) = provider_client(db, "Webhook crash");
    let rx = Receiver::start().await;
    let mut procs = Reaper::default();
    let (child, addr) = serve(db);
    procs.0.push(child);
    let t = token(&addr, &client_id, &secret).await;
    let body = format!(r#"{{"url": "{}", "event_types": ["number.add"]}}"#, rx.url);
    let (status, hook) = http(
        &addr,
        "POST",
        "/v2/webhooks",
        &t,
        "application/json",
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 201, "subscribe: {hook}");
    let mut expected = BTreeSet::new();

    // 1. The receiver fails: the deliveries wait for their retries when the server dies.
    rx.always_fail(true);
    for i in 0..10 {
        add(&addr, &t, i).await;
    }
    eventually("a failed attempt", 30, || {
        let n = rx.seen().len();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    procs.0[0].kill().must("kill -9");
    procs.0[0].wait().must("reap");
    let pending = scalar(
        db,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'",
    )
    .await;
    let before_restart = accepted(&rx).len();
    eprintln!(
        "killed with {pending} deliveries pending, {} requests refused, {before_restart} accepted",
        rx.seen().len()
    );
    assert_eq!(before_restart, 0, "the receiver refused everything so far");
    rx.always_fail(false);
    let (child, addr) = serve(db);
    procs.0.push(child);
    let t = token(&addr, &client_id, &secret).await;
    let events = scalar(
        db,
        "SELECT COUNT(*) FROM outbox WHERE action = 'number.add'",
    )
    .await;
    assert_eq!(events, 10);
    let got = eventually("the first ten events delivered", 60, || {
        let a = accepted(&rx);
        async move { (a.len() >= 10).then_some(a) }
    })
    .await;
    expected.extend(got.keys().cloned());

    // 2. The receiver takes its time: the server dies with a request in flight.
    rx.delay(150);
    for i in 10..20 {
        add(&addr, &t, i).await;
    }
    eventually("some of the next ten delivered", 60, || {
        let n = accepted(&rx).len();
        async move { (n >= 12).then_some(()) }
    })
    .await;
    procs.0[1].kill().must("kill -9");
    procs.0[1].wait().must("reap");
    eprintln!("killed with {} of 20 events accepted", accepted(&rx).len());
    rx.delay(0);
    let (child, _addr) = serve(db);
    procs.0.push(child);
    let got = eventually("all twenty events delivered", 60, || {
        let a = accepted(&rx);
        async move { (a.len() >= 20).then_some(a) }
    })
    .await;
    assert!(
        got.keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            .is_superset(&expected),
        "the first ten are among them"
    );
    let outbox_ids: i64 = scalar(
        db,
        "SELECT COUNT(DISTINCT audit_id) FROM outbox WHERE action = 'number.add'",
    )
    .await;
    assert_eq!(outbox_ids, 20, "twenty events recorded");
    assert_eq!(got.len(), 20, "each of the twenty arrived");
    let twice = got.values().filter(|n| **n > 1).count();
    eprintln!("twenty events delivered; {twice} of them twice (at least once, never zero)");
    assert!(got.values().all(|n| *n >= 1 && *n <= 3));
    sigterm(procs.0[2].id());
    assert!(exit_status(&mut procs.0[2], 60).await.success());
}

backend_tests!(an_event_reaches_its_webhook_through_the_worker_in_process);

/// The worker as `serve` runs it (default options: its queues polled every second when idle):
/// an event's commit wakes its subscription's job, which delivers it.
async fn an_event_reaches_its_webhook_through_the_worker_in_process(db: &TestDb) {
    use numberpool::service::webhooks::{WebhookInput, WebhookOptions};
    use numberpool::service::{Actor, AddNumber, CreateAccount, Service};
    let service = Service::new(db.store().await).with_webhook_options(WebhookOptions {
        allow_private: true,
        ..WebhookOptions::default()
    });
    let p = service
        .create_account(
            &Actor::operator(),
            CreateAccount::new("Hooked", numberpool_domain::AccountKind::Provider, None),
        )
        .await
        .must("account");
    let me = Actor::cli(p.id);
    let rx = Receiver::start().await;
    service
        .create_webhook(
            &me,
            WebhookInput {
                url: Some(rx.url.clone()),
                ..WebhookInput::default()
            },
        )
        .await
        .must("subscribe");
    let (stop, shutdown) = numberpool::shutdown::channel();
    let worker =
        numberpool::jobs::Worker::new(service.clone(), numberpool::jobs::WorkerOptions::default());
    let running = tokio::spawn(worker.run_until_stopped(shutdown));
    service
        .add_numbers(
            &me,
            vec![AddNumber {
                phone_number: numberpool_domain::E164::parse("+14155550123").must("e164"),
                fields: Default::default(),
            }],
        )
        .await
        .must("add");
    let got = eventually("the delivery", 10, || {
        let seen = rx.seen();
        async move { seen.into_iter().find(|r| r.answered == 200) }
    })
    .await;
    assert_eq!(got.header("numberpool-event-type"), "number.add");
    stop.fire();
    running.await.must("worker");
}
