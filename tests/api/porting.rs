//! `/v2/phone/porting/…` over HTTP: seed 002's port-in example as written, the portability
//! check with each of its reasons, an order's numbers `pending` and held in place while it is
//! open, every move of an order through PATCH and DELETE with what it does to its numbers, its
//! history, refusals by R-PORT-1 and R-PORT-2, another tenant's 404, and the PIN in no answer
//! and no audit record.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

fn seed_body(numbers: &[&str]) -> Value {
    json!({
        "phone_numbers": numbers,
        "carrier_name": "Previous Carrier",
        "account_number": "123456789",
        "account_pin": "1234",
        "authorized_person": "John Doe",
        "billing_address": {
            "address": "123 Main St",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94105"
        },
        "requested_port_date": "2024-02-01"
    })
}

async fn porting_orders(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let mut seen = String::new();

    // The portability check, each reason.
    let v = app
        .post("/v2/phone/porting/validate")
        .bearer(t)
        .json(&json!({"phone_numbers": [
            "+14155559999", "nope", "+14155559999", "+442071838750",
            w.free.phone_number.as_str()
        ]}))
        .send()
        .await
        .expect(200)
        .json();
    let codes: Vec<Value> = v["phone_numbers"]
        .as_array()
        .must("phone_numbers")
        .iter()
        .map(|c| c["code"].clone())
        .collect();
    assert_eq!(
        codes,
        [
            Value::Null,
            json!("invalid_number"),
            json!("duplicate"),
            json!("other_country"),
            json!("on_platform")
        ],
        "{v}"
    );
    assert_eq!(v["portable"], false, "{v}");
    assert_eq!(v["country"], "US", "{v}");

    // Seed 002's example, as written.
    let r = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&seed_body(&["+14155559999"]))
        .send()
        .await
        .expect(201);
    seen.push_str(&r.text());
    let o = r.json();
    assert_eq!(o["status"], "submitted", "{o}");
    assert_eq!(o["phone_numbers"], json!(["+14155559999"]), "{o}");
    assert_eq!(o["estimated_completion"], "2024-02-01", "{o}");
    assert!(
        o["submitted_at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{o}"
    );
    assert!(o["order_id"].as_str().is_some(), "{o}");
    assert_eq!(o["account_pin"], "***4", "{o}");
    let path = format!(
        "/v2/phone/porting/orders/{}",
        o["order_id"].as_str().must("id")
    );
    let number = format!("/v2/phone/numbers/{}", enc("+14155559999"));

    // Its number is on the platform, pending, and stays where it is while the order is open.
    let n = app.get_as(t, &number).await.expect(200).json();
    assert_eq!(n["status"], "pending", "{n}");
    assert_eq!(n["source"], "Port-in (Previous Carrier)", "{n}");
    let e = app
        .post(&format!("{number}/allocate"))
        .bearer(t)
        .json(&json!({"account_id": w.customer.id, "sip_trunk_id": w.trunk}))
        .send()
        .await
        .expect_error(422, "rule_violation")
        .json();
    assert_eq!(e["rule"], "R-PORT-1", "{e}");
    let e = app
        .delete_as(t, &number)
        .await
        .expect_error(422, "rule_violation")
        .json();
    assert_eq!(e["rule"], "R-PORT-1", "{e}");
    let e = app
        .patch(&number)
        .bearer(t)
        .json(&json!({"status": "active"}))
        .send()
        .await
        .expect_error(422, "rule_violation")
        .json();
    assert_eq!(e["rule"], "R-PORT-1", "{e}");
    // In an open order: another order of it is refused whole.
    let v = app
        .post("/v2/phone/porting/validate")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+14155559999"]}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(v["phone_numbers"][0]["code"], "in_open_order", "{v}");
    let e = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&seed_body(&["+14155559998", "+14155559999"]))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert!(e.text().contains("+14155559999"), "{}", e.text());
    app.get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155559998")))
        .await
        .expect(404);

    // A reseller's open order stands in the way of its offboarding, and says so.
    let rt = app.client(&w.reseller, None).await.token;
    app.post("/v2/phone/porting/orders")
        .bearer(&rt)
        .json(&seed_body(&["+14155559995"]))
        .send()
        .await
        .expect(201);
    let off = app
        .get_as(t, &format!("/v2/accounts/{}/offboarding", w.reseller.id))
        .await
        .expect(200)
        .json();
    let blocker = off["checks"][0]["blockers"]
        .as_array()
        .must("blockers")
        .iter()
        .find(|b| b["code"] == "numbers_in_open_porting_orders")
        .cloned()
        .unwrap_or_default();
    assert_eq!(blocker["count"], 1, "{off}");
    assert_eq!(blocker["rule"], "R-PORT-1", "{off}");
    assert_eq!(blocker["phone_numbers"], json!(["+14155559995"]), "{off}");
    // Attachments: the LOA as a PDF; anything but a PDF, PNG or JPEG is refused by its bytes.
    let attach = |kind: &str, name: &str, bytes: Vec<u8>| {
        app.post(&format!("{path}/attachments?kind={kind}&file_name={name}"))
            .bearer(t)
            .raw("application/pdf", bytes)
    };
    let pdf = b"%PDF-1.4\n% a letter of authorization\n".to_vec();
    let a = attach("loa", "loa.pdf", pdf.clone())
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(a["kind"], "loa", "{a}");
    assert_eq!(a["content_type"], "application/pdf", "{a}");
    assert_eq!(a["size"], pdf.len(), "{a}");
    let e = attach("bill", "bill.pdf", b"MZ\x90\x00 an executable".to_vec())
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(e.text().contains("PDF, PNG or JPEG"), "{}", e.text());
    attach("bill", "big.pdf", vec![b'%'; 6 * 1024 * 1024])
        .send()
        .await
        .expect(413);
    attach("deed", "x.pdf", pdf.clone())
        .send()
        .await
        .expect(400);
    let listed = app.get_as(t, &path).await.expect(200).json();
    assert_eq!(listed["attachments"][0]["id"], a["id"], "{listed}");
    let file = app
        .get_as(
            t,
            &format!("{path}/attachments/{}", a["id"].as_str().must("id")),
        )
        .await
        .expect(200);
    assert_eq!(
        file.header("content-type").as_deref(),
        Some("application/pdf")
    );
    assert!(file.text().starts_with("%PDF-1.4"), "{}", file.text());
    app.get_as(
        &w.tenant_client.token,
        &format!("{path}/attachments/{}", a["id"].as_str().must("id")),
    )
    .await
    .expect(404);

    // Moves: out of order is R-PORT-1; details change only while submitted.
    let patch = |body: Value| app.patch(&path).bearer(t).json(&body);
    let e = patch(json!({"status": "completed"}))
        .send()
        .await
        .expect_error(422, "rule_violation")
        .json();
    assert_eq!(e["rule"], "R-PORT-1", "{e}");
    let changed = patch(json!({"account_pin": "98765", "authorized_person": "Jane Doe"}))
        .send()
        .await
        .expect(200);
    seen.push_str(&changed.text());
    assert_eq!(changed.json()["account_pin"], "***5");
    patch(json!({"status": "pending"})).send().await.expect(200);
    patch(json!({"authorized_person": "Someone Else"}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    let e = patch(json!({"status": "scheduled"}))
        .send()
        .await
        .expect(400);
    assert!(e.text().contains("scheduled_date"), "{}", e.text());
    patch(json!({"status": "scheduled", "scheduled_date": "2024-02-30"}))
        .send()
        .await
        .expect(400);
    let s = patch(json!({"status": "scheduled", "scheduled_date": "2024-02-03"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(s["estimated_completion"], "2024-02-03", "{s}");
    // The carrier moves the date: scheduled again.
    let s = patch(json!({"status": "scheduled", "scheduled_date": "2024-02-05"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(s["estimated_completion"], "2024-02-05", "{s}");
    patch(json!({"status": "completed"}))
        .send()
        .await
        .expect(200);
    let n = app.get_as(t, &number).await.expect(200).json();
    assert_eq!(n["status"], "active", "completion makes it active: {n}");
    let done = app.get_as(t, &path).await.expect(200);
    seen.push_str(&done.text());
    let done = done.json();
    assert_eq!(done["status"], "completed", "{done}");
    // Each status it moved to was announced to the pool's account.
    let notes = app.get_as(t, "/v2/notifications").await.expect(200).json();
    let kinds: Vec<String> = notes["notifications"]
        .as_array()
        .must("notifications")
        .iter()
        .filter(|n| n["kind"] == "porting_order")
        .map(|n| n["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        kinds.iter().any(|m| m.ends_with("is now completed.")),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|m| m.ends_with("is now scheduled.")),
        "{kinds:?}"
    );
    let steps: Vec<(Value, Value, Value)> = done["history"]
        .as_array()
        .must("history")
        .iter()
        .map(|h| (h["action"].clone(), h["status"].clone(), h["note"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (
                json!("porting_order.create"),
                json!("submitted"),
                Value::Null
            ),
            (
                json!("porting_order.update"),
                json!("submitted"),
                json!("attached loa.pdf")
            ),
            (
                json!("porting_order.update"),
                json!("submitted"),
                Value::Null
            ),
            (json!("porting_order.status"), json!("pending"), Value::Null),
            (
                json!("porting_order.status"),
                json!("scheduled"),
                json!("2024-02-03")
            ),
            (
                json!("porting_order.status"),
                json!("scheduled"),
                json!("2024-02-05")
            ),
            (
                json!("porting_order.status"),
                json!("completed"),
                Value::Null
            ),
        ],
        "{done}"
    );
    app.delete_as(t, &path)
        .await
        .expect_error(422, "rule_violation");
    attach("bill", "late.pdf", pdf.clone())
        .send()
        .await
        .expect_error(422, "rule_violation");

    // Rejected with a reason, and cancelled: their numbers leave the platform.
    let o2 = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&seed_body(&["+14155559997"]))
        .send()
        .await
        .expect(201)
        .json();
    let p2 = format!(
        "/v2/phone/porting/orders/{}",
        o2["order_id"].as_str().must("id")
    );
    app.patch(&p2)
        .bearer(t)
        .json(&json!({"status": "rejected"}))
        .send()
        .await
        .expect(400);
    let rej = app
        .patch(&p2)
        .bearer(t)
        .json(&json!({"status": "rejected", "reject_reason": "PIN mismatch"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(rej["reject_reason"], "PIN mismatch", "{rej}");
    assert_eq!(
        rej["phone_numbers"],
        json!(["+14155559997"]),
        "the order keeps its list: {rej}"
    );
    app.get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155559997")))
        .await
        .expect(404);
    let o3 = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&seed_body(&["+14155559997"]))
        .send()
        .await
        .expect(201)
        .json();
    let p3 = format!(
        "/v2/phone/porting/orders/{}",
        o3["order_id"].as_str().must("id")
    );
    let c = app.delete_as(t, &p3).await.expect(200).json();
    assert_eq!(c["status"], "cancelled", "{c}");
    let again = app
        .delete_as(t, &p3)
        .await
        .expect_error(422, "rule_violation")
        .json();
    assert_eq!(
        again["rule"], "R-PORT-1",
        "a closed order moves no more: {again}"
    );
    app.get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155559997")))
        .await
        .expect(404);

    // Listed newest first; another tenant sees none of it.
    let list = app.get_as(t, "/v2/phone/porting/orders").await.expect(200);
    seen.push_str(&list.text());
    assert_eq!(
        list.json()["total_records"],
        3,
        "the provider's own, not the reseller's"
    );
    app.get_as(&w.tenant_client.token, &path).await.expect(404);
    app.patch(&path)
        .bearer(&w.tenant_client.token)
        .json(&json!({"status": "cancelled"}))
        .send()
        .await
        .expect(404);
    // A PIN sent as a number is refused without being repeated.
    let mut numeric = seed_body(&["+14155559994"]);
    numeric["account_pin"] = json!(13579);
    let e = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&numeric)
        .send()
        .await
        .expect(400);
    assert!(e.text().contains("account_pin"), "{}", e.text());
    assert!(
        !e.text().contains("13579"),
        "the PIN is echoed: {}",
        e.text()
    );
    // Bad input names its field.
    let mut bad = seed_body(&["+14155559996"]);
    bad["requested_port_date"] = json!("Feb 1");
    let e = app
        .post("/v2/phone/porting/orders")
        .bearer(t)
        .json(&bad)
        .send()
        .await
        .expect(400);
    assert!(e.text().contains("requested_port_date"), "{}", e.text());

    // The PIN is in no answer and no audit record.
    let audit = app.get_as(t, "/v2/audit?page_size=300").await.expect(200);
    seen.push_str(&audit.text());
    for secret in ["\"1234\"", "\"98765\"", "\\\"1234\\\"", "\"v1:", "\\\"v1:"] {
        assert!(!seen.contains(secret), "the PIN shows: {secret}");
    }
    assert!(
        seen.contains("123456789"),
        "the account number is shown, as it may be"
    );
}

backend_tests!(porting_orders);
