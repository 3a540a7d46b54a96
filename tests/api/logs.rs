//! The binary's log at trace level, in JSON, never holds a client secret, an access token or a
//! Basic header, while it does hold the requests (by their `x-request-id`).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::common::process;
use crate::harness::Must;
use crate::http::{RequestBuilder, Resp, basic_value};

/// The binary with no `NUMBERPOOL_*` setting from the environment, on this database: the
/// SQLite case in a temporary data dir, the PostgreSQL one by URL.
pub(crate) fn bin(db: &Where) -> Command {
    let mut c = process::bin();
    match db {
        Where::DataDir(d) => c.arg("--data-dir").arg(d),
        Where::Url(u) => c.arg("--database-url").arg(u),
    };
    c
}

pub(crate) enum Where {
    DataDir(std::path::PathBuf),
    Url(String),
}

pub(crate) fn cli_json(db: &Where, args: &[&str]) -> Value {
    let out = bin(db)
        .args(args)
        .env("NUMBERPOOL_LOG_LEVEL", "warn")
        .output()
        .must("run the CLI");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

/// Starts `serve` on port 0 at trace level with JSON logs: stderr to `log`, stdout read for the
/// address (and kept). Returns the child, the address and the stdout lines so far.
pub(crate) fn serve(
    db: &Where,
    log: &std::path::Path,
) -> (Child, SocketAddr, mpsc::Receiver<String>) {
    let file = std::fs::File::create(log).must("log file");
    let mut child = bin(db)
        .args([
            "--log-level",
            "trace",
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(file))
        .spawn()
        .must("spawn serve");
    let stdout = child.stdout.take().must("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| {
                let _ = child.kill();
                let _ = child.wait();
                panic!("serve printed no address ({e}); stdout so far: {seen:?}")
            });
        if let Some(addr) = process::address_in(&line) {
            let addr: SocketAddr = addr.parse().must("the printed address");
            return (child, addr, rx);
        }
        seen.push(line);
    }
}

