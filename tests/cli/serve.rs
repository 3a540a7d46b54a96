//! The process itself: configuration errors, `serve` answering health and readiness and stopping
//! cleanly on SIGTERM, and `demo` printing working logins over reused data.

use std::process::Stdio;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::common::process::{bin, http_get, json_lines, run, s, terminate, wait_for_url};

async fn serve_answers_health_and_stops_on_sigterm(db: &TestDb) {
    let db = db.url.as_str();
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

backend_tests!(serve_answers_health_and_stops_on_sigterm);

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
        &format!("numbers list --account {account} --limit 1000 --json"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = json_lines(&r.stdout);
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
