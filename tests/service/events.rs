//! Events and webhooks through the service (issue 15), against a local receiver, the clock
//! moved by hand: the feed returns every event once, in order, across pages while events are
//! being written, and only the caller's subtree's; a delivery is signed so that the snippet in
//! docs/EVENTS.md verifies it; a receiver that fails twice gets the event on the third attempt;
//! one that always fails ends disabled with a notification; a replay resends the same event id;
//! another tenant's events are never delivered; private addresses are refused unless allowed.

use std::io::Write;
use std::process::{Command, Stdio};

use numberpool::service::webhooks::{DeliverRun, Replay, WebhookInput, WebhookOptions};
use numberpool::service::{Clock, Service, ServiceError};
use numberpool_domain::{DeliveryState, WebhookState, now_ms};
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::common::receiver::Receiver;
use crate::fixture::*;

const WINDOW_MS: i64 = 60_000;

fn options() -> WebhookOptions {
    WebhookOptions {
        allow_private: true,
        retry_base_ms: 1_000,
        retry_window_ms: WINDOW_MS,
        timeout: std::time::Duration::from_secs(5),
    }
}

/// The world's service on a manual clock, delivering to loopback.
async fn setup(db: &TestDb) -> (World, Service, Clock) {
    let w = World::new(db).await;
    let clock = Clock::manual(now_ms());
    let svc = Service::with_clock(w.store.clone(), clock.clone()).with_webhook_options(options());
    (w, svc, clock)
}

fn input(url: &str, types: &[&str]) -> WebhookInput {
    WebhookInput {
        url: Some(url.to_string()),
        event_types: Some(types.iter().map(|t| t.to_string()).collect()),
        description: Some("test".into()),
        enabled: None,
    }
}

/// Runs the subscription's delivery until it is idle, moving the clock to each next try;
/// how many runs that took.
async fn deliver_all(svc: &Service, clock: &Clock, id: numberpool_domain::WebhookId) -> usize {
    for run in 1..=50 {
        match svc.deliver_webhook(id).await.must("deliver") {
            DeliverRun::Idle => return run,
            DeliverRun::Until(at) => clock.set(at.max(clock.now_ms())),
        }
    }
    panic!("the deliveries did not settle in 50 runs");
}

