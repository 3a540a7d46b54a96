//! `ETag` and `If-Match` on a number: a stale tag is 412 and changes nothing; the current one
//! (or `*`, or none) goes through and answers the new tag.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

async fn if_match_guards_patch_and_delete(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let path = format!("/v2/phone/numbers/{}", w.free.id);

    let r = app.get(&path).bearer(t).send().await.expect(200);
    let tag = r.header("etag").must("ETag on GET");
    assert_eq!(
        tag,
        format!("\"{}\"", r.json()["version"]),
        "ETag is the version"
    );
    // By E.164 too.
    let r2 = app
        .get(&format!(
            "/v2/phone/numbers/{}",
            enc(w.free.phone_number.as_str())
        ))
        .bearer(t)
        .send()
        .await
        .expect(200);
    assert_eq!(r2.header("etag"), Some(tag.clone()));

    // The current tag: updated, a new tag.
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", &tag)
        .json(&json!({"billing_reference": "PO-1"}))
        .send()
        .await
        .expect(200);
    let tag2 = r.header("etag").must("ETag on PATCH");
    assert_ne!(tag2, tag);
    assert_eq!(r.json()["billing_reference"], "PO-1");
    assert_eq!(tag2, format!("\"{}\"", r.json()["version"]));

    // The old tag now: 412, nothing changed.
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", &tag)
        .json(&json!({"billing_reference": "PO-2"}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    assert!(!r.text().contains("PO-2"));
    let now = app.get(&path).bearer(t).send().await.expect(200);
    assert_eq!(now.header("etag"), Some(tag2.clone()));
    assert_eq!(now.json()["billing_reference"], "PO-1");

    // `*` and no header: whatever is current. `null` clears.
    let r = app
        .patch(&path)
        .bearer(t)
        .header("if-match", "*")
        .json(&json!({"billing_reference": null, "service_info": "rack 4"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.json()["billing_reference"], json!(null));
    assert_eq!(r.json()["service_info"], "rack 4");
    let r = app
        .patch(&path)
        .bearer(t)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let tag3 = r.header("etag").must("ETag");
    assert_eq!(r.json()["service_info"], "rack 4", "absent fields stay");

    // Malformed If-Match: 400, nothing changed.
    // If-Match compares strongly: a weak tag never matches, whatever its version.
    app.patch(&path)
        .bearer(t)
        .header("if-match", "W/\"3\"")
        .json(&json!({"billing_reference": "PO-weak"}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    for bad in [
        "3",
        "\"abc\"",
        "\"1\", \"2\"",
        "\"\"",
        "\"99999999999999999999\"",
    ] {
        app.patch(&path)
            .bearer(t)
            .header("if-match", bad)
            .json(&json!({"billing_reference": "PO-bad"}))
            .send()
            .await
            .expect_error(400, "invalid_if_match");
        app.delete(&path)
            .bearer(t)
            .header("if-match", bad)
            .send()
            .await
            .expect_error(400, "invalid_if_match");
    }
    let now = app.get(&path).bearer(t).send().await.expect(200);
    assert_eq!(now.header("etag"), Some(tag3.clone()));

    // DELETE with a stale tag: 412, still there; with the current one: 204, gone.
    app.delete(&path)
        .bearer(t)
        .header("if-match", &tag2)
        .send()
        .await
        .expect_error(412, "precondition_failed");
    app.get(&path).bearer(t).send().await.expect(200);
    app.delete(&path)
        .bearer(t)
        .header("if-match", &tag3)
        .send()
        .await
        .expect(204);
    app.get_as(t, &path).await.expect_error(404, "not_found");

    // Moves answer the number with its ETag too.
    let r = app
        .post(&format!("/v2/phone/numbers/{}/unbind", w.returned.id))
        .bearer(t)
        .send()
        .await
        .expect(200);
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", r.json()["version"])),
        "{:?}",
        r.headers
    );
}

backend_tests!(if_match_guards_patch_and_delete);