/// Kills and reaps the server process when dropped with it still inside.
pub(crate) struct Reaper(pub(crate) Option<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every request id a response carried.
fn id_of(r: &Resp) -> String {
    r.header("x-request-id").must("x-request-id")
}

async fn secrets_never_reach_the_log(db: &TestDb) {
    let dir = tempfile::tempdir().must("temp dir");
    let place = if db.url.starts_with("sqlite") {
        Where::DataDir(dir.path().join("data"))
    } else {
        Where::Url(db.url.clone())
    };
    let place = std::sync::Arc::new(place);
    let p = place.clone();
    let (account, client) = tokio::task::spawn_blocking(move || {
        let a = cli_json(
            &p,
            &[
                "account",
                "create",
                "--name",
                "Log Check",
                "--kind",
                "provider",
                "--json",
            ],
        );
        let id = a["id"].as_str().must("account id").to_string();
        let c = cli_json(&p, &["client", "create", "--account", &id, "--json"]);
        (id, c)
    })
    .await
    .must("CLI");
    let client_id = client["client_id"].as_str().must("client_id").to_string();
    let secret = client["client_secret"].as_str().must("secret").to_string();
    let log = dir.path().join("serve.log");
    let p = place.clone();
    let log2 = log.clone();
    let (child, addr, stdout) = tokio::task::spawn_blocking(move || serve(&p, &log2))
        .await
        .must("serve");
    // Should an assertion fail before the server is stopped, the guard kills it.
    let mut guard = Reaper(Some(child));

    let req = |m: &str, path: &str| RequestBuilder::new(addr, m.parse().must("method"), path);
    let mut ids = Vec::new();
    // A token with Basic; a token with a wrong secret; credentials in the form.
    let r = req("POST", "/oauth/token")
        .basic(&client_id, &secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(200);
    ids.push(id_of(&r));
    let token = r.json()["access_token"].as_str().must("token").to_string();
    // The last hex digit changed (to one it is not), so this secret is always wrong.
    let last = if secret.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &secret[..secret.len() - 1]);
    let r = req("POST", "/oauth/token")
        .basic(&client_id, &wrong)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect(401);
    ids.push(id_of(&r));
    let r = req("POST", "/oauth/token")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .expect(200);
    ids.push(id_of(&r));
    let token2 = r.json()["access_token"].as_str().must("token").to_string();
    // Calls with the token: a list (with a query), an add with a bad body, a get, a 404, an
    // add that works, a bad token.
    let r = req("GET", "/v2/phone/numbers?page_size=5")
        .bearer(&token)
        .header("x-request-id", "log-check-request-1")
        .send()
        .await
        .expect(200);
    assert_eq!(id_of(&r), "log-check-request-1");
    ids.push(id_of(&r));
    let r = req("POST", "/v2/phone/numbers")
        .bearer(&token)
        .json(&json!({"phone_number": "bad", "colour": 1}))
        .send()
        .await
        .expect(400);
    ids.push(id_of(&r));
    let r = req("POST", "/v2/phone/numbers")
        .bearer(&token)
        .idempotency_key("log-key-1")
        .json(&json!({"phone_number": "+14155550199"}))
        .send()
        .await
        .expect(201);
    ids.push(id_of(&r));
    let number = r.json()["id"].as_str().must("id").to_string();
    let r = req("GET", &format!("/v2/phone/numbers/{number}"))
        .bearer(&token2)
        .send()
        .await
        .expect(200);
    ids.push(id_of(&r));
    let r = req("GET", "/v2/phone/numbers/%2B14155550100")
        .bearer(&token)
        .send()
        .await
        .expect(404);
    ids.push(id_of(&r));
    let r = req("GET", "/v2/accounts")
        .bearer(&format!("{token}x"))
        .send()
        .await
        .expect(401);
    ids.push(id_of(&r));
    let r = req("POST", "/v2/api_clients")
        .bearer(&token)
        .json(&json!({"account_id": account}))
        .send()
        .await
        .expect(201);
    ids.push(id_of(&r));
    let new_secret = r.json()["client_secret"]
        .as_str()
        .must("new secret")
        .to_string();

    // Stop it the way an operator does: SIGTERM, a clean exit.
    let mut child = guard.0.take().must("the server process");
    let code = tokio::task::spawn_blocking(move || process::terminate(&mut child))
        .await
        .must("stop");
    assert_eq!(code, 0, "serve exits 0 on SIGTERM");
    let rest: Vec<String> = stdout.try_iter().collect();

    let mut text = String::new();
    std::fs::File::open(&log)
        .must("open the log")
        .read_to_string(&mut text)
        .must("read the log");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() >= 20,
        "a trace-level log of a dozen requests has more than {} lines:\n{text}",
        lines.len()
    );
    for l in &lines {
        serde_json::from_str::<Value>(l)
            .unwrap_or_else(|e| panic!("--log-format json writes JSON lines ({e}): {l}"));
    }
    for id in &ids {
        assert!(
            text.contains(id.as_str()),
            "the log does not carry the request id {id} (is request logging off?)"
        );
    }
    let whole = format!("{text}\n{}", rest.join("\n"));
    let basic = basic_value(&client_id, &secret);
    let basic_b64 = basic.trim_start_matches("Basic ").to_string();
    let wrong_basic = basic_value(&client_id, &wrong);
    for (what, s) in [
        ("the client secret", secret.as_str()),
        ("the wrong secret", wrong.as_str()),
        ("the new client's secret", new_secret.as_str()),
        ("the access token", token.as_str()),
        ("the second access token", token2.as_str()),
        ("the Basic header", basic_b64.as_str()),
        (
            "the wrong Basic header",
            wrong_basic.trim_start_matches("Basic "),
        ),
    ] {
        assert!(
            !whole.contains(s),
            "{what} is in the server's log:\n{}",
            whole
                .lines()
                .filter(|l| l.contains(s))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // The query string stays out too (the path only).
    assert!(
        !text.contains("page_size=5"),
        "the log holds a query string"
    );
}

backend_tests!(secrets_never_reach_the_log);
