//! `/v2/imports` over HTTP: upload a CSV (the body is the file) and get the plan with its
//! rejected rows; download them as a file with a `reason` column, fix them, upload again,
//! apply; apply twice; samples in both formats; an XLSX upload; file refusals with their
//! reason codes; another tenant's import is not found; a viewer-scoped token cannot upload.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::harness::*;
use crate::http::Resp;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn upload(app: &App, token: &str, query: &str, content_type: &str, body: Vec<u8>) -> Resp {
    app.post(&format!("/v2/imports?{query}"))
        .bearer(token)
        .raw(content_type, body)
        .send()
        .await
}

/// The import `id` once its apply's job has finished (polled every 20 ms, for at most 30 s):
/// the import applied or failed, and its job done or failed (the job is marked so just after
/// the import's own commit, so a poll in between sees it still running).
pub async fn until_finished(app: &App, token: &str, id: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let v = app
            .get_as(token, &format!("/v2/imports/{id}"))
            .await
            .expect(200)
            .json();
        let job_ended = ["done", "failed"].contains(&v["job"]["state"].as_str().unwrap_or(""));
        if v["status"] != "applying" && job_ended {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the apply did not finish in 30 s: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A plan made stale (its number changed after the plan) is queued, then fails with the
/// reason: the job fails for good at once, nothing is written, and asking again is 412.
async fn stale_plan_fails_its_job(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&serde_json::json!({"phone_number": "+14155550777"}))
        .send()
        .await
        .expect(201);
    let plan = upload(
        app,
        t,
        "action=update",
        "text/csv",
        "Phone Number,Billing Reference\n+14155550777,B-NEW\n".into(),
    )
    .await
    .expect(201)
    .json();
    assert_eq!(plan["counts"]["updates"], 1, "{plan}");
    let id = plan["id"].as_str().must("id").to_string();
    app.patch("/v2/phone/numbers/%2B14155550777")
        .bearer(t)
        .json(&serde_json::json!({"billing_reference": "B-ELSEWHERE"}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/v2/imports/{id}/apply"))
        .bearer(t)
        .send()
        .await
        .expect(202);
    let failed = until_finished(app, t, &id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or_default()
            .contains("the inventory changed since this plan was made"),
        "{failed}"
    );
    assert_eq!(failed["job"]["state"], "failed", "{failed}");
    assert_eq!(failed["job"]["attempts"], 1, "not retried: {failed}");
    let n = app
        .get_as(t, "/v2/phone/numbers/%2B14155550777")
        .await
        .expect(200)
        .json();
    assert_eq!(n["billing_reference"], "B-ELSEWHERE", "{n}");
    app.post(&format!("/v2/imports/{id}/apply"))
        .bearer(t)
        .send()
        .await
        .expect_error(412, "precondition_failed");
}

async fn upload_fix_and_apply(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let file = "Phone Number;SIP Trunk;Billing Reference\n\
                +14155550601;trunk-prime;B-1\n\
                +14155550602;no-such-trunk;B-2\n\
                4155550603;;B-3\n";
    let r = upload(
        app,
        t,
        "action=add&file_name=batch.csv",
        "text/csv",
        file.into(),
    )
    .await
    .expect(201);
    let plan = r.json();
    assert_eq!(plan["status"], "planned", "{plan}");
    assert_eq!(plan["counts"]["total"], 3);
    assert_eq!(plan["counts"]["creates"], 1);
    assert_eq!(plan["counts"]["rejected"], 2);
    let rows = plan["rows"].as_array().must("rows");
    assert_eq!(rows[0]["row"], 3);
    assert_eq!(rows[0]["reason"], "unknown_trunk");
    assert_eq!(rows[1]["reason"], "needs_country");
    assert_eq!(rows[1]["rule"], "R-NUM-2");
    let id = plan["id"].as_str().must("id").to_string();
    let url = plan["rejected_rows_url"].as_str().must("url").to_string();

    // The rejected rows, as the uploaded CSV with a reason column.
    let file = app.get_as(t, &url).await.expect(200);
    assert!(
        file.header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv"),
        "{:?}",
        file.header("content-type")
    );
    assert!(
        file.header("content-disposition")
            .unwrap_or_default()
            .contains("batch-rejected.csv")
    );
    let text = file.text();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Phone Number;SIP Trunk;Billing Reference;reason")
    );
    let bad_trunk = lines.next().must("row");
    assert!(
        bad_trunk.starts_with("+14155550602;no-such-trunk;B-2;\"unknown_trunk: SIP Trunk: "),
        "{bad_trunk}"
    );
    let national = lines.next().must("row");
    assert!(
        national.starts_with("4155550603;;B-3;\"needs_country: "),
        "{national}"
    );
    // Nothing is written until apply.
    app.get_as(t, "/v2/phone/numbers/%2B14155550601")
        .await
        .expect_error(404, "not_found");
    let queued = app
        .post(&format!("/v2/imports/{id}/apply"))
        .bearer(t)
        .send()
        .await
        .expect(202)
        .json();
    assert_eq!(queued["status"], "applying", "{queued}");
    let job = queued["job"]["id"].as_str().must("job id").to_string();
    let applied = until_finished(app, t, &id).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(applied["job"]["id"], job.as_str());
    assert_eq!(applied["job"]["state"], "done", "{applied}");
    assert_eq!(applied["job"]["progress"]["phase"], "finished");
    assert_eq!(applied["job"]["progress"]["total"], 3, "{applied}");
    assert_eq!(applied["job"]["progress"]["planned"], 3);
    assert_eq!(applied["job"]["progress"]["written"], 1);
    app.get_as(t, "/v2/phone/numbers/%2B14155550601")
        .await
        .expect(200);
    // Apply again: 200, the same state and job.
    let again = app
        .post(&format!("/v2/imports/{id}/apply"))
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(again["job"]["id"], job.as_str());

    // The fixed file goes back as it is, reason column and all.
    let fixed = text
        .replace("no-such-trunk", "trunk-prime")
        .replace("4155550603;", "+14155550603;");
    let again = upload(app, t, "action=add", "text/csv", fixed.into_bytes())
        .await
        .expect(201)
        .json();
    assert_eq!(again["counts"]["creates"], 2, "{again}");
    assert_eq!(again["counts"]["rejected"], 0);
    assert!(again["rejected_rows_url"].is_null());

    // The list has both, newest first; another tenant sees neither.
    let list = app.get_as(t, "/v2/imports").await.expect(200).json();
    assert_eq!(list["imports"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["imports"][1]["id"], id.as_str());
    let other = &w.tenant_client.token;
    app.get_as(other, &format!("/v2/imports/{id}"))
        .await
        .expect_error(404, "not_found");
    app.get_as(other, &url).await.expect_error(404, "not_found");
    app.post(&format!("/v2/imports/{id}/apply"))
        .bearer(other)
        .send()
        .await
        .expect_error(404, "not_found");
    let empty = app.get_as(other, "/v2/imports").await.expect(200).json();
    assert_eq!(empty["imports"].as_array().map(Vec::len), Some(0));
}

/// Seed 003's form as query parameters: the numbers go to the target with the form's carrier;
/// a bad target id or a carrier that is not the provider's is a 400 before anything is kept.
async fn seed_003_form_in_the_query(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    // Not the provider's default voice carrier: the form's choice is what puts it on the number.
    let second = crate::common::fixture::carrier(
        &w.app.store,
        &w.provider,
        "voice",
        "Carrier Second",
        false,
    )
    .await;
    let file = "Country Code,Phone Number,Voice,SMS,Fax\n1,4155550611,TRUE,FALSE,FALSE\n";
    let q = format!(
        "action=add&voice_carrier=%20{}%20&target={}",
        "Carrier%20Second", w.reseller.id
    );
    let plan = upload(app, t, &q, "text/csv", file.into())
        .await
        .expect(201)
        .json();
    assert_eq!(plan["counts"]["creates"], 1, "{plan}");
    let id = plan["id"].as_str().must("id").to_string();
    app.post(&format!("/v2/imports/{id}/apply"))
        .bearer(t)
        .send()
        .await
        .expect(202);
    assert_eq!(until_finished(app, t, &id).await["status"], "applied");
    let n = app
        .get_as(t, "/v2/phone/numbers/%2B14155550611")
        .await
        .expect(200)
        .json();
    assert_eq!(n["voice_carrier_id"], second.to_string(), "{n}");
    assert_eq!(n["holder_id"], w.reseller.id.to_string(), "{n}");
    for q in [
        "action=add&target=not-an-id",
        "action=add&voice_carrier=Nobody",
        "action=add&sms_carrier=Carrier%20Prime",
        "action=delete&voice_carrier=Carrier%20Prime",
    ] {
        upload(app, t, q, "text/csv", file.into())
            .await
            .expect_error(400, "invalid_input");
    }
}

async fn samples_xlsx_and_refusals(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    // The sample of each action, in each format, reads back as a valid file of its action.
    for action in ["add", "update", "delete"] {
        let csv = app
            .get_as(t, &format!("/v2/imports/samples/{action}"))
            .await
            .expect(200);
        assert!(csv.text().contains("Phone Number"), "{}", csv.text());
        let xlsx = app
            .get_as(t, &format!("/v2/imports/samples/{action}?format=xlsx"))
            .await
            .expect(200);
        assert_eq!(xlsx.header("content-type").as_deref(), Some(XLSX));
        assert!(xlsx.body.starts_with(b"PK"), "a zip archive");
    }
    // The Add sample, uploaded as it is, plans its one row.
    let sample = app
        .get_as(t, "/v2/imports/samples/add?format=xlsx")
        .await
        .expect(200)
        .body
        .to_vec();
    let plan = upload(app, t, "action=add&file_name=sample.xlsx", XLSX, sample)
        .await
        .expect(201)
        .json();
    assert_eq!(plan["format"], "xlsx");
    assert_eq!(plan["counts"]["creates"], 1, "{plan}");

    for (query, body, code) in [
        (
            "action=add",
            "Phone Number,Colour\n+14155550701,red\n",
            "unknown_column",
        ),
        ("action=add", "City\nParis\n", "missing_column"),
        ("action=add", "", "empty_file"),
        (
            "action=add",
            "Phone Number,Phone\n+1,+1\n",
            "duplicate_column",
        ),
    ] {
        upload(app, t, query, "text/csv", body.into())
            .await
            .expect_error(422, code);
    }
    upload(
        app,
        t,
        "action=add",
        "text/csv",
        b"Phone\n+1\xFF\n".to_vec(),
    )
    .await
    .expect_error(422, "unreadable_file");
    upload(app, t, "action=fly", "text/csv", b"Phone\n".to_vec())
        .await
        .expect_error(400, "invalid_input");
    upload(
        app,
        t,
        "action=add&default_country=XX",
        "text/csv",
        b"Phone\n1\n".to_vec(),
    )
    .await
    .expect_error(400, "invalid_input");
    // 10,000 rows is one too many (R-IMP-1).
    let mut big = String::from("Phone Number\n");
    for i in 0..10_000 {
        big.push_str(&format!("+1415556{i:04}\n"));
    }
    let r = upload(app, t, "action=add", "text/csv", big.into_bytes())
        .await
        .expect_error(422, "too_many_rows");
    assert_eq!(r.json()["rule"], "R-IMP-1");
    // A read-only token cannot upload.
    let ro = app
        .client(&w.provider, Some("phone_number:read:admin"))
        .await;
    upload(
        app,
        &ro.token,
        "action=add",
        "text/csv",
        b"Phone\n+14155550702\n".to_vec(),
    )
    .await
    .expect_error(403, "insufficient_scope");
}

backend_tests!(
    upload_fix_and_apply,
    stale_plan_fails_its_job,
    seed_003_form_in_the_query,
    samples_xlsx_and_refusals
);
