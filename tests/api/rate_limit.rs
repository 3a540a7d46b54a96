//! The per-client rate limit: over the burst, 429 `rate_limited` with `Retry-After`; another
//! client is unaffected.

use std::time::Instant;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::harness::*;

async fn over_the_burst_is_429_per_client(db: &TestDb) {
    let config = numberpool::config::Config {
        rate_limit_per_second: 1,
        rate_limit_burst: 2,
        ..test_config(db)
    };
    let w = World::on(spawn_app_with(db, config).await).await;
    let app = &w.app;
    // The world's tokens came from /oauth/token, which is not limited; no /v2 call yet.
    let start = Instant::now();
    let mut ok = 0;
    let mut limited = None;
    for _ in 0..6 {
        let r = app
            .get_as(&w.provider_client.token, "/v2/phone/numbers")
            .await;
        match r.status {
            200 => ok += 1,
            429 => {
                limited = Some(r);
                break;
            }
            s => panic!("unexpected {s}: {}", r.text()),
        }
    }
    let elapsed = start.elapsed().as_secs();
    let r = limited.unwrap_or_else(|| panic!("no 429 after {ok} requests in {elapsed}s"));
    assert!(
        (2..=2 + elapsed as usize).contains(&ok),
        "a burst of 2 at 1/s: {ok} requests passed in {elapsed}s before the 429"
    );
    let r = r.expect_error(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .must("Retry-After")
        .parse()
        .must("Retry-After in seconds");
    assert!(retry >= 1, "Retry-After {retry}");

    // Another client of the same account is not limited by the first one's use.
    for _ in 0..2 {
        app.get_as(&w.customer_client.token, "/v2/phone/numbers")
            .await
            .expect(200);
    }
    app.get_as(&w.tenant_client.token, "/v2/phone/numbers")
        .await
        .expect(200);
    // Nor are the token endpoint, health checks and metrics.
    app.token(&w.provider_client.id, &w.provider_client.secret, None)
        .await;
    app.get("/healthz").send().await.expect(200);
}

backend_tests!(over_the_burst_is_429_per_client);
