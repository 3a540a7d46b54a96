//! Errors at the HTTP edge: bodies that name the bad field (also nested and inside a batch),
//! malformed JSON, size and media type, phone numbers, duplicates, rule refusals and unknown
//! routes, each with its stable code.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

async fn bad_bodies_name_the_field(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let add = |body: serde_json::Value| app.post("/v2/phone/numbers").bearer(t).json(&body);
    let ok = |i: u32| json!({"phone_number": e164(i).as_str()});

    // Unknown fields, top level and nested, in one and in a batch.
    for (body, field) in [
        (
            json!({"phone_number": e164(300).as_str(), "colour": "red"}),
            "colour",
        ),
        (
            json!({"numbers": [ok(301), {"phone_number": e164(302).as_str(), "flavour": 1}]}),
            "flavour",
        ),
        (json!({"numbers": [ok(303)], "extra": true}), "extra"),
        (
            json!({"phone_number": e164(304).as_str(),
                   "capabilities": ["voice", "telex"]}),
            "telex",
        ),
    ] {
        let r = add(body.clone())
            .send()
            .await
            .expect_error(400, "invalid_input");
        assert!(r.message().contains(field), "{body}: {}", r.text());
    }
    // Wrong types name the path of the field.
    for (body, path) in [
        (json!({"phone_number": 14155550300u64}), "phone_number"),
        (
            json!({"phone_number": e164(305).as_str(), "status": 3}),
            "status",
        ),
        (
            json!({"phone_number": e164(306).as_str(),
                   "capabilities": ["voice", true]}),
            "capabilities[1]",
        ),
        (
            json!({"numbers": [ok(307), ok(308), ok(309),
                   {"phone_number": e164(310).as_str(),
                    "capabilities": {"voice": true}}]}),
            "numbers[3].capabilities",
        ),
        (
            json!({"numbers": [ok(311), {"phone_number": 5}]}),
            "numbers[1].phone_number",
        ),
        (json!({"numbers": "all of them"}), "numbers"),
    ] {
        let r = add(body.clone())
            .send()
            .await
            .expect_error(400, "invalid_input");
        assert!(r.message().contains(path), "{body}: {}", r.text());
    }
    // Bodies of the other operations name their fields too.
    let n = format!("/v2/phone/numbers/{}", w.free.id);
    for (method, path, body, field) in [
        (
            "POST",
            format!("{n}/allocate"),
            json!({"account_id": 5}),
            "account_id",
        ),
        (
            "POST",
            format!("{n}/allocate"),
            json!({"account_id": w.customer.id, "trunk": "x"}),
            "trunk",
        ),
        (
            "PATCH",
            n.clone(),
            json!({"customization": {"capacity": "huge", "voice_direction": "both",
                   "messaging": "none", "outbound_dialer": false, "outbound_cli_shared": false}}),
            "customization.capacity",
        ),
        ("PATCH", n.clone(), json!({"status": true}), "status"),
        (
            "POST",
            format!("{n}/assign"),
            json!({"assignee_type": "robot", "assignee_id": "r1"}),
            "assignee_type",
        ),
        (
            "POST",
            "/v2/accounts".to_string(),
            json!({"name": "X", "kind": "empire"}),
            "kind",
        ),
        (
            "POST",
            "/v2/api_clients".to_string(),
            json!({"scopes": "phone:read:admin"}),
            "scopes",
        ),
    ] {
        let r = app
            .req(method.parse().must("method"), &path)
            .bearer(t)
            .json(&body)
            .send()
            .await
            .expect_error(400, "invalid_input");
        assert!(
            r.message().contains(field),
            "{method} {path} {body}: {}",
            r.text()
        );
    }
    // Missing required field.
    let r = add(json!({"status": "active"}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("phone_number"), "{}", r.text());
    // Nothing was added by any of them.
    let list = app.list_all(t, "/v2/phone/numbers", "contains=5550").await;
    assert!(
        list.iter()
            .all(|n| !n["phone_number"].as_str().unwrap_or("").contains("55503")),
        "a refused request added numbers"
    );
}

async fn malformed_large_and_non_json_bodies(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    for raw in [
        &b"{"[..],
        b"{\"phone_number\": }",
        b"not json",
        b"{\"phone_number\": \"+14155550300\",}",
        b"\xff\xfe",
    ] {
        app.post("/v2/phone/numbers")
            .bearer(t)
            .raw("application/json", raw.to_vec())
            .send()
            .await
            .expect_error(400, "malformed_json");
    }
    let n = format!("/v2/phone/numbers/{}", w.free.id);
    app.patch(&n)
        .bearer(t)
        .raw("application/json", b"{\"status\": ".to_vec())
        .send()
        .await
        .expect_error(400, "malformed_json");
    app.delete(&format!("/v2/phone/numbers/{}/assign", w.assigned.id))
        .bearer(&w.customer_client.token)
        .raw("application/json", b"{oops".to_vec())
        .send()
        .await
        .expect_error(400, "malformed_json");

    // Not JSON: 415, on every JSON operation.
    for (method, path) in [
        ("POST", "/v2/phone/numbers".to_string()),
        ("PATCH", n.clone()),
        ("POST", format!("{n}/allocate")),
        ("POST", format!("{n}/assign")),
        ("POST", "/v2/accounts".to_string()),
        ("POST", "/v2/api_clients".to_string()),
    ] {
        for ct in ["text/plain", "application/x-www-form-urlencoded", ""] {
            app.req(method.parse().must("method"), &path)
                .bearer(t)
                .raw(ct, b"{\"phone_number\": \"+14155550300\"}".to_vec())
                .send()
                .await
                .expect_error(415, "unsupported_media_type");
        }
    }
    // `application/json; charset=utf-8` and `+json` types are JSON.
    app.post("/v2/phone/numbers")
        .bearer(t)
        .raw(
            "application/json; charset=utf-8",
            json!({"phone_number": e164(320).as_str()})
                .to_string()
                .into_bytes(),
        )
        .send()
        .await
        .expect(201);

    // Over 1 MiB: 413, with or without an Idempotency-Key; a body just under is read.
    let mut big = b"{\"phone_number\": \"+14155550321\", \"display_name\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1024 * 1024 + 10));
    big.extend(b"\"}");
    for key in [None, Some("big-body-key")] {
        let mut req = app
            .post("/v2/phone/numbers")
            .bearer(t)
            .raw("application/json", big.clone());
        if let Some(k) = key {
            req = req.idempotency_key(k);
        }
        match req.try_send().await {
            Ok(r) => {
                r.expect_error(413, "payload_too_large");
            }
            Err(e) => panic!("a 1 MiB body: the server closed without a 413: {e}"),
        }
    }
    let mut just_under = b"{\"phone_number\": \"+14155550322\", \"display_name\": \"".to_vec();
    let room = 1024 * 1024 - just_under.len() - 2;
    just_under.extend(std::iter::repeat_n(b'x', room));
    just_under.extend(b"\"}");
    assert_eq!(just_under.len(), 1024 * 1024);
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .raw("application/json", just_under)
        .send()
        .await;
    assert_ne!(
        r.status,
        413,
        "a body of exactly 1 MiB is allowed: {}",
        r.text()
    );
    assert_eq!(
        r.status / 100,
        4,
        "(a 500-character limit refuses it): {}",
        r.text()
    );
}

async fn numbers_duplicates_and_rules(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    // Unparseable numbers: 400 invalid_number with R-NUM-2, naming the field.
    for bad in [
        "not-a-number",
        "+1",
        "020 7183 8750",
        "+999123",
        "",
        "+1415555010012345",
    ] {
        let r = app
            .post("/v2/phone/numbers")
            .bearer(t)
            .json(&json!({"phone_number": bad}))
            .send()
            .await
            .expect_error(400, "invalid_number");
        assert_eq!(r.json()["rule"], "R-NUM-2", "{bad}: {}", r.text());
        assert!(r.message().contains("phone_number"), "{bad}: {}", r.text());
    }
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [{"phone_number": e164(330).as_str()}, {"phone_number": "12"}]}))
        .send()
        .await
        .expect_error(400, "invalid_number");
    assert!(
        r.message().contains("numbers[1].phone_number"),
        "{}",
        r.text()
    );
    // Duplicates: on the platform, and twice in one batch; the batch adds nothing.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"phone_number": w.held.phone_number.as_str()}))
        .send()
        .await
        .expect_error(409, "number_already_exists");
    assert_eq!(r.json()["rule"], "R-NUM-1");
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [{"phone_number": e164(331).as_str()},
                                  {"phone_number": w.free.phone_number.as_str()}]}))
        .send()
        .await
        .expect_error(409, "number_already_exists");
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [{"phone_number": e164(332).as_str()},
                                  {"phone_number": e164(332).as_str()}]}))
        .send()
        .await
        .expect_error(409, "number_already_exists");
    for i in [330, 331, 332] {
        app.get_as(t, &format!("/v2/phone/numbers/{}", enc(e164(i).as_str())))
            .await
            .expect_error(404, "not_found");
    }
    // Empty batch.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": []}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("numbers"), "{}", r.text());

    // Over the batch limit: 400 naming `numbers`, nothing added.
    let many: Vec<serde_json::Value> = (0..10_001u32)
        .map(|i| json!({"phone_number": format!("+1212{:07}", 2_000_000 + i)}))
        .collect();
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({ "numbers": many }))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("numbers"), "{}", r.text());

    // Rule refusals: 422 rule_violation with the rule.
    let rule = |r: crate::http::Resp, id: &str| {
        let r = r.expect_error(422, "rule_violation");
        assert_eq!(r.json()["rule"], id, "{}: {}", r.what, r.text());
    };
    let id = |n: &numberpool_domain::Number| format!("/v2/phone/numbers/{}", n.id);
    // Delete of an assigned number (held by the customer): not back in the pool.
    rule(
        app.delete(&id(&w.assigned)).bearer(t).send().await,
        "R-DEL-1",
    );
    rule(app.delete(&id(&w.held)).bearer(t).send().await, "R-DEL-1");
    // Only the uploader deletes.
    rule(
        app.delete(&id(&w.res_held)).bearer(t).send().await,
        "R-DEL-2",
    );
    // Release of a free number; unbind of a free one.
    rule(
        app.post(&format!("{}/release", id(&w.free)))
            .bearer(t)
            .send()
            .await,
        "R-MOVE-3",
    );
    rule(
        app.post(&format!("{}/unbind", id(&w.free)))
            .bearer(t)
            .send()
            .await,
        "R-MOVE-4",
    );
    // Allocate to a unit; allocate a customer's number again.
    rule(
        app.post(&format!("{}/allocate", id(&w.free)))
            .bearer(t)
            .json(&json!({"account_id": w.unit.id, "sip_trunk_id": w.trunk}))
            .send()
            .await,
        "R-MOVE-1",
    );
    // The provider assigns a number it does not hold as a customer.
    rule(
        app.post(&format!("{}/assign", id(&w.free)))
            .bearer(t)
            .json(&json!({"assignee_type": "user", "assignee_id": "u1"}))
            .send()
            .await,
        "R-MOVE-2",
    );
    // A second user on a single-user number.
    rule(
        app.post(&format!("{}/assign", id(&w.assigned)))
            .bearer(&w.customer_client.token)
            .json(&json!({"assignee_type": "user", "assignee_id": "user-kappa-2"}))
            .send()
            .await,
        "R-ASG-1",
    );
    // A customer creating a reseller (the tree rule).
    rule(
        app.post("/v2/accounts")
            .bearer(&w.customer_client.token)
            .json(&json!({"name": "Not allowed", "kind": "reseller"}))
            .send()
            .await,
        "R-TREE-1",
    );
    // Customisation rules on add.
    rule(
        app.post("/v2/phone/numbers")
            .bearer(t)
            .json(
                &json!({"phone_number": e164(333).as_str(), "product": "contact_center",
                "customization": {"capacity": "single_contact_center", "voice_direction": "both",
                "messaging": "none", "outbound_dialer": false, "outbound_cli_shared": false}}),
            )
            .send()
            .await,
        "R-CUST-1",
    );
    // A customer without R-ACC-2 cannot add numbers.
    rule(
        app.post("/v2/phone/numbers")
            .bearer(&w.customer_client.token)
            .json(&json!({"phone_number": e164(334).as_str()}))
            .send()
            .await,
        "R-ACC-2",
    );
    // Allocation to a customer needs a trunk: 400 naming it.
    let r = app
        .post(&format!("{}/allocate", id(&w.free)))
        .bearer(t)
        .json(&json!({"account_id": w.customer.id}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("sip_trunk_id"), "{}", r.text());
}

