//! `exchange …`: a root customer connects to a provider by its account number, the provider
//! lists its customers with their number counts, and a connection ends by R-ACC-1: the
//! customer asks once nothing of it is assigned, the provider deactivates once its numbers are
//! back.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{ok_json, refused, run, s};
use crate::world::World;

/// A root customer connects once, by the provider's account number; a child customer, an
/// unknown number and a blank one are refused.
async fn exchange_connects_once_by_account_number(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, pnum, cid, rid) = (w.db, &w.pid, &w.pnum, &w.cid, &w.rid);
    let conn = w.connect();
    assert_eq!(
        (s(&conn, "provider_id"), s(&conn, "status")),
        (pid.clone(), "connected".to_string())
    );
    refused(
        db,
        &format!("exchange connect --account {rid} --provider-number {pnum}"),
        &["rule_violation", "R-ACC-1"],
    );
    refused(
        db,
        &format!("exchange connect --account {cid} --provider-number {pnum}"),
        &["R-ACC-1", "root customer"],
    );
    refused(
        db,
        &format!("exchange connect --account {rid} --provider-number 00000000"),
        &["not_found", "provider"],
    );
    refused(
        db,
        &format!("exchange connect --account {rid} --provider-number ' '"),
        &["--provider-number"],
    );
    let list = ok_json(db, &format!("exchange list --account {rid} --json"));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["status"], "connected");
}

/// One number to each customer, child and connected; the provider's customer list counts them.
async fn exchange_customers_count_their_numbers(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid, rid) = (w.db, &w.pid, &w.cid, &w.rid);
    assert_eq!(w.connect()["status"], "connected");
    w.add(&[
        "+14155550100",
        "+14155550101",
        "+18005550100",
        "+18005550101",
    ]);
    for (number, to) in [("+14155550100", cid), ("+14155550101", rid)] {
        let n = w.allocated(number, to);
        assert_eq!(n["customer_id"], Value::String(to.clone()));
    }
    let customers = ok_json(db, &format!("exchange customers --account {pid} --json"));
    let rows = customers
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {customers}"));
    assert_eq!(rows.len(), 2, "{customers}");
    let row = |id: &str| {
        rows.iter()
            .find(|c| c["account_id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {customers}"))
    };
    assert_eq!(
        (
            &row(cid)["relation"],
            &row(cid)["connection_status"],
            &row(cid)["phone_numbers"]
        ),
        (&Value::from("child"), &Value::Null, &Value::from(1))
    );
    assert_eq!(
        (
            &row(rid)["relation"],
            &row(rid)["connection_status"],
            &row(rid)["phone_numbers"]
        ),
        (
            &Value::from("connected"),
            &Value::from("connected"),
            &Value::from(1)
        )
    );
    let r = run(db, &format!("exchange customers --account {pid}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Initech") && r.stdout.contains("2 customer(s), 2 number(s)"),
        "{}",
        r.stdout
    );
}

/// R-ACC-1: the connected customer's assignment blocks its disconnect request, and the
/// provider deactivates only after the request and once its numbers are back.
async fn exchange_disconnect_and_deactivate_follow_r_acc_1(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, rid) = (w.db, &w.pid, &w.rid);
    assert_eq!(w.connect()["status"], "connected");
    w.add(&["+14155550101"]);
    assert_eq!(
        w.allocated("+14155550101", rid)["customer_id"],
        Value::String(rid.clone())
    );
    let r = run(
        db,
        &format!("numbers assign --account {rid} +14155550101 --type call_queue --id q1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    refused(
        db,
        &format!("exchange disconnect --account {rid} --provider {pid}"),
        &["rule_violation", "R-ACC-1"],
    );
    refused(
        db,
        &format!("exchange disconnect --account {rid} --provider p"),
        &["--provider", "'p'"],
    );
    refused(
        db,
        &format!("exchange deactivate --account {pid} --customer {rid}"),
        &["R-ACC-1", "not requested"],
    );
    let o = ok_json(
        db,
        &format!("account offboarding {rid} --account {rid} --json"),
    );
    assert_eq!(o["checks"][0]["action"], "request_disconnect");
    assert_eq!(o["checks"][0]["ready"], false);
    assert_eq!(o["checks"][0]["blockers"][0]["rule"], "R-ACC-1");
    let r = run(
        db,
        &format!("numbers unassign --account {rid} +14155550101"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = ok_json(
        db,
        &format!("exchange disconnect --account {rid} --provider {pid} --json"),
    );
    assert_eq!(c["status"], "disconnect_requested");
    refused(
        db,
        &format!("exchange deactivate --account {pid} --customer {rid}"),
        &["R-ACC-1", "still with the customer"],
    );
    let r = run(
        db,
        &format!("numbers release --account {rid} +14155550101"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = ok_json(
        db,
        &format!("exchange deactivate --account {pid} --customer {rid} --json"),
    );
    assert_eq!(c["status"], "deactivated");
    refused(
        db,
        &format!("exchange deactivate --account {pid} --customer {rid}"),
        &["not_found"],
    );
    let customers = ok_json(db, &format!("exchange customers --account {pid} --json"));
    assert_eq!(customers.as_array().map(Vec::len), Some(1), "{customers}");
    let list = ok_json(db, &format!("exchange list --account {rid} --json"));
    assert_eq!(list[0]["status"], "deactivated");
}

backend_tests!(
    exchange_connects_once_by_account_number,
    exchange_customers_count_their_numbers,
    exchange_disconnect_and_deactivate_follow_r_acc_1,
);
