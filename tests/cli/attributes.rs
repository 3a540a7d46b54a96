//! `attribute …`: a provider's attribute keys, the provider's to manage; a customer sees none
//! and changes none.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{err, ok_json, s};
use crate::world::World;

/// Create, list and delete with their refusals (duplicate key, customer, bad key, unknown id).
async fn attribute_keys_are_the_providers(db: &TestDb) {
    let w = World::new(&db.url);
    let db = w.db;
    let pid = w.pid.clone();
    let cid = w.cid.clone();
    let attr = ok_json(
        db,
        &[
            "attribute",
            "create",
            "--account",
            &pid,
            "--key",
            "region",
            "--value",
            "east",
            "--value",
            "west coast",
            "--json",
        ],
    );
    assert_eq!(
        attr["allowed_values"],
        serde_json::json!(["east", "west coast"])
    );
    let aid = s(&attr, "id");
    let e = err(
        db,
        &[
            "attribute",
            "create",
            "--account",
            &pid,
            "--key",
            "region",
            "--value",
            "x",
        ],
    );
    assert!(e.contains("already_exists"), "{e}");
    let e = err(
        db,
        &[
            "attribute",
            "create",
            "--account",
            &cid,
            "--key",
            "tier",
            "--value",
            "gold",
        ],
    );
    assert!(
        e.contains("rule_violation") && e.contains("R-PROV-1"),
        "{e}"
    );
    let e = err(
        db,
        &[
            "attribute",
            "create",
            "--account",
            &pid,
            "--key",
            "Bad Key",
            "--value",
            "gold",
        ],
    );
    assert!(e.contains("--key"), "{e}");
    let attrs = ok_json(db, &["attribute", "list", "--account", &pid, "--json"]);
    assert_eq!(attrs.as_array().map(Vec::len), Some(1), "{attrs}");
    assert_eq!(attrs[0]["key"], "region");
    let none = ok_json(db, &["attribute", "list", "--account", &cid, "--json"]);
    assert_eq!(none, Value::Array(vec![]));
    let e = err(db, &["attribute", "delete", "--account", &cid, &aid]);
    assert!(e.contains("not_found"), "{e}");
    let e = err(db, &["attribute", "delete", "--account", &pid, "nope"]);
    assert!(e.contains("attribute id") && e.contains("nope"), "{e}");
    let d = ok_json(
        db,
        &["attribute", "delete", "--account", &pid, &aid, "--json"],
    );
    assert_eq!(d["deleted"], Value::String(aid.clone()));
    let attrs = ok_json(db, &["attribute", "list", "--account", &pid, "--json"]);
    assert_eq!(attrs, Value::Array(vec![]));
}

backend_tests!(attribute_keys_are_the_providers);