async fn unknown_routes_are_json_404(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    for path in [
        "/nope",
        "/v2",
        "/v2/phone",
        "/v2/phone/numberz",
        "/v3/phone/numbers",
        "/v2/phone/numbers/x/y/z",
    ] {
        for auth in [None, Some(t)] {
            let mut req = app.get(path);
            if let Some(a) = auth {
                req = req.bearer(a);
            }
            let r = req.send().await;
            assert_eq!(r.status, 404, "{path}: {}", r.text());
            assert_eq!(r.json()["code"], "not_found", "{path}: {}", r.text());
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("application/json")),
                "{path}: {:?}",
                r.headers
            );
        }
    }
    // Health checks need no token.
    assert_eq!(app.get("/healthz").send().await.expect(200).text(), "ok");
    app.get("/readyz").send().await.expect(200);
}

/// A known path with another method: 405 with `Allow`, and a JSON error like every other.
async fn wrong_method_is_json_405(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    for (method, path) in [
        ("PUT", "/v2/phone/numbers".to_string()),
        ("POST", "/v2/phone/inventory".to_string()),
        ("PUT", format!("/v2/phone/numbers/{}", w.free.id)),
    ] {
        let r = app
            .req(method.parse().must("method"), &path)
            .bearer(t)
            .send()
            .await
            .expect(405);
        assert!(r.header("allow").is_some(), "{}: {:?}", r.what, r.headers);
        assert!(
            serde_json::from_slice::<serde_json::Value>(&r.body)
                .is_ok_and(|v| v["code"].is_string() && v["message"].is_string()),
            "{}: a 405 without a JSON error body: {:?}",
            r.what,
            r.text()
        );
    }
}

