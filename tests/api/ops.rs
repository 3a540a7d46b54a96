//! Operations: request ids on every answer (the harness checks each response; this checks the
//! echo and uniqueness), and `/metrics` with route templates, latency buckets and the pool.

use std::collections::BTreeSet;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::harness::*;

async fn request_ids_are_echoed_or_made(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let mut seen = BTreeSet::new();
    // Made up when absent, fresh each time, on successes, errors, unknown routes and 401s.
    for (path, token) in [
        ("/v2/phone/numbers", Some(t)),
        ("/v2/phone/numbers/xyz", Some(t)),
        ("/nope", None),
        ("/v2/phone/numbers", None),
        ("/healthz", None),
        ("/metrics", None),
        ("/openapi.json", None),
    ] {
        for _ in 0..2 {
            let mut req = app.get(path);
            if let Some(t) = token {
                req = req.bearer(t);
            }
            let r = req.send().await;
            let id = r.header("x-request-id").must("x-request-id");
            assert!(seen.insert(id.clone()), "{path}: request id {id} reused");
        }
    }
    // Echoed when given, also on errors and on the token endpoint.
    for (i, path) in ["/v2/phone/numbers", "/v2/phone/numbers/xyz", "/nope"]
        .iter()
        .enumerate()
    {
        let mine = format!("test-request-{i}-{}", uuid::Uuid::now_v7());
        let r = app
            .get(path)
            .bearer(t)
            .header("x-request-id", &mine)
            .send()
            .await;
        assert_eq!(r.header("x-request-id"), Some(mine), "{path}");
    }
    let mine = "token-request-1";
    let r = app
        .post("/oauth/token")
        .header("x-request-id", mine)
        .basic(&w.provider_client.id, "wrong")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(401);
    assert_eq!(r.header("x-request-id").as_deref(), Some(mine));
}

/// A labelled sample line of `name` whose labels include all of `labels`.
fn sample<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|want| l.contains(want)))
}

async fn metrics_use_route_templates(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    app.get_as(t, &format!("/v2/phone/numbers/{}", w.free.id))
        .await
        .expect(200);
    app.get(&format!(
        "/v2/phone/numbers/{}",
        enc(w.held.phone_number.as_str())
    ))
    .bearer(t)
    .send()
    .await
    .expect(200);
    app.get_as(t, &format!("/v2/phone/numbers/{}/history", w.free.id))
        .await
        .expect(200);
    app.get_as(t, "/v2/phone/numbers/not-a-number")
        .await
        .expect(404);
    app.get("/no/such/route").send().await.expect(404);
    let r = app.get("/metrics").send().await.expect(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    let text = r.text();
    let route = "route=\"/v2/phone/numbers/{numberId}\"";
    let line = sample(
        &text,
        "http_requests_total",
        &[route, "method=\"GET\"", "status=\"200\""],
    )
    .unwrap_or_else(|| panic!("no http_requests_total for {route} 200 in:\n{text}"));
    let count: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .must("a count");
    assert!(count >= 2.0, "{line}");
    sample(&text, "http_requests_total", &[route, "status=\"404\""])
        .unwrap_or_else(|| panic!("the 404 by a bad id counts under the template:\n{text}"));
    sample(
        &text,
        "http_requests_total",
        &["route=\"/v2/phone/numbers/{numberId}/history\""],
    )
    .unwrap_or_else(|| panic!("no history route:\n{text}"));
    sample(
        &text,
        "http_request_duration_seconds_bucket",
        &[route, "le=\""],
    )
    .unwrap_or_else(|| panic!("no latency buckets for {route}:\n{text}"));
    for le in ["le=\"0.005\"", "le=\"1\"", "le=\"+Inf\""] {
        sample(&text, "http_request_duration_seconds_bucket", &[le])
            .unwrap_or_else(|| panic!("no bucket {le}:\n{text}"));
    }
    for gauge in [
        "db_pool_connections",
        "db_pool_idle_connections",
        "db_pool_max_connections",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(gauge)),
            "no {gauge} in:\n{text}"
        );
    }
    // Never a raw path: no ids, numbers or unknown paths become labels.
    for raw in [
        w.free.id.to_string(),
        w.held.phone_number.as_str().to_string(),
        "%2B1415".to_string(),
        "not-a-number".to_string(),
        "/no/such/route".to_string(),
    ] {
        assert!(!text.contains(&raw), "/metrics holds the raw path {raw}");
    }
}

/// Label values come from the server, never from the caller: requests with made-up methods
/// must not each add a series to `/metrics` (unbounded cardinality).
async fn metrics_labels_are_bounded(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let made_up: Vec<String> = (0..5)
        .map(|i| format!("NPMETHOD{i}{}", uuid::Uuid::new_v4().simple()).to_uppercase())
        .collect();
    for m in &made_up {
        for path in ["/nope", "/v2/phone/numbers", "/healthz"] {
            let r = app
                .req(m.parse().must("an extension method"), path)
                .bearer(&w.provider_client.token)
                .send()
                .await;
            assert!(r.status >= 400, "{}: {}", r.what, r.status);
        }
    }
    let text = app.get("/metrics").send().await.expect(200).text();
    for m in &made_up {
        assert!(
            !text.contains(m.as_str()),
            "the made-up method {m} became a metric label:\n{}",
            text.lines()
                .filter(|l| l.contains(m.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

backend_tests!(
    request_ids_are_echoed_or_made,
    metrics_use_route_templates,
    metrics_labels_are_bounded,
);
