//! `numbers …`: add (E.164 or national with --country), list, show with history, allocate,
//! move to a unit, assign, view assignments, unassign, release, unbind and delete, with their
//! refusals, acting as one account.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{err, ok_json, run, s};
use crate::world::World;

/// The scripting flow of SPEC §8.2: add, list, allocate (trunk required for a customer),
/// release, unbind, delete and show, with their refusals and another tenant seeing nothing.
async fn numbers_are_scripted_with_their_refusals(db: &TestDb) {
    let w = World::new(&db.url);
    let db = w.db;
    let pid = w.pid.clone();
    let cid = w.cid.clone();
    let oid = w.oid.clone();
    let added = run(
        db,
        &[
            "numbers",
            "add",
            "--account",
            &pid,
            "--json",
            "+1 415 555 0100",
            "+14155550101",
            "020 7183 8750",
        ],
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
        &[
            "numbers",
            "add",
            "--account",
            &pid,
            "--json",
            "+1 415 555 0100",
            "+14155550101",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let nums: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(nums.len(), 2);
    assert_eq!(nums[0]["phone_number"], "+14155550100");
    assert_eq!(nums[0]["position"], "free");
    let e = err(db, &["numbers", "add", "--account", &oid, "+14155550100"]);
    assert!(
        e.contains("number_already_exists") && e.contains("R-NUM-1"),
        "{e}"
    );
    let e = err(db, &["numbers", "add", "--account", &pid, "not-a-number"]);
    assert!(e.contains("not-a-number") && e.contains("R-NUM-2"), "{e}");
    let e = err(db, &["numbers", "add", "--account", "nope", "+14155550102"]);
    assert!(e.contains("--account") && e.contains("nope"), "{e}");

    let r = run(db, &["numbers", "list", "--account", &pid, "--json"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 2);
    let r = run(db, &["numbers", "list", "--account", &oid, "--json"], None);
    assert_eq!(r.stdout.lines().count(), 0, "another tenant sees nothing");

    let e = err(
        db,
        &[
            "numbers",
            "allocate",
            "--account",
            &pid,
            "+14155550100",
            "--to",
            &cid,
        ],
    );
    assert!(e.contains("sip_trunk_id"), "{e}");
    let e = err(
        db,
        &[
            "numbers",
            "allocate",
            "--account",
            &pid,
            "+14155550100",
            "--to",
            &oid,
        ],
    );
    assert!(
        e.contains("not_found"),
        "an account outside the scope is not found: {e}"
    );
    let e = err(db, &["numbers", "show", "--account", &oid, "+14155550100"]);
    assert!(e.contains("not_found"), "{e}");
    let e = err(
        db,
        &["numbers", "release", "--account", &pid, "+14155550100"],
    );
    assert!(e.contains("R-MOVE-3"), "{e}");
    let e = err(
        db,
        &["numbers", "unbind", "--account", &pid, "+14155550100"],
    );
    assert!(e.contains("R-MOVE-4"), "{e}");
    let e = err(
        db,
        &["numbers", "delete", "--account", &oid, "+14155550101"],
    );
    assert!(e.contains("not_found"), "{e}");
    let d = ok_json(
        db,
        &[
            "numbers",
            "delete",
            "--account",
            &pid,
            "+14155550101",
            "--json",
        ],
    );
    assert_eq!(d["phone_number"], "+14155550101");
    let shown = ok_json(
        db,
        &[
            "numbers",
            "show",
            "--account",
            &pid,
            "+14155550100",
            "--json",
        ],
    );
    assert_eq!(shown["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(shown["history"][0]["action"], "number.add");
    assert_eq!(shown["history"][0]["channel"], "cli");
}

/// A number held by the customer goes into its unit, is assigned and its assignments viewed
/// (as JSON and as text).
async fn numbers_move_into_a_unit_and_are_assigned(db: &TestDb) {
    let w = World::new(&db.url);
    let db = w.db;
    let cid = w.cid.clone();
    let uid = w.uid.clone();
    let rid = w.rid.clone();
    w.add(&["+14155550100"]);
    let n = w.allocated("+14155550100", &cid);
    assert_eq!(n["customer_id"], Value::String(cid.clone()));

    let e = err(
        db,
        &[
            "numbers",
            "move",
            "--account",
            &cid,
            "+14155550100",
            "--to",
            "x",
        ],
    );
    assert!(e.contains("--to") && e.contains("'x'"), "{e}");
    let e = err(
        db,
        &[
            "numbers",
            "move",
            "--account",
            &cid,
            "+14155550100",
            "--to",
            &rid,
        ],
    );
    assert!(e.contains("not_found"), "another tenant's account: {e}");
    let moved = ok_json(
        db,
        &[
            "numbers",
            "move",
            "--account",
            &cid,
            "+14155550100",
            "--to",
            &uid,
            "--json",
        ],
    );
    assert_eq!(
        (s(&moved, "holder_id"), s(&moved, "customer_id")),
        (uid.clone(), cid.clone())
    );
    let e = err(
        db,
        &[
            "numbers",
            "assign",
            "--account",
            &cid,
            "+14155550100",
            "--type",
            "robot",
            "--id",
            "u1",
        ],
    );
    assert!(e.contains("--type") && e.contains("robot"), "{e}");
    let assigned = ok_json(
        db,
        &[
            "numbers",
            "assign",
            "--account",
            &cid,
            "+14155550100",
            "--type",
            "user",
            "--id",
            "u1",
            "--display-name",
            "Ann Lee",
            "--json",
        ],
    );
    assert_eq!(assigned["position"], "assigned");
    let view = ok_json(
        db,
        &[
            "numbers",
            "assignments",
            "--account",
            &cid,
            "+14155550100",
            "--json",
        ],
    );
    assert_eq!(view["business"]["id"], Value::String(cid.clone()));
    assert_eq!(view["business_unit"]["name"], "Sales");
    assert_eq!(view["assignees"][0]["assignee_type"], "user");
    assert_eq!(view["assignees"][0]["assignee_id"], "u1");
    let r = run(
        db,
        &["numbers", "assignments", "--account", &cid, "+14155550100"],
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
