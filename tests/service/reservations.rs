//! Reservations through the service, on a clock the test moves (SPEC §5, issue 14): a
//! reservation hides its numbers from the pool's own search and keeps them from any other
//! account, ends by itself when the clock passes its time (before and after the expiry job),
//! can be moved and released early, and is fulfilled when its account takes the last number.
//! Then the races: a reservation and a provision to another account on one free number, and
//! an expiry racing the provision of the number it held, each ending one way only.

use std::sync::Arc;

use numberpool::service::{Clock, Service, ServiceError};
use numberpool_domain::{E164, Number, Position, ReservationStatus, now_ms};
use numberpool_store::NumberLookup;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

const MINUTE: i64 = 60 * 1000;
const HOUR: i64 = 60 * MINUTE;

async fn row(s: &Service, e: &E164) -> Number {
    let mut r = s.store().read().await.must("read");
    r.get_number(&NumberLookup::E164(e.clone()))
        .await
        .must("get")
        .must("number")
}

async fn reservations_hold_numbers_until_their_time(db: &TestDb) {
    let t0 = now_ms();
    let clock = Clock::manual(t0);
    let w = World::build(Service::with_clock(db.store().await, clock.clone())).await;
    let s = &w.service;
    let p = as_(&w.provider);
    let nums: Vec<E164> = (0..6).map(|i| e164(8000 + i)).collect();
    for n in &nums {
        w.add(&w.provider, n).await;
    }
    let r = s
        .reserve(&p, &nums[..2], w.customer.id, Some(HOUR))
        .await
        .must("reserve");
    assert_eq!(r.status, ReservationStatus::Active);
    assert_eq!(r.account_id, w.customer.id);
    assert_eq!(r.seconds_left, 3600);
    assert_eq!(r.expires_at, t0 + HOUR);
    assert_eq!(
        r.phone_numbers,
        [nums[0].as_str(), nums[1].as_str()],
        "{r:?}"
    );
    // Hidden from the pool's own search; the rest of the pool shows.
    let shown = found(s, &p, "415555800*").await;
    assert_eq!(
        shown,
        [
            nums[2].as_str(),
            nums[3].as_str(),
            nums[4].as_str(),
            nums[5].as_str()
        ]
    );
    // Nobody but the customer gets it: not another customer, not by allocate, not deleted.
    refused(
        s.provision(&p, &nums[..1], w.customer2.id, None).await,
        "rule_violation",
        Some("R-RES-2"),
        "provision to another customer",
    );
    refused(
        s.allocate(
            &p,
            &NumberLookup::E164(nums[0].clone()),
            w.customer2.id,
            with_trunk(w.trunk),
        )
        .await,
        "rule_violation",
        Some("R-RES-2"),
        "allocate to another customer",
    );
    refused(
        s.delete_number(&p, &NumberLookup::E164(nums[0].clone()), None)
            .await,
        "rule_violation",
        Some("R-RES-2"),
        "delete a reserved number",
    );
    // Held already: a second reservation of it is refused whole.
    let e = refused(
        s.reserve(&p, &nums[1..3], w.customer2.id, None).await,
        "conflict",
        Some("R-ALLOC-1"),
        "reserve a reserved number",
    );
    assert!(e.to_string().contains(nums[1].as_str()), "{e}");
    assert!(row(s, &nums[2]).await.reservation.is_none(), "all or none");
    // Bad requests.
    refused(
        s.reserve(&p, &nums[2..3], w.customer.id, Some(1000)).await,
        "invalid_input",
        None,
        "a ttl under a minute",
    );
    refused(
        s.reserve(&as_(&w.customer), &nums[2..3], w.customer.id, None)
            .await,
        "rule_violation",
        Some("R-RES-1"),
        "a customer has no pool",
    );
    refused(
        s.reserve(&p, &nums[2..3], w.tenant_customer.id, None).await,
        "not_found",
        Some("R-SEC-1"),
        "another tenant's customer",
    );

    // The clock passes its time: the numbers are free to search and provision at once,
    // before the job has been by.
    clock.set(t0 + HOUR);
    let shown = found(s, &p, "415555800*").await;
    assert_eq!(shown.len(), 6, "{shown:?}");
    let seen = s.get_reservation(&p, r.id).await.must("get");
    assert_eq!(seen.status, ReservationStatus::Expired);
    assert!(seen.phone_numbers.is_empty());
    s.provision(&p, &nums[..1], w.customer2.id, None)
        .await
        .must("provision a lapsed reservation's number");
    refused(
        s.extend_reservation(&p, r.id, HOUR, None).await,
        "rule_violation",
        Some("R-RES-2"),
        "move the time of a reservation that ran out",
    );
    // The job ends it and clears the number it still held; a second run finds nothing.
    assert_eq!(s.expire_reservations().await.must("expire"), 1);
    assert_eq!(s.expire_reservations().await.must("expire"), 0);
    assert!(row(s, &nums[1]).await.reservation.is_none());
    let events = actions(&audit_for(s.store(), &row(s, &nums[1]).await.id.to_string()).await);
    assert_eq!(
        events,
        [
            Action::NumberAdd,
            Action::NumberReserve,
            Action::NumberUnreserve
        ],
        "the number's history"
    );

    // Moved and released early; fulfilled by provisioning all of it.
    let r2 = s
        .reserve(&p, &nums[2..4], w.customer.id, None)
        .await
        .must("reserve with the default time");
    assert_eq!(r2.seconds_left, 24 * 3600, "one day by default");
    let later = s
        .extend_reservation(&p, r2.id, 2 * HOUR, Some(r2.version))
        .await
        .must("extend");
    assert_eq!(later.expires_at, t0 + 3 * HOUR);
    assert_eq!(
        row(s, &nums[2]).await.reservation.map(|h| h.until),
        Some(t0 + 3 * HOUR)
    );
    refused(
        s.extend_reservation(&p, r2.id, 2 * HOUR, Some(r2.version))
            .await,
        "precondition_failed",
        None,
        "a stale If-Match",
    );
    refused(
        s.extend_reservation(&as_(&w.customer), r2.id, HOUR, None)
            .await,
        "rule_violation",
        Some("R-RES-1"),
        "the account it holds numbers for does not move its time",
    );
    s.provision(&p, &nums[2..3], w.customer.id, None)
        .await
        .must("provision one to its account");
    assert_eq!(
        s.get_reservation(&p, r2.id).await.must("get").phone_numbers,
        [nums[3].as_str()]
    );
    s.provision(&p, &nums[3..4], w.customer.id, None)
        .await
        .must("provision the last");
    let done = s.get_reservation(&p, r2.id).await.must("get");
    assert_eq!(done.status, ReservationStatus::Provisioned);
    refused(
        s.release_reservation(&p, r2.id).await,
        "rule_violation",
        Some("R-RES-2"),
        "release a fulfilled reservation",
    );
    let r3 = s
        .reserve(&p, &nums[4..6], w.customer.id, Some(MINUTE))
        .await
        .must("reserve");
    // The reservation stands in the way of the account's deactivation, and says so first.
    let off = s.offboarding(&p, w.customer.id).await.must("offboarding");
    let blockers: Vec<(&str, i64)> = off
        .checks
        .iter()
        .flat_map(|c| c.blockers.iter().map(|b| (b.code, b.count)))
        .collect();
    assert!(blockers.contains(&("reserved_numbers", 2)), "{blockers:?}");
    let e = refused(
        s.set_account_status(&p, w.customer.id, true, None).await,
        "rule_violation",
        Some("R-OFF-1"),
        "deactivate an account numbers are reserved for",
    );
    assert!(e.to_string().contains("reserved"), "{e}");
    // The account it is held for may let it go; another account does not see it at all.
    hidden(
        s.release_reservation(&as_(&w.customer2), r3.id).await,
        "another customer's reservation",
    );
    let gone = s
        .release_reservation(&as_(&w.customer), r3.id)
        .await
        .must("release");
    assert_eq!(gone.status, ReservationStatus::Released);
    assert!(row(s, &nums[4]).await.reservation.is_none());
    assert_eq!(
        found(s, &p, "415555800*").await,
        [nums[1].as_str(), nums[4].as_str(), nums[5].as_str()]
    );
    let list = s.list_reservations(&p).await.must("list");
    assert_eq!(
        list.iter().map(|x| x.status).collect::<Vec<_>>(),
        [
            ReservationStatus::Released,
            ReservationStatus::Provisioned,
            ReservationStatus::Expired
        ],
        "newest first"
    );
}

