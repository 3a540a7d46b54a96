//! The server's memory under a flood of wrong secrets at `/oauth/token` (issue 11), a plain
//! binary that prints its figures.
//!
//! - Makes a SQLite database in a temp dir with one provider and one API client (through the
//!   CLI), and starts the real binary: `numberpool serve --listen 127.0.0.1:0`, with whatever
//!   `NUMBERPOOL_*` settings the caller exported (e.g. `NUMBERPOOL_TOKEN_FAILURE_LIMIT=0` to
//!   turn the failure throttle off and see the worst case).
//! - Reads the server's resident memory (`VmRSS` in /proc/PID/status) once it is ready.
//! - Floods `POST /oauth/token` from loopback with HTTP Basic and a wrong secret for that client,
//!   from `NUMBERPOOL_FLOOD_WORKERS` keep-alive connections (default 48), for
//!   `NUMBERPOOL_FLOOD_SECS` seconds (default 30) or `NUMBERPOOL_FLOOD_MAX` requests in all
//!   (default 1,000,000), whichever ends first. Each worker waits for its answer before sending
//!   the next request.
//! - Reads `VmRSS` and the peak (`VmHWM`) at the end of the flood and again 5 s later, counts
//!   the answers by status, and checks the right secret still gets a token (at once when the
//!   throttle is off; after the window otherwise, so it is not checked then), then stops the
//!   server with SIGTERM.
//!
//! Run: `cargo bench --bench token_flood` (release), or `cargo bench --profile dev --bench
//! token_flood` to reuse a debug build (argon2 is built with opt-level 3 in both).
//! Linux only (it reads /proc).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Request, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cli(db: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_numberpool"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env("NUMBERPOOL_LOG_LEVEL", "warn")
        .output()
        .unwrap_or_else(|e| panic!("run the CLI: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn start_server(db: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_numberpool"))
        .args(["--database-url", db, "--log-level", "warn", "serve"])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn serve: {e}"));
    let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    for line in BufReader::new(out).lines() {
        let line = line.unwrap_or_else(|e| panic!("{e}"));
        if let Some(i) = line.find("http://") {
            let addr: String = line[i + 7..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            return (
                child,
                addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}")),
            );
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("serve printed no address");
}

/// One keep-alive connection sending token requests until `until` or the shared budget is
/// spent; each answer's status is counted.
async fn worker(
    addr: SocketAddr,
    auth: String,
    until: Instant,
    budget: Arc<AtomicU64>,
    counts: Arc<std::sync::Mutex<BTreeMap<u16, u64>>>,
) {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return;
    };
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        return;
    };
    tokio::spawn(conn);
    while Instant::now() < until {
        if budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .is_err()
        {
            return;
        }
        let Ok(req) = Request::post("/oauth/token")
            .header(header::HOST, addr.to_string())
            .header(header::AUTHORIZATION, &auth)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(
                b"grant_type=client_credentials",
            )))
        else {
            return;
        };
        let status = match sender.send_request(req).await {
            Ok(res) => {
                let s = res.status().as_u16();
                let _ = res.into_body().collect().await;
                s
            }
            // The connection broke: count it and stop this worker.
            Err(_) => {
                *counts
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(0)
                    .or_default() += 1;
                return;
            }
        };
        *counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
    }
}

#[tokio::main]
async fn main() {
    let secs: u64 = env_or("NUMBERPOOL_FLOOD_SECS", 30);
    let workers: usize = env_or("NUMBERPOOL_FLOOD_WORKERS", 48);
    let max: u64 = env_or("NUMBERPOOL_FLOOD_MAX", 1_000_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let db = format!("sqlite://{}", dir.path().join("flood.db").display());
    let account = cli(
        &db,
        &[
            "account", "create", "--name", "Flood", "--kind", "provider", "--json",
        ],
    );
    let id = account["id"].as_str().unwrap_or_default().to_string();
    let client = cli(&db, &["client", "create", "--account", &id, "--json"]);
    let client_id = client["client_id"].as_str().unwrap_or_default().to_string();
    let secret = client["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (mut child, addr) = start_server(&db);
    let pid = child.id();
    let throttle = std::env::var("NUMBERPOOL_TOKEN_FAILURE_LIMIT").unwrap_or_default();
    println!(
        "token flood: {workers} connections, {secs} s or {max} requests, wrong secrets for one \
         client; NUMBERPOOL_TOKEN_FAILURE_LIMIT={}",
        if throttle.is_empty() {
            "(default)"
        } else {
            &throttle
        }
    );
    let (before, _) = memory(pid);
    println!("RSS before:          {}", mib(before));

    let wrong = format!(
        "Basic {}",
        STANDARD.encode(format!("{client_id}:wrong-secret"))
    );
    let until = Instant::now() + Duration::from_secs(secs);
    let budget = Arc::new(AtomicU64::new(max));
    let counts = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            tokio::spawn(worker(
                addr,
                wrong.clone(),
                until,
                budget.clone(),
                counts.clone(),
            ))
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let took = started.elapsed();
    let (after, peak) = memory(pid);
    let counts = counts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let total: u64 = counts.values().sum();
    println!(
        "requests:            {total} in {:.1} s ({:.0}/s); by status: {counts:?} (0 = connection broke)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    println!("RSS after the flood: {} (peak {})", mib(after), mib(peak));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (settled, peak) = memory(pid);
    println!("RSS 5 s later:       {} (peak {})", mib(settled), mib(peak));

    if throttle == "0" {
        let right = format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")));
        let ok = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
        worker(
            addr,
            right,
            Instant::now() + Duration::from_secs(60),
            Arc::new(AtomicU64::new(1)),
            ok.clone(),
        )
        .await;
        let ok = ok.lock().unwrap_or_else(|e| e.into_inner()).clone();
        println!("the right secret afterwards: {ok:?}");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
}
