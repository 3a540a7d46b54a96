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
    serve_answers_health_and_stops_on_sigterm => serve_and_stop,
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
