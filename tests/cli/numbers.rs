//! `numbers …`: add (E.164 or national with --country), list, show with history, allocate,
//! move to a unit, assign, view assignments, unassign, release, unbind and delete, with their
//! refusals, acting as one account.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{err, json_lines, ok_json, refused, run, s};
use crate::world::World;

/// The scripting flow of SPEC §8.2: add, list, allocate (trunk required for a customer),
/// release, unbind, delete and show, with their refusals and another tenant seeing nothing.
async fn numbers_are_scripted_with_their_refusals(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid, oid) = (w.db, &w.pid, &w.cid, &w.oid);
    let added = run(
        db,
        &format!(
            "numbers add --account {pid} --json '+1 415 555 0100' +14155550101 '020 7183 8750'"
        ),
        None,
    );
    assert_ne!(
        added.code, 0,
        "national format without --country is refused"
    );
    assert!(
        added.stderr.contains("R-NUM-2") && added.stderr.contains("020 7183 8750"),
        "{}",
        added.stderr
    );
    let r = run(
        db,
        &format!("numbers add --account {pid} --json '+1 415 555 0100' +14155550101"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let nums = json_lines(&r.stdout);
    assert_eq!(nums.len(), 2);
    assert_eq!(nums[0]["phone_number"], "+14155550100");
    assert_eq!(nums[0]["position"], "free");
    refused(
        db,
        &format!("numbers add --account {oid} +14155550100"),
        &["number_already_exists", "R-NUM-1"],
    );
    refused(
        db,
        &format!("numbers add --account {pid} not-a-number"),
        &["not-a-number", "R-NUM-2"],
    );
    refused(
        db,
        "numbers add --account nope +14155550102",
        &["--account", "nope"],
    );

    let r = run(db, &format!("numbers list --account {pid} --json"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 2);
    let r = run(db, &format!("numbers list --account {oid} --json"), None);
    assert_eq!(r.stdout.lines().count(), 0, "another tenant sees nothing");

    refused(
        db,
        &format!("numbers allocate --account {pid} +14155550100 --to {cid}"),
        &["sip_trunk_id"],
    );
    let e = err(
        db,
        &format!("numbers allocate --account {pid} +14155550100 --to {oid}"),
    );
    assert!(
        e.contains("not_found"),
        "an account outside the scope is not found: {e}"
    );
    refused(
        db,
        &format!("numbers show --account {oid} +14155550100"),
        &["not_found"],
    );
    refused(
        db,
        &format!("numbers release --account {pid} +14155550100"),
        &["R-MOVE-3"],
    );
    refused(
        db,
        &format!("numbers unbind --account {pid} +14155550100"),
        &["R-MOVE-4"],
    );
    refused(
        db,
        &format!("numbers delete --account {oid} +14155550101"),
        &["not_found"],
    );
    let d = ok_json(
        db,
        &format!("numbers delete --account {pid} +14155550101 --json"),
    );
    assert_eq!(d["phone_number"], "+14155550101");
    let shown = ok_json(
        db,
        &format!("numbers show --account {pid} +14155550100 --json"),
    );
    assert_eq!(shown["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(shown["history"][0]["action"], "number.add");
    assert_eq!(shown["history"][0]["channel"], "cli");
}

/// A number held by the customer goes into its unit, is assigned and its assignments viewed
/// (as JSON and as text).
async fn numbers_move_into_a_unit_and_are_assigned(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, cid, uid, rid) = (w.db, &w.cid, &w.uid, &w.rid);
    w.add(&["+14155550100"]);
    let n = w.allocated("+14155550100", cid);
    assert_eq!(n["customer_id"], Value::String(cid.clone()));

    refused(
        db,
        &format!("numbers move --account {cid} +14155550100 --to x"),
        &["--to", "'x'"],
    );
    let e = err(
        db,
        &format!("numbers move --account {cid} +14155550100 --to {rid}"),
    );
    assert!(e.contains("not_found"), "another tenant's account: {e}");
    let moved = ok_json(
        db,
        &format!("numbers move --account {cid} +14155550100 --to {uid} --json"),
    );
    assert_eq!(
        (s(&moved, "holder_id"), s(&moved, "customer_id")),
        (uid.clone(), cid.clone())
    );
    refused(
        db,
        &format!("numbers assign --account {cid} +14155550100 --type robot --id u1"),
        &["--type", "robot"],
    );
    let assigned = ok_json(
        db,
        &format!(
            "numbers assign --account {cid} +14155550100 --type user --id u1 --display-name 'Ann Lee' --json"
        ),
    );
    assert_eq!(assigned["position"], "assigned");
    let view = ok_json(
        db,
        &format!("numbers assignments --account {cid} +14155550100 --json"),
    );
    assert_eq!(view["business"]["id"], Value::String(cid.clone()));
    assert_eq!(view["business_unit"]["name"], "Sales");
    assert_eq!(view["assignees"][0]["assignee_type"], "user");
    assert_eq!(view["assignees"][0]["assignee_id"], "u1");
    let r = run(
        db,
        &format!("numbers assignments --account {cid} +14155550100"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Sales") && r.stdout.contains("user u1 (Ann Lee)"),
        "{}",
        r.stdout
    );
}

backend_tests!(
    numbers_are_scripted_with_their_refusals,
    numbers_move_into_a_unit_and_are_assigned,
);
