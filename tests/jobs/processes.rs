//! The real binary: `numberpool worker` processes sharing one database, one killed mid-job,
//! and `numberpool serve` stopped by SIGTERM with a request in flight.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use numberpool::jobs::JobKind;
use numberpool_domain::now_ms;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

backend_tests!(
    two_worker_processes_run_each_job_once,
    a_killed_workers_job_is_claimed_again_after_its_lease,
    sigterm_stops_serve_after_its_in_flight_request,
);

/// Starts `numberpool worker` running the test kinds and waits until it says it started.
fn worker(db: &TestDb, extra: &[&str]) -> Child {
    let mut child = bin(db)
        .args([
            "--log-level",
            "warn",
            "worker",
            "--test-job-kinds",
            "--poll-ms",
            "20",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .must("spawn worker");
    let mut line = String::new();
    BufReader::new(child.stdout.take().must("stdout"))
        .read_line(&mut line)
        .must("read stdout");
    assert!(line.contains("worker started"), "worker said: {line}");
    child
}

async fn two_worker_processes_run_each_job_once(db: &TestDb) {
    const JOBS: usize = 200;
    let store = db.store().await;
    let dir = tempfile::tempdir().must("dir");
    let mut procs = Reaper::default();
    procs.0.push(worker(db, &[]));
    procs.0.push(worker(db, &[]));

    // All at once, so both workers find a full queue.
    let mut tx = store.begin().await.must("begin");
    for _ in 0..JOBS {
        let job = JobKind::TestProbe.job(json!({"dir": dir.path()}), now_ms());
        tx.enqueue_job(&job, now_ms()).await.must("enqueue");
    }
    tx.commit().await.must("commit");
    eventually("every job done", 180, || async {
        let done = scalar(
            db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'test_probe' AND state = 'done'",
        )
        .await;
        (done == JOBS as i64).then_some(())
    })
    .await;

    for child in &procs.0 {
        sigterm(child.id());
    }
    for child in &mut procs.0 {
        assert!(exit_status(child, 60).await.success(), "worker exits 0");
    }
    let runs = files(dir.path(), "");
    let jobs: BTreeSet<_> = runs
        .iter()
        .map(|f| f.split('.').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(runs.len(), JOBS, "one run per job");
    assert_eq!(jobs.len(), JOBS, "no job ran twice");
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'test_probe' AND attempts <> 1"
        )
        .await,
        0,
        "each claimed once"
    );
}

async fn a_killed_workers_job_is_claimed_again_after_its_lease(db: &TestDb) {
    let store = db.store().await;
    let dir = tempfile::tempdir().must("dir");
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .enqueue_job(
            &JobKind::TestHold.job(json!({"dir": dir.path()}), now_ms()),
            now_ms(),
        )
        .await
        .must("enqueue")
        .must("id");
    tx.commit().await.must("commit");

    let mut procs = Reaper::default();
    procs.0.push(worker(db, &["--lease-secs", "1"]));
    let first = procs.0[0].id();
    wait_file(dir.path(), &format!("started-1-{first}")).await;
    procs.0[0].kill().must("kill");
    procs.0[0].wait().must("reap");
    let mut rd = store.read().await.must("read");
    let job = rd.get_job(id).await.must("get").must("job");
    drop(rd);
    assert_eq!(
        (job.state.as_str(), job.attempts),
        ("running", 1),
        "left running by the dead worker"
    );

    procs.0.push(worker(db, &["--lease-secs", "1"]));
    let second = procs.0[1].id();
    // Only after the dead worker's lease ran out.
    wait_file(dir.path(), &format!("started-2-{second}")).await;
    std::fs::write(dir.path().join("release"), b"").must("release");
    let job = eventually("the job to finish", 60, || async {
        let mut rd = store.read().await.must("read");
        let job = rd.get_job(id).await.must("get").must("job");
        job.state.is_final().then_some(job)
    })
    .await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    assert_eq!(
        files(dir.path(), "finished-"),
        [format!("finished-2-{second}")]
    );
    sigterm(second);
    assert!(exit_status(&mut procs.0[1], 60).await.success());
}

/// Holds the lock the token grant's write waits for, so a request stays in flight.
enum Blocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Blocker {
    async fn hold(db: &TestDb) -> Blocker {
        if db.url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&db.url)
                .await
                .must("connect");
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .must("begin");
            Blocker::Sqlite(c)
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url).await.must("connect");
            sqlx::query("BEGIN").execute(&mut c).await.must("begin");
            sqlx::query("LOCK TABLE api_clients IN EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .must("lock");
            Blocker::Postgres(c)
        }
    }

    async fn release(self) {
        match self {
            Blocker::Sqlite(mut c) => {
                sqlx::query("COMMIT").execute(&mut c).await.must("commit");
                c.close().await.must("close");
            }
            Blocker::Postgres(mut c) => {
                sqlx::query("COMMIT").execute(&mut c).await.must("commit");
                c.close().await.must("close");
            }
        }
    }
}

async fn sigterm_stops_serve_after_its_in_flight_request(db: &TestDb) {
    let (client_id, secret) = provider_client(db, "Shutdown");

    // serve, logging each request's start (debug) to stderr as JSON lines.
    let mut procs = Reaper::default();
    let mut child = bin(db)
        .args([
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .must("spawn serve");
    let stdout = child.stdout.take().must("stdout");
    let stderr = child.stderr.take().must("stderr");
    let pid = child.id();
    procs.0.push(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .must("address line");
    let addr = line
        .split("http://")
        .nth(1)
        .must("the address")
        .trim()
        .to_string();
    let (log_tx, mut log) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if log_tx.send(line).is_err() {
                break;
            }
        }
    });

    let blocker = Blocker::hold(db).await;
    let body =
        format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let request = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let in_flight = tokio::spawn(async move {
        let mut s = tokio::net::TcpStream::connect(&addr).await.must("connect");
        s.write_all(request.as_bytes()).await.must("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.must("read the answer");
        answer
    });
    wait_log(&mut log, |l| {
        l.contains("started processing request") && l.contains("/oauth/token")
    })
    .await;
    sigterm(pid);
    wait_log(&mut log, |l| l.contains("shutdown signal received")).await;
    // Only now may the grant write: the request ran across the signal.
    blocker.release().await;

    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), in_flight)
        .await
        .must("the request finishes")
        .must("request task");
    let (head, body) = answer.split_once("\r\n\r\n").must("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let token: Value = serde_json::from_str(body).must("token JSON");
    assert!(
        token["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let status = exit_status(&mut procs.0[0], 60).await;
    assert_eq!(status.code(), Some(0), "serve exits 0");
}

/// Waits for a log line matching `pred`.
async fn wait_log(
    log: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    pred: impl Fn(&str) -> bool,
) {
    let deadline = std::time::Duration::from_secs(60);
    tokio::time::timeout(deadline, async {
        while let Some(line) = log.recv().await {
            if pred(&line) {
                return;
            }
        }
        panic!("serve's log ended");
    })
    .await
    .must("the log line");
}
