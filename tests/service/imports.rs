//! Imports through the service (issue 13): a plan writes nothing; apply commits exactly the
//! accepted rows, once; a plan the inventory moved past is refused whole; every row reason
//! code the service decides; R-IMP-1's limits; another tenant's numbers are not revealed.

use numberpool::service::progress::Progress;
use numberpool::service::{
    AddOptions, ImportLimits, ImportRequest, ImportView, RowOutcome, Service, ServiceError,
};
use numberpool_domain::import::{ExportKind, FileFormat, ImportAction, ImportStatus};
use numberpool_domain::{Account, Country, NumberStatus};
use numberpool_store::testing::TestDb;
use numberpool_store::{NumberFilter, backend_tests};

use crate::fixture::*;

fn req(action: ImportAction) -> ImportRequest {
    ImportRequest {
        action,
        file_name: "numbers.csv".into(),
        default_country: None,
        add: Default::default(),
    }
}

async fn plan(svc: &Service, who: &Actor, action: ImportAction, csv: &str) -> ImportView {
    svc.plan_import(who, &req(action), csv.as_bytes().to_vec())
        .await
        .must("plan")
}

/// The reason code of the plan's row `row` (its spreadsheet row number).
fn reason(v: &ImportView, row: usize) -> String {
    v.rows
        .iter()
        .find(|r| r.row == row)
        .and_then(|r| r.reason.clone())
        .unwrap_or_else(|| panic!("row {row} is not rejected: {:?}", v.rows))
}

/// The number `e164(i)` as `who` sees it.
async fn number_of(svc: &Service, who: &Actor, i: u32) -> numberpool_domain::Number {
    svc.get_number(who, &numberpool_store::NumberLookup::E164(e164(i)))
        .await
        .must("number")
}

async fn count(w: &World, who: &Account) -> i64 {
    w.service
        .list_numbers(&as_(who), &NumberFilter::default(), None, 1)
        .await
        .must("list")
        .total
}

async fn add_import_plans_then_applies_once(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    // A number of another tenant: rejected as existing, without saying whose.
    w.add(&w.tenant, &e164(9)).await;
    let csv = "Phone Number,SIP Trunk,Billing Reference\n\
               +14155550001,trunk-1,B-1\n\
               +14155550001,,\n\
               +14155550009,,\n\
               +14155550002,no-such-trunk,\n\
               \n\
               +14155550003,,\"<script>x</script>\"\n";
    let before = count(&w, &w.provider).await;
    let v = plan(svc, &me, ImportAction::Add, csv).await;
    let c = v.record.counts;
    assert_eq!((c.total, c.creates, c.rejected), (5, 2, 3), "{:?}", v.rows);
    assert_eq!(reason(&v, 3), "duplicate_in_file");
    assert_eq!(reason(&v, 4), "already_exists");
    let hidden = v
        .rows
        .iter()
        .find(|r| r.row == 4)
        .and_then(|r| r.message.clone());
    assert!(
        !hidden.unwrap_or_default().contains("Unrelated"),
        "the other tenant is not named"
    );
    assert_eq!(reason(&v, 5), "unknown_trunk");
    assert_eq!(v.record.status, ImportStatus::Planned);
    assert_eq!(
        count(&w, &w.provider).await,
        before,
        "a plan writes nothing"
    );

    let applied = svc.apply_import(&me, v.record.id).await.must("apply");
    assert_eq!(applied.record.status, ImportStatus::Applied);
    assert_eq!(count(&w, &w.provider).await, before + 2);
    let n = svc
        .get_number(&me, &numberpool_store::NumberLookup::E164(e164(1)))
        .await
        .must("imported number");
    assert_eq!(n.sip_trunk_id, Some(w.trunk));
    assert_eq!(n.billing_reference.as_deref(), Some("B-1"));
    // Applying again changes nothing and answers the same.
    let again = svc.apply_import(&me, v.record.id).await.must("apply again");
    assert_eq!(again.record.status, ImportStatus::Applied);
    assert_eq!(count(&w, &w.provider).await, before + 2);
    // The account is told, once.
    let notes: Vec<_> = svc
        .list_notifications(&me, false, 50)
        .await
        .must("notifications")
        .into_iter()
        .filter(|n| n.kind == "import_applied" && n.subject_id == v.record.id.to_string())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].message.contains("2 added") && notes[0].message.contains("3 rejected"),
        "{}",
        notes[0].message
    );
    // And its job's end is an event, in the account's feed and to its webhooks.
    let ends = svc
        .events_feed(&me, 0, 1000, &["job.done".into()])
        .await
        .must("feed")
        .events;
    assert_eq!(ends.len(), 1, "{ends:?}");
    let after = ends[0].after.as_ref().must("after");
    assert_eq!(after["kind"], "import_apply");
    assert_eq!(after["subject_id"], v.record.id.to_string());
    assert_eq!(after["detail"]["creates"], 2);
    // Another account cannot see or apply it.
    hidden_import(svc.get_import(&as_(&w.tenant), v.record.id).await);
    hidden_import(svc.apply_import(&as_(&w.tenant), v.record.id).await);
}

