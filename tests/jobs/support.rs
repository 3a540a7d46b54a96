//! What the jobs tests share: raw SQL on the test database, polling with a deadline, and the
//! `numberpool` binary with a clean environment, and raw HTTP/1.1 calls to a server it runs.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use numberpool_store::testing::TestDb;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> Must<T> for Result<T, E> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

impl<T> Must<T> for Option<T> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|| panic!("{what}: none"))
    }
}

/// Polls `check` every 20 ms until it returns `Some`, failing the test after `secs` seconds.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `dir` holds a file named `name`.
pub async fn wait_file(dir: &Path, name: &str) {
    let path = dir.join(name);
    eventually(name, 60, || {
        let seen = path.exists();
        async move { seen.then_some(()) }
    })
    .await;
}

/// Names of the files in `dir` that start with `prefix`.
pub fn files(dir: &Path, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .must("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    out.sort();
    out
}

/// One scalar from the test database, behind the store's back.
pub async fn scalar(db: &TestDb, sql: &str) -> i64 {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.must("sqlite pool");
        let v: (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.must(sql);
        pool.close().await;
        v.0
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.must("postgres pool");
        let v: (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.must(sql);
        pool.close().await;
        v.0
    }
}

/// The binary on this database, with no `NUMBERPOOL_*` setting from the environment.
pub fn bin(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_numberpool"));
    for (k, _) in std::env::vars() {
        if k.starts_with("NUMBERPOOL_") {
            c.env_remove(k);
        }
    }
    c.arg("--database-url").arg(&db.url);
    c
}

/// Sends SIGTERM to a child process (through `kill`, so no unsafe code).
pub fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .must("run kill");
    assert!(status.success(), "kill -TERM {pid}");
}

/// Waits for a child to exit, failing the test after `secs` seconds.
pub async fn exit_status(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    eventually("the process to exit", secs, || {
        let r = child.try_wait().must("try_wait");
        async move { r }
    })
    .await
}

/// Kills and reaps its children when dropped, so a failed assertion leaves no process behind.
#[derive(Default)]
pub struct Reaper(pub Vec<std::process::Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The CLI's `--json` answer to `args` on the test database (it must succeed).
pub fn cli_json(db: &TestDb, args: &[&str]) -> serde_json::Value {
    let out = bin(db)
        .args(["--log-level", "warn"])
        .args(args)
        .output()
        .must("run the CLI");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).must("CLI JSON")
}

/// A provider account named `name` and an API client of it, made with the CLI: the client's
/// id and secret.
pub fn provider_client(db: &TestDb, name: &str) -> (String, String) {
    let account = cli_json(
        db,
        &[
            "account", "create", "--name", name, "--kind", "provider", "--json",
        ],
    );
    let account = account["id"].as_str().must("account id").to_string();
    let client = cli_json(db, &["client", "create", "--account", &account, "--json"]);
    (
        client["client_id"].as_str().must("client_id").to_string(),
        client["client_secret"].as_str().must("secret").to_string(),
    )
}

/// One HTTP/1.1 request on its own connection; the status and the body as JSON (null when
/// it is not JSON).
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.must("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.must("write head");
    s.write_all(body).await.must("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.must("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .must("status");
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

pub async fn token(addr: &str, client_id: &str, secret: &str) -> String {
    let body =
        format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let (status, v) = http(
        addr,
        "POST",
        "/oauth/token",
        "-",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "token: {v}");
    v["access_token"].as_str().must("access_token").to_string()
}

/// `numberpool serve` on the test database with a 1 s lease and `env` set, and its address.
pub fn serve(db: &TestDb, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = bin(db)
        .envs(env.iter().copied())
        .args([
            "--log-level",
            "warn",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--lease-secs",
            "1",
            "--poll-ms",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .must("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().must("stdout"))
        .read_line(&mut line)
        .must("address line");
    let addr = line
        .split("http://")
        .nth(1)
        .must("the address")
        .trim()
        .to_string();
    (child, addr)
}
