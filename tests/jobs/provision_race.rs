//! Issue 14's race, through the real binary: 32 clients take overlapping sets of the same
//! pool's free numbers at once, spread over two `serve` processes on one PostgreSQL database
//! (one process on SQLite, whose file belongs to one process): half provision their set to
//! their customer, half reserve it for theirs. Each request is all or nothing (200 or 201 with
//! every number; 409, or 422 R-RES-2 for a provision that meets a number reserved for another
//! account, with none), and every number ends with exactly one account: provisioned to the
//! customer of the one request that won it, reserved for it, or still free in the pool; a
//! number reserved for one account is never provisioned to another. A barrier releases the
//! clients together; only outcomes are asserted, never timings.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;

use numberpool_domain::{E164, Position};
use numberpool_store::testing::TestDb;
use numberpool_store::{NumberLookup, backend_tests};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Must, Reaper, bin, cli_json};

const CLIENTS: usize = 32;
/// Free numbers the clients contend for; client `i` asks for `i..i+4` (wrapping), so each
/// number is in four requests.
const NUMBERS: usize = 40;
const SET: usize = 4;

/// Whether client `i` reserves its set (odd) rather than provisioning it (even).
fn reserves(i: usize) -> bool {
    i % 2 == 1
}

fn number(k: usize) -> String {
    format!("+1415555{:04}", 7000 + k % NUMBERS)
}

/// One HTTP/1.1 request with `Connection: close`: the status and the JSON body.
async fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let kind = if path == "/oauth/token" {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {kind}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.must("connect");
    s.write_all(request.as_bytes()).await.must("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.must("read");
    let (head, body) = answer.split_once("\r\n\r\n").must("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .must("a status");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn provisions_and_reservations_race_through_two_serve_processes(db: &TestDb) {
    let servers = if db.url.starts_with("postgres") { 2 } else { 1 };
    let provider = cli_json(
        db,
        &[
            "account", "create", "--name", "Race", "--kind", "provider", "--json",
        ],
    )["id"]
        .as_str()
        .must("provider")
        .to_string();
    let client = cli_json(db, &["client", "create", "--account", &provider, "--json"]);
    cli_json(
        db,
        &[
            "trunk",
            "create",
            "--account",
            &provider,
            "--name",
            "t1",
            "--region",
            "us",
            "--json",
        ],
    );
    let mut customers = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let name = format!("Racer {i:02}");
        let c = cli_json(
            db,
            &[
                "account", "create", "--name", &name, "--kind", "customer", "--parent", &provider,
                "--json",
            ],
        );
        customers.push(c["id"].as_str().must("customer").to_string());
    }
    let numbers: Vec<String> = (0..NUMBERS).map(number).collect();
    let mut add = vec!["numbers", "add", "--account", provider.as_str(), "--json"];
    add.extend(numbers.iter().map(String::as_str));
    let out = bin(db)
        .args(["--log-level", "warn"])
        .args(&add)
        .output()
        .must("add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut procs = Reaper::default();
    let mut addrs = Vec::with_capacity(servers);
    for _ in 0..servers {
        let mut child = bin(db)
            .args(["--log-level", "warn", "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .must("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().must("stdout"))
            .read_line(&mut line)
            .must("address line");
        addrs.push(
            line.split("http://")
                .nth(1)
                .must("address")
                .trim()
                .to_string(),
        );
        procs.0.push(child);
    }
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client["client_id"].as_str().must("client_id"),
        client["client_secret"].as_str().must("secret")
    );
    let (status, token) = call(&addrs[0], "POST", "/oauth/token", None, &form).await;
    assert_eq!(status, 200, "{token}");
    let token = Arc::new(token["access_token"].as_str().must("token").to_string());

    let barrier = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut tasks = Vec::with_capacity(CLIENTS);
    for (i, site) in customers.iter().enumerate() {
        let set: Vec<String> = (i..i + SET).map(number).collect();
        // Odd clients reserve their set for their customer; even ones provision it.
        let (path, body) = if reserves(i) {
            (
                "/v2/phone/reservations",
                json!({"phone_numbers": set, "account_id": site}).to_string(),
            )
        } else {
            (
                "/v2/phone/numbers/provision",
                json!({"phone_numbers": set, "site_id": site}).to_string(),
            )
        };
        let (addr, token, barrier) = (addrs[i % servers].clone(), token.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (status, answer) = call(&addr, "POST", path, Some(&token), &body).await;
            (status, answer, set)
        }));
    }
    let mut outcomes = Vec::with_capacity(CLIENTS);
    for t in tasks {
        outcomes.push(t.await.must("client task"));
    }

    // Each request all or nothing; the winners' sets are disjoint.
    let mut owner: Vec<Option<usize>> = vec![None; NUMBERS];
    let mut won = 0;
    for (i, (status, answer, set)) in outcomes.iter().enumerate() {
        match status {
            200 | 201 => {
                assert_eq!(*status == 201, reserves(i), "client {i}: {answer}");
                won += 1;
                let got = if reserves(i) {
                    answer["phone_numbers"].as_array().must("reserved")
                } else {
                    answer["provisioned_numbers"].as_array().must("provisioned")
                };
                assert_eq!(got.len(), SET, "client {i}: all of its set: {answer}");
                for n in set {
                    let k = numbers.iter().position(|x| x == n).must("a race number");
                    assert_eq!(owner[k], None, "{n} went to two clients");
                    owner[k] = Some(i);
                }
            }
            409 => assert_eq!(answer["code"], "conflict", "client {i}: {answer}"),
            // A provision that meets a number reserved for another account (R-RES-2).
            422 if !reserves(i) => assert_eq!(answer["rule"], "R-RES-2", "client {i}: {answer}"),
            other => panic!("client {i}: {other} {answer}"),
        }
    }
    assert!(won >= 1, "some client wins");

    // Every number ends where the outcomes say: with its winner's customer, or free.
    let store = db.store().await;
    let mut r = store.read().await.must("read");
    for (k, n) in numbers.iter().enumerate() {
        let e = E164::parse(n).must("e164");
        let stored = r
            .get_number(&NumberLookup::E164(e))
            .await
            .must("get")
            .must("the number");
        match owner[k] {
            Some(i) if reserves(i) => {
                assert_eq!(stored.position, Position::Free, "{n}: reserved, not taken");
                assert_eq!(
                    stored.reservation.map(|h| h.for_account.to_string()),
                    Some(customers[i].clone()),
                    "{n}: held for the winner's customer only"
                );
            }
            Some(i) => {
                assert_eq!(
                    stored.customer_id.map(|c| c.to_string()),
                    Some(customers[i].clone()),
                    "{n}"
                );
                assert_eq!(stored.position, Position::Held, "{n}");
                assert!(stored.reservation.is_none(), "{n}");
            }
            None => {
                assert!(stored.reservation.is_none(), "{n}: no winner, not reserved");
                assert_eq!(
                    stored.position,
                    Position::Free,
                    "{n}: no winner, still free"
                );
                assert_eq!(stored.holder_id.to_string(), provider, "{n}");
            }
        }
    }
    drop(procs);
}

backend_tests!(provisions_and_reservations_race_through_two_serve_processes);
