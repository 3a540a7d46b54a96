//! `GET /v2/phone/numbers/available` and `/toll_free/available` over HTTP: seed 002's example
//! query and shape, each filter (locality, area code, type, capabilities, `contains` with
//! digits, `*` and keypad letters), `quantity`, whose pool each caller searches, and the
//! refusals naming their field.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

fn phones(list: &Value) -> Vec<String> {
    list["available_numbers"]
        .as_array()
        .must("available_numbers")
        .iter()
        .map(|n| n["phone_number"].as_str().must("phone_number").to_string())
        .collect()
}

async fn available_search(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let caps = json!(["voice", "sms"]);
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [
            {"phone_number": "+14155551001", "capabilities": caps},
            {"phone_number": "+14155551002", "capabilities": caps},
            {"phone_number": "+14155551003", "capabilities": caps},
            // 415 356-9377: FLOWERS on a keypad.
            {"phone_number": "+14153569377"},
            {"phone_number": "+12125550199", "capabilities": ["voice"]},
            {"phone_number": "+18005550100", "capabilities": caps},
        ]}))
        .send()
        .await
        .expect(201);
    let search = |q: &str| format!("/v2/phone/numbers/available?{q}");

    // The seed's example, as written.
    let r = app
        .get_as(t, &search("country=US&state=CA&area_code=415&quantity=10"))
        .await
        .expect(200)
        .json();
    let found = phones(&r);
    // The provider's free numbers in 415, in E.164 order; not the returned one, nor those
    // with the reseller or customers.
    let mut expected = vec![
        "+14153569377".to_string(),
        "+14155551001".into(),
        "+14155551002".into(),
        "+14155551003".into(),
        w.free.phone_number.as_str().to_string(),
    ];
    expected.sort();
    assert_eq!(found, expected, "{r}");
    let first = &r["available_numbers"][2];
    assert_eq!(
        first,
        &json!({
            "phone_number": "+14155551001",
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "type": "local",
            "capabilities": ["voice", "sms"],
            "monthly_cost": 1.0,
            "currency": "USD",
        }),
        "{r}"
    );

    for (q, want) in [
        // Digits, anywhere in the number.
        ("contains=1002", vec!["+14155551002"]),
        // `*` is any one digit.
        (
            "contains=555100*",
            vec!["+14155551001", "+14155551002", "+14155551003"],
        ),
        // Keypad letters, with a leading wildcard.
        ("contains=*FLOWERS", vec!["+14153569377"]),
        (
            "contains=flowers&area_code=415&country=us",
            vec!["+14153569377"],
        ),
        // No match is an empty list, not an error.
        ("contains=99999999", vec![]),
        ("state=ny", vec!["+12125550199"]),
        ("city=new%20york", vec!["+12125550199"]),
        ("area_code=212&country=US", vec!["+12125550199"]),
        ("type=toll_free", vec!["+18005550100"]),
        (
            "capabilities=voice,sms&area_code=415&country=US",
            vec!["+14155551001", "+14155551002", "+14155551003"],
        ),
        ("capabilities=fax", vec![]),
        ("country=GB", vec![]),
        (
            "quantity=2&area_code=415&country=US",
            vec!["+14153569377", "+14155550100"],
        ),
    ] {
        let r = app.get_as(t, &search(q)).await.expect(200).json();
        assert_eq!(phones(&r), want, "{q}: {r}");
    }

    // Toll-free: that search finds nothing else, and says so when asked for another type.
    let r = app
        .get_as(t, "/v2/phone/numbers/toll_free/available")
        .await
        .expect(200)
        .json();
    assert_eq!(phones(&r), vec!["+18005550100"], "{r}");
    // No rate card entry for US toll-free: no cost rather than a made-up one.
    assert_eq!(
        r["available_numbers"][0]["monthly_cost"],
        Value::Null,
        "{r}"
    );
    let bad = app
        .get_as(t, "/v2/phone/numbers/toll_free/available?type=local")
        .await
        .expect_error(400, "invalid_input");
    assert!(bad.text().contains("type"), "{}", bad.text());

    for (q, field) in [
        ("contains=12!", "contains"),
        ("contains=***", "contains"),
        ("contains=1234567890123456", "contains"),
        ("area_code=415", "area_code"),
        ("area_code=4a5&country=US", "area_code"),
        ("country=ZZ", "country"),
        ("capabilities=voice,teleport", "teleport"),
        ("type=fixed", "type"),
        ("quantity=0", "quantity"),
        ("quantity=101", "quantity"),
        ("quantity=ten", "quantity"),
    ] {
        let r = app
            .get_as(t, &search(q))
            .await
            .expect_error(400, "invalid_input");
        assert!(r.text().contains(field), "{q}: {}", r.text());
    }

    // A reseller searches its own pool: what the provider allocated to it.
    let reseller = app.client(&w.reseller, None).await;
    let r = app
        .get_as(&reseller.token, &search("quantity=100"))
        .await
        .expect(200)
        .json();
    let mine = phones(&r);
    assert!(
        mine.contains(&w.at_reseller.phone_number.as_str().to_string()),
        "{r}"
    );
    assert!(
        !mine.contains(&w.free.phone_number.as_str().to_string()),
        "{r}"
    );
    // A customer has no pool; its providers' pools open with self-service, off by default.
    let r = app
        .get_as(&w.customer_client.token, &search("quantity=100"))
        .await
        .expect(200)
        .json();
    assert_eq!(phones(&r), Vec::<String>::new(), "{r}");
    // The search is a read: a token without the number read scope is refused.
    let writer = app
        .client(&w.provider, Some("phone_number:write:admin"))
        .await;
    app.get_as(&writer.token, &search(""))
        .await
        .expect_error(403, "insufficient_scope");
}

