//! `/v2/attributes` over HTTP: create, read, list, replace allowed values with `If-Match`,
//! delete, the refusals (400, 409 `already_exists`, 422 R-PROV-1/R-ATTR-1, 404 R-SEC-1), the
//! check of a number's `attributes` on add and edit, and `?attribute=key:value` on the list.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

fn first(n: Value) -> Value {
    if n["id"].is_string() {
        n
    } else {
        n["numbers"][0].clone()
    }
}

async fn total(app: &App, token: &str, q: &str) -> i64 {
    let l = app
        .get_as(token, &format!("/v2/phone/numbers?attribute={q}"))
        .await
        .expect(200)
        .json();
    l["total_records"].as_i64().must("total")
}

async fn attribute_routes(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let r = app
        .post("/v2/attributes")
        .bearer(t)
        .json(&json!({"key": "region", "allowed_values": ["emea", "a\"b", "50%_off", "Emea"]}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{}", r.text());
    let attr = r.json();
    let id = attr["id"].as_str().must("id").to_string();
    let path = format!("/v2/attributes/{id}");
    assert_eq!(attr["provider_id"], json!(w.provider.id));
    app.post("/v2/attributes")
        .bearer(t)
        .json(&json!({"key": "region", "allowed_values": ["x"]}))
        .send()
        .await
        .expect_error(409, "already_exists");
    for bad in [
        json!({"key": "Region", "allowed_values": ["x"]}),
        json!({"key": "k", "allowed_values": []}),
        json!({"key": "k", "allowed_values": ["x", "x"]}),
        json!({"key": "k", "allowed_values": [""]}),
    ] {
        app.post("/v2/attributes")
            .bearer(t)
            .json(&bad)
            .send()
            .await
            .expect_error(400, "invalid_input");
    }
    let list = app.get_as(t, "/v2/attributes").await.expect(200).json();
    assert_eq!(list["total_records"], 2, "{list}");
    // The reseller reads its provider's keys; it writes none (R-PROV-1).
    let reseller = app.client(&w.reseller, None).await;
    app.get_as(&reseller.token, &path).await.expect(200);
    let r = app
        .post("/v2/attributes")
        .bearer(&reseller.token)
        .json(&json!({"key": "mine", "allowed_values": ["x"]}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-1");
    // Customers and other tenants see none.
    for token in [&w.customer_client.token, &w.tenant_client.token] {
        app.get_as(token, &path)
            .await
            .expect_error(404, "not_found");
        let l = app.get_as(token, "/v2/attributes").await.expect(200).json();
        assert_eq!(l["total_records"], 0, "{l}");
        app.delete_as(token, &path)
            .await
            .expect_error(404, "not_found");
    }

    // Numbers: unknown key or value is 400 naming the key; allowed ones are kept.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"phone_number": e164(901).as_str(), "attributes": {"colour": "red"}}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.text().contains("colour"), "{}", r.text());
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"phone_number": e164(901).as_str(), "attributes": {"region": "apac"}}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.text().contains("region"), "{}", r.text());
    let a = first(
        app.post("/v2/phone/numbers")
            .bearer(t)
            .json(&json!({"phone_number": e164(901).as_str(), "attributes": {"region": "a\"b"}}))
            .send()
            .await
            .expect(201)
            .json(),
    );
    assert_eq!(a["attributes"]["region"], "a\"b", "{a}");
    let b = first(
        app.post("/v2/phone/numbers")
            .bearer(t)
            .json(&json!({"phone_number": e164(902).as_str(), "attributes": {"region": "emea", "tier": "gold"}}))
            .send()
            .await
            .expect(201)
            .json(),
    );
    let b_path = format!("/v2/phone/numbers/{}", b["id"].as_str().must("number id"));
    app.patch(&b_path)
        .bearer(t)
        .json(&json!({"attributes": {"tier": "bronze"}}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    app.patch(&b_path)
        .bearer(t)
        .json(&json!({"attributes": {"region": "50%_off", "tier": "gold"}}))
        .send()
        .await
        .expect(200);

    // The list filter: exact, case-sensitive, quotes and LIKE wildcards taken literally.
    let count = |q: &'static str| total(app, t, q);
    assert_eq!(count("region:a%22b").await, 1);
    assert_eq!(count("region:50%25_off").await, 1);
    assert_eq!(count("region:50%25%25off").await, 0);
    assert_eq!(count("region:50").await, 0);
    assert_eq!(count("region:Emea").await, 0);
    assert_eq!(count("tier:gold").await, 1);
    assert_eq!(count("region:emea").await, 0);
    app.get_as(t, "/v2/phone/numbers?attribute=region")
        .await
        .expect_error(400, "invalid_input");
    // A key no attribute can have (upper case, a quote) is a 400 naming the filter.
    for bad in ["Region:emea", "re%22gion:emea"] {
        let r = app
            .get_as(t, &format!("/v2/phone/numbers?attribute={bad}"))
            .await
            .expect_error(400, "invalid_input");
        assert!(r.text().contains("attribute"), "{}", r.text());
    }

    // R-ATTR-1: a value or key numbers carry stays; a free one goes.
    let r = app
        .patch(&path)
        .bearer(t)
        .json(&json!({"allowed_values": ["emea", "50%_off"]}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-ATTR-1");
    app.patch(&path)
        .bearer(t)
        .header("if-match", "\"7\"")
        .json(&json!({"allowed_values": ["a\"b", "50%_off"]}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", "\"1\"")
        .json(&json!({"allowed_values": ["a\"b", "50%_off", "apac"]}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        r.json()["allowed_values"],
        json!(["a\"b", "50%_off", "apac"])
    );
    let r = app
        .delete_as(t, &format!("/v2/attributes/{}", w.attribute))
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-ATTR-1");
    app.patch(&b_path)
        .bearer(t)
        .json(&json!({"attributes": {}}))
        .send()
        .await
        .expect(200);
    app.delete_as(t, &format!("/v2/attributes/{}", w.attribute))
        .await
        .expect(204);
    app.get_as(t, &format!("/v2/attributes/{}", w.attribute))
        .await
        .expect_error(404, "not_found");
}

backend_tests!(attribute_routes);