/// `mode: partial`: the rows that pass are added, and every row's outcome comes back in order,
/// with the same code and rule a one-number add would answer; the default stays all or nothing.
async fn partial_batch_answers_every_row(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let rows = json!([
        {"phone_number": e164(401).as_str()},
        {"phone_number": e164(401).as_str()},
        {"phone_number": "12"},
        {"phone_number": e164(402).as_str(), "sip_trunk_id": "0196f0f0-0000-7000-8000-000000000000"},
        {"phone_number": e164(403).as_str(), "product": "contact_center",
         "customization": {"capacity": "single_contact_center", "voice_direction": "both",
                           "messaging": "none", "outbound_dialer": false, "outbound_cli_shared": false}},
        {"phone_number": e164(404).as_str()}
    ]);
    // All or nothing (the default): refused whole, nothing added.
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": rows}))
        .send()
        .await
        .expect_error(400, "invalid_number");
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": rows, "mode": "partial"}))
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(
        (r["added"].as_u64(), r["rejected"].as_u64()),
        (Some(2), Some(4)),
        "{r}"
    );
    let got: Vec<(String, Option<String>, Option<String>)> = r["rows"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|row| {
                    (
                        row["outcome"].as_str().unwrap_or_default().to_string(),
                        row["error"]["code"].as_str().map(str::to_string),
                        row["error"]["rule"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let row = |o: &str, c: Option<&str>, rule: Option<&str>| {
        (
            o.to_string(),
            c.map(str::to_string),
            rule.map(str::to_string),
        )
    };
    assert_eq!(
        got,
        vec![
            row("added", None, None),
            row("rejected", Some("number_already_exists"), Some("R-NUM-1")),
            row("rejected", Some("invalid_number"), Some("R-NUM-2")),
            row("rejected", Some("not_found"), Some("R-SEC-1")),
            row("rejected", Some("rule_violation"), Some("R-CUST-1")),
            row("added", None, None),
        ],
        "{r}"
    );
    assert_eq!(r["rows"][0]["number"]["phone_number"], e164(401).as_str());
    assert_eq!(r["rows"][2]["row"], 2);
    for (i, status) in [(401, 200), (402, 404), (403, 404), (404, 200)] {
        app.get(&format!("/v2/phone/numbers/%2B{}", &e164(i).as_str()[1..]))
            .bearer(t)
            .send()
            .await
            .expect(status);
    }
    // A partial batch of only refused rows adds nothing and says why, with 200.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [{"phone_number": e164(401).as_str()}], "mode": "partial"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        r["rows"][0]["error"]["code"], "number_already_exists",
        "{r}"
    );
}

backend_tests!(
    partial_batch_answers_every_row,
    bad_bodies_name_the_field,
    malformed_large_and_non_json_bodies,
    numbers_duplicates_and_rules,
    unknown_routes_are_json_404,
    wrong_method_is_json_405,
);