/// The Python snippet of docs/EVENTS.md, run on what the receiver got: whether it verifies.
fn snippet_verifies(secret: &str, header: &str, body: &[u8], now_s: i64) -> bool {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EVENTS.md"))
        .must("read docs/EVENTS.md");
    let start = doc
        .find("<!-- signature-snippet -->")
        .must("the snippet's marker in docs/EVENTS.md");
    let code = doc[start..]
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .must("the python block after the marker");
    let program = format!(
        "{code}\nimport os, sys\nok = verify(os.environ['SECRET'], os.environ['SIG'], \
         sys.stdin.buffer.read(), now=int(os.environ['NOW']))\nsys.exit(0 if ok else 1)\n"
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(program)
        .env("SECRET", secret)
        .env("SIG", header)
        .env("NOW", now_s.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .must("python3 (the documented snippet is Python; install python3)");
    child
        .stdin
        .take()
        .must("stdin")
        .write_all(body)
        .must("write the body");
    child.wait().must("python3").success()
}

async fn the_feed_pages_every_event_once_in_order_while_events_are_written(db: &TestDb) {
    let w = World::new(db).await;
    let me = as_(&w.provider);
    let start = w
        .service
        .events_feed(&me, 0, 1000, &[])
        .await
        .must("feed")
        .next_after;
    let writer = {
        let svc = w.service.clone();
        let provider = w.provider.clone();
        let tenant = w.tenant.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                add_one(&svc, &provider, &e164(8000 + i)).await;
                add_one(&svc, &tenant, &e164(9000 + i)).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut after = start;
    loop {
        let done = writer.is_finished();
        let page = w.service.events_feed(&me, after, 3, &[]).await.must("page");
        seen.extend(page.events.iter().map(|e| (e.sequence, e.id)));
        after = page.next_after;
        if page.events.is_empty() && done {
            break;
        }
    }
    writer.await.must("writer");
    let sequences: Vec<i64> = seen.iter().map(|s| s.0).collect();
    assert!(
        sequences.windows(2).all(|p| p[0] < p[1]),
        "in order, each once: {sequences:?}"
    );
    let all = w
        .service
        .events_feed(&me, start, 1000, &[])
        .await
        .must("feed");
    assert_eq!(
        all.events.len(),
        40,
        "the provider's 40 adds, not the tenant's: {:?}",
        all.events
            .iter()
            .map(|e| (&e.event_type, &e.accounts))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        seen.iter().map(|s| s.1).collect::<Vec<_>>(),
        all.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        "the pages hold exactly the events one read holds"
    );
    assert!(all.events.iter().all(|e| e.event_type == "number.add"));
    // The tenant's own feed has its 40, and none of the provider's.
    let theirs = w
        .service
        .events_feed(&as_(&w.tenant), start, 1000, &[])
        .await
        .must("tenant feed");
    assert_eq!(
        theirs
            .events
            .iter()
            .filter(|e| e.event_type == "number.add")
            .count(),
        40,
        "{:?}",
        theirs
            .events
            .iter()
            .map(|e| &e.event_type)
            .collect::<Vec<_>>()
    );
    assert!(
        theirs
            .events
            .iter()
            .all(|e| e.accounts.contains(&w.tenant.id.to_string()))
    );
}

async fn an_event_below_reaches_every_ancestor_and_no_sibling(db: &TestDb) {
    let w = World::new(db).await;
    let n = w.held_by(&w.customer, &e164(8100)).await;
    let n = w
        .service
        .move_to_unit(&as_(&w.customer), &by_id(&n), w.unit.id)
        .await
        .must("move to unit");
    let feed = |a: &numberpool_domain::Account| {
        let svc = w.service.clone();
        let a = a.clone();
        async move {
            svc.events_feed(
                &as_(&a),
                0,
                1000,
                &["number.allocate".into(), "number.move_to_unit".into()],
            )
            .await
            .must("feed")
            .events
            .into_iter()
            .filter(|e| e.entity_id == n.id.to_string())
            .count()
        }
    };
    assert_eq!(feed(&w.provider).await, 2, "the provider sees both moves");
    assert_eq!(feed(&w.customer).await, 2, "the customer sees both");
    assert_eq!(feed(&w.unit).await, 1, "the unit sees the move to it");
    assert_eq!(feed(&w.customer2).await, 0, "a sibling sees nothing");
    assert_eq!(feed(&w.reseller).await, 0, "nor does another branch");
    assert_eq!(feed(&w.tenant).await, 0, "nor another tenant");
    let bad = w
        .service
        .events_feed(&as_(&w.provider), 0, 10, &["number.explode".into()])
        .await;
    assert!(matches!(bad, Err(ServiceError::Invalid(_))), "{bad:?}");
}

async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(db: &TestDb) {
    let (w, svc, clock) = setup(db).await;
    let rx = Receiver::start().await;
    let me = as_(&w.provider);
    let (hook, secret) = svc
        .create_webhook(&me, input(&rx.url, &["number.add"]))
        .await
        .must("subscribe");
    assert!(secret.starts_with("whsec_"));
    rx.fail_next(2);
    w.add(&w.provider, &e164(8200)).await;
    let t0 = clock.now_ms();
    let first = svc.deliver_webhook(hook.id).await.must("first run");
    let DeliverRun::Until(at) = first else {
        panic!("after a failure the job waits: {first:?}");
    };
    assert!(
        (t0 + 1_000..=t0 + 1_200).contains(&at),
        "first retry after the base wait, with at most a fifth of jitter: {}",
        at - t0
    );
    assert_eq!(
        svc.deliver_webhook(hook.id).await.must("too early"),
        DeliverRun::Until(at),
        "nothing is sent before its time"
    );
    assert_eq!(rx.seen().len(), 1);
    deliver_all(&svc, &clock, hook.id).await;
    let seen = rx.seen();
    assert_eq!(
        seen.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![500, 500, 200]
    );
    let id = seen[0].header("numberpool-event-id").to_string();
    assert!(seen.iter().all(|r| r.header("numberpool-event-id") == id));
    assert_eq!(seen[2].header("numberpool-delivery-attempt"), "3");
    let body = seen[2].json();
    assert_eq!(body["type"], "number.add");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["after"]["phone_numbers"][0], e164(8200).as_str());
    // The signature verifies with the documented snippet, and not with another secret.
    let sig = seen[2].header("numberpool-signature");
    let now_s = clock.now_ms() / 1000;
    assert!(
        snippet_verifies(&secret, sig, &seen[2].body, now_s),
        "docs/EVENTS.md's snippet verifies {sig}"
    );
    assert!(!snippet_verifies("whsec_wrong", sig, &seen[2].body, now_s));
    let mut tampered = seen[2].body.clone();
    tampered.push(b' ');
    assert!(!snippet_verifies(&secret, sig, &tampered, now_s));
    // The log: one delivery, three attempts.
    let ds = svc
        .list_deliveries(&me, hook.id, None, 10)
        .await
        .must("deliveries");
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].state, DeliveryState::Delivered);
    let (_, attempts) = svc
        .get_delivery(&me, hook.id, ds[0].id)
        .await
        .must("delivery");
    assert_eq!(
        attempts.iter().map(|a| a.status).collect::<Vec<_>>(),
        vec![Some(500), Some(500), Some(200)]
    );
    let hook = svc.get_webhook(&me, hook.id).await.must("webhook");
    assert_eq!(hook.failing_since, None, "a success ends the failing run");
    // A rotated secret signs from then on; the old one no longer verifies.
    let new_secret = svc.rotate_webhook_secret(&me, hook.id).await.must("rotate");
    w.add(&w.provider, &e164(8201)).await;
    deliver_all(&svc, &clock, hook.id).await;
    let last = rx.seen().pop().must("one more");
    let sig = last.header("numberpool-signature");
    let now_s = clock.now_ms() / 1000;
    assert!(snippet_verifies(&new_secret, sig, &last.body, now_s));
    assert!(!snippet_verifies(&secret, sig, &last.body, now_s));
}

