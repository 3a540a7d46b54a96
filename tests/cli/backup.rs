//! `backup`: a copy of a running SQLite database that opens as a database of its own (the
//! restore the README describes: stop, put the file in place, start), holding what was
//! committed before it and nothing after; PostgreSQL is refused with where to look.

use std::process::Stdio;

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::common::process::{bin, refused, run, terminate, wait_for_url};
use crate::world::World;

fn listed(db: &str, pid: &str) -> Vec<String> {
    let r = run(db, &format!("numbers list --account {pid}"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('+')))
        .map(str::to_string)
        .collect()
}

async fn backup_of_a_running_database_restores(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, w.pid.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("numberpool-backup.db");
    if db.starts_with("postgres") {
        refused(db, &format!("backup --out {}", out.display()), &["pg_dump"]);
        pg_dump_and_restore(db, &w, &out);
        return;
    }
    w.add(&["+14155550821", "+14155550822"]);
    // The server runs (and holds the database open) while the backup is taken.
    let mut server = bin()
        .args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    wait_for_url(&mut server);
    let r = run(db, &format!("backup --out {}", out.display()), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("backup written to"), "{}", r.stdout);
    // A write after the backup is not in it.
    w.add(&["+14155550823"]);
    refused(
        db,
        &format!("backup --out {}", out.display()),
        &["exists already"],
    );
    assert_eq!(terminate(&mut server), 0);

    // Restore: the file, put where a database goes, is the database as it was.
    let restored = dir.path().join("restored.db");
    std::fs::copy(&out, &restored).expect("copy");
    let url = format!("sqlite://{}", restored.display());
    let mut numbers = listed(&url, &pid);
    numbers.sort();
    assert!(numbers.contains(&"+14155550821".to_string()), "{numbers:?}");
    assert!(numbers.contains(&"+14155550822".to_string()), "{numbers:?}");
    assert!(
        !numbers.contains(&"+14155550823".to_string()),
        "{numbers:?}"
    );
    assert!(listed(db, &pid).contains(&"+14155550823".to_string()));
}

/// The README's PostgreSQL backup and restore, as written: `pg_dump --format=custom`, then
/// `pg_restore --no-owner` into a new database, which the CLI then reads as it was.
fn pg_dump_and_restore(db: &str, w: &World, out: &std::path::Path) {
    w.add(&["+14155550831"]);
    let ok = |what: &str, cmd: &mut std::process::Command| {
        let o = cmd
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e} (is PostgreSQL's client installed?)"));
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(
        "pg_dump",
        std::process::Command::new("pg_dump")
            .args(["--format=custom", "--file"])
            .arg(out)
            .arg(db),
    );
    let name = format!("np_restore_{}", uuid::Uuid::now_v7().simple());
    let (base, _) = db.rsplit_once('/').expect("a database URL");
    let admin = std::env::var("NUMBERPOOL_TEST_PG_URL").expect("NUMBERPOOL_TEST_PG_URL");
    ok(
        "create database",
        std::process::Command::new("psql").args([
            "-X",
            "-q",
            &admin,
            "-c",
            &format!("CREATE DATABASE {name}"),
        ]),
    );
    let restored = format!("{base}/{name}");
    ok(
        "pg_restore",
        std::process::Command::new("pg_restore")
            .args(["--no-owner", "--dbname", &restored])
            .arg(out),
    );
    let numbers = listed(&restored, &w.pid);
    let _ = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            &admin,
            "-c",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        ])
        .output();
    assert!(numbers.contains(&"+14155550831".to_string()), "{numbers:?}");
}

backend_tests!(backup_of_a_running_database_restores);
