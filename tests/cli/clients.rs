//! `client …` and `user …`: a secret or a generated password printed once, client rotation and
//! deletion acting as the client's account or one above it, and their one-line refusals.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{err, ok_json, refused, run, s};
use crate::world::World;

/// API client: secret printed once, only a hash stored; a scope that does not exist is refused.
async fn clients_are_created_with_their_secret_once(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let cl = ok_json(db, &format!("client create --account {pid} --json"));
    assert_eq!(cl["account_id"], Value::String(pid.clone()));
    assert_eq!(cl["scopes"].as_array().map(Vec::len), Some(4));
    assert!(s(&cl, "client_secret").len() >= 32);
    refused(
        db,
        &format!("client create --account {pid} --scopes 'phone:read:admin root'"),
        &["scope 'root'"],
    );
}

/// A user with a password from stdin (not echoed), one with a generated password, and a
/// second user of the same address refused.
async fn users_are_created_with_a_password_once(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let r = run(
        db,
        &format!(
            "user create --account {pid} --email Ann@Acme.example --role owner --password-stdin --json"
        ),
        Some("a long enough password\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let u: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(u["email"], "ann@acme.example");
    assert!(
        u.get("password").is_none(),
        "a given password is not echoed"
    );
    let u2 = ok_json(
        db,
        &format!("user create --account {pid} --email bob@acme.example --json"),
    );
    assert!(s(&u2, "password").len() >= 12);
    let e = err(
        db,
        &format!("user create --account {pid} --email ann@acme.example --password-stdin"),
    );
    assert!(
        e.contains("password") || e.contains("already exists"),
        "{e}"
    );
}

/// `client rotate` and `client delete`: acting as the client's account by default or as the
/// account given; out of the account's own subtree is not found; the secret is new each time.
async fn clients_rotate_and_delete(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid, cid, oid) = (w.db, &w.pid, &w.cid, &w.oid);
    let created = ok_json(
        db,
        &format!("client create --account {cid} --scopes phone:read:admin --json"),
    );
    let client_id = s(&created, "client_id");

    // By default as the client's own account; with --account, as an account above it.
    let rotated = ok_json(db, &format!("client rotate --client-id {client_id} --json"));
    assert_eq!(
        (
            s(&rotated, "client_id"),
            s(&rotated, "account_id"),
            rotated["scopes"].clone()
        ),
        (client_id.clone(), cid.clone(), created["scopes"].clone())
    );
    assert_ne!(s(&rotated, "client_secret"), s(&created, "client_secret"));
    assert!(s(&rotated, "client_secret").len() >= 32);
    let again = ok_json(
        db,
        &format!("client rotate --client-id {client_id} --account {pid} --json"),
    );
    assert_ne!(s(&again, "client_secret"), s(&rotated, "client_secret"));
    let r = run(db, &format!("client rotate --client-id {client_id}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("client_secret:"), "{}", r.stdout);

    // Another tenant, an unknown client, a bad account id: one-line errors.
    for verb in ["rotate", "delete"] {
        let e = err(
            db,
            &format!("client {verb} --client-id {client_id} --account {oid}"),
        );
        assert!(e.contains("not_found") && e.contains("api client"), "{e}");
    }
    refused(db, "client rotate --client-id np_nobody", &["not_found"]);
    refused(
        db,
        &format!("client delete --client-id {client_id} --account nope"),
        &["--account", "nope"],
    );

    let r = run(db, &format!("client delete --client-id {client_id}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("deleted"), "{}", r.stdout);
    refused(
        db,
        &format!("client delete --client-id {client_id}"),
        &["not_found"],
    );
    refused(
        db,
        &format!("client rotate --client-id {client_id}"),
        &["not_found"],
    );
}

backend_tests!(
    clients_are_created_with_their_secret_once,
    users_are_created_with_a_password_once,
    clients_rotate_and_delete,
);
