//! `import`: a dry run prints the plan with every rejected row and writes nothing; `--apply`
//! commits that plan; the rejected rows go to a file; without --dry-run the file is planned
//! and applied in one go; a refused file is one line with its reason code.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::common::process::{ok_json, refused, run, s};
use crate::world::World;

async fn import_plans_applies_and_writes_rejected_rows(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("batch.csv");
    std::fs::write(
        &file,
        "Phone Number,Billing Reference\n+14155550801,B-1\n+14155550801,B-2\n1.4155E+10,B-3\n",
    )
    .expect("write");
    let path = file.display();
    let dry = run(
        db,
        &format!("import --account {pid} --dry-run {path}"),
        None,
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("1 to create"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("row 3: +14155550801 rejected: duplicate_in_file [R-NUM-1]"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("row 4: 1.4155E+10 rejected: scientific_notation"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("nothing written"), "{}", dry.stdout);
    // `numbers list --json` prints a line per number.
    let listed = |db: &str| {
        let r = run(
            db,
            &format!("numbers list --account {pid} --prefix +1415555080 --json"),
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.lines().count()
    };
    assert_eq!(listed(db), 0, "a dry run writes nothing");

    let plan = ok_json(
        db,
        &format!("import --account {pid} --dry-run --json {path}"),
    );
    assert_eq!(plan["status"], "planned");
    let rejected = dir.path().join("rejected.csv");
    let applied = ok_json(
        db,
        &format!(
            "import --account {pid} --apply {} --rejected-out {} --json",
            s(&plan, "id"),
            rejected.display()
        ),
    );
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(listed(db), 1);
    let text = std::fs::read_to_string(&rejected).expect("rejected rows");
    assert!(
        text.contains("Phone Number,Billing Reference,reason"),
        "{text}"
    );
    assert!(
        text.contains("1.4155E+10,B-3,\"scientific_notation: "),
        "{text}"
    );

    // Planned and applied in one go; deletes too.
    std::fs::write(&file, "Phone Number\n+14155550801\n").expect("write");
    let r = run(
        db,
        &format!("import --account {pid} --action delete {path}"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("applied: 0 created, 0 updated, 1 deleted"),
        "{}",
        r.stdout
    );

    std::fs::write(&file, "Phone Number,Colour\n+14155550802,red\n").expect("write");
    refused(
        db,
        &format!("import --account {pid} {path}"),
        &["unknown_column", "\"Colour\""],
    );
    refused(
        db,
        &format!("import --account {pid} --action fly {path}"),
        &["--action"],
    );
    refused(
        db,
        &format!("import --account {pid} /no/such/file.csv"),
        &["cannot read"],
    );
}

/// `export`: the update template goes back in as an Update with nothing to change; `--out -`
/// writes the CSV to standard output; bad flags are one line.
async fn export_round_trips_through_import(db: &TestDb) {
    let w = World::new(&db.url);
    let (db, pid) = (w.db, &w.pid);
    w.add(&["+14155550811", "+14155550812"]);
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["csv", "xlsx"] {
        let out = dir.path().join(format!("template.{format}"));
        let r = run(
            db,
            &format!(
                "export --account {pid} --kind update-template --format {format} --out {}",
                out.display()
            ),
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("2 number(s) written"), "{}", r.stdout);
        let plan = ok_json(
            db,
            &format!(
                "import --account {pid} --action update --dry-run --json {}",
                out.display()
            ),
        );
        assert_eq!(plan["counts"]["updates"], 0, "{plan}");
        assert_eq!(plan["counts"]["unchanged"], 2, "{plan}");
        assert_eq!(plan["counts"]["rejected"], 0, "{plan}");
    }
    let r = run(db, &format!("export --account {pid} --out -"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Phone Number,Country,Type"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("+14155550812"), "{}", r.stdout);
    refused(
        db,
        &format!("export --account {pid} --kind everything --out -"),
        &["--kind"],
    );
    refused(
        db,
        &format!("export --account {pid} --format xlsx --out -"),
        &["--out"],
    );
}

backend_tests!(
    import_plans_applies_and_writes_rejected_rows,
    export_round_trips_through_import
);
