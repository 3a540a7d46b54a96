//! `PATCH /v2/accounts/{accountId}`: renames in the own subtree, R-ACC-2 granted from above
//! only, `If-Match` against the account's version, and nothing through a connection.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

async fn accounts_update_with_etags(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let path = format!("/v2/accounts/{}", w.customer.id);

    let got = app.get(&path).bearer(t).send().await.expect(200);
    let tag = got.header("etag").must("an ETag on the account");
    let renamed = app
        .patch(&path)
        .bearer(t)
        .header("if-match", &tag)
        .json(&json!({"name": "Customer renamed"}))
        .send()
        .await
        .expect(200);
    assert_eq!(renamed.json()["name"], "Customer renamed");
    let new_tag = renamed.header("etag").must("a new ETag");
    assert_ne!(new_tag, tag);
    // The old tag is stale now: refused, and nothing changes.
    app.patch(&path)
        .bearer(t)
        .header("if-match", &tag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .await
        .expect_error(412, "precondition_failed");
    let now = app.get(&path).bearer(t).send().await.expect(200);
    assert_eq!(now.json()["name"], "Customer renamed");

    // R-ACC-2 is granted from above, to customers only, never by the customer itself.
    let granted = app
        .patch(&path)
        .bearer(t)
        .json(&json!({"allow_external_numbers": true}))
        .send()
        .await
        .expect(200);
    assert_eq!(granted.json()["allow_external_numbers"], true);
    app.patch(&format!("/v2/accounts/{}", w.reseller.id))
        .bearer(t)
        .json(&json!({"allow_external_numbers": true}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    // The customer itself may rename itself, not change its own permission.
    let own = app.client(&w.customer, None).await;
    app.patch(&path)
        .bearer(&own.token)
        .json(&json!({"name": "Customer by itself"}))
        .send()
        .await
        .expect(200);
    let r = app
        .patch(&path)
        .bearer(&own.token)
        .json(&json!({"allow_external_numbers": false}))
        .send()
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-ACC-2");

    // A connected customer is visible to the provider, but not its to change; another tenant's
    // account is not there at all.
    app.get_as(t, &format!("/v2/accounts/{}", w.root_customer.id))
        .await
        .expect(200);
    for foreign in [w.root_customer.id, w.tenant_customer.id] {
        app.patch(&format!("/v2/accounts/{foreign}"))
            .bearer(t)
            .json(&json!({"name": "Taken over"}))
            .send()
            .await
            .expect_error(404, "not_found");
    }
    // Bad input names the field.
    let r = app
        .patch(&path)
        .bearer(t)
        .json(&json!({"name": ""}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.text().contains("name"), "{}", r.text());
}

backend_tests!(accounts_update_with_etags);
