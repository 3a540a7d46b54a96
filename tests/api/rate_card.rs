//! `/v2/rate_card` over HTTP: create (country upper-cased, currency default USD), read with the
//! decimal `monthly_cost` beside `monthly_cost_cents`, list with `?country=&type=`, update with
//! `If-Match`, delete, and the refusals (400, 409 `already_exists`, 422 R-PROV-1, 404 R-SEC-1).

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

async fn rate_card_routes(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    // The world has US/local at 100 cents.
    let r = app
        .post("/v2/rate_card")
        .bearer(t)
        .json(&json!({"country": "gb", "number_type": "mobile", "monthly_cost_cents": 1234}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{}", r.text());
    let rate = r.json();
    assert_eq!(rate["country"], "GB", "{rate}");
    assert_eq!(rate["number_type"], "mobile");
    assert_eq!(rate["currency"], "USD");
    assert_eq!(rate["monthly_cost_cents"], 1234);
    assert_eq!(rate["monthly_cost"], json!(12.34));
    assert_eq!(rate["provider_id"], json!(w.provider.id));
    let id = rate["id"].as_str().must("id").to_string();
    let path = format!("/v2/rate_card/{id}");
    let seeded = app
        .get_as(t, &format!("/v2/rate_card/{}", w.rate))
        .await
        .expect(200)
        .json();
    assert_eq!(seeded["monthly_cost"].as_f64(), Some(1.0), "{seeded}");
    assert_eq!(seeded["monthly_cost_cents"], 100);
    app.post("/v2/rate_card")
        .bearer(t)
        .json(&json!({"country": "US", "number_type": "local", "monthly_cost_cents": 5}))
        .send()
        .await
        .expect_error(409, "already_exists");
    for bad in [
        json!({"country": "ZZ", "number_type": "local", "monthly_cost_cents": 1}),
        json!({"country": "FR", "number_type": "fixed", "monthly_cost_cents": 1}),
        json!({"country": "FR", "number_type": "local", "monthly_cost_cents": -1}),
        json!({"country": "FR", "number_type": "local", "monthly_cost_cents": 100_000_001}),
        json!({"country": "FR", "number_type": "local", "monthly_cost_cents": 1.5}),
        json!({"country": "FR", "number_type": "local", "monthly_cost": 1.0}),
        json!({"country": "FR", "number_type": "local", "monthly_cost_cents": 1, "currency": "EURO"}),
    ] {
        app.post("/v2/rate_card")
            .bearer(t)
            .json(&bad)
            .send()
            .await
            .expect_error(400, "invalid_input");
    }
    let list = app.get_as(t, "/v2/rate_card").await.expect(200).json();
    assert_eq!(list["total_records"], 2, "{list}");
    for (q, n) in [
        ("country=us", 1),
        ("country=GB&type=mobile", 1),
        ("type=mobile", 1),
        ("type=toll_free", 0),
    ] {
        let l = app
            .get_as(t, &format!("/v2/rate_card?{q}"))
            .await
            .expect(200)
            .json();
        assert_eq!(l["total_records"], n, "{q}: {l}");
    }
    for q in ["country=ZZ", "type=fixed"] {
        app.get_as(t, &format!("/v2/rate_card?{q}"))
            .await
            .expect_error(400, "invalid_input");
    }

    // The reseller reads its provider's entries; it writes none (R-PROV-1).
    let reseller = app.client(&w.reseller, None).await;
    app.get_as(&reseller.token, &path).await.expect(200);
    let r = app
        .post("/v2/rate_card")
        .bearer(&reseller.token)
        .json(&json!({"country": "DE", "number_type": "local", "monthly_cost_cents": 1}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-1");
    // Customers and other tenants see none.
    for token in [&w.customer_client.token, &w.tenant_client.token] {
        app.get_as(token, &path)
            .await
            .expect_error(404, "not_found");
        let l = app.get_as(token, "/v2/rate_card").await.expect(200).json();
        assert_eq!(l["total_records"], 0, "{l}");
        app.delete_as(token, &path)
            .await
            .expect_error(404, "not_found");
    }

    // Update with If-Match.
    app.patch(&path)
        .bearer(t)
        .header("if-match", "\"7\"")
        .json(&json!({"monthly_cost_cents": 99}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    app.patch(&path)
        .bearer(t)
        .json(&json!({"country": "FR"}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", "\"1\"")
        .json(&json!({"monthly_cost_cents": 50, "currency": "eur"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    let updated = r.json();
    assert_eq!(updated["monthly_cost"], json!(0.5), "{updated}");
    assert_eq!(updated["currency"], "EUR");
    app.delete(&path)
        .bearer(t)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect_error(412, "precondition_failed");
    app.delete(&path)
        .bearer(t)
        .header("if-match", "\"2\"")
        .send()
        .await
        .expect(204);
    app.get_as(t, &path).await.expect_error(404, "not_found");
}

backend_tests!(rate_card_routes);