backend_tests!(available_search);

/// Customer self-service: off, a customer's search is empty and it cannot take numbers; on,
/// its children and connected customers find the provider's free numbers (not those held for
/// another account, nor another tenant's) and provision them for themselves, all or nothing,
/// on the provider's default trunk. Only a pool holder sets it; off again closes it.
async fn customer_self_service(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let c = &w.customer_client.token;
    let root = app.client(&w.root_customer, None).await;
    let tenant_c = app.client(&w.tenant_customer, None).await;
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [
            {"phone_number": "+14155557001"},
            {"phone_number": "+14155557002"},
            {"phone_number": "+14155557003"},
        ]}))
        .send()
        .await
        .expect(201);
    let settings = "/v2/phone/self_service_settings";
    let r = app.get_as(t, settings).await.expect(200).json();
    assert_eq!(r, json!({"enabled": false}));
    let found = |token: String| async move {
        phones(
            &app.get_as(
                &token,
                "/v2/phone/numbers/available?contains=41555570*&quantity=100",
            )
            .await
            .expect(200)
            .json(),
        )
    };
    assert_eq!(found(c.clone()).await, Vec::<String>::new(), "off");
    let take = |token: String, site: String, numbers: Value| async move {
        app.post("/v2/phone/numbers/provision")
            .bearer(&token)
            .json(&json!({"phone_numbers": numbers, "site_id": site}))
            .send()
            .await
    };
    take(
        c.clone(),
        w.customer.id.to_string(),
        json!(["+14155557001"]),
    )
    .await
    .expect_error(409, "conflict");

    let r = app
        .patch(settings)
        .bearer(t)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r, json!({"enabled": true}));
    assert_eq!(
        app.get_as(t, settings).await.expect(200).json(),
        json!({"enabled": true})
    );
    // One of them held for the connected customer: only that customer finds it.
    app.post("/v2/phone/reservations")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+14155557003"], "account_id": w.root_customer.id}))
        .send()
        .await
        .expect(201);
    assert_eq!(found(c.clone()).await, ["+14155557001", "+14155557002"]);
    assert_eq!(
        found(root.token.clone()).await,
        ["+14155557001", "+14155557002", "+14155557003"],
        "a connected customer, and the number held for it"
    );
    assert_eq!(
        found(tenant_c.token.clone()).await,
        Vec::<String>::new(),
        "another tenant"
    );

    // The customer takes one for itself, on the provider's default trunk.
    let r = take(
        c.clone(),
        w.customer.id.to_string(),
        json!(["+14155557002"]),
    )
    .await
    .expect(200)
    .json();
    let done = &r["provisioned_numbers"][0];
    assert_eq!(done["phone_number"], "+14155557002", "{r}");
    assert_eq!(done["site_id"], json!(w.customer.id), "{r}");
    assert_eq!(done["sip_trunk_id"], json!(w.trunk), "{r}");
    let mine = app
        .get_as(c, &format!("/v2/phone/numbers/{}", enc("+14155557002")))
        .await
        .expect(200)
        .json();
    assert_eq!(mine["customer_id"], json!(w.customer.id), "{mine}");
    // All or nothing: the number held for another account spoils the set.
    take(
        c.clone(),
        w.customer.id.to_string(),
        json!(["+14155557001", "+14155557003"]),
    )
    .await
    .expect_error(422, "rule_violation");
    assert_eq!(found(c.clone()).await, ["+14155557001"]);
    // It names no trunk: its provider's default is the one.
    let r = app
        .post("/v2/phone/numbers/provision")
        .bearer(c)
        .json(
            &json!({"phone_numbers": ["+14155557001"], "site_id": w.customer.id,
                      "sip_trunk_id": w.trunk}),
        )
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.text().contains("sip_trunk_id"), "{}", r.text());
    // Into its unit: refused (a unit gets numbers from its customer, R-MOVE-5).
    take(c.clone(), w.unit.id.to_string(), json!(["+14155557001"]))
        .await
        .expect_error(422, "rule_violation");
    // Not into another account.
    take(
        c.clone(),
        w.root_customer.id.to_string(),
        json!(["+14155557001"]),
    )
    .await
    .expect_error(404, "not_found");
    // A customer sets nothing here.
    app.patch(settings)
        .bearer(c)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .expect_error(422, "rule_violation");

    // Off again: the pool closes.
    app.patch(settings)
        .bearer(t)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .expect(200);
    assert_eq!(found(c.clone()).await, Vec::<String>::new());
    take(
        c.clone(),
        w.customer.id.to_string(),
        json!(["+14155557001"]),
    )
    .await
    .expect_error(409, "conflict");
}