fn hidden_import<T: std::fmt::Debug>(r: Result<T, ServiceError>) {
    match r {
        Err(ServiceError::NotFound(_)) => {}
        other => panic!("another tenant's import: {other:?}"),
    }
}

async fn a_stale_plan_is_refused_whole(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    let v = plan(
        svc,
        &me,
        ImportAction::Add,
        "phone_number\n+14155550011\n+14155550012\n",
    )
    .await;
    assert_eq!(v.record.counts.creates, 2);
    // Meanwhile one of them is added by someone else.
    w.add(&w.tenant, &e164(12)).await;
    let before = count(&w, &w.provider).await;
    match svc.apply_import(&me, v.record.id).await {
        Err(ServiceError::PreconditionFailed(m)) => {
            assert!(m.contains("changed since this plan"), "{m}")
        }
        other => panic!("stale apply: {other:?}"),
    }
    assert_eq!(count(&w, &w.provider).await, before, "nothing applied");
    let got = svc.get_import(&me, v.record.id).await.must("get");
    assert_eq!(got.record.status, ImportStatus::Failed);
    assert!(got.record.error.is_some());
    assert!(
        svc.list_notifications(&me, false, 50)
            .await
            .must("notifications")
            .iter()
            .any(|n| n.kind == "import_failed" && n.message.contains("failed")),
        "the account is told the import failed"
    );
    // Again: the same refusal, the same state.
    assert!(svc.apply_import(&me, v.record.id).await.is_err());
    assert_eq!(count(&w, &w.provider).await, before);
}

async fn delete_import_reports_removed_and_rejected(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    let free = w.add(&w.provider, &e164(21)).await;
    let held = w.held_by(&w.customer, &e164(22)).await;
    w.add(&w.tenant, &e164(23)).await;
    let csv = format!(
        "Phone Number\n{}\n{}\n+14155550023\n+14155550024\n{}\n",
        free.phone_number.as_str(),
        held.phone_number.as_str(),
        free.phone_number.as_str()
    );
    let v = plan(svc, &me, ImportAction::Delete, &csv).await;
    let c = v.record.counts;
    assert_eq!((c.deletes, c.rejected), (1, 4), "{:?}", v.rows);
    let row = |r: usize| v.rows.iter().find(|p| p.row == r).cloned().must("row");
    assert_eq!(row(2).outcome, RowOutcome::Delete);
    assert_eq!(reason(&v, 3), "rule_violation");
    assert!(row(3).rule.is_some());
    // Another tenant's number and an unknown one answer alike (R-SEC-1).
    assert_eq!(reason(&v, 4), "not_found");
    assert_eq!(reason(&v, 5), "not_found");
    assert_eq!(row(4).message, row(5).message);
    assert_eq!(reason(&v, 6), "duplicate_in_file");
    svc.apply_import(&me, v.record.id).await.must("apply");
    assert!(w.get(&w.provider, &free).await.is_err(), "deleted");
    assert!(w.get(&w.provider, &held).await.is_ok(), "kept");
}

