//! `/v2/phone/reservations` and `/v2/phone/reservation_settings` over HTTP: a reservation's
//! shape, its numbers hidden from the pool's search and refused to any other account, provision
//! to its account fulfilling it, its time moved (with `If-Match`) and released early, each
//! refusal with its code, and the provider's default time. Expiry runs on a clock the service
//! tests move (tests/service/reservations.rs).

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

fn phones(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .must(key)
        .iter()
        .map(|n| {
            n.as_str()
                .or_else(|| n["phone_number"].as_str())
                .must("phone number")
                .to_string()
        })
        .collect()
}

async fn reservations(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [
            {"phone_number": "+14155556001"},
            {"phone_number": "+14155556002"},
            {"phone_number": "+14155556003"},
        ]}))
        .send()
        .await
        .expect(201);
    let reserve = |body: Value| app.post("/v2/phone/reservations").bearer(t).json(&body);
    let r = reserve(json!({"phone_numbers": ["+14155556002", "+14155556001"],
                           "account_id": w.customer.id, "ttl_seconds": 3600}))
    .send()
    .await
    .expect(201);
    let etag = r.header("etag").must("etag");
    let r = r.json();
    assert_eq!(r["status"], "active", "{r}");
    assert_eq!(r["account_id"], json!(w.customer.id), "{r}");
    assert_eq!(r["pool_id"], json!(w.provider.id), "{r}");
    assert_eq!(r["size"], 2, "{r}");
    assert_eq!(r["seconds_left"], 3600, "{r}");
    assert_eq!(
        phones(&r, "phone_numbers"),
        ["+14155556001", "+14155556002"],
        "{r}"
    );
    assert!(
        r["expires_at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{r}"
    );
    let path = format!("/v2/phone/reservations/{}", r["id"].as_str().must("id"));

    // The number shows its reservation; the pool's search leaves it out.
    let n = app
        .get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155556001")))
        .await
        .expect(200)
        .json();
    assert_eq!(n["reservation_id"], r["id"], "{n}");
    assert_eq!(n["reserved_until"], r["expires_at"], "{n}");
    let found = app
        .get_as(
            t,
            "/v2/phone/numbers/available?contains=41555560*&quantity=100",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        phones(&found, "available_numbers"),
        ["+14155556003"],
        "{found}"
    );

    // Refusals.
    let e = reserve(json!({"phone_numbers": ["+14155556003", "+14155556001"],
                           "account_id": w.customer.id}))
    .send()
    .await
    .expect_error(409, "conflict");
    assert!(e.text().contains("+14155556001"), "{}", e.text());
    for (body, needle) in [
        (
            json!({"phone_numbers": ["+14155556003"], "account_id": w.customer.id, "ttl_seconds": 5}),
            "ttl_seconds",
        ),
        (
            json!({"phone_numbers": [], "account_id": w.customer.id}),
            "phone_numbers",
        ),
        (
            json!({"phone_numbers": ["12"], "account_id": w.customer.id}),
            "phone_numbers[0]",
        ),
    ] {
        let r = reserve(body.clone()).send().await.expect(400);
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
    reserve(json!({"phone_numbers": ["+14155556003"], "account_id": w.tenant_customer.id}))
        .send()
        .await
        .expect_error(404, "not_found");
    app.post("/v2/phone/reservations")
        .bearer(&w.customer_client.token)
        .json(&json!({"phone_numbers": ["+14155556003"], "account_id": w.customer.id}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    let v = app
        .post("/v2/phone/numbers/provision")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+14155556001"], "site_id": w.res_customer.id}))
        .send()
        .await
        .json();
    assert!(v["rule"] == "R-RES-2" || v["rule"] == "R-MOVE-1", "{v}");
    app.get_as(&w.tenant_client.token, &path).await.expect(404);

    // The customer sees it; the time moves with If-Match, a stale one is 412.
    let seen = app
        .get_as(&w.customer_client.token, "/v2/phone/reservations")
        .await
        .expect(200)
        .json();
    assert_eq!(seen["total_records"], 1, "{seen}");
    let moved = app
        .patch(&path)
        .bearer(t)
        .header("if-match", &etag)
        .json(&json!({"ttl_seconds": 7200}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(moved["seconds_left"], 7200, "{moved}");
    app.patch(&path)
        .bearer(t)
        .header("if-match", &etag)
        .json(&json!({"ttl_seconds": 7200}))
        .send()
        .await
        .expect_error(412, "precondition_failed");

    // Provisioned to its account, one then the other: fulfilled.
    for n in ["+14155556001", "+14155556002"] {
        app.post("/v2/phone/numbers/provision")
            .bearer(t)
            .json(&json!({"phone_numbers": [n], "site_id": w.customer.id}))
            .send()
            .await
            .expect(200);
    }
    let done = app.get_as(t, &path).await.expect(200).json();
    assert_eq!(done["status"], "provisioned", "{done}");
    assert_eq!(done["phone_numbers"], json!([]), "{done}");
    app.delete_as(t, &path)
        .await
        .expect_error(422, "rule_violation");

    // Released early by the account it is for: the number is free again.
    let r2 = reserve(json!({"phone_numbers": ["+14155556003"], "account_id": w.customer.id}))
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(r2["seconds_left"], 86400, "one day by default: {r2}");
    let p2 = format!("/v2/phone/reservations/{}", r2["id"].as_str().must("id"));
    let gone = app
        .delete_as(&w.customer_client.token, &p2)
        .await
        .expect(200)
        .json();
    assert_eq!(gone["status"], "released", "{gone}");
    let found = app
        .get_as(
            t,
            "/v2/phone/numbers/available?contains=41555560*&quantity=100",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        phones(&found, "available_numbers"),
        ["+14155556003"],
        "{found}"
    );

    // The provider's default time.
    let s = app
        .get_as(t, "/v2/phone/reservation_settings")
        .await
        .expect(200)
        .json();
    assert_eq!(s["default_ttl_seconds"], 86400, "{s}");
    let set = app
        .patch("/v2/phone/reservation_settings")
        .bearer(t)
        .json(&json!({"default_ttl_seconds": 900}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(set["default_ttl_seconds"], 900, "{set}");
    let r3 = reserve(json!({"phone_numbers": ["+14155556003"], "account_id": w.customer.id}))
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(r3["seconds_left"], 900, "{r3}");
    app.patch("/v2/phone/reservation_settings")
        .bearer(t)
        .json(&json!({"default_ttl_seconds": 10}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    app.patch("/v2/phone/reservation_settings")
        .bearer(&w.customer_client.token)
        .json(&json!({"default_ttl_seconds": 900}))
        .send()
        .await
        .expect_error(422, "rule_violation");
}

backend_tests!(reservations);
