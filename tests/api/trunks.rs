//! `/v2/sip_trunks` and `/v2/carriers` over HTTP: create, read, list, edit with `If-Match`,
//! delete, and the refusals (409 `already_exists`, 422 R-PROV-1/2/3, 404 R-SEC-1), plus the
//! default carrier a number gets when a capability is turned on.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

/// Trunks: several per provider, unique names, ETag and If-Match, in-use delete refused.
async fn sip_trunk_routes(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let r = app
        .post("/v2/sip_trunks")
        .bearer(t)
        .json(&json!({"name": "eu-1", "region": "eu-west"}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""), "{}", r.text());
    let trunk = r.json();
    let id = trunk["id"].as_str().must("id").to_string();
    assert_eq!(trunk["provider_id"], json!(w.provider.id));
    app.post("/v2/sip_trunks")
        .bearer(t)
        .json(&json!({"name": "eu-1", "region": "us-east"}))
        .send()
        .await
        .expect_error(409, "already_exists");
    app.post("/v2/sip_trunks")
        .bearer(t)
        .json(&json!({"name": "x", "region": "us", "extra": 1}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    let list = app
        .get_as(t, "/v2/sip_trunks?page_size=1")
        .await
        .expect(200)
        .json();
    assert_eq!(list["total_records"], 2, "{list}");
    assert_eq!(list["sip_trunks"].as_array().must("trunks").len(), 1);
    let token = list["next_page_token"].as_str().must("a next page");
    let rest = app
        .get(&format!(
            "/v2/sip_trunks?page_size=1&next_page_token={token}"
        ))
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        rest["sip_trunks"][0]["id"].as_str(),
        Some(id.as_str()),
        "{rest}"
    );
    assert_eq!(rest["next_page_token"], "", "the last page");
    let path = format!("/v2/sip_trunks/{id}");
    app.patch(&path)
        .bearer(t)
        .header("if-match", "\"5\"")
        .json(&json!({"region": "eu-central"}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", "\"1\"")
        .json(&json!({"region": "eu-central"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(r.json()["region"], "eu-central");
    // A customer may not create one; the tenant and the customer do not find it.
    app.post("/v2/sip_trunks")
        .bearer(&w.customer_client.token)
        .json(&json!({"name": "mine", "region": "us"}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    let customer_list = app
        .get_as(&w.customer_client.token, "/v2/sip_trunks")
        .await
        .expect(200)
        .json();
    assert_eq!(customer_list["total_records"], 0, "{customer_list}");
    for token in [&w.customer_client.token, &w.tenant_client.token] {
        app.get_as(token, &path)
            .await
            .expect_error(404, "not_found");
    }
    // The fixture trunk carries numbers: R-PROV-2.
    let r = app
        .delete_as(t, &format!("/v2/sip_trunks/{}", w.trunk))
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-2", "{}", r.text());
    app.delete(&path)
        .bearer(t)
        .header("if-match", "\"2\"")
        .send()
        .await
        .expect(204);
    app.get_as(t, &path).await.expect_error(404, "not_found");
    app.get_as(t, "/v2/sip_trunks/not-an-id")
        .await
        .expect_error(404, "not_found");
}

/// The default trunk (R-PROV-3): the first is it, a new default takes over on create or
/// PATCH, and the default can be neither un-set nor deleted while other trunks remain.
async fn sip_trunk_default(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let get = async |id: &str| {
        app.get_as(t, &format!("/v2/sip_trunks/{id}"))
            .await
            .expect(200)
            .json()
    };
    let fixture = w.trunk.to_string();
    assert_eq!(get(&fixture).await["is_default"], true, "the first trunk");
    let create = async |body: serde_json::Value| {
        app.post("/v2/sip_trunks")
            .bearer(t)
            .json(&body)
            .send()
            .await
            .expect(201)
            .json()
    };
    let b = create(json!({"name": "b", "region": "us"})).await;
    assert_eq!(b["is_default"], false, "{b}");
    let c = create(json!({"name": "c", "region": "us", "is_default": true})).await;
    assert_eq!(c["is_default"], true, "{c}");
    assert_eq!(
        get(&fixture).await["is_default"],
        false,
        "the default moved"
    );
    let c_id = c["id"].as_str().must("id").to_string();
    let b_id = b["id"].as_str().must("id").to_string();
    let r = app
        .patch(&format!("/v2/sip_trunks/{c_id}"))
        .bearer(t)
        .json(&json!({"is_default": false}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-3", "{}", r.text());
    let r = app
        .patch(&format!("/v2/sip_trunks/{b_id}"))
        .bearer(t)
        .json(&json!({"is_default": true}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r["is_default"], true, "{r}");
    assert_eq!(r["version"], 2, "{r}");
    assert_eq!(get(&c_id).await["is_default"], false);
    let list = app
        .get_as(t, "/v2/sip_trunks?page_size=100")
        .await
        .expect(200)
        .json();
    let defaults = list["sip_trunks"]
        .as_array()
        .must("sip_trunks")
        .iter()
        .filter(|x| x["is_default"] == true)
        .count();
    assert_eq!(defaults, 1, "exactly one default");
    // The default goes last; another trunk goes any time.
    let r = app
        .delete_as(t, &format!("/v2/sip_trunks/{b_id}"))
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-3", "{}", r.text());
    app.delete_as(t, &format!("/v2/sip_trunks/{c_id}"))
        .await
        .expect(204);
}

/// Carriers: the first of a kind is the default, a new default takes over, the default cannot
/// be un-set or deleted while others remain, the kind filter, and numbers get the default.
async fn carrier_routes(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let create = |body: serde_json::Value| {
        let app = &w.app;
        async move {
            app.post("/v2/carriers")
                .bearer(t)
                .json(&body)
                .send()
                .await
                .expect(201)
                .json()
        }
    };
    // The fixture's "Carrier Prime" is the voice default; the first SMS profile becomes its kind's.
    let sms = create(json!({"kind": "sms", "name": "SMS One", "is_default": false})).await;
    assert_eq!(sms["is_default"], true, "{sms}");
    let v2 = create(json!({"kind": "voice", "name": "Voice Two", "is_default": true})).await;
    assert_eq!(v2["is_default"], true);
    let prime = app
        .get_as(t, &format!("/v2/carriers/{}", w.carrier))
        .await
        .expect(200);
    assert_eq!(prime.json()["is_default"], false, "{}", prime.text());
    assert_eq!(prime.header("etag").as_deref(), Some("\"2\""));
    app.post("/v2/carriers")
        .bearer(t)
        .json(&json!({"kind": "voice", "name": "Voice Two"}))
        .send()
        .await
        .expect_error(409, "already_exists");
    app.post("/v2/carriers")
        .bearer(t)
        .json(&json!({"kind": "fax", "name": "F"}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    let voice = app
        .get_as(t, "/v2/carriers?kind=voice")
        .await
        .expect(200)
        .json();
    assert_eq!(voice["total_records"], 2, "{voice}");
    app.get_as(t, "/v2/carriers?kind=fax")
        .await
        .expect_error(400, "invalid_input");
    let v2_path = format!("/v2/carriers/{}", v2["id"].as_str().must("id"));
    let r = app
        .patch(&v2_path)
        .bearer(t)
        .json(&json!({"is_default": false}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-3");
    let r = app
        .delete_as(t, &v2_path)
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-3");
    // A number added now gets the default voice carrier; turning SMS on gets the SMS default.
    let n = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"phone_number": e164(777).as_str()}))
        .send()
        .await
        .expect(201)
        .json();
    let n = if n["id"].is_string() {
        n
    } else {
        n["numbers"][0].clone()
    };
    assert_eq!(n["voice_carrier_id"], v2["id"], "{n}");
    assert_eq!(n["sms_carrier_id"], json!(null), "{n}");
    let n_path = format!("/v2/phone/numbers/{}", n["id"].as_str().must("number id"));
    let n = app
        .patch(&n_path)
        .bearer(t)
        .json(&json!({"capabilities": ["voice", "sms"]}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(n["sms_carrier_id"], sms["id"], "{n}");
    let r = app
        .delete_as(
            t,
            &format!("/v2/carriers/{}", sms["id"].as_str().must("id")),
        )
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-2");
    // Making the fixture's carrier the default again lets v2 go.
    app.patch(&format!("/v2/carriers/{}", w.carrier))
        .bearer(t)
        .header("if-match", "\"2\"")
        .json(&json!({"is_default": true, "name": "Carrier Prime A"}))
        .send()
        .await
        .expect(200);
    // The number still uses v2: R-PROV-2 now, not R-PROV-3.
    let r = app
        .delete_as(t, &v2_path)
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-PROV-2");
    // Others find nothing; a customer lists none.
    for token in [&w.customer_client.token, &w.tenant_client.token] {
        app.get_as(token, &v2_path)
            .await
            .expect_error(404, "not_found");
        app.delete_as(token, &v2_path)
            .await
            .expect_error(404, "not_found");
    }
    let c = app
        .get_as(&w.customer_client.token, "/v2/carriers")
        .await
        .expect(200)
        .json();
    assert_eq!(c["total_records"], 0, "{c}");
}

backend_tests!(sip_trunk_routes, sip_trunk_default, carrier_routes);