async fn a_receiver_that_always_fails_ends_disabled_with_a_notification(db: &TestDb) {
    let (w, svc, clock) = setup(db).await;
    let rx = Receiver::start().await;
    let me = as_(&w.provider);
    let (hook, _) = svc
        .create_webhook(&me, input(&rx.url, &[]))
        .await
        .must("subscribe");
    rx.always_fail(true);
    w.add(&w.provider, &e164(8300)).await;
    w.add(&w.provider, &e164(8301)).await;
    let t0 = clock.now_ms();
    deliver_all(&svc, &clock, hook.id).await;
    let hook = svc.get_webhook(&me, hook.id).await.must("webhook");
    assert_eq!(hook.state, WebhookState::Disabled);
    assert!(clock.now_ms() - t0 >= WINDOW_MS, "retried for the window");
    let seen = rx.seen();
    assert!(seen.len() >= 5, "backed off, not given up: {}", seen.len());
    let first_id = seen[0].header("numberpool-event-id").to_string();
    assert!(
        seen.iter()
            .all(|r| r.header("numberpool-event-id") == first_id),
        "the second event waits behind the first (order per subscription)"
    );
    let notes = svc
        .list_notifications(&me, false, 10)
        .await
        .must("notifications");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "webhook_disabled" && n.subject_id == hook.id.to_string()),
        "{notes:?}"
    );
    let ds = svc
        .list_deliveries(&me, hook.id, None, 10)
        .await
        .must("deliveries");
    assert_eq!(
        ds.iter().map(|d| d.state).collect::<Vec<_>>(),
        vec![DeliveryState::Pending, DeliveryState::Failed],
        "newest first: the second still pending"
    );
    // Turned on again with the receiver fixed: what waited goes out.
    rx.always_fail(false);
    let before = rx.seen().len();
    svc.update_webhook(
        &me,
        hook.id,
        WebhookInput {
            enabled: Some(true),
            ..WebhookInput::default()
        },
    )
    .await
    .must("enable");
    deliver_all(&svc, &clock, hook.id).await;
    let after: Vec<_> = rx.seen().into_iter().skip(before).collect();
    assert_eq!(
        after
            .iter()
            .map(|r| r.header("numberpool-event-type").to_string())
            .collect::<Vec<_>>(),
        vec![
            "number.add",
            "number.add",
            "webhook.disable",
            "webhook.update"
        ],
        "the failed add and the pending one first, then what happened while it was off"
    );
    assert_eq!(
        after[0].header("numberpool-event-id"),
        first_id,
        "the delivery that failed is sent again, not dropped"
    );
    assert!(after.iter().all(|r| r.answered == 200));
}

async fn a_replay_resends_the_same_event_id(db: &TestDb) {
    let (w, svc, clock) = setup(db).await;
    let rx = Receiver::start().await;
    let me = as_(&w.provider);
    let (hook, _) = svc
        .create_webhook(&me, input(&rx.url, &["number.add"]))
        .await
        .must("subscribe");
    w.add(&w.provider, &e164(8400)).await;
    deliver_all(&svc, &clock, hook.id).await;
    let ds = svc
        .list_deliveries(&me, hook.id, None, 10)
        .await
        .must("deliveries");
    assert_eq!(
        svc.replay_webhook(&me, hook.id, Replay::Delivery(ds[0].id))
            .await
            .must("replay"),
        1
    );
    deliver_all(&svc, &clock, hook.id).await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("numberpool-event-id"),
        seen[1].header("numberpool-event-id")
    );
    assert_ne!(
        seen[0].header("numberpool-delivery-id"),
        seen[1].header("numberpool-delivery-id")
    );
    // A time range replays every event in it.
    let n = svc
        .replay_webhook(
            &me,
            hook.id,
            Replay::Range {
                since: 0,
                // The adds ran on the system clock, the deliveries on the test's.
                until: now_ms().max(clock.now_ms()) + 60_000,
            },
        )
        .await
        .must("replay range");
    assert_eq!(n, 1, "one event, however many deliveries it had");
    // Another account's delivery is not found.
    let other = svc
        .replay_webhook(&as_(&w.customer), hook.id, Replay::Delivery(ds[0].id))
        .await;
    assert!(matches!(other, Err(ServiceError::NotFound(_))), "{other:?}");
}

