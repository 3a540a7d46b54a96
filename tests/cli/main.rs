//! Black-box tests of the `numberpool` binary: the scripting verbs with `--json`, their errors,
//! configuration errors, `serve` (health, readiness, graceful shutdown) and `demo`, on SQLite
//! and on PostgreSQL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_numberpool"));
    // The tests choose every setting themselves.
    for (k, _) in std::env::vars() {
        if k.starts_with("NUMBERPOOL_") {
            c.env_remove(k);
        }
    }
    c.env("NUMBERPOOL_LOG_LEVEL", "warn");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(db: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = bin();
    cmd.arg("--database-url").arg(db).args(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    if let Some(input) = stdin
        && let Some(mut s) = child.stdin.take()
    {
        s.write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    drop(child.stdin.take());
    let out: Output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok_json(db: &str, args: &[&str]) -> Value {
    let r = run(db, args, None);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    serde_json::from_str(r.stdout.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", r.stdout))
}

fn err(db: &str, args: &[&str]) -> String {
    let r = run(db, args, None);
    assert_ne!(r.code, 0, "{args:?} should fail, printed {}", r.stdout);
    assert!(
        !r.stderr.contains("panicked"),
        "{args:?} panicked: {}",
        r.stderr
    );
    let lines: Vec<_> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: expected a one-line error, got {}",
        r.stderr
    );
    lines[0].to_string()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no string {k} in {v}"))
        .to_string()
}

/// The scripting flow of SPEC §8.2 and the number moves, with their refusals.
fn scripting_flow(db: &str) {
    let r = run(db, &["migrate"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = ok_json(
        db,
        &[
            "account", "create", "--name", "Acme", "--kind", "provider", "--json",
        ],
    );
    assert_eq!(p["kind"], "provider");
    assert_eq!(s(&p, "account_number").len(), 8);
    let pid = s(&p, "id");
    let c = ok_json(
        db,
        &[
            "account", "create", "--name", "Globex", "--kind", "customer", "--parent", &pid,
            "--json",
        ],
    );
    let cid = s(&c, "id");
    let other = ok_json(
        db,
        &[
            "account", "create", "--name", "Other", "--kind", "provider", "--json",
        ],
    );
    let oid = s(&other, "id");

    // Wrong kind of parent, unknown parent, bad kind: clear one-line errors.
    let e = err(
        db,
        &[
            "account", "create", "--name", "U", "--kind", "unit", "--parent", &pid,
        ],
    );
    assert!(e.contains("R-TREE-1") && e.contains("unit"), "{e}");
    let e = err(
        db,
        &[
            "account",
            "create",
            "--name",
            "X",
            "--kind",
            "customer",
            "--parent",
            "01a2b3c4-0000-7000-8000-000000000000",
        ],
    );
    assert!(
        e.contains("not_found") && e.contains("parent account"),
        "{e}"
    );
    let e = err(
        db,
        &["account", "create", "--name", "X", "--kind", "emperor"],
    );
    assert!(e.contains("--kind") && e.contains("emperor"), "{e}");

    // API client: secret printed once, only a hash stored.
    let cl = ok_json(db, &["client", "create", "--account", &pid, "--json"]);
    assert_eq!(cl["account_id"], Value::String(pid.clone()));
    assert_eq!(cl["scopes"].as_array().map(Vec::len), Some(4));
    assert!(s(&cl, "client_secret").len() >= 32);
    let e = err(
        db,
        &[
            "client",
            "create",
            "--account",
            &pid,
            "--scopes",
            "phone:read:admin root",
        ],
    );
    assert!(e.contains("scope 'root'"), "{e}");

    // User with a password from stdin, and with a generated one.
    let r = run(
        db,
        &[
            "user",
            "create",
            "--account",
            &pid,
            "--email",
            "Ann@Acme.example",
            "--role",
            "owner",
            "--password-stdin",
            "--json",
        ],
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
        &[
            "user",
            "create",
            "--account",
            &pid,
            "--email",
            "bob@acme.example",
            "--json",
        ],
    );
    assert!(s(&u2, "password").len() >= 12);
    let e = err(
        db,
        &[
            "user",
            "create",
            "--account",
            &pid,
            "--email",
            "ann@acme.example",
            "--password-stdin",
        ],
    );
    assert!(
        e.contains("password") || e.contains("already exists"),
        "{e}"
    );

    // Numbers: add, list, allocate (trunk required for a customer), release, unbind, delete.
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

/// `client rotate` and `client delete`: acting as the client's account by default or as the
/// account given; out of the account's own subtree is not found; the secret is new each time.
fn client_rotate_and_delete_flow(db: &str) {
    let r = run(db, &["migrate"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = ok_json(
        db,
        &[
            "account", "create", "--name", "P", "--kind", "provider", "--json",
        ],
    );
    let pid = s(&p, "id");
    let c = ok_json(
        db,
        &[
            "account", "create", "--name", "C", "--kind", "customer", "--parent", &pid, "--json",
        ],
    );
    let cid = s(&c, "id");
    let other = ok_json(
        db,
        &[
            "account", "create", "--name", "O", "--kind", "provider", "--json",
        ],
    );
    let oid = s(&other, "id");
    let created = ok_json(
        db,
        &[
            "client",
            "create",
            "--account",
            &cid,
            "--scopes",
            "phone:read:admin",
            "--json",
        ],
    );
    let client_id = s(&created, "client_id");

    // By default as the client's own account; with --account, as an account above it.
    let rotated = ok_json(
        db,
        &["client", "rotate", "--client-id", &client_id, "--json"],
    );
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
        &[
            "client",
            "rotate",
            "--client-id",
            &client_id,
            "--account",
            &pid,
            "--json",
        ],
    );
    assert_ne!(s(&again, "client_secret"), s(&rotated, "client_secret"));
    let r = run(db, &["client", "rotate", "--client-id", &client_id], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("client_secret:"), "{}", r.stdout);

    // Another tenant, an unknown client, a bad account id: one-line errors.
    for args in [
        vec![
            "client",
            "rotate",
            "--client-id",
            &client_id,
            "--account",
            &oid,
        ],
        vec![
            "client",
            "delete",
            "--client-id",
            &client_id,
            "--account",
            &oid,
        ],
    ] {
        let e = err(db, &args);
        assert!(e.contains("not_found") && e.contains("api client"), "{e}");
    }
    let e = err(db, &["client", "rotate", "--client-id", "np_nobody"]);
    assert!(e.contains("not_found"), "{e}");
    let e = err(
        db,
        &[
            "client",
            "delete",
            "--client-id",
            &client_id,
            "--account",
            "nope",
        ],
    );
    assert!(e.contains("--account") && e.contains("nope"), "{e}");

    let r = run(db, &["client", "delete", "--client-id", &client_id], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("deleted"), "{}", r.stdout);
    let e = err(db, &["client", "delete", "--client-id", &client_id]);
    assert!(e.contains("not_found"), "{e}");
    let e = err(db, &["client", "rotate", "--client-id", &client_id]);
    assert!(e.contains("not_found"), "{e}");
}

/// Issue 5 through the CLI: Provider Exchange (connect by account number, customers with their
/// counts, disconnect and deactivate with their R-ACC-1 refusals), move to a unit, assign,
/// view assignments and unassign, R-ACC-3 licences, the offboarding check, and a provider's
/// attribute keys and rate card.
fn tenancy_flow(db: &str) {
    let r = run(db, &["migrate"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let create = |args: &[&str]| {
        let mut all = vec!["account", "create", "--json"];
        all.extend_from_slice(args);
        ok_json(db, &all)
    };
    let p = create(&["--name", "Acme", "--kind", "provider"]);
    let (pid, pnum) = (s(&p, "id"), s(&p, "account_number"));
    let cid = s(
        &create(&["--name", "Globex", "--kind", "customer", "--parent", &pid]),
        "id",
    );
    let uid = s(
        &create(&["--name", "Sales", "--kind", "unit", "--parent", &cid]),
        "id",
    );
    let rid = s(&create(&["--name", "Initech", "--kind", "customer"]), "id");
    let trunk = ok_json(
        db,
        &[
            "trunk",
            "create",
            "--account",
            &pid,
            "--name",
            "t1",
            "--region",
            "us",
            "--json",
        ],
    );
    let tid = s(&trunk, "id");

    // Provider Exchange: a root customer connects by the provider's account number, once.
    let conn = ok_json(
        db,
        &[
            "exchange",
            "connect",
            "--account",
            &rid,
            "--provider-number",
            &pnum,
            "--json",
        ],
    );
    assert_eq!(
        (s(&conn, "provider_id"), s(&conn, "status")),
        (pid.clone(), "connected".to_string())
    );
    let e = err(
        db,
        &[
            "exchange",
            "connect",
            "--account",
            &rid,
            "--provider-number",
            &pnum,
        ],
    );
    assert!(e.contains("rule_violation") && e.contains("R-ACC-1"), "{e}");
    let e = err(
        db,
        &[
            "exchange",
            "connect",
            "--account",
            &cid,
            "--provider-number",
            &pnum,
        ],
    );
    assert!(e.contains("R-ACC-1") && e.contains("root customer"), "{e}");
    let e = err(
        db,
        &[
            "exchange",
            "connect",
            "--account",
            &rid,
            "--provider-number",
            "00000000",
        ],
    );
    assert!(e.contains("not_found") && e.contains("provider"), "{e}");
    let e = err(
        db,
        &[
            "exchange",
            "connect",
            "--account",
            &rid,
            "--provider-number",
            " ",
        ],
    );
    assert!(e.contains("--provider-number"), "{e}");
    let list = ok_json(db, &["exchange", "list", "--account", &rid, "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["status"], "connected");

    // One number to each customer; the provider's customer list counts them.
    let r = run(
        db,
        &[
            "numbers",
            "add",
            "--account",
            &pid,
            "+14155550100",
            "+14155550101",
            "+18005550100",
            "+18005550101",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (number, to) in [("+14155550100", &cid), ("+14155550101", &rid)] {
        let n = ok_json(
            db,
            &[
                "numbers",
                "allocate",
                "--account",
                &pid,
                number,
                "--to",
                to,
                "--sip-trunk",
                &tid,
                "--json",
            ],
        );
        assert_eq!(n["customer_id"], Value::String(to.clone()));
    }
    let customers = ok_json(db, &["exchange", "customers", "--account", &pid, "--json"]);
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
            &row(&cid)["relation"],
            &row(&cid)["connection_status"],
            &row(&cid)["phone_numbers"]
        ),
        (&Value::from("child"), &Value::Null, &Value::from(1))
    );
    assert_eq!(
        (
            &row(&rid)["relation"],
            &row(&rid)["connection_status"],
            &row(&rid)["phone_numbers"]
        ),
        (
            &Value::from("connected"),
            &Value::from("connected"),
            &Value::from(1)
        )
    );
    let r = run(db, &["exchange", "customers", "--account", &pid], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Initech") && r.stdout.contains("2 customer(s), 2 number(s)"),
        "{}",
        r.stdout
    );

    // Into the unit, assigned, viewed, unassigned.
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

    // Offboarding the customer: the assignment and the number in its unit are in the way.
    let o = ok_json(
        db,
        &["account", "offboarding", &cid, "--account", &pid, "--json"],
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
        &["account", "offboarding", &cid, "--account", &pid],
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
    let e = err(db, &["account", "deactivate", &cid]);
    assert!(e.contains("R-OFF-1"), "{e}");
    let unassigned = ok_json(
        db,
        &[
            "numbers",
            "unassign",
            "--account",
            &cid,
            "+14155550100",
            "--id",
            "u1",
            "--json",
        ],
    );
    assert_eq!(unassigned["position"], "unassigned");
    assert_eq!(unassigned["assignees"], Value::Array(vec![]));

    // R-ACC-3: licences set from above, used, and refused past the limit.
    let e = err(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &pid,
            "--toll-free-licences",
            "-1",
        ],
    );
    assert!(
        e.contains("--toll-free-licences") && e.contains("-1"),
        "{e}"
    );
    let e = err(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &pid,
            "--allow-external-numbers",
            "maybe",
        ],
    );
    assert!(e.contains("--allow-external-numbers"), "{e}");
    let e = err(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &cid,
            "--toll-free-licences",
            "5",
        ],
    );
    assert!(e.contains("rule_violation") && e.contains("R-ACC-3"), "{e}");
    let a = ok_json(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &pid,
            "--name",
            "Globex Corp",
            "--allow-external-numbers",
            "true",
            "--toll-free-licences",
            "1",
            "--json",
        ],
    );
    assert_eq!(
        (&a["name"], &a["allow_external_numbers"], &a["entitlements"]),
        (
            &Value::from("Globex Corp"),
            &Value::Bool(true),
            &serde_json::json!({"toll_free": 1, "contact_center": null})
        )
    );
    let allocate_to_customer = |number: &str| {
        run(
            db,
            &[
                "numbers",
                "allocate",
                "--account",
                &pid,
                number,
                "--to",
                &cid,
                "--sip-trunk",
                &tid,
            ],
            None,
        )
    };
    let r = allocate_to_customer("+18005550100");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ent = ok_json(
        db,
        &["account", "entitlements", &cid, "--account", &pid, "--json"],
    );
    assert_eq!(
        ent["toll_free"],
        serde_json::json!({"limit": 1, "used": 1}),
        "{ent}"
    );
    assert_eq!(ent["contact_center"]["limit"], Value::Null);
    let e = err(
        db,
        &[
            "numbers",
            "allocate",
            "--account",
            &pid,
            "+18005550101",
            "--to",
            &cid,
            "--sip-trunk",
            &tid,
        ],
    );
    assert!(
        e.starts_with("error: rule_violation:") && e.ends_with("[R-ACC-3]"),
        "{e}"
    );
    let e = err(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &pid,
            "--toll-free-licences",
            "0",
        ],
    );
    assert!(e.contains("rule_violation") && e.contains("R-ACC-3"), "{e}");
    let a = ok_json(
        db,
        &[
            "account",
            "update",
            &cid,
            "--account",
            &pid,
            "--toll-free-licences",
            "none",
            "--json",
        ],
    );
    assert_eq!(a["entitlements"]["toll_free"], Value::Null);
    let r = allocate_to_customer("+18005550101");
    assert_eq!(r.code, 0, "no limit now: {}", r.stderr);
    let r = run(
        db,
        &["account", "entitlements", &cid, "--account", &pid],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 used (no limit)"), "{}", r.stdout);

    // R-ACC-1: the connected customer's assignment blocks its disconnect request, and the
    // provider deactivates only after the request and once its numbers are back.
    let r = run(
        db,
        &[
            "numbers",
            "assign",
            "--account",
            &rid,
            "+14155550101",
            "--type",
            "call_queue",
            "--id",
            "q1",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e = err(
        db,
        &[
            "exchange",
            "disconnect",
            "--account",
            &rid,
            "--provider",
            &pid,
        ],
    );
    assert!(e.contains("rule_violation") && e.contains("R-ACC-1"), "{e}");
    let e = err(
        db,
        &[
            "exchange",
            "disconnect",
            "--account",
            &rid,
            "--provider",
            "p",
        ],
    );
    assert!(e.contains("--provider") && e.contains("'p'"), "{e}");
    let e = err(
        db,
        &[
            "exchange",
            "deactivate",
            "--account",
            &pid,
            "--customer",
            &rid,
        ],
    );
    assert!(e.contains("R-ACC-1") && e.contains("not requested"), "{e}");
    let o = ok_json(
        db,
        &["account", "offboarding", &rid, "--account", &rid, "--json"],
    );
    assert_eq!(o["checks"][0]["action"], "request_disconnect");
    assert_eq!(o["checks"][0]["ready"], false);
    assert_eq!(o["checks"][0]["blockers"][0]["rule"], "R-ACC-1");
    let r = run(
        db,
        &["numbers", "unassign", "--account", &rid, "+14155550101"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = ok_json(
        db,
        &[
            "exchange",
            "disconnect",
            "--account",
            &rid,
            "--provider",
            &pid,
            "--json",
        ],
    );
    assert_eq!(c["status"], "disconnect_requested");
    let e = err(
        db,
        &[
            "exchange",
            "deactivate",
            "--account",
            &pid,
            "--customer",
            &rid,
        ],
    );
    assert!(
        e.contains("R-ACC-1") && e.contains("still with the customer"),
        "{e}"
    );
    let r = run(
        db,
        &["numbers", "release", "--account", &rid, "+14155550101"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = ok_json(
        db,
        &[
            "exchange",
            "deactivate",
            "--account",
            &pid,
            "--customer",
            &rid,
            "--json",
        ],
    );
    assert_eq!(c["status"], "deactivated");
    let e = err(
        db,
        &[
            "exchange",
            "deactivate",
            "--account",
            &pid,
            "--customer",
            &rid,
        ],
    );
    assert!(e.contains("not_found"), "{e}");
    let customers = ok_json(db, &["exchange", "customers", "--account", &pid, "--json"]);
    assert_eq!(customers.as_array().map(Vec::len), Some(1), "{customers}");
    let list = ok_json(db, &["exchange", "list", "--account", &rid, "--json"]);
    assert_eq!(list[0]["status"], "deactivated");

    // Attribute keys: the provider's to manage; a customer sees none and changes none.
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

    // Rate card: set creates, set again changes the same entry; cents as the API takes them.
    let set = |cents: &str, extra: &[&str]| {
        let mut args = vec![
            "rate",
            "set",
            "--account",
            &pid,
            "--country",
            "us",
            "--type",
            "local",
            "--monthly-cost-cents",
            cents,
            "--json",
        ];
        args.extend_from_slice(extra);
        ok_json(db, &args)
    };
    let rate = set("125", &[]);
    assert_eq!(
        (
            &rate["country"],
            &rate["monthly_cost_cents"],
            &rate["currency"]
        ),
        (&Value::from("US"), &Value::from(125), &Value::from("USD"))
    );
    let again = set("150", &["--currency", "eur"]);
    assert_eq!(again["id"], rate["id"]);
    assert_eq!(
        (&again["monthly_cost_cents"], &again["currency"]),
        (&Value::from(150), &Value::from("EUR"))
    );
    let e = err(
        db,
        &[
            "rate",
            "set",
            "--account",
            &pid,
            "--country",
            "us",
            "--type",
            "local",
            "--monthly-cost-cents",
            "1.25",
        ],
    );
    assert!(
        e.contains("--monthly-cost-cents") && e.contains("1.25"),
        "{e}"
    );
    let e = err(
        db,
        &[
            "rate",
            "set",
            "--account",
            &cid,
            "--country",
            "us",
            "--type",
            "local",
            "--monthly-cost-cents",
            "5",
        ],
    );
    assert!(
        e.contains("rule_violation") && e.contains("R-PROV-1"),
        "{e}"
    );
    let rates = ok_json(
        db,
        &[
            "rate",
            "list",
            "--account",
            &pid,
            "--country",
            "US",
            "--json",
        ],
    );
    assert_eq!(rates.as_array().map(Vec::len), Some(1), "{rates}");
    let r = run(db, &["rate", "list", "--account", &pid], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1.50 EUR"), "{}", r.stdout);
    let none = ok_json(
        db,
        &[
            "rate",
            "list",
            "--account",
            &pid,
            "--type",
            "mobile",
            "--json",
        ],
    );
    assert_eq!(none, Value::Array(vec![]));
    let rate_id = s(&rate, "id");
    let e = err(db, &["rate", "delete", "--account", &cid, &rate_id]);
    assert!(e.contains("not_found"), "{e}");
    let d = ok_json(
        db,
        &["rate", "delete", "--account", &pid, &rate_id, "--json"],
    );
    assert_eq!(d["deleted"], Value::String(rate_id.clone()));
    let rates = ok_json(db, &["rate", "list", "--account", &pid, "--json"]);
    assert_eq!(rates, Value::Array(vec![]));
}

/// `numberpool numbers list … | head -1` (issue 11): output into a closed pipe ends the command
/// quietly, as a Unix tool killed by SIGPIPE (status 141), never with a panic.
fn closed_pipe_flow(db: &str) {
    let p = ok_json(
        db,
        &[
            "account", "create", "--name", "Piped", "--kind", "provider", "--json",
        ],
    );
    let pid = s(&p, "id");
    let added = run(
        db,
        &[
            "numbers",
            "add",
            "--account",
            &pid,
            "+14155550100",
            "+14155550101",
            "+14155550102",
        ],
        None,
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    // The reading end is closed before the command writes a byte, so its first write fails.
    let mut child = bin()
        .args(["--database-url", db, "numbers", "list", "--account", &pid])
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
        .env("ACC", &pid)
        .env("NUMBERPOOL_LOG_LEVEL", "warn")
        .output()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// One test per backend for a blocking CLI flow taking a database URL: `name::sqlite` on a temp
/// file, `name::postgres` on a throwaway database (the flow runs off the async runtime, since it
/// waits on child processes).
macro_rules! cli_backend_tests {
    ($($name:ident => $flow:ident),+ $(,)?) => {
        $(
            mod $name {
                use numberpool_store::testing::TestDb;

                #[test]
                fn sqlite() {
                    let db = TestDb::sqlite();
                    super::$flow(&db.url);
                }

                #[tokio::test]
                async fn postgres() {
                    let db = TestDb::postgres().await;
                    let url = db.url.clone();
                    tokio::task::spawn_blocking(move || super::$flow(&url))
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            }
        )+
    };
}

cli_backend_tests!(
    scripting => scripting_flow,
    client_rotate_and_delete => client_rotate_and_delete_flow,
    tenancy => tenancy_flow,
    serve_answers_health_and_stops_on_sigterm => serve_and_stop,
    numbers_list_into_a_closed_pipe => closed_pipe_flow,
);

#[test]
fn bad_configuration_exits_nonzero_with_one_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--database-url".into(),
            "mysql://x/y".into(),
            "migrate".into(),
        ],
        vec!["--log-format".into(), "xml".into(), "migrate".into()],
        vec![
            "--config".into(),
            dir.path().join("missing.toml").display().to_string(),
            "migrate".into(),
        ],
        vec!["serve".into(), "--listen".into(), "not-an-address".into()],
    ];
    for args in cases {
        let out = bin()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: configuration"),
            "{args:?}: {stderr}"
        );
    }
    // A config file with an unknown key is refused, naming it.
    let file = dir.path().join("np.toml");
    std::fs::write(&file, "databse_url = \"sqlite://x\"\n").unwrap_or_else(|e| panic!("{e}"));
    let out = bin()
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("databse_url"), "{stderr}");
    // An unreachable database is one line too.
    let out = bin()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "migrate",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot open database"), "{stderr}");
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Reads stdout lines until one contains `http://`, returning the address after it.
fn wait_for_url(child: &mut Child) -> (String, Vec<String>) {
    let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap_or_else(|e| panic!("{e}"));
        lines.push(line.clone());
        if let Some(i) = line.find("http://") {
            let rest = &line[i + 7..];
            let addr: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"')
                .collect();
            return (addr, lines);
        }
    }
    panic!("the server printed no URL: {lines:?}");
}

fn terminate(child: &mut Child) -> i32 {
    let pid = child.id().to_string();
    let st = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(st.success());
    child
        .wait()
        .unwrap_or_else(|e| panic!("{e}"))
        .code()
        .unwrap_or(-1)
}

fn serve_and_stop(db: &str) {
    let mut child = bin()
        .args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let (addr, _) = wait_for_url(&mut child);
    assert_eq!(http_get(&addr, "/healthz"), (200, "ok".to_string()));
    assert_eq!(http_get(&addr, "/readyz").0, 200);
    assert_eq!(terminate(&mut child), 0, "SIGTERM is a clean stop");
}

#[test]
fn demo_twice_prints_working_logins() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut first_secret = String::new();
    let mut first_account = String::new();
    for round in 0..2 {
        let mut child = bin()
            .args(["--data-dir"])
            .arg(dir.path())
            .args(["demo", "--json", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let (addr, lines) = wait_for_url(&mut child);
        let v: Value =
            serde_json::from_str(&lines[0]).unwrap_or_else(|e| panic!("first line is JSON: {e}"));
        assert_eq!(s(&v, "url"), format!("http://{addr}"));
        assert_eq!(s(&v["portal"], "email"), "admin@acme.example");
        assert!(s(&v["portal"], "password").len() >= 12);
        let secret = s(&v["api"], "client_secret");
        assert_ne!(
            secret, first_secret,
            "round {round}: a fresh secret each run"
        );
        first_secret = secret;
        let account = s(&v["api"], "account_id");
        assert!(
            first_account.is_empty() || first_account == account,
            "the data is reused"
        );
        first_account = account;
        assert_eq!(http_get(&addr, "/readyz").0, 200);
        assert_eq!(terminate(&mut child), 0);
    }
    // The demo data has a few hundred numbers, in every position the provider can see.
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let account = first_account.clone();
    let r = run(
        &db,
        &[
            "numbers",
            "list",
            "--account",
            &account,
            "--limit",
            "1000",
            "--json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(rows.len() >= 300, "{} numbers", rows.len());
    for position in ["free", "in_use", "returned"] {
        assert!(
            rows.iter().any(|n| n["position"] == position),
            "no {position} number"
        );
    }
    for status in ["active", "pending"] {
        assert!(
            rows.iter().any(|n| n["status"] == status),
            "no {status} number"
        );
    }
    assert!(
        rows.iter()
            .any(|n| n["assignees"].as_array().is_some_and(|a| !a.is_empty())),
        "no assigned number"
    );
}
