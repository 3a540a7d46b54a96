//! `webhook …` and `events`: a subscription made with its secret printed once, listed, turned
//! off and on, its types changed, its (empty) delivery log, deleted; a private address refused
//! unless the operator allows it; the feed of an account's subtree as JSON lines, from a
//! sequence on, and filtered by type; a pool threshold added, forecast and deleted.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::common::Must;
use crate::common::process::{json_lines, ok_json, refused, run, s};
use crate::world::World;

async fn webhooks_are_made_listed_changed_and_deleted(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    refused(
        db,
        &format!("webhook create --account {pid} --url http://127.0.0.1:9/hook"),
        &["loopback, private or link-local"],
    );
    refused(
        db,
        &format!("webhook create --account {pid} --url https://example.com/x --type number.nope"),
        &["'number.nope' is not an event type"],
    );
    let made = ok_json(
        db,
        &format!(
            "--webhook-allow-private true webhook create --account {pid} \
             --url http://127.0.0.1:9/hook --type number.add --type number.release \
             --description billing --json"
        ),
    );
    let id = s(&made, "id");
    assert!(s(&made, "secret").starts_with("whsec_"));
    assert_eq!(
        made["event_types"],
        serde_json::json!(["number.add", "number.release"])
    );
    let list = ok_json(db, &format!("webhook list --account {pid} --json"));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(
        list[0].get("secret").is_none(),
        "the secret is printed once"
    );
    let off = ok_json(
        db,
        &format!("webhook update --account {pid} {id} --disable --all-types --json"),
    );
    assert_eq!(off["state"], "disabled");
    assert_eq!(off["event_types"], serde_json::json!([]));
    let on = ok_json(
        db,
        &format!("webhook update --account {pid} {id} --enable --json"),
    );
    assert_eq!(on["state"], "active");
    let secret = ok_json(
        db,
        &format!("webhook rotate-secret --account {pid} {id} --json"),
    );
    assert_ne!(s(&secret, "secret"), s(&made, "secret"));
    let log = ok_json(
        db,
        &format!("webhook deliveries --account {pid} {id} --json"),
    );
    assert_eq!(log, serde_json::json!([]));
    // Another account does not find it.
    refused(
        db,
        &format!("webhook show --account {} {id}", w.oid),
        &["webhook not found"],
    );
    let r = run(db, &format!("webhook delete --account {pid} {id}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("deleted"), "{}", r.stdout);
    let list = ok_json(db, &format!("webhook list --account {pid} --json"));
    assert_eq!(list, serde_json::json!([]));
}

async fn events_are_read_as_json_lines_from_a_sequence_on(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    w.add(&["+14155550101", "+14155550102"]);
    let r = run(db, &format!("events --account {pid} --json"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = json_lines(&r.stdout);
    assert!(
        all.iter().any(|e| e["type"] == "number.add"),
        "{}",
        r.stdout
    );
    assert!(
        all.windows(2)
            .all(|p| p[0]["sequence"].as_i64() < p[1]["sequence"].as_i64()),
        "in order"
    );
    let last = all.last().must("an event")["sequence"]
        .as_i64()
        .must("sequence");
    let r = run(
        db,
        &format!("events --account {pid} --after {last} --json"),
        None,
    );
    assert_eq!(r.stdout.trim(), "", "nothing after the last");
    let r = run(
        db,
        &format!("events --account {pid} --type number.add --json"),
        None,
    );
    assert!(
        json_lines(&r.stdout)
            .iter()
            .all(|e| e["type"] == "number.add")
    );
    // The unrelated provider sees none of it.
    let r = run(db, &format!("events --account {} --json", w.oid), None);
    assert!(
        json_lines(&r.stdout)
            .iter()
            .all(|e| e["type"] != "number.add"),
        "{}",
        r.stdout
    );
    let text = run(db, &format!("events --account {pid}"), None);
    assert!(
        text.stdout.contains("event(s); next: --after"),
        "{}",
        text.stdout
    );
    refused(
        db,
        &format!("events --account {pid} --limit 0"),
        &["--limit"],
    );
}

async fn pool_thresholds_and_their_forecast(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    w.add(&["+14155550101", "+14155550102", "+12125550101"]);
    let t = ok_json(
        db,
        &format!("pool add-threshold --account {pid} --prefix 1415 --min-free 5 --json"),
    );
    assert_eq!(t["prefix"], "1415");
    assert_eq!(t["horizon_days"], 30);
    let f = ok_json(db, &format!("pool forecast --account {pid} --json"));
    assert_eq!(f[0]["free"], 2, "{f}");
    assert_eq!(f[0]["segment"], "+1415");
    assert!(
        f[0]["alert"]
            .as_str()
            .is_some_and(|a| a.contains("fewer than 5")),
        "{f}"
    );
    refused(
        db,
        &format!("pool add-threshold --account {} --prefix 1415", w.cid),
        &["only a provider or a reseller"],
    );
    refused(
        db,
        &format!("pool add-threshold --account {pid} --type cheap"),
        &["--type"],
    );
    let r = run(
        db,
        &format!("pool delete-threshold --account {pid} {}", s(&t, "id")),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = ok_json(db, &format!("pool forecast --account {pid} --json"));
    assert_eq!(f, serde_json::json!([]));
}

backend_tests!(
    pool_thresholds_and_their_forecast,
    webhooks_are_made_listed_changed_and_deleted,
    events_are_read_as_json_lines_from_a_sequence_on
);
