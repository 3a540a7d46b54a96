//! Pool-exhaustion forecasts (issue 15) on a synthetic history with a known pace: ten numbers
//! a day allocated out of a 1,000-number segment for 30 days, the service clock moved a day at
//! a time. The forecast says 700 free at 10 a day, 70 days; the daily job alerts once a day
//! when the horizon or the floor says so, with a notification and an event.

use numberpool::service::forecast::ThresholdInput;
use numberpool::service::{Clock, Service, ServiceError};
use numberpool_domain::{E164, NumberType, now_ms};
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

const DAY: i64 = 24 * 60 * 60 * 1000;

async fn a_known_pace_gives_the_days_left_and_alerts_once_a_day(db: &TestDb) {
    let w = World::new(db).await;
    let t0 = now_ms();
    let clock = Clock::manual(t0);
    let svc = Service::with_clock(w.store.clone(), clock.clone());
    let me = as_(&w.provider);
    let adds: Vec<_> = (0..1000)
        .map(|i| add(&E164::parse(&format!("+1415666{i:04}")).must("e164")))
        .collect();
    let added = svc.add_numbers(&me, adds).await.must("add");
    // Another segment, never taken from.
    svc.add_numbers(&me, vec![add(&E164::parse("+12125550100").must("e164"))])
        .await
        .must("add");
    for day in 0..30 {
        clock.set(t0 + day * DAY);
        for n in &added[(day as usize) * 10..(day as usize + 1) * 10] {
            allocate(&svc, &w.provider, n, &w.customer, Some(w.trunk)).await;
        }
    }
    clock.set(t0 + 29 * DAY + 60_000);
    let far = svc
        .add_pool_threshold(
            &me,
            ThresholdInput {
                prefix: "1415".into(),
                horizon_days: Some(30),
                ..Default::default()
            },
        )
        .await
        .must("threshold");
    let near = svc
        .add_pool_threshold(
            &me,
            ThresholdInput {
                prefix: "+1415".into(),
                number_type: Some(NumberType::Local),
                horizon_days: Some(90),
                ..Default::default()
            },
        )
        .await
        .must("threshold");
    let floor = svc
        .add_pool_threshold(
            &me,
            ThresholdInput {
                prefix: "1212".into(),
                min_free: Some(5),
                ..Default::default()
            },
        )
        .await
        .must("threshold");
    let whole = svc
        .add_pool_threshold(
            &me,
            ThresholdInput {
                min_free: Some(2000),
                ..Default::default()
            },
        )
        .await
        .must("threshold");
    let f = svc.pool_forecast(&me).await.must("forecast");
    let of = |id| f.iter().find(|s| s.threshold.id == id).must("segment");
    // The whole pool (no upper end to its range, under any collation): every free number.
    assert_eq!((of(whole.id).free, of(whole.id).taken), (701, 300));
    assert_eq!(of(whole.id).segment(), "every number");
    svc.delete_pool_threshold(&me, whole.id)
        .await
        .must("delete");
    assert_eq!((of(far.id).free, of(far.id).taken), (700, 300));
    assert_eq!(of(far.id).per_day, 10.0);
    assert_eq!(of(far.id).days_left, Some(70.0));
    assert_eq!(of(far.id).alert, None, "70 days is past a 30-day horizon");
    assert!(
        of(near.id)
            .alert
            .as_deref()
            .is_some_and(|a| a.contains("out in 70 days")),
        "{:?}",
        of(near.id).alert
    );
    assert_eq!(of(floor.id).free, 1);
    assert_eq!(
        of(floor.id).days_left,
        None,
        "nothing taken: no end in sight"
    );
    assert!(
        of(floor.id)
            .alert
            .as_deref()
            .is_some_and(|a| a.contains("fewer than 5"))
    );
    assert_eq!(of(near.id).segment(), "+1415, local numbers");

    // The daily job: two alerts, each a notification and an event; not again the same day.
    assert_eq!(svc.run_pool_forecasts().await.must("job"), 2);
    assert_eq!(svc.run_pool_forecasts().await.must("job"), 0, "once a day");
    let notes = svc.list_notifications(&me, false, 50).await.must("notes");
    let alerts: Vec<_> = notes.iter().filter(|n| n.kind == "pool_alert").collect();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts
            .iter()
            .any(|n| n.message.contains("+1415, local numbers")
                && n.message.contains("out in 70 days")),
        "{alerts:?}"
    );
    let events = svc
        .events_feed(&me, 0, 1000, &["pool_threshold.alert".into()])
        .await
        .must("feed");
    assert_eq!(events.events.len(), 2);
    assert_eq!(events.events[0].after.as_ref().must("after")["free"], 700);
    // A day on: due again. The pace window moves with the clock: 30 days on, nothing taken.
    clock.advance(DAY);
    assert_eq!(svc.run_pool_forecasts().await.must("job"), 2);
    let f = svc.pool_forecast(&me).await.must("forecast");
    assert_eq!(of_id(&f, far.id).taken, 290, "day 0 left the window");
    clock.advance(40 * DAY);
    let f = svc.pool_forecast(&me).await.must("forecast");
    assert_eq!(
        of_id(&f, far.id).taken,
        290,
        "a view reads the pace the job kept"
    );
    svc.run_pool_forecasts().await.must("job");
    let f = svc.pool_forecast(&me).await.must("forecast");
    assert_eq!(of_id(&f, far.id).taken, 0);
    assert_eq!(of_id(&f, far.id).days_left, None);
    // Only the pool's holder forecasts; another account does not find its thresholds.
    let refused = svc
        .add_pool_threshold(&as_(&w.customer), ThresholdInput::default())
        .await;
    assert!(matches!(refused, Err(ServiceError::Rule(_))), "{refused:?}");
    let other = svc.delete_pool_threshold(&as_(&w.tenant), far.id).await;
    assert!(matches!(other, Err(ServiceError::NotFound(_))), "{other:?}");
    let bad = svc
        .add_pool_threshold(
            &me,
            ThresholdInput {
                prefix: "14a".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(bad, Err(ServiceError::Invalid(_))), "{bad:?}");
    svc.delete_pool_threshold(&me, far.id).await.must("delete");
    assert_eq!(svc.pool_forecast(&me).await.must("forecast").len(), 2);
}

fn of_id(
    f: &[numberpool::service::forecast::SegmentForecast],
    id: numberpool_domain::ThresholdId,
) -> &numberpool::service::forecast::SegmentForecast {
    f.iter().find(|s| s.threshold.id == id).must("segment")
}

backend_tests!(a_known_pace_gives_the_days_left_and_alerts_once_a_day);
