//! `attribute …`: a provider's attribute keys, the provider's to manage; a customer sees none
//! and changes none.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{ok_json, refused, s};
use crate::world::World;

/// Create, list and delete with their refusals (duplicate key, customer, bad key, unknown id).
async fn attribute_keys_are_the_providers(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid) = (w.db, &w.pid, &w.cid);
    let attr = ok_json(
        db,
        &format!(
            "attribute create --account {pid} --key region --value east --value 'west coast' --json"
        ),
    );
    assert_eq!(
        attr["allowed_values"],
        serde_json::json!(["east", "west coast"])
    );
    let aid = s(&attr, "id");
    refused(
        db,
        &format!("attribute create --account {pid} --key region --value x"),
        &["already_exists"],
    );
    refused(
        db,
        &format!("attribute create --account {cid} --key tier --value gold"),
        &["rule_violation", "R-PROV-1"],
    );
    refused(
        db,
        &format!("attribute create --account {pid} --key 'Bad Key' --value gold"),
        &["--key"],
    );
    let attrs = ok_json(db, &format!("attribute list --account {pid} --json"));
    assert_eq!(attrs.as_array().map(Vec::len), Some(1), "{attrs}");
    assert_eq!(attrs[0]["key"], "region");
    let none = ok_json(db, &format!("attribute list --account {cid} --json"));
    assert_eq!(none, Value::Array(vec![]));
    refused(
        db,
        &format!("attribute delete --account {cid} {aid}"),
        &["not_found"],
    );
    refused(
        db,
        &format!("attribute delete --account {pid} nope"),
        &["attribute id", "nope"],
    );
    let d = ok_json(
        db,
        &format!("attribute delete --account {pid} {aid} --json"),
    );
    assert_eq!(d["deleted"], Value::String(aid.clone()));
    let attrs = ok_json(db, &format!("attribute list --account {pid} --json"));
    assert_eq!(attrs, Value::Array(vec![]));
}

backend_tests!(attribute_keys_are_the_providers);