/// Seed 004 by file: a customer's Delete file releases its numbers to the provider's pool
/// (returned, the customer's own settings cleared); a number it does not hold is rejected.
async fn customer_delete_file_releases(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let held = w.held_by(&w.customer, &e164(31)).await;
    let free = w.add(&w.provider, &e164(32)).await;
    let csv = format!(
        "Phone Number\n{}\n{}\n",
        held.phone_number.as_str(),
        free.phone_number.as_str()
    );
    let me = as_(&w.customer);
    let v = plan(svc, &me, ImportAction::Delete, &csv).await;
    assert_eq!(
        (v.record.counts.deletes, v.record.counts.rejected),
        (1, 1),
        "{:?}",
        v.rows
    );
    assert_eq!(
        reason(&v, 3),
        "not_found",
        "the pool's free number is not the customer's"
    );
    assert!(
        w.get(&w.customer, &held).await.is_ok(),
        "the plan changes nothing"
    );
    svc.apply_import(&me, v.record.id).await.must("apply");
    assert!(
        w.get(&w.customer, &held).await.is_err(),
        "gone from the customer"
    );
    let back = w.get(&w.provider, &held).await.must("in the pool");
    assert_eq!(back.position, numberpool_domain::Position::Returned);
    assert_eq!(back.customer_id, None);
    assert_eq!(back.holder_id, w.provider.id);
    let events = audit_for(&w.store, &held.id.to_string()).await;
    assert_eq!(
        actions(&events).last(),
        Some(&numberpool_domain::Action::NumberRelease)
    );
}

async fn file_refusals_and_limits(db: &TestDb) {
    let w = World::new(db).await;
    let me = as_(&w.provider);
    let svc = w.service.clone().with_import_limits(ImportLimits {
        pool_rows: 3,
        sub_account_rows: 1,
    });
    let code = |r: Result<ImportView, ServiceError>| match r {
        Err(e) => e.code().to_string(),
        Ok(v) => panic!("accepted: {:?}", v.record.counts),
    };
    let go = |who: Actor, action: ImportAction, body: &'static str| {
        let svc = svc.clone();
        async move {
            svc.plan_import(&who, &req(action), body.as_bytes().to_vec())
                .await
        }
    };
    let four = "Phone Number\n+14155550031\n+14155550032\n+14155550033\n+14155550034\n";
    let r = go(me.clone(), ImportAction::Add, four).await;
    let e = r.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("at most 3"), "{e}");
    assert_eq!(code(r), "too_many_rows");
    // Exactly at the limit is fine; blank rows do not count.
    let three = "Phone Number\n+14155550031\n\n,\n+14155550032\n+14155550033\n";
    go(me.clone(), ImportAction::Add, three)
        .await
        .must("at the limit");
    // A customer's (sub account's) limit is its own.
    let two = "Phone Number\n+14155550035\n+14155550036\n";
    assert_eq!(
        code(go(as_(&w.ext_customer), ImportAction::Add, two).await),
        "too_many_rows"
    );
    assert_eq!(
        code(
            go(
                me.clone(),
                ImportAction::Add,
                "Phone Number,Colour\n+14155550031,red\n"
            )
            .await
        ),
        "unknown_column"
    );
    assert_eq!(
        code(go(me.clone(), ImportAction::Add, "City\nParis\n").await),
        "missing_column"
    );
    assert_eq!(
        code(go(me.clone(), ImportAction::Add, "Phone Number\n").await),
        "empty_file"
    );
    assert_eq!(
        code(go(me.clone(), ImportAction::Add, "").await),
        "empty_file"
    );
    // A viewer may not import.
    let viewer = Actor::user(
        w.provider.id,
        "viewer".into(),
        numberpool::service::Role::Viewer,
    );
    assert!(go(viewer, ImportAction::Add, three).await.is_err());
}

