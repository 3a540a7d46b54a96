//! `check`: the stored per-holder number counts against a full count of the numbers. Agreeing
//! counts exit 0; a drifted group is named and exits 1; `--repair` rewrites the counts.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::common::process::run;
use crate::world::World;

/// Moves one counter group away from the truth, behind the application's back.
async fn drift(url: &str, holder: &str) {
    let sql = "UPDATE number_counts SET n = n + 3 WHERE holder_id = $1";
    let changed = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        sqlx::query(sql)
            .bind(holder)
            .execute(&pool)
            .await
            .expect("drift")
            .rows_affected()
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        sqlx::query(sql)
            .bind(holder)
            .execute(&pool)
            .await
            .expect("drift")
            .rows_affected()
    };
    assert_eq!(changed, 1, "one group: the provider's free numbers");
}

async fn check_finds_and_repairs_drifted_counts(db: &TestDb) {
    let w = World::new(&db.url);
    w.add(&["+14155550831", "+14155550832"]);
    let r = run(w.db, "check", None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("every group agrees"), "{}", r.stdout);

    drift(w.db, &w.pid).await;
    let r = run(w.db, "check", None);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("1 group(s) disagree"), "{}", r.stdout);
    assert!(r.stdout.contains("stored 5, counted 2"), "{}", r.stdout);
    assert!(r.stdout.contains("check --repair"), "{}", r.stdout);
    assert!(r.stderr.contains("disagree"), "{}", r.stderr);

    let r = run(w.db, "check --repair --json", None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("json");
    assert_eq!(v["mismatches"][0]["stored"], 5, "{v}");
    assert_eq!(v["mismatches"][0]["counted"], 2, "{v}");
    assert_eq!(v["repaired"], true, "{v}");
    assert_eq!(v["left"], serde_json::json!([]), "{v}");
    let r = run(w.db, "check", None);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

backend_tests!(check_finds_and_repairs_drifted_counts);
