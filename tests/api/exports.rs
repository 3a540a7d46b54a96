//! `/v2/exports`, `/v2/export_schedules` and `/v2/notifications` over HTTP: an export is
//! asked for (202), made by the server's job, announced by a notification, and downloaded as
//! CSV and XLSX; the notification is marked read per client; schedules are made, listed and
//! deleted; another tenant finds none of it.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;

/// The export `id` once its job has finished (polled every 20 ms, for at most 30 s).
async fn until_made(app: &App, token: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let v = app
            .get_as(token, &format!("/v2/exports/{id}"))
            .await
            .expect(200)
            .json();
        if !matches!(v["status"].as_str(), Some("queued" | "running")) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the export was not made in 30 s: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn export_notify_download(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let queued = app
        .post("/v2/exports")
        .bearer(t)
        .json(&json!({"kind": "list"}))
        .send()
        .await
        .expect(202)
        .json();
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(queued["format"], "csv");
    assert!(queued["job"]["id"].is_string(), "{queued}");
    let id = queued["id"].as_str().must("id").to_string();
    let ready = until_made(app, t, &id).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let rows = ready["rows"].as_i64().must("rows");
    assert!(rows >= 5, "the provider sees its numbers: {ready}");
    assert!(ready["expires_at"].is_string());
    let url = ready["file_url"].as_str().must("file_url").to_string();

    let file = app.get_as(t, &url).await.expect(200);
    assert!(
        file.header("content-disposition")
            .unwrap_or_default()
            .contains(".csv"),
        "{:?}",
        file.header("content-disposition")
    );
    assert_eq!(
        file.header("content-length").map(|l| l.parse::<i64>().ok()),
        Some(ready["bytes"].as_i64())
    );
    let text = file.text();
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    assert_eq!(
        lines.len() as i64,
        rows + 1,
        "a header and one line per number"
    );
    assert!(text.contains(w.free.phone_number.as_str()), "{text}");
    assert!(
        !text.contains(w.tenant_free.phone_number.as_str()),
        "only what the provider sees"
    );

    // The notification: unread, about this export; marked read by this client only.
    let notes = app.get_as(t, "/v2/notifications").await.expect(200).json();
    assert_eq!(notes["unread"], 1, "{notes}");
    let note = &notes["notifications"][0];
    assert_eq!(note["kind"], "export_ready");
    assert_eq!(note["subject_id"], id.as_str());
    assert_eq!(note["read"], false);
    assert!(
        note["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("{rows} numbers")),
        "{note}"
    );
    let note_id = note["id"].as_str().must("note id").to_string();
    let other = app.client(&w.provider, None).await;
    app.post(&format!("/v2/notifications/{note_id}/read"))
        .bearer(t)
        .send()
        .await
        .expect(204);
    let mine = app
        .get_as(t, "/v2/notifications?unread_only=true")
        .await
        .expect(200)
        .json();
    assert_eq!(mine["unread"], 0, "{mine}");
    assert_eq!(mine["notifications"].as_array().map(Vec::len), Some(0));
    let theirs = app
        .get_as(&other.token, "/v2/notifications")
        .await
        .expect(200)
        .json();
    assert_eq!(theirs["unread"], 1, "read marks are per client: {theirs}");
    app.post("/v2/notifications/read")
        .bearer(&other.token)
        .send()
        .await
        .expect(204);
    let theirs = app
        .get_as(&other.token, "/v2/notifications")
        .await
        .expect(200)
        .json();
    assert_eq!(theirs["unread"], 0);
    assert_eq!(theirs["notifications"][0]["read"], true);

    // XLSX: a zip holding the worksheet.
    let x = app
        .post("/v2/exports")
        .bearer(t)
        .json(&json!({"kind": "consolidated", "format": "xlsx"}))
        .send()
        .await
        .expect(202)
        .json();
    let x = until_made(app, t, x["id"].as_str().must("id")).await;
    assert_eq!(x["status"], "ready", "{x}");
    let file = app
        .get_as(t, x["file_url"].as_str().must("url"))
        .await
        .expect(200);
    assert!(file.body.starts_with(b"PK"), "an XLSX is a zip");
    assert!(
        file.header("content-type")
            .unwrap_or_default()
            .contains("spreadsheetml"),
    );

    // The list, newest first; refusals.
    let list = app.get_as(t, "/v2/exports").await.expect(200).json();
    assert_eq!(list["exports"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["exports"][1]["id"], id.as_str());
    app.post("/v2/exports")
        .bearer(t)
        .json(&json!({"kind": "everything"}))
        .send()
        .await
        .expect_error(400, "invalid_input");

    // Another tenant: nothing of it.
    let o = &w.tenant_client.token;
    app.get_as(o, &format!("/v2/exports/{id}"))
        .await
        .expect_error(404, "not_found");
    app.get_as(o, &url).await.expect_error(404, "not_found");
    app.post(&format!("/v2/notifications/{note_id}/read"))
        .bearer(o)
        .send()
        .await
        .expect_error(404, "not_found");
    let none = app.get_as(o, "/v2/notifications").await.expect(200).json();
    assert_eq!(none["notifications"].as_array().map(Vec::len), Some(0));
    assert_eq!(none["unread"], 0);
}

async fn schedules(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let s = app
        .post("/v2/export_schedules")
        .bearer(t)
        .json(&json!({"kind": "update_template", "format": "xlsx", "cadence": "weekly"}))
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(s["cadence"], "weekly");
    assert!(s["next_run_at"].is_string());
    let id = s["id"].as_str().must("id").to_string();
    let list = app
        .get_as(t, "/v2/export_schedules")
        .await
        .expect(200)
        .json();
    assert_eq!(list["schedules"][0]["id"], id.as_str());
    app.post("/v2/export_schedules")
        .bearer(t)
        .json(&json!({"kind": "list", "cadence": "hourly"}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    app.delete(&format!("/v2/export_schedules/{id}"))
        .bearer(&w.tenant_client.token)
        .send()
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/v2/export_schedules/{id}"))
        .bearer(t)
        .send()
        .await
        .expect(204);
    app.delete(&format!("/v2/export_schedules/{id}"))
        .bearer(t)
        .send()
        .await
        .expect_error(404, "not_found");
}

backend_tests!(export_notify_download, schedules);