async fn seed_003_format_with_default_carriers(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    let voice = carrier(&w.store, &w.provider, "voice", "Voice One", true).await;
    let sms = carrier(&w.store, &w.provider, "sms", "SMS One", true).await;
    let other_sms = carrier(&w.store, &w.provider, "sms", "SMS Two", false).await;
    let csv = "Country Code;Phone Number;Voice;SMS;Fax;SMS Carrier\n\
               1;4155550041;TRUE;TRUE;FALSE;\n\
               1;14155550042;TRUE;FALSE;FALSE;\n\
               ;4155550043;TRUE;FALSE;FALSE;\n\
               1;4155550044;FALSE;TRUE;FALSE;sms two\n\
               1;1.4155E+10;TRUE;FALSE;FALSE;\n";
    let v = plan(svc, &me, ImportAction::Add, csv).await;
    assert_eq!(v.record.counts.creates, 3, "{:?}", v.rows);
    assert_eq!(reason(&v, 4), "needs_country");
    assert_eq!(reason(&v, 6), "scientific_notation");
    svc.apply_import(&me, v.record.id).await.must("apply");
    let get = |i: u32| number_of(svc, &me, i);
    let n41 = get(41).await;
    assert!(n41.capabilities.voice && n41.capabilities.sms && !n41.capabilities.fax);
    assert_eq!(
        n41.voice_carrier_id,
        Some(voice),
        "the default voice carrier"
    );
    assert_eq!(n41.sms_carrier_id, Some(sms), "the default SMS carrier");
    assert_eq!(n41.status, NumberStatus::Normal);
    assert_eq!(get(42).await.phone_number.as_str(), "+14155550042");
    assert_eq!(get(44).await.sms_carrier_id, Some(other_sms));

    // With a default country, numbers without + need no Country Code column.
    let us = ImportRequest {
        default_country: Some(Country::parse("US").must("US")),
        add: Default::default(),
        ..req(ImportAction::Add)
    };
    let v = svc
        .plan_import(&me, &us, b"Phone Number\n(415) 555-0045\n".to_vec())
        .await
        .must("plan");
    assert_eq!(v.record.counts.creates, 1, "{:?}", v.rows);
    svc.apply_import(&me, v.record.id).await.must("apply");
    assert_eq!(get(45).await.phone_number.as_str(), "+14155550045");
}

async fn update_import_changes_only_what_differs(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    let mut billed = add(&e164(51));
    billed.fields.billing_reference = Some("A".into());
    let mut phone = add(&e164(54));
    phone.fields.product = Some(numberpool_domain::Product::Phone);
    svc.add_numbers(&me, vec![billed, add(&e164(52)), add(&e164(53)), phone])
        .await
        .must("add");
    w.add(&w.tenant, &e164(55)).await;
    let csv = "Phone Number,Billing Reference,SMS,SIP Trunk,Product\n\
               +14155550051,B,,,\n\
               +14155550052,,,,\n\
               +14155550051,C,,,\n\
               +14155550059,X,,,\n\
               +14155550053,,,no-such-trunk,\n\
               +14155550055,X,,,\n\
               +14155550054,,TRUE,trunk-1,unallocated\n";
    let v = plan(svc, &me, ImportAction::Update, csv).await;
    let c = v.record.counts;
    assert_eq!(
        (c.total, c.updates, c.unchanged, c.rejected),
        (7, 1, 1, 5),
        "{:?}",
        v.rows
    );
    let row2 = v.rows.iter().find(|r| r.row == 2).must("row 2");
    assert_eq!(row2.outcome, RowOutcome::Update);
    assert_eq!(row2.changes.len(), 1, "{:?}", row2.changes);
    assert_eq!(
        (
            row2.changes[0].field.as_str(),
            row2.changes[0].before.as_str(),
            row2.changes[0].after.as_str()
        ),
        ("billing_reference", "A", "B")
    );
    assert_eq!(
        v.rows.iter().find(|r| r.row == 3).must("row 3").outcome,
        RowOutcome::Unchanged
    );
    assert_eq!(reason(&v, 4), "duplicate_in_file");
    assert_eq!(reason(&v, 5), "not_found");
    assert_eq!(reason(&v, 6), "unknown_trunk");
    assert_eq!(reason(&v, 7), "not_found", "another tenant's number");
    assert_eq!(reason(&v, 8), "rule_violation");
    let rule = v
        .rows
        .iter()
        .find(|r| r.row == 8)
        .and_then(|r| r.rule.clone());
    assert_eq!(rule.as_deref(), Some("R-PROD-1"));
    // Nothing written by the plan.
    let lookup = numberpool_store::NumberLookup::E164(e164(51));
    let n = svc.get_number(&me, &lookup).await.must("51");
    assert_eq!(n.billing_reference.as_deref(), Some("A"));

    svc.apply_import(&me, v.record.id).await.must("apply");
    let n = svc.get_number(&me, &lookup).await.must("51");
    assert_eq!(n.billing_reference.as_deref(), Some("B"));
    let events = audit_for(&w.store, &n.id.to_string()).await;
    let last = events.last().must("an event");
    assert_eq!(last.action, Action::NumberUpdate);
    assert_eq!(last.channel.as_str(), "import");

    // A number edited between the plan and the apply: the plan is stale, nothing applies.
    let v = plan(
        svc,
        &me,
        ImportAction::Update,
        "Phone Number,Billing Reference\n+14155550051,D\n+14155550052,E\n",
    )
    .await;
    assert_eq!(v.record.counts.updates, 2);
    let patch = numberpool_domain::NumberPatch {
        service_info: Some(Some("meanwhile".into())),
        ..Default::default()
    };
    svc.update_number(&me, &lookup, &patch, None)
        .await
        .must("edit");
    assert!(matches!(
        svc.apply_import(&me, v.record.id).await,
        Err(ServiceError::PreconditionFailed(_))
    ));
    let n52 = svc
        .get_number(&me, &numberpool_store::NumberLookup::E164(e164(52)))
        .await
        .must("52");
    assert_eq!(
        n52.billing_reference, None,
        "nothing of a stale plan applies"
    );
}

