//! `rate …`: a provider's rate card; `set` creates an entry or changes the one of its country
//! and type, with cents as the API takes them.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{ok_json, refused, run, s};
use crate::world::World;

/// Set creates, set again changes the same entry; list filters; a customer is refused.
async fn rate_card_is_set_listed_and_deleted(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid) = (w.db, &w.pid, &w.cid);
    let set = |cents: &str, extra: &str| {
        ok_json(
            db,
            &format!(
                "rate set --account {pid} --country us --type local --monthly-cost-cents {cents} --json {extra}"
            ),
        )
    };
    let rate = set("125", "");
    assert_eq!(
        (
            &rate["country"],
            &rate["monthly_cost_cents"],
            &rate["currency"]
        ),
        (&Value::from("US"), &Value::from(125), &Value::from("USD"))
    );
    let again = set("150", "--currency eur");
    assert_eq!(again["id"], rate["id"]);
    assert_eq!(
        (&again["monthly_cost_cents"], &again["currency"]),
        (&Value::from(150), &Value::from("EUR"))
    );
    refused(
        db,
        &format!("rate set --account {pid} --country us --type local --monthly-cost-cents 1.25"),
        &["--monthly-cost-cents", "1.25"],
    );
    refused(
        db,
        &format!("rate set --account {cid} --country us --type local --monthly-cost-cents 5"),
        &["rule_violation", "R-PROV-1"],
    );
    let rates = ok_json(
        db,
        &format!("rate list --account {pid} --country US --json"),
    );
    assert_eq!(rates.as_array().map(Vec::len), Some(1), "{rates}");
    let r = run(db, &format!("rate list --account {pid}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1.50 EUR"), "{}", r.stdout);
    let none = ok_json(
        db,
        &format!("rate list --account {pid} --type mobile --json"),
    );
    assert_eq!(none, Value::Array(vec![]));
    let rate_id = s(&rate, "id");
    refused(
        db,
        &format!("rate delete --account {cid} {rate_id}"),
        &["not_found"],
    );
    let d = ok_json(db, &format!("rate delete --account {pid} {rate_id} --json"));
    assert_eq!(d["deleted"], Value::String(rate_id.clone()));
    let rates = ok_json(db, &format!("rate list --account {pid} --json"));
    assert_eq!(rates, Value::Array(vec![]));
}

backend_tests!(rate_card_is_set_listed_and_deleted);