async fn another_tenants_events_are_never_delivered(db: &TestDb) {
    let (w, svc, clock) = setup(db).await;
    let rx = Receiver::start().await;
    let (hook, _) = svc
        .create_webhook(&as_(&w.customer), input(&rx.url, &[]))
        .await
        .must("subscribe");
    w.held_by(&w.customer, &e164(8500)).await;
    w.held_by(&w.customer2, &e164(8501)).await;
    w.add(&w.tenant, &e164(8502)).await;
    w.add(&w.provider, &e164(8503)).await;
    deliver_all(&svc, &clock, hook.id).await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 1, "only the allocation to the customer");
    let body = seen[0].json();
    assert_eq!(body["type"], "number.allocate");
    assert_eq!(body["after"]["phone_number"], e164(8500).as_str());
    let mine = w.customer.id.to_string();
    assert!(
        body["accounts"]
            .as_array()
            .must("accounts")
            .iter()
            .any(|a| a == mine.as_str())
    );
}

async fn private_addresses_are_refused_unless_the_operator_allows_them(db: &TestDb) {
    let w = World::new(db).await;
    let strict = Service::new(w.store.clone());
    let me = as_(&w.provider);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://[fd00::1]/hook",
        "http://100.64.0.1/hook",
    ] {
        let r = strict.create_webhook(&me, input(url, &[])).await;
        refused(r, "rule_violation", Some("R-SEC-1"), url);
    }
    for (url, why) in [
        ("ftp://example.com/x", "only http and https"),
        ("not a url", "absolute"),
        ("https://user:pw@example.com/x", "credentials"),
    ] {
        let r = strict.create_webhook(&me, input(url, &[])).await;
        match r {
            Err(ServiceError::Invalid(m)) => assert!(m.contains(why), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    let r = strict
        .create_webhook(&me, input("https://example.com/x", &["number.nope"]))
        .await;
    assert!(matches!(r, Err(ServiceError::Invalid(_))), "{r:?}");
    let open = Service::new(w.store.clone()).with_webhook_options(options());
    open.create_webhook(&me, input("http://127.0.0.1:9/hook", &[]))
        .await
        .must("allowed by the operator");
    // A viewer may not subscribe.
    let viewer = numberpool::service::Actor::user(
        w.provider.id,
        "viewer".into(),
        numberpool::service::Role::Viewer,
    );
    let r = open
        .create_webhook(&viewer, input("http://127.0.0.1:9/hook", &[]))
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden(_))), "{r:?}");
}

async fn a_reader_sees_no_other_accounts_actors_nor_a_numbers_life_before_it(db: &TestDb) {
    let w = World::new(db).await;
    let n = w.held_by(&w.customer, &e164(8600)).await;
    let allocation = |who: &numberpool_domain::Account| {
        let svc = w.service.clone();
        let who = who.clone();
        async move {
            svc.events_feed(&as_(&who), 0, 1000, &["number.allocate".into()])
                .await
                .must("feed")
                .events
                .into_iter()
                .find(|e| e.entity_id == n.id.to_string())
                .must("the allocation")
        }
    };
    let mine = allocation(&w.provider).await;
    assert!(mine.before.is_some(), "the owner sees its pool's record");
    assert!(mine.actor_id.is_some());
    let theirs = allocation(&w.customer).await;
    assert_eq!(theirs.before, None, "the pool's record is the provider's");
    assert!(theirs.after.is_some());
    assert_eq!(
        theirs.actor_id, None,
        "the provider's client is not the customer's to see"
    );
    // A connected customer's user assigns the provider's number: the provider sees the move,
    // not who made it.
    let c = w.held_by(&w.root_customer, &e164(8601)).await;
    w.service
        .assign(&as_(&w.root_customer), &by_id(&c), user("alice"))
        .await
        .must("assign");
    let assigned = w
        .service
        .events_feed(&as_(&w.provider), 0, 1000, &["number.assign".into()])
        .await
        .must("feed")
        .events
        .into_iter()
        .find(|e| e.entity_id == c.id.to_string())
        .must("the assignment");
    assert_eq!(assigned.actor_id, None);
    assert!(
        assigned.before.is_some(),
        "the owner sees its number's record"
    );
}

backend_tests!(
    a_reader_sees_no_other_accounts_actors_nor_a_numbers_life_before_it,
    the_feed_pages_every_event_once_in_order_while_events_are_written,
    an_event_below_reaches_every_ancestor_and_no_sibling,
    a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt,
    a_receiver_that_always_fails_ends_disabled_with_a_notification,
    a_replay_resends_the_same_event_id,
    another_tenants_events_are_never_delivered,
    private_addresses_are_refused_unless_the_operator_allows_them
);