/// Export → edit nothing → import as an Update: a plan of 0 changes, in both formats; the
/// list and the consolidated export hold what they say, with formula cells neutralised.
async fn export_round_trips_and_neutralises(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    attribute(&w.store, &w.provider, "region", &["east", "west"]).await;
    let voice = carrier(&w.store, &w.provider, "voice", "Voice One", true).await;
    let mut rich = add(&e164(61));
    rich.fields.billing_reference = Some("=HYPERLINK(\"http://x\")".into());
    rich.fields.display_name = Some("Front, \"desk\"".into());
    rich.fields
        .attributes
        .insert("region".into(), "east".into());
    rich.fields.sip_trunk_id = Some(w.trunk);
    rich.fields.voice_carrier_id = Some(voice);
    rich.fields.product = Some(numberpool_domain::Product::ContactCenter);
    svc.add_numbers(&me, vec![rich, add(&e164(62))])
        .await
        .must("add");
    w.held_by(&w.customer, &e164(63)).await;
    let total = count(&w, &w.provider).await;
    for format in [FileFormat::Csv, FileFormat::Xlsx] {
        let mut file = Vec::new();
        let rows = svc
            .export_numbers(
                &me,
                ExportKind::UpdateTemplate,
                format,
                &mut file,
                &Progress::none(),
            )
            .await
            .must("export");
        assert_eq!(rows as i64, total, "{format}");
        let v = svc
            .plan_import(&me, &req(ImportAction::Update), file)
            .await
            .must("plan");
        let c = v.record.counts;
        assert_eq!(
            (c.total, c.updates, c.rejected, c.unchanged),
            (total, 0, 0, total),
            "{format}: {:?}",
            v.rows
        );
    }
    let mut list = Vec::new();
    svc.export_numbers(
        &me,
        ExportKind::List,
        FileFormat::Csv,
        &mut list,
        &Progress::none(),
    )
    .await
    .must("list");
    let list = String::from_utf8(list).must("utf-8");
    assert!(
        list.starts_with("\u{feff}Phone Number,Country,Type"),
        "{list}"
    );
    assert!(
        list.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "R-EXP-1: {list}"
    );
    assert!(
        list.contains("+14155550061,US,"),
        "the number stays readable: {list}"
    );
    let mut consolidated = Vec::new();
    svc.export_numbers(
        &me,
        ExportKind::Consolidated,
        FileFormat::Csv,
        &mut consolidated,
        &Progress::none(),
    )
    .await
    .must("consolidated");
    let consolidated = String::from_utf8(consolidated).must("utf-8");
    assert!(consolidated.contains("Customer,"), "{consolidated}");
    assert!(consolidated.contains("+14155550063"), "{consolidated}");
    assert!(
        !consolidated.contains("+14155550062"),
        "free numbers have no customer: {consolidated}"
    );
    // A customer's export holds only what it sees.
    let mut theirs = Vec::new();
    svc.export_numbers(
        &as_(&w.customer),
        ExportKind::List,
        FileFormat::Csv,
        &mut theirs,
        &Progress::none(),
    )
    .await
    .must("customer export");
    let theirs = String::from_utf8(theirs).must("utf-8");
    assert!(theirs.contains("+14155550063"));
    assert!(!theirs.contains("+14155550061"), "{theirs}");
}

