//! `account …`: creation and its one-line refusals, the offboarding check with its blockers,
//! and R-ACC-3 licences set from above, used and refused past the limit.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{err, ok_json, refused, run, s};
use crate::world::World;

/// A created provider has an eight-digit account number; a wrong kind of parent, an unknown
/// parent and a bad kind are clear one-line errors.
async fn accounts_are_created_or_refused_in_one_line(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let p = &w.provider;
    assert_eq!(p["kind"], "provider");
    assert_eq!(s(p, "account_number").len(), 8);

    // Wrong kind of parent, unknown parent, bad kind: clear one-line errors.
    refused(
        db,
        &format!("account create --name U --kind unit --parent {pid}"),
        &["R-TREE-1", "unit"],
    );
    refused(
        db,
        "account create --name X --kind customer --parent 01a2b3c4-0000-7000-8000-000000000000",
        &["not_found", "parent account"],
    );
    refused(
        db,
        "account create --name X --kind emperor",
        &["--kind", "emperor"],
    );
}

/// Offboarding the customer: the assignment and the number in its unit are in the way, and
/// `account deactivate` is refused until they are gone.
async fn offboarding_lists_what_is_in_the_way(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid, uid) = (w.db, &w.pid, &w.cid, &w.uid);
    w.add(&["+14155550100"]);
    assert_eq!(
        w.allocated("+14155550100", cid)["customer_id"],
        Value::String(cid.clone())
    );
    let moved = ok_json(
        db,
        &format!("numbers move --account {cid} +14155550100 --to {uid} --json"),
    );
    assert_eq!(&s(&moved, "holder_id"), uid);
    w.assign(cid, "+14155550100", "user", "u1");

    // Offboarding the customer: the assignment and the number in its unit are in the way.
    let o = ok_json(
        db,
        &format!("account offboarding {cid} --account {pid} --json"),
    );
    assert_eq!(o["checks"][0]["action"], "deactivate_account");
    assert_eq!(o["checks"][0]["ready"], false);
    let blockers = o["checks"][0]["blockers"]
        .as_array()
        .unwrap_or_else(|| panic!("{o}"));
    let assigned_blocker = blockers
        .iter()
        .find(|b| b["code"] == "assigned_numbers")
        .unwrap_or_else(|| panic!("no assigned_numbers blocker: {o}"));
    assert_eq!(assigned_blocker["count"], 1);
    assert_eq!(assigned_blocker["rule"], "R-OFF-1");
    assert_eq!(assigned_blocker["phone_numbers"][0], "+14155550100");
    let r = run(
        db,
        &format!("account offboarding {cid} --account {pid}"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("deactivate_account: not ready")
            && r.stdout.contains("assigned_numbers (1) [R-OFF-1]")
            && r.stdout.contains("+14155550100"),
        "{}",
        r.stdout
    );
    refused(db, &format!("account deactivate {cid}"), &["R-OFF-1"]);
    let unassigned = ok_json(
        db,
        &format!("numbers unassign --account {cid} +14155550100 --id u1 --json"),
    );
    assert_eq!(unassigned["position"], "unassigned");
    assert_eq!(unassigned["assignees"], Value::Array(vec![]));
}

/// R-ACC-3: licences set from above, used, and refused past the limit; `none` lifts it.
async fn licences_are_set_used_and_enforced(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid, tid) = (w.db, &w.pid, &w.cid, &w.tid);
    w.add(&["+18005550100", "+18005550101"]);
    refused(
        db,
        &format!("account update {cid} --account {pid} --toll-free-licences -1"),
        &["--toll-free-licences", "-1"],
    );
    refused(
        db,
        &format!("account update {cid} --account {pid} --allow-external-numbers maybe"),
        &["--allow-external-numbers"],
    );
    refused(
        db,
        &format!("account update {cid} --account {cid} --toll-free-licences 5"),
        &["rule_violation", "R-ACC-3"],
    );
    let a = ok_json(
        db,
        &format!(
            "account update {cid} --account {pid} --name 'Globex Corp' --allow-external-numbers true --toll-free-licences 1 --json"
        ),
    );
    assert_eq!(
        (&a["name"], &a["allow_external_numbers"], &a["entitlements"]),
        (
            &Value::from("Globex Corp"),
            &Value::Bool(true),
            &serde_json::json!({"toll_free": 1, "contact_center": null})
        )
    );
    let allocate_to_customer = |number: &str| w.allocate(number, cid);
    let r = allocate_to_customer("+18005550100");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ent = ok_json(
        db,
        &format!("account entitlements {cid} --account {pid} --json"),
    );
    assert_eq!(
        ent["toll_free"],
        serde_json::json!({"limit": 1, "used": 1}),
        "{ent}"
    );
    assert_eq!(ent["contact_center"]["limit"], Value::Null);
    let e = err(
        db,
        &format!("numbers allocate --account {pid} +18005550101 --to {cid} --sip-trunk {tid}"),
    );
    assert!(
        e.starts_with("error: rule_violation:") && e.ends_with("[R-ACC-3]"),
        "{e}"
    );
    refused(
        db,
        &format!("account update {cid} --account {pid} --toll-free-licences 0"),
        &["rule_violation", "R-ACC-3"],
    );
    let a = ok_json(
        db,
        &format!("account update {cid} --account {pid} --toll-free-licences none --json"),
    );
    assert_eq!(a["entitlements"]["toll_free"], Value::Null);
    let r = allocate_to_customer("+18005550101");
    assert_eq!(r.code, 0, "no limit now: {}", r.stderr);
    let r = run(
        db,
        &format!("account entitlements {cid} --account {pid}"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 used (no limit)"), "{}", r.stdout);
}

backend_tests!(
    accounts_are_created_or_refused_in_one_line,
    offboarding_lists_what_is_in_the_way,
    licences_are_set_used_and_enforced,
);
