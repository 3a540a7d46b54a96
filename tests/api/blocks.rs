//! `/v2/phone/number_blocks` over HTTP: a block goes in as one unit (all or none, every number
//! pointing at it), its counts follow its numbers as they move, a range that collides or runs
//! off its numbering area is refused naming the number, a block is another pool's 404, and a
//! release is refused whole while a number is with a customer, then removes every number.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

fn block_path(b: &Value) -> String {
    format!("/v2/phone/number_blocks/{}", b["id"].as_str().must("id"))
}

async fn number_blocks(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let create = |body: Value| app.post("/v2/phone/number_blocks").bearer(t).json(&body);

    let b = create(
        json!({"start_number": "+14155553000", "size": 50, "product": "phone",
                          "capabilities": ["voice", "sms"]}),
    )
    .send()
    .await
    .expect(201)
    .json();
    assert_eq!(b["start_number"], "+14155553000", "{b}");
    assert_eq!(b["end_number"], "+14155553049", "{b}");
    assert_eq!(b["size"], 50, "{b}");
    assert_eq!(b["country"], "US", "{b}");
    assert_eq!(b["type"], "local", "{b}");
    assert_eq!(
        (&b["free"], &b["in_use"], &b["returned"], &b["removed"]),
        (&json!(50), &json!(0), &json!(0), &json!(0)),
        "{b}"
    );
    let path = block_path(&b);
    let id = b["id"].as_str().must("id");

    // Every number is in the pool, pointing at the block, with the block's fields.
    let list = app
        .get_as(t, &format!("/v2/phone/numbers?block_id={id}&page_size=100"))
        .await
        .expect(200)
        .json();
    assert_eq!(list["total_records"], 50, "{list}");
    let one = &list["phone_numbers"][0];
    assert_eq!(one["block_id"], json!(id), "{one}");
    assert_eq!(one["product"], "phone", "{one}");
    assert_eq!(one["capabilities"], json!(["voice", "sms"]), "{one}");
    assert_eq!(one["position"], "free", "{one}");

    // A range that overlaps it: nothing of it goes in, and the answer names the number.
    let r = create(json!({"start_number": "+14155553040", "size": 20}))
        .send()
        .await
        .expect_error(409, "number_already_exists");
    assert!(r.text().contains("+14155553040"), "{}", r.text());
    app.get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155553059")))
        .await
        .expect(404);

    // Bad ranges, each naming its field.
    for (body, needle) in [
        (json!({"start_number": "+14155553100", "size": 0}), "size"),
        (
            json!({"start_number": "+14155553100", "size": 10001}),
            "size",
        ),
        (
            json!({"start_number": "+14159999998", "size": 5}),
            "+14160000000",
        ),
        (
            json!({"start_number": "not a number", "size": 5}),
            "start_number",
        ),
    ] {
        let r = create(body.clone()).send().await.expect(400);
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
    // A customer has no pool to add a block to.
    app.post("/v2/phone/number_blocks")
        .bearer(&w.customer_client.token)
        .json(&json!({"start_number": "+14155553200", "size": 2}))
        .send()
        .await
        .expect_error(422, "rule_violation");

    // Listed for its pool; another provider sees neither it in its list nor it by id.
    let mine = app
        .get_as(t, "/v2/phone/number_blocks")
        .await
        .expect(200)
        .json();
    assert_eq!(mine["total_records"], 1, "{mine}");
    assert_eq!(mine["number_blocks"][0]["id"], json!(id), "{mine}");
    let theirs = app
        .get_as(&w.tenant_client.token, "/v2/phone/number_blocks")
        .await
        .expect(200)
        .json();
    assert_eq!(theirs["total_records"], 0, "{theirs}");
    app.get_as(&w.tenant_client.token, &path).await.expect(404);
    app.delete_as(&w.tenant_client.token, &path)
        .await
        .expect(404);

    // Two numbers go to a customer, one is deleted on its own: the counts follow.
    app.post("/v2/phone/numbers/provision")
        .bearer(t)
        .json(&json!({"phone_numbers": ["+14155553010", "+14155553011"],
                      "site_id": w.customer.id}))
        .send()
        .await
        .expect(200);
    app.delete_as(t, &format!("/v2/phone/numbers/{}", enc("+14155553049")))
        .await
        .expect(204);
    let now = app.get_as(t, &path).await.expect(200).json();
    assert_eq!(
        (
            &now["free"],
            &now["in_use"],
            &now["returned"],
            &now["removed"]
        ),
        (&json!(47), &json!(2), &json!(0), &json!(1)),
        "{now}"
    );

    // The release is refused whole while they are with the customer (R-DEL-1)…
    let r = app
        .delete_as(t, &path)
        .await
        .expect_error(422, "rule_violation");
    let v = r.json();
    assert_eq!(v["rule"], "R-DEL-1", "{v}");
    assert!(r.text().contains("+14155553010"), "{}", r.text());
    app.get_as(t, &format!("/v2/phone/numbers/{}", enc("+14155553000")))
        .await
        .expect(200);

    // …and goes through once the customer has released them back.
    for n in ["+14155553010", "+14155553011"] {
        app.post(&format!("/v2/phone/numbers/{}/release", enc(n)))
            .bearer(&w.customer_client.token)
            .send()
            .await
            .expect(200);
    }
    let back = app.get_as(t, &path).await.expect(200).json();
    assert_eq!(back["returned"], 2, "{back}");
    let done = app.delete_as(t, &path).await.expect(200).json();
    assert_eq!(done["released_numbers"], 49, "{done}");
    app.get_as(t, &path).await.expect(404);
    for n in ["+14155553000", "+14155553010", "+14155553048"] {
        app.get_as(t, &format!("/v2/phone/numbers/{}", enc(n)))
            .await
            .expect(404);
    }
    // Its range can be added again, as a new block.
    create(json!({"start_number": "+14155553000", "size": 10}))
        .send()
        .await
        .expect(201);
}

backend_tests!(number_blocks);
