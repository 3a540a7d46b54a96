//! `kill -9` of `numberpool serve` in the middle of a 9,999-row import's apply (R-IMP-3), at
//! several points: as soon as its job runs, halfway through checking the rows, while the rows
//! are written, right after the apply is asked for, and once the import says it is applied. After each kill, before any worker
//! runs again, either none or all of the file's numbers are in (never part), and the import
//! says which (`applying` or `applied`). Started again, the server's worker takes the job up
//! after its lease; the import ends `applied` with every number, the job `done`. Applying the
//! same plan again answers 200 and changes nothing.

use std::time::{Duration, Instant};

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::support::*;

backend_tests!(kill_9_mid_apply_leaves_none_or_all_of_the_file);

const ROWS: u32 = 9_999;

/// Where the apply is when the server is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// Right after the apply request is answered.
    Asked,
    /// As soon as the job is seen running.
    Running,
    /// When half the rows have been checked.
    HalfPlanned,
    /// While the rows are written.
    Writing,
    /// Once the import says it is applied (the job may not have recorded its end yet).
    Applied,
}

/// The numbers of round `round`'s file that are in the inventory.
async fn numbers_in(db: &TestDb, npa: u32) -> i64 {
    scalar(
        db,
        &format!("SELECT COUNT(*) FROM numbers WHERE e164 LIKE '+1{npa}200%'"),
    )
    .await
}

async fn kill_9_mid_apply_leaves_none_or_all_of_the_file(db: &TestDb) {
    let (client_id, secret) = provider_client(db, "Crash");
    let mut seen_none = 0;
    let mut seen_all = 0;
    let points = [
        (KillAt::Running, 212),
        (KillAt::HalfPlanned, 312),
        (KillAt::Writing, 646),
        (KillAt::Asked, 718),
        (KillAt::Applied, 917),
    ];
    for (at, npa) in points {
        let mut file = String::from("Phone Number\n");
        for i in 0..ROWS {
            file.push_str(&format!("+1{npa}200{i:04}\n"));
        }
        let mut procs = Reaper::default();
        let (child, addr) = serve(db, &[]);
        procs.0.push(child);
        let t = token(&addr, &client_id, &secret).await;
        let (status, plan) = http(
            &addr,
            "POST",
            "/v2/imports?action=add",
            &t,
            "text/csv",
            file.as_bytes(),
        )
        .await;
        assert_eq!(status, 201, "upload: {plan}");
        assert_eq!(plan["counts"]["creates"], ROWS, "{at:?}: every row valid");
        let id = plan["id"].as_str().must("import id").to_string();
        let path = format!("/v2/imports/{id}");
        let (status, queued) = http(
            &addr,
            "POST",
            &format!("{path}/apply"),
            &t,
            "text/plain",
            b"",
        )
        .await;
        assert_eq!(status, 202, "{queued}");

        // Watch the job until the point, then kill -9 (SIGKILL: no shutdown runs).
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut last = Value::Null;
        loop {
            let reached = match at {
                KillAt::Asked => true,
                KillAt::Running => last["job"]["state"] == "running",
                KillAt::HalfPlanned => {
                    last["job"]["progress"]["planned"].as_u64().unwrap_or(0) >= u64::from(ROWS / 2)
                }
                KillAt::Writing => last["job"]["progress"]["phase"] == "writing",
                KillAt::Applied => last["status"] == "applied",
            };
            if reached || last["status"] == "applied" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{at:?}: never reached; last {last}"
            );
            let (_, v) = http(&addr, "GET", &path, &t, "text/plain", b"").await;
            last = v;
        }
        procs.0[0].kill().must("kill -9");
        procs.0[0].wait().must("reap");
        eprintln!(
            "{at:?}: killed at phase {} ({} planned, {} written, import {})",
            last["job"]["progress"]["phase"],
            last["job"]["progress"]["planned"],
            last["job"]["progress"]["written"],
            last["status"]
        );

        // Nothing runs now: the database as the kill left it.
        let n = numbers_in(db, npa).await;
        let applied = scalar(
            db,
            &format!("SELECT COUNT(*) FROM imports WHERE id = '{id}' AND status = 'applied'"),
        )
        .await;
        assert!(
            (n == 0 && applied == 0) || (n == i64::from(ROWS) && applied == 1),
            "{at:?}: {n} of {ROWS} numbers in, import applied: {applied}"
        );
        if n == 0 {
            seen_none += 1;
        } else {
            seen_all += 1;
        }

        // Started again, the worker takes the job up once the dead one's lease (1 s) is over.
        let (child, addr) = serve(db, &[]);
        procs.0.push(child);
        let t = token(&addr, &client_id, &secret).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        let done = loop {
            let (_, v) = http(&addr, "GET", &path, &t, "text/plain", b"").await;
            if v["status"] != "applying" && v["job"]["state"] == "done" {
                break v;
            }
            assert!(Instant::now() < deadline, "{at:?}: not finished: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(done["status"], "applied", "{at:?}: {done}");
        assert_eq!(numbers_in(db, npa).await, i64::from(ROWS), "{at:?}");

        // The same plan again: 200, nothing changes.
        let (status, again) = http(
            &addr,
            "POST",
            &format!("{path}/apply"),
            &t,
            "text/plain",
            b"",
        )
        .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["status"], "applied");
        assert_eq!(numbers_in(db, npa).await, i64::from(ROWS), "{at:?}");
        sigterm(procs.0[1].id());
        assert!(exit_status(&mut procs.0[1], 60).await.success());
    }
    eprintln!("kills that left none of the file: {seen_none}; all of it: {seen_all}");
    assert!(
        seen_none > 0 && seen_all > 0,
        "kills landed both before and after the commit (else the test proved less than it says)"
    );
}
