//! `numbers …`: add (E.164 or national with --country), list, show with history, allocate,
//! move to a unit, assign, view assignments, unassign, release, unbind and delete, with their
//! refusals, acting as one account.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use std::process::{Command, Stdio};

use crate::common::process::{bin, err, json_lines, ok_json, refused, run, s};
use crate::world::World;

/// `numbers available`: the API's search and its refusals, as text and as JSON.
async fn numbers_available_searches_the_pool(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid) = (w.db, &w.pid, &w.cid);
    w.add(&[
        "+14155550100",
        "+14153569377",
        "+12125550199",
        "+18005550100",
    ]);
    let list = ok_json(
        db,
        &format!("numbers available --account {pid} --json --country US --area-code 415"),
    );
    let phones: Vec<&str> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["phone_number"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(phones, ["+14153569377", "+14155550100"], "{list}");
    assert_eq!(list[1]["state"], "CA", "{list}");
    assert_eq!(list[1]["city"], "San Francisco", "{list}");
    let r = run(
        db,
        &format!("numbers available --account {pid} --contains '*flowers'"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("+14153569377"), "{}", r.stdout);
    assert!(r.stdout.contains("1 number(s)"), "{}", r.stdout);
    let r = run(
        db,
        &format!("numbers available --account {pid} --toll-free"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("+18005550100") && r.stdout.contains("toll_free"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 number(s)"), "{}", r.stdout);
    refused(
        db,
        &format!("numbers available --account {pid} --contains 41#"),
        &["contains"],
    );
    refused(
        db,
        &format!("numbers available --account {pid} --area-code 415"),
        &["area_code", "country"],
    );
    refused(
        db,
        &format!("numbers available --account {pid} --quantity 500"),
        &["quantity"],
    );
    // A customer has no pool to search, and its provider has not opened its own.
    let none = ok_json(db, &format!("numbers available --account {cid} --json"));
    assert_eq!(none, serde_json::json!([]), "{none}");

    // Provision what was found, on the provider's default trunk; all or none.
    let got = ok_json(
        db,
        &format!("numbers provision --account {pid} --site {cid} --json +14155550100"),
    );
    assert_eq!(got["phone_number"], "+14155550100", "{got}");
    assert_eq!(got["sip_trunk_id"], serde_json::json!(w.tid), "{got}");
    let r = run(
        db,
        &format!("numbers provision --account {pid} --site {cid} +14153569377"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1 number(s) provisioned"), "{}", r.stdout);
    refused(
        db,
        &format!("numbers provision --account {pid} --site {cid} +12125550199 +14155550100"),
        &["+14155550100", "not a free number"],
    );
    let left = ok_json(
        db,
        &format!("numbers available --account {pid} --json --area-code 212 --country US"),
    );
    assert_eq!(
        left[0]["phone_number"], "+12125550199",
        "nothing moved: {left}"
    );
    refused(
        db,
        &format!("numbers provision --account {pid} --site {cid} 12"),
        &["12"],
    );
    refused(
        db,
        &format!("numbers provision --account {pid} --site {cid} --toll-free +12125550199"),
        &["+12125550199", "not a toll-free number"],
    );

    // Self-service: the provider opens its pool; the customer finds and takes a number.
    let off = ok_json(db, &format!("numbers self-service --account {pid} --json"));
    assert_eq!(off, serde_json::json!({"enabled": false}), "{off}");
    let r = run(
        db,
        &format!("numbers self-service --account {pid} --on"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("self-service is on"), "{}", r.stdout);
    let found = ok_json(
        db,
        &format!("numbers available --account {cid} --json --area-code 212 --country US"),
    );
    assert_eq!(found[0]["phone_number"], "+12125550199", "{found}");
    let got = ok_json(
        db,
        &format!("numbers provision --account {cid} --site {cid} --json +12125550199"),
    );
    assert_eq!(got["phone_number"], "+12125550199", "{got}");
    refused(
        db,
        &format!("numbers self-service --account {cid} --on"),
        &["R-PROV-1"],
    );
}

/// `block create`, `block list`, `block release`: a range in as one unit, its counts, a release
/// refused while a number is with a customer, then done.
async fn blocks_go_in_and_out_as_one_unit(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid) = (w.db, &w.pid, &w.cid);
    let b = ok_json(
        db,
        &format!("block create --account {pid} --start +14155554000 --size 20 --json"),
    );
    assert_eq!(b["end_number"], "+14155554019", "{b}");
    assert_eq!(b["free"], 20, "{b}");
    let id = b["id"].as_str().unwrap_or_default().to_string();
    let r = run(db, &format!("block list --account {pid}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("+14155554000 – +14155554019  20 numbers: 20 free, 0 in use"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 block(s)"), "{}", r.stdout);
    refused(
        db,
        &format!("block create --account {pid} --start +14155554019 --size 2"),
        &["+14155554019", "already exists"],
    );
    refused(
        db,
        &format!("block create --account {pid} --start +14155554100 --size 0"),
        &["size"],
    );
    ok_json(
        db,
        &format!("numbers provision --account {pid} --site {cid} --json +14155554005"),
    );
    refused(
        db,
        &format!("block release --account {pid} {id}"),
        &["+14155554005", "R-DEL-1"],
    );
    ok_json(
        db,
        &format!("numbers release --account {cid} --json +14155554005"),
    );
    let done = ok_json(db, &format!("block release --account {pid} --json {id}"));
    assert_eq!(done["released_numbers"], 20, "{done}");
    let none = ok_json(db, &format!("block list --account {pid} --json"));
    assert_eq!(none, serde_json::json!([]), "{none}");
}

/// `reservation create/list/extend/release/settings`: numbers held for a customer, hidden from
/// the pool's search, moved, released; the provider's default time.
async fn reservations_hold_numbers_for_a_customer(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid) = (w.db, &w.pid, &w.cid);
    w.add(&["+14155557001", "+14155557002"]);
    let r = ok_json(
        db,
        &format!("reservation create --account {pid} --for {cid} --ttl 600 --json +14155557001"),
    );
    assert_eq!(r["status"], "active", "{r}");
    assert_eq!(r["seconds_left"], 600, "{r}");
    let id = r["id"].as_str().unwrap_or_default().to_string();
    let found = ok_json(
        db,
        &format!("numbers available --account {pid} --json --contains 41555570*"),
    );
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["phone_number"], "+14155557002", "{found}");
    refused(
        db,
        &format!("reservation create --account {pid} --for {cid} +14155557001"),
        &["+14155557001", "not a free number"],
    );
    refused(
        db,
        &format!("reservation create --account {pid} --for {cid} --ttl 5 +14155557002"),
        &["ttl_seconds"],
    );
    let r = run(db, &format!("reservation list --account {cid}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&id) && r.stdout.contains("active"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 reservation(s)"), "{}", r.stdout);
    let moved = ok_json(
        db,
        &format!("reservation extend --account {pid} {id} --ttl 7200 --json"),
    );
    assert_eq!(moved["seconds_left"], 7200, "{moved}");
    let gone = ok_json(
        db,
        &format!("reservation release --account {pid} {id} --json"),
    );
    assert_eq!(gone["status"], "released", "{gone}");
    let s = ok_json(
        db,
        &format!("reservation settings --account {pid} --default-ttl 900 --json"),
    );
    assert_eq!(s["default_ttl_seconds"], 900, "{s}");
    let r = run(db, &format!("reservation settings --account {pid}"), None);
    assert!(
        r.stdout
            .contains("reservations last 900 seconds by default"),
        "{}",
        r.stdout
    );
}

/// `porting validate/create/list/show/update/cancel`: seed 002's port-in from the command
/// line, the PIN from stdin and shown as its last digit only.
async fn porting_orders_are_scripted(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let dir = std::env::temp_dir();
    let dd = format!("--data-dir {}", dir.display());
    let v = ok_json(
        db,
        &format!("porting validate {dd} --account {pid} --json +14155559999 +442071838750"),
    );
    assert_eq!(v["phone_numbers"][1]["code"], "other_country", "{v}");
    let line = format!(
        "porting create {dd} --account {pid} --carrier 'Previous Carrier' --account-number 123456789 \
         --pin-stdin --authorized-person 'John Doe' --address '123 Main St' \
         --city 'San Francisco' --state CA --zip 94105 --date 2024-02-01 --json +14155559999"
    );
    let r = run(db, &line, Some("1234\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("\"1234\""), "{}", r.stdout);
    let o: Value = serde_json::from_str(r.stdout.lines().next().unwrap_or("")).unwrap_or_default();
    assert_eq!(o["status"], "submitted", "{o}");
    assert_eq!(o["account_pin"], "***4", "{o}");
    let id = o["order_id"].as_str().unwrap_or_default().to_string();
    refused(
        db,
        &format!("porting update {dd} --account {pid} {id} --status completed"),
        &["R-PORT-1"],
    );
    for step in [
        "--status pending",
        "--status scheduled --scheduled-date 2024-02-03",
        "--status completed",
    ] {
        ok_json(
            db,
            &format!("porting update {dd} --account {pid} {id} {step} --json"),
        );
    }
    let r = run(db, &format!("porting show {dd} --account {pid} {id}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("completed"), "{}", r.stdout);
    assert!(r.stdout.contains("scheduled (2024-02-03)"), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().count(),
        5,
        "the order and its four changes: {}",
        r.stdout
    );
    refused(
        db,
        &format!("porting cancel {dd} --account {pid} {id}"),
        &["closed"],
    );
    let list = ok_json(db, &format!("porting list {dd} --account {pid} --json"));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

/// `trunk create`: the provider's first trunk is its default; `--default` moves it (R-PROV-3).
async fn trunks_are_created_with_a_default(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let second = ok_json(
        db,
        &format!("trunk create --account {pid} --name t2 --region eu --json"),
    );
    assert_eq!(second["is_default"], false, "{second}");
    let r = run(
        db,
        &format!("trunk create --account {pid} --name t3 --region eu --default"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("SIP trunk t3 (eu, the default) created: id "),
        "{}",
        r.stdout
    );
}

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
    // The API's shapes (seed 002): capabilities by name, times in RFC 3339.
    assert_eq!(nums[0]["capabilities"], serde_json::json!(["voice"]));
    let at = nums[0]["created_at"].as_str().unwrap_or_default();
    assert!(at.len() == 24 && at.ends_with('Z'), "{}", nums[0]);
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
    let at = shown["history"][0]["at"].as_str().unwrap_or_default();
    assert!(at.len() == 24 && at.ends_with('Z'), "{shown}");
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

/// `numberpool numbers list … | head -1` (issue 11): output into a closed pipe ends the command
/// quietly, as a Unix tool killed by SIGPIPE (status 141), never with a panic.
async fn numbers_list_into_a_closed_pipe(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    w.add(&["+14155550100", "+14155550101", "+14155550102"]);
    // The reading end is closed before the command writes a byte, so its first write fails.
    let mut child = bin()
        .args(["--database-url", db, "numbers", "list", "--account", pid])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    drop(child.stdout.take());
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim(), "", "a closed pipe is not an error to report");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    // And through a shell, as the issue ran it.
    let out = Command::new("sh")
        .arg("-c")
        .arg("\"$NP\" --database-url \"$DB\" numbers list --account \"$ACC\" | head -1")
        .env("NP", env!("CARGO_BIN_EXE_numberpool"))
        .env("DB", db)
        .env("ACC", pid)
        .env("NUMBERPOOL_LOG_LEVEL", "warn")
        .output()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// `numbers list --sort`: the order, and `--after` from the page before in that order.
async fn numbers_list_in_an_order(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    w.add(&["+14155550102", "+14155550100", "+14155550101"]);
    let listed = |line: &str| -> Vec<String> {
        let r = run(db, line, None);
        assert_eq!(r.code, 0, "{line}: {}", r.stderr);
        r.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| v["phone_number"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let base = format!("numbers list --account {pid} --json");
    assert_eq!(
        listed(&format!("{base} --sort phone_number_desc")),
        ["+14155550102", "+14155550101", "+14155550100"]
    );
    assert_eq!(
        listed(&format!("{base} --sort phone_number --after +14155550100")),
        ["+14155550101", "+14155550102"]
    );
    // The page note names the --after of the order.
    let r = run(
        db,
        &format!("numbers list --account {pid} --sort phone_number --limit 1"),
        None,
    );
    assert!(
        r.stdout.contains("more: --after +14155550100"),
        "{}",
        r.stdout
    );
    let e = err(db, &format!("{base} --sort newest"));
    assert!(e.contains("--sort") && e.contains("added_desc"), "{e}");
    let e = err(db, &format!("{base} --after 12"));
    assert!(e.contains("--after"), "{e}");
}

backend_tests!(
    numbers_list_in_an_order,
    numbers_are_scripted_with_their_refusals,
    numbers_move_into_a_unit_and_are_assigned,
    numbers_list_into_a_closed_pipe,
    numbers_available_searches_the_pool,
    blocks_go_in_and_out_as_one_unit,
    reservations_hold_numbers_for_a_customer,
    porting_orders_are_scripted,
    trunks_are_created_with_a_default,
);