/// Races on one free number, through two services on one database (two pools: two servers
/// on PostgreSQL), each round released by a barrier.
async fn reservations_race_provisions(db: &TestDb) {
    let t0 = now_ms();
    let clock = Clock::manual(t0);
    let w = World::build(Service::with_clock(db.store().await, clock.clone())).await;
    let other = Service::with_clock(db.store().await, clock.clone());
    let s = &w.service;
    let p = as_(&w.provider);
    for round in 0..8u32 {
        // A reservation for one customer against a provision to another.
        let e = e164(8100 + round);
        w.add(&w.provider, &e).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let (b1, b2) = (barrier.clone(), barrier.clone());
        let (s1, s2) = (s.clone(), other.clone());
        let (e1, e2) = (e.clone(), e.clone());
        let (c1, c2) = (w.customer.id, w.customer2.id);
        let (p1, p2) = (p.clone(), p.clone());
        let reserve = tokio::spawn(async move {
            b1.wait().await;
            s1.reserve(&p1, &[e1], c1, Some(HOUR)).await.map(|_| ())
        });
        let provision = tokio::spawn(async move {
            b2.wait().await;
            s2.provision(&p2, &[e2], c2, None).await.map(|_| ())
        });
        let (reserved, provisioned) = (reserve.await.must("join"), provision.await.must("join"));
        let n = row(s, &e).await;
        match (&reserved, &provisioned) {
            (Ok(()), Err(err)) => {
                assert!(
                    matches!(err.code(), "conflict" | "rule_violation"),
                    "round {round}: {err}"
                );
                assert_eq!(n.position, Position::Free);
                assert_eq!(n.reservation.map(|h| h.for_account), Some(w.customer.id));
            }
            (Err(err), Ok(())) => {
                assert_eq!(err.code(), "conflict", "round {round}: {err}");
                assert_eq!(n.customer_id, Some(w.customer2.id));
                assert!(n.reservation.is_none());
            }
            other => panic!("round {round}: one of the two wins: {other:?}"),
        }

        // An expiry racing the provision of the number it held: provisioned or free, never
        // both, and the reservation ends either way.
        let e = e164(8200 + round);
        w.add(&w.provider, &e).await;
        let r = s
            .reserve(&p, std::slice::from_ref(&e), w.customer.id, Some(MINUTE))
            .await
            .must("reserve");
        clock.advance(MINUTE);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let (b1, b2) = (barrier.clone(), barrier.clone());
        let (s1, s2) = (s.clone(), other.clone());
        let e2 = e.clone();
        let (c2, p2) = (w.customer2.id, p.clone());
        let expire = tokio::spawn(async move {
            b1.wait().await;
            s1.expire_reservations().await
        });
        let provision = tokio::spawn(async move {
            b2.wait().await;
            s2.provision(&p2, &[e2], c2, None).await.map(|_| ())
        });
        let expired = expire.await.must("join");
        let provisioned = provision.await.must("join");
        // The expiry may have been skipped for a lost compare-and-set: the next run ends it.
        s.expire_reservations().await.must("expire again");
        let n = row(s, &e).await;
        assert!(n.reservation.is_none(), "round {round}: {n:?}");
        match &provisioned {
            Ok(()) => assert_eq!(n.customer_id, Some(w.customer2.id), "round {round}"),
            Err(err) => {
                assert_eq!(err.code(), "conflict", "round {round}: {err} ({expired:?})");
                assert_eq!(n.position, Position::Free, "round {round}");
            }
        }
        let ended = s.get_reservation(&p, r.id).await.must("get");
        assert_eq!(ended.status, ReservationStatus::Expired, "round {round}");
        assert!(matches!(expired, Ok(_) | Err(ServiceError::Conflict(_))));
    }
}