backend_tests!(customer_self_service);

/// `POST /v2/phone/numbers/provision`: seed 002's body and answer, the default trunk, all or
/// nothing when one number is gone, and the refusals.
async fn provision_numbers(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"numbers": [
            {"phone_number": "+14155552001"},
            {"phone_number": "+14155552002"},
            {"phone_number": "+14155552003"},
            {"phone_number": "+14155552004", "status": "pending"},
            {"phone_number": "+18005550177"},
            {"phone_number": "+18005550178"},
        ]}))
        .send()
        .await
        .expect(201);
    let provision = |body: Value| {
        app.post("/v2/phone/numbers/provision")
            .bearer(t)
            .json(&body)
    };
    let r = provision(json!({
        "phone_numbers": ["+14155552002", "+14155552001"],
        "site_id": w.customer.id,
    }))
    .send()
    .await
    .expect(200)
    .json();
    let done = r["provisioned_numbers"]
        .as_array()
        .must("provisioned_numbers");
    assert_eq!(done.len(), 2, "{r}");
    // In the order asked, seed 002's fields, on the provider's default trunk.
    assert_eq!(done[0]["phone_number"], "+14155552002", "{r}");
    assert_eq!(done[1]["phone_number"], "+14155552001", "{r}");
    for n in done {
        assert_eq!(n["status"], "active", "{r}");
        assert!(n["id"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        assert_eq!(n["site_id"], json!(w.customer.id), "{r}");
        assert_eq!(n["sip_trunk_id"], json!(w.trunk), "{r}");
    }
    // The customer holds them now; the search no longer finds them.
    let held = app
        .get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155552001")))
        .await
        .expect(200)
        .json();
    assert_eq!(held["customer_id"], json!(w.customer.id), "{held}");
    let left = app
        .get_as(
            t,
            "/v2/phone/numbers/available?contains=415555200*&quantity=100",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(phones(&left), vec!["+14155552003"], "{left}");

    // One number gone: nothing is provisioned, and the answer names it.
    let r = provision(json!({
        "phone_numbers": ["+14155552003", "+14155552001"],
        "site_id": w.customer.id,
    }))
    .send()
    .await
    .expect_error(409, "conflict");
    assert!(r.text().contains("+14155552001"), "{}", r.text());
    let still = app
        .get_as(
            t,
            "/v2/phone/numbers/available?contains=415555200*&quantity=100",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        phones(&still),
        vec!["+14155552003"],
        "all or nothing: {still}"
    );

    for (body, status, code, needle) in [
        (
            json!({"phone_numbers": [], "site_id": w.customer.id}),
            400,
            "invalid_input",
            "phone_numbers",
        ),
        (
            json!({"phone_numbers": ["+14155552003", "+14155552003"], "site_id": w.customer.id}),
            400,
            "invalid_input",
            "twice",
        ),
        (
            json!({"phone_numbers": ["+14155552003", "12"], "site_id": w.customer.id}),
            400,
            "invalid_input",
            "phone_numbers[1]",
        ),
        (
            json!({"phone_numbers": ["+14155552003"]}),
            400,
            "invalid_input",
            "site_id",
        ),
        (
            json!({"phone_numbers": ["+14155552003"], "site_id": w.tenant_customer.id}),
            404,
            "not_found",
            "site",
        ),
        (
            json!({"phone_numbers": ["+14155552003"], "site_id": w.unit.id}),
            422,
            "rule_violation",
            "R-MOVE-5",
        ),
        (
            json!({"phone_numbers": ["+14155552003"], "site_id": w.customer.id, "sip_trunk_id": w.tenant_trunk}),
            404,
            "not_found",
            "SIP trunk",
        ),
        // A pending number is not takeable (the search does not offer it either).
        (
            json!({"phone_numbers": ["+14155552004"], "site_id": w.customer.id}),
            409,
            "conflict",
            "+14155552004",
        ),
        // The reseller's customer is not the provider's to allocate to: the rule says so,
        // rather than calling the number gone.
        (
            json!({"phone_numbers": ["+14155552003"], "site_id": w.res_customer.id}),
            422,
            "rule_violation",
            "R-MOVE-1",
        ),
        // Another tenant's number is not this pool's: said as one that is gone.
        (
            json!({"phone_numbers": [tenant_e164(100).as_str()], "site_id": w.customer.id}),
            409,
            "conflict",
            "not a free number of this pool",
        ),
    ] {
        let r = provision(body.clone())
            .send()
            .await
            .expect_error(status, code);
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
    // A token that only reads cannot provision.
    let reader = app
        .client(&w.provider, Some("phone_number:read:admin"))
        .await;
    app.post("/v2/phone/numbers/provision")
        .bearer(&reader.token)
        .json(&json!({"phone_numbers": ["+14155552003"], "site_id": w.customer.id}))
        .send()
        .await
        .expect_error(403, "insufficient_scope");

    // Toll-free: its own list, and a provisioning that takes toll-free numbers only.
    let tf = app
        .get_as(t, "/v2/phone/numbers/toll_free")
        .await
        .expect(200)
        .json();
    let listed: Vec<&str> = tf["phone_numbers"]
        .as_array()
        .must("phone_numbers")
        .iter()
        .filter_map(|n| n["phone_number"].as_str())
        .collect();
    assert_eq!(listed, ["+18005550177", "+18005550178"], "{tf}");
    app.get_as(t, "/v2/phone/numbers/toll_free?type=local")
        .await
        .expect_error(400, "invalid_input");
    let r = app
        .post("/v2/phone/numbers/toll_free")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+14155552003"], "site_id": w.customer.id}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.text().contains("not a toll-free number"), "{}", r.text());
    // One toll-free licence (R-ACC-3), counted for the whole set: two do not fit, and neither
    // moves; one does.
    app.patch(&format!("/v2/accounts/{}", w.customer.id))
        .bearer(t)
        .json(&json!({"entitlements": {"toll_free": 1}}))
        .send()
        .await
        .expect(200);
    let r = app
        .post("/v2/phone/numbers/toll_free")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+18005550177", "+18005550178"], "site_id": w.customer.id}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-ACC-3", "{}", r.text());
    let free_tf = app
        .get_as(t, "/v2/phone/numbers/toll_free/available")
        .await
        .expect(200)
        .json();
    assert_eq!(
        phones(&free_tf),
        vec!["+18005550177", "+18005550178"],
        "{free_tf}"
    );
    let r = app
        .post("/v2/phone/numbers/toll_free")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+18005550177"], "site_id": w.customer.id}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        r["provisioned_numbers"][0]["phone_number"], "+18005550177",
        "{r}"
    );

    // A reseller provisions what its provider allocated to it, to its own customer, on the
    // provider's default trunk.
    let reseller = app.client(&w.reseller, None).await;
    let r = app
        .post("/v2/phone/numbers/provision")
        .bearer(&reseller.token)
        .json(&json!({
            "phone_numbers": [w.at_reseller.phone_number.as_str()],
            "site_id": w.res_customer.id,
        }))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        r["provisioned_numbers"][0]["sip_trunk_id"],
        json!(w.trunk),
        "{r}"
    );
}

backend_tests!(provision_numbers);