/// A file larger than one slice (10,000 rows, with the limit raised): rejects spread over the
/// slices are found; the apply writes every accepted row; a number added elsewhere in a later
/// slice makes the apply refuse, and what the earlier slices wrote is rolled back with it.
async fn a_file_of_many_slices_goes_in_whole_or_not_at_all(db: &TestDb) {
    let w = World::new(db).await;
    let svc = w.service.clone().with_import_limits(ImportLimits {
        pool_rows: 30_000,
        sub_account_rows: 200,
    });
    let me = as_(&w.provider);
    let phone = |i: usize| format!("+14152{i:06}");
    // Row 12,001 (the 12,000th number) is on the platform already.
    w.add(
        &w.tenant,
        &numberpool_domain::E164::parse(&phone(12_000)).must("e164"),
    )
    .await;
    // Long billing references make the file about 2 MB, so it is kept in pieces cut at
    // record boundaries, which the apply reads one at a time; every thousandth is quoted.
    let reference = |i: usize| {
        if i.is_multiple_of(1000) {
            format!("\"ref {i:06}, quoted {}\"", "q".repeat(50))
        } else {
            format!("ref {i:06} {}", "r".repeat(60))
        }
    };
    let mut csv = String::from("Phone Number,Billing Reference\n");
    for i in 1..=25_000 {
        csv.push_str(&format!("{},{}\n", phone(i), reference(i)));
        match i {
            // Row 15,002: the number of row 101 again.
            15_000 => csv.push_str(&format!("{},dup\n", phone(100))),
            // Row 22,003: not a number.
            22_000 => csv.push_str("+1415,bad\n"),
            _ => {}
        }
    }
    assert!(csv.len() > 1 << 20, "{} bytes", csv.len());
    let before = count(&w, &w.provider).await;
    let v = svc
        .plan_import(&me, &req(ImportAction::Add), csv.into_bytes())
        .await
        .must("plan");
    let c = v.record.counts;
    assert_eq!(
        (c.total, c.creates, c.rejected),
        (25_002, 24_999, 3),
        "{:?}",
        v.rows
    );
    assert_eq!(reason(&v, 12_001), "already_exists");
    let rows: Vec<usize> = v.rows.iter().map(|r| r.row).collect();
    assert_eq!(
        rows,
        vec![12_001, 15_002, 22_003],
        "the rejected rows in file order"
    );
    assert_eq!(reason(&v, 15_002), "duplicate_in_file");
    assert_eq!(reason(&v, 22_003), "invalid_number");
    let mut r = w.store.read().await.must("read");
    let pieces = r
        .import_pieces(v.record.id, numberpool_store::ImportPart::File)
        .await
        .must("pieces");
    assert!(pieces.len() >= 2, "kept in pieces: {pieces:?}");
    drop(r);
    let applied = svc.apply_import(&me, v.record.id).await.must("apply");
    assert_eq!(applied.record.status, ImportStatus::Applied);
    assert_eq!(count(&w, &w.provider).await, before + 24_999);
    // Rows from every piece went in with their own cells.
    for i in [1, 999, 1000, 14_000, 14_001, 20_000, 24_999, 25_000] {
        let n = svc
            .get_number(
                &me,
                &numberpool_store::NumberLookup::E164(
                    numberpool_domain::E164::parse(&phone(i)).must("e164"),
                ),
            )
            .await
            .must("added");
        assert_eq!(
            n.billing_reference.as_deref(),
            Some(reference(i).trim_matches('"')),
            "row of number {i}"
        );
    }

    // A second file of 15,000; one number of its second slice is added elsewhere meanwhile.
    let mut csv = String::from("Phone Number\n");
    for i in 30_001..=45_000 {
        csv.push_str(&phone(i));
        csv.push('\n');
    }
    let v = svc
        .plan_import(&me, &req(ImportAction::Add), csv.into_bytes())
        .await
        .must("plan");
    assert_eq!(v.record.counts.creates, 15_000);
    w.add(
        &w.tenant,
        &numberpool_domain::E164::parse(&phone(44_000)).must("e164"),
    )
    .await;
    let before = count(&w, &w.provider).await;
    match svc.apply_import(&me, v.record.id).await {
        Err(ServiceError::PreconditionFailed(m)) => {
            assert!(m.contains("changed since this plan"), "{m}")
        }
        other => panic!("stale apply: {other:?}"),
    }
    assert_eq!(
        count(&w, &w.provider).await,
        before,
        "the first slice's numbers are rolled back with the rest"
    );
}