/// What the portal's provision review shows (`available_by_number`): a number reserved for
/// the site chosen is there to take, one reserved for another account is not, until its time.
async fn the_review_shows_reserved_numbers_only_to_their_holder(db: &TestDb) {
    let t0 = now_ms();
    let clock = Clock::manual(t0);
    let w = World::build(Service::with_clock(db.store().await, clock.clone())).await;
    let s = &w.service;
    let p = as_(&w.provider);
    let held = e164(8100);
    let open = e164(8101);
    w.add(&w.provider, &held).await;
    w.add(&w.provider, &open).await;
    s.reserve(&p, std::slice::from_ref(&held), w.customer.id, Some(HOUR))
        .await
        .must("reserve");
    let p = &p;
    let shown = |site| {
        let both = [held.clone(), open.clone()];
        async move {
            s.available_by_number(p, &both, site)
                .await
                .must("review")
                .into_iter()
                .map(|(_, a)| a.is_some())
                .collect::<Vec<bool>>()
        }
    };
    assert_eq!(shown(Some(w.customer.id)).await, [true, true]);
    assert_eq!(shown(Some(w.customer2.id)).await, [false, true]);
    assert_eq!(shown(None).await, [false, true]);
    // A customer taking numbers for itself (self-service): naming another account as the site
    // does not show it what is held for that account.
    s.set_self_service(p, true).await.must("self-service on");
    let both = [held.clone(), open.clone()];
    let c2 = as_(&w.customer2);
    let seen: Vec<bool> = s
        .available_by_number(&c2, &both, Some(w.customer.id))
        .await
        .must("review")
        .into_iter()
        .map(|(_, a)| a.is_some())
        .collect();
    assert_eq!(seen, [false, true]);
    clock.advance(HOUR);
    assert_eq!(
        shown(Some(w.customer2.id)).await,
        [true, true],
        "the hold lapsed"
    );
}

backend_tests!(
    the_review_shows_reserved_numbers_only_to_their_holder,
    reservations_hold_numbers_until_their_time,
    reservations_race_provisions
);