/// Seed 003's upload form: carriers named on the form stand in for the provider's defaults on
/// rows that name none; a target account gets the numbers allocated as they go in (a customer's
/// only with a SIP trunk, which the row reason says); a form naming what is not the provider's
/// is refused whole; a target deactivated before the apply makes the plan stale.
async fn seed_003_form_carriers_and_target(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let me = as_(&w.provider);
    carrier(&w.store, &w.provider, "voice", "Voice One", true).await;
    let voice2 = carrier(&w.store, &w.provider, "voice", "Voice Two", false).await;
    carrier(&w.store, &w.provider, "sms", "SMS One", true).await;
    let sms2 = carrier(&w.store, &w.provider, "sms", "SMS Two", false).await;
    let with = |add: AddOptions| ImportRequest {
        add,
        ..req(ImportAction::Add)
    };
    let file = "Country Code,Phone Number,Voice,SMS,Fax\n\
                1,4155550051,TRUE,TRUE,FALSE\n\
                1,4155550052,FALSE,FALSE,TRUE\n";
    let form = AddOptions {
        voice_carrier: Some("voice two".into()),
        sms_carrier: Some("SMS Two".into()),
        target: Some(w.reseller.id),
    };
    let v = svc
        .plan_import(&me, &with(form.clone()), file.as_bytes().to_vec())
        .await
        .must("plan");
    assert_eq!(v.record.counts.creates, 2, "{:?}", v.rows);
    svc.apply_import(&me, v.record.id).await.must("apply");
    let get = |i: u32| number_of(svc, &me, i);
    let n51 = get(51).await;
    assert_eq!(
        n51.voice_carrier_id,
        Some(voice2),
        "the form's voice carrier"
    );
    assert_eq!(n51.sms_carrier_id, Some(sms2), "the form's SMS carrier");
    assert_eq!(n51.holder_id, w.reseller.id, "allocated to the target");
    assert_eq!(n51.allocated_from, Some(w.provider.id));
    let n52 = get(52).await;
    assert_eq!(
        (n52.voice_carrier_id, n52.sms_carrier_id),
        (None, None),
        "capabilities off"
    );
    assert_eq!(n52.holder_id, w.reseller.id);
    let events = audit_for(&w.store, &n51.id.to_string()).await;
    assert!(
        actions(&events).contains(&Action::NumberAllocate),
        "the allocation is recorded: {:?}",
        actions(&events)
    );

    // A customer target: rows with a SIP trunk go; rows without are rejected with the reason.
    let file = "Phone Number,SIP Trunk\n+14155550053,trunk-1\n+14155550054,\n";
    let to_customer = AddOptions {
        target: Some(w.customer.id),
        ..AddOptions::default()
    };
    let v = svc
        .plan_import(&me, &with(to_customer), file.as_bytes().to_vec())
        .await
        .must("plan");
    assert_eq!(v.record.counts.creates, 1, "{:?}", v.rows);
    assert!(
        v.rows[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("sip_trunk_id"),
        "{:?}",
        v.rows
    );
    svc.apply_import(&me, v.record.id).await.must("apply");
    assert_eq!(get(53).await.customer_id, Some(w.customer.id));

    // Refused whole: a carrier that is not the provider's; a target that is not one level down.
    for (form, what) in [
        (
            AddOptions {
                voice_carrier: Some("Nobody's".into()),
                ..AddOptions::default()
            },
            "voice_carrier",
        ),
        (
            AddOptions {
                sms_carrier: Some("Voice Two".into()),
                ..AddOptions::default()
            },
            "sms_carrier",
        ),
        (
            AddOptions {
                target: Some(w.unit.id),
                ..AddOptions::default()
            },
            "target",
        ),
    ] {
        match svc
            .plan_import(&me, &with(form), b"Phone Number\n+14155550055\n".to_vec())
            .await
        {
            Err(ServiceError::Invalid(m)) => assert!(m.starts_with(what), "{m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    hidden(
        svc.plan_import(
            &me,
            &with(AddOptions {
                target: Some(w.tenant_customer.id),
                ..AddOptions::default()
            }),
            b"Phone Number\n+14155550055\n".to_vec(),
        )
        .await,
        "another tenant's account",
    );

    // A customer adding its own numbers has nothing to allocate them from.
    match svc
        .plan_import(
            &as_(&w.ext_customer),
            &with(AddOptions {
                target: Some(w.unit.id),
                ..AddOptions::default()
            }),
            b"Phone Number\n+14155550057\n".to_vec(),
        )
        .await
    {
        Err(ServiceError::Invalid(m)) => assert!(m.starts_with("target"), "{m}"),
        other => panic!("a customer's target: {other:?}"),
    }

    // An add file whose every row is rejected applies as nothing.
    let v = plan(svc, &me, ImportAction::Add, "Phone Number\n+14155550051\n").await;
    assert_eq!((v.record.counts.creates, v.record.counts.rejected), (0, 1));
    let applied = svc
        .apply_import(&me, v.record.id)
        .await
        .must("apply nothing");
    assert_eq!(applied.record.status, ImportStatus::Applied);

    // The target deactivated between the plan and the apply: stale, nothing written.
    let to_customer2 = AddOptions {
        target: Some(w.customer2.id),
        ..AddOptions::default()
    };
    let v = svc
        .plan_import(
            &me,
            &with(to_customer2),
            b"Phone Number,SIP Trunk\n+14155550056,trunk-1\n".to_vec(),
        )
        .await
        .must("plan");
    assert_eq!(v.record.counts.creates, 1, "{:?}", v.rows);
    let mut tx = w.store.begin().await.must("begin");
    tx.set_account_status_cas(
        w.customer2.id,
        w.customer2.version,
        numberpool_domain::AccountStatus::Deactivated,
    )
    .await
    .must("deactivate");
    tx.commit().await.must("commit");
    assert!(matches!(
        svc.apply_import(&me, v.record.id).await,
        Err(ServiceError::PreconditionFailed(_))
    ));
    let n56 = svc
        .get_number(&me, &numberpool_store::NumberLookup::E164(e164(56)))
        .await;
    assert!(
        n56.is_err(),
        "nothing of the stale plan was written: {n56:?}"
    );
}

backend_tests!(
    seed_003_form_carriers_and_target,
    a_file_of_many_slices_goes_in_whole_or_not_at_all,
    customer_delete_file_releases,
    export_round_trips_and_neutralises,
    update_import_changes_only_what_differs,
    add_import_plans_then_applies_once,
    a_stale_plan_is_refused_whole,
    delete_import_reports_removed_and_rejected,
    file_refusals_and_limits,
    seed_003_format_with_default_carriers,
);
