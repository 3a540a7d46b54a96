//! A number's life through HTTP (add, allocate, assign, unassign, release, unbind, delete) with
//! its history, the inventory counts as each viewer sees them, and the audit log.

use std::collections::{BTreeMap, BTreeSet};

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::{Value, json};

use crate::harness::*;
use crate::http::form_encode;

fn actions(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["action"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// An event's `at` (RFC 3339) in nanoseconds since the epoch.
#[track_caller]
fn at(e: &Value) -> i128 {
    let s = e["at"].as_str().must("at");
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|err| panic!("at {s:?} is not RFC 3339: {err}"))
        .unix_timestamp_nanos()
}

async fn a_number_lives_through_http(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let p = &w.provider_client.token;
    let c = &w.customer_client.token;
    let n = e164(500);
    let multiple = json!({"capacity": "multiple", "voice_direction": "both", "messaging": "none",
                          "outbound_dialer": false, "outbound_cli_shared": false});

    // Add.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(p)
        .json(&json!({"phone_number": n.as_str(), "customization": multiple}))
        .send()
        .await
        .expect(201);
    assert!(r.header("etag").is_some());
    let added = r.json();
    assert_eq!(added["position"], "free");
    assert_eq!(added["holder_id"], w.provider.id.to_string());
    let id = added["id"].as_str().must("id").to_string();
    let by_id = format!("/v2/phone/numbers/{id}");
    let by_e164 = format!("/v2/phone/numbers/{}", enc(n.as_str()));
    // `{numberId}` is the id or the E.164 form (encoded or with a literal `+`).
    let raw_plus = format!("/v2/phone/numbers/{}", n.as_str());
    for path in [&by_id, &by_e164, &raw_plus] {
        let v = app.get(path).bearer(p).send().await.expect(200).json();
        assert_eq!(v["id"], id.as_str(), "{path}");
        assert_eq!(v["phone_number"], n.as_str(), "{path}");
    }

    // Allocate to the customer (by E.164 path).
    let v = app
        .post(&format!("{by_e164}/allocate"))
        .bearer(p)
        .json(
            &json!({"account_id": w.customer.id, "sip_trunk_id": w.trunk,
                      "billing_reference": "B-500"}),
        )
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "in_use", "the provider sees it in use: {v}");
    assert_eq!(v["customer_id"], w.customer.id.to_string());
    assert_eq!(v["sip_trunk_id"], w.trunk.to_string());
    let v = app.get(&by_id).bearer(c).send().await.expect(200).json();
    assert_eq!(
        v["position"], "unassigned",
        "the customer sees it unassigned"
    );

    // Assign twice (capacity multiple), as the customer.
    for (kind, who) in [("user", "u-1"), ("call_queue", "q-1")] {
        app.post(&format!("{by_id}/assign"))
            .bearer(c)
            .json(&json!({"assignee_type": kind, "assignee_id": who, "display_name": who}))
            .send()
            .await
            .expect(200);
    }
    let v = app.get(&by_id).bearer(c).send().await.expect(200).json();
    assert_eq!(v["position"], "assigned");
    assert_eq!(v["assignees"].as_array().map(Vec::len), Some(2), "{v}");
    let v = app.get(&by_id).bearer(p).send().await.expect(200).json();
    assert_eq!(v["position"], "in_use", "still in use for the provider");
    // Several assignees: which one must be said.
    let r = app
        .delete_as(c, &format!("{by_id}/assign"))
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("assignee_id"), "{}", r.text());
    // Unassign: the query form, then the body form.
    let v = app
        .delete_as(c, &format!("{by_id}/assign?assignee_id=u-1"))
        .await
        .expect(200)
        .json();
    assert_eq!(v["assignees"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["assignees"][0]["assignee_id"], "q-1", "{v}");
    app.delete(&format!("{by_id}/assign"))
        .bearer(c)
        .json(&json!({"assignee_id": "nobody"}))
        .send()
        .await
        .expect_error(404, "not_found");
    let v = app
        .delete(&format!("{by_e164}/assign"))
        .bearer(c)
        .json(&json!({"assignee_id": "q-1"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "unassigned", "{v}");
    assert_eq!(v["assignees"], json!([]));
    let r = app
        .delete_as(c, &format!("{by_id}/assign"))
        .await
        .expect_error(422, "rule_violation");
    assert_eq!(r.json()["rule"], "R-MOVE-2", "{}", r.text());

    // The customer's history starts with the allocation into its branch.
    let h = app
        .get_as(c, &format!("{by_id}/history"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        actions(&h),
        [
            "number.allocate",
            "number.assign",
            "number.assign",
            "number.unassign",
            "number.unassign"
        ],
        "{h}"
    );

    // Release as the customer: back in the provider's pool, returned; the customer loses it.
    let v = app
        .post(&format!("{by_id}/release"))
        .bearer(c)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(v["holder_id"], w.provider.id.to_string(), "{v}");
    app.get_as(c, &by_id).await.expect_error(404, "not_found");
    let v = app.get(&by_id).bearer(p).send().await.expect(200).json();
    assert_eq!(v["position"], "returned");
    assert_eq!(v["billing_reference"], "B-500", "kept until unbind");

    // Unbind: free, trunk and billing cleared.
    let v = app
        .post(&format!("{by_id}/unbind"))
        .bearer(p)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(v["position"], "free");
    assert_eq!(v["sip_trunk_id"], json!(null));
    assert_eq!(v["billing_reference"], json!(null));

    // History: every move, oldest first, through the API by the two clients.
    let h = app
        .get_as(p, &format!("{by_e164}/history"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        actions(&h),
        [
            "number.add",
            "number.allocate",
            "number.assign",
            "number.assign",
            "number.unassign",
            "number.unassign",
            "number.release",
            "number.unbind"
        ],
        "{h}"
    );
    for e in h["events"].as_array().must("events") {
        assert_eq!(e["channel"], "api", "{e}");
        assert_eq!(e["actor_type"], "client", "{e}");
        assert!(
            e["actor_id"] == w.provider_client.id.as_str()
                || e["actor_id"] == w.customer_client.id.as_str(),
            "{e}"
        );
    }
    let ats: Vec<i128> = h["events"]
        .as_array()
        .must("events")
        .iter()
        .map(at)
        .collect();
    assert!(ats.windows(2).all(|p| p[0] <= p[1]), "oldest first: {h}");

    // Delete: gone, by id and by E.164, history too.
    app.delete(&by_e164).bearer(p).send().await.expect(204);
    for path in [&by_id, &by_e164, &format!("{by_id}/history")] {
        app.get_as(p, path).await.expect_error(404, "not_found");
    }
    // It may be added again.
    app.post("/v2/phone/numbers")
        .bearer(p)
        .json(&json!({"phone_number": n.as_str()}))
        .send()
        .await
        .expect(201);
}

/// Counts per dimension add up to the total and agree with the list, position as each viewer
/// sees it.
async fn inventory_counts_add_up_per_viewer(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    app.post("/v2/phone/numbers")
        .bearer(&w.provider_client.token)
        .json(&json!({"numbers": [
            {"phone_number": "+18005550100", "status": "pending"},
            {"phone_number": "+442071838750", "product": "phone"}]}))
        .send()
        .await
        .expect(201);
    for (viewer, token) in [
        ("provider", &w.provider_client.token),
        ("customer", &w.customer_client.token),
        ("tenant", &w.tenant_client.token),
    ] {
        let inv = app
            .get_as(token, "/v2/phone/inventory")
            .await
            .expect(200)
            .json();
        let seed = app
            .get_as(token, "/v2/phone/numbers/inventory")
            .await
            .expect(200)
            .json();
        assert_eq!(inv, seed, "{viewer}: both paths answer the same");
        let all = app.list_all(token, "/v2/phone/numbers", "").await;
        let total = inv["total"].as_i64().must("total");
        assert_eq!(total, all.len() as i64, "{viewer}: total = listed");
        for (dim, field) in [
            ("by_position", "position"),
            ("by_status", "status"),
            ("by_product", "product"),
            ("by_type", "type"),
            ("by_country", "country"),
        ] {
            let counts: BTreeMap<String, i64> =
                serde_json::from_value(inv[dim].clone()).must("a map of counts");
            assert_eq!(
                counts.values().sum::<i64>(),
                total,
                "{viewer}: {dim} adds up to the total: {inv}"
            );
            let mut from_list: BTreeMap<String, i64> = BTreeMap::new();
            for n in &all {
                *from_list
                    .entry(n[field].as_str().unwrap_or_default().to_string())
                    .or_default() += 1;
            }
            let nonzero: BTreeMap<String, i64> =
                counts.into_iter().filter(|(_, v)| *v != 0).collect();
            assert_eq!(nonzero, from_list, "{viewer}: {dim} agrees with the list");
        }
        let pos = &inv["by_position"];
        match viewer {
            "provider" => {
                assert_eq!(pos["free"], 3, "{viewer}: {inv}");
                assert_eq!(pos["returned"], 1, "{viewer}: {inv}");
                assert_eq!(pos["in_use"], 6, "{viewer}: {inv}");
            }
            "customer" => {
                assert_eq!(pos["assigned"], 1, "{viewer}: {inv}");
                assert_eq!(pos["unassigned"], 2, "{viewer}: {inv}");
                assert!(pos["in_use"].as_i64().unwrap_or(0) == 0, "{viewer}: {inv}");
            }
            _ => assert_eq!(total, 2, "{viewer}: {inv}"),
        }
    }
    // Filters: by customer, by country.
    let inv = app
        .get(&format!(
            "/v2/phone/inventory?customer_id={}",
            w.customer.id
        ))
        .bearer(&w.provider_client.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(inv["total"], 3, "{inv}");
    let inv = app
        .get_as(&w.provider_client.token, "/v2/phone/inventory?country=GB")
        .await
        .expect(200)
        .json();
    assert_eq!(inv["total"], 1, "{inv}");
    app.get_as(&w.provider_client.token, "/v2/phone/inventory?country=XX")
        .await
        .expect_error(400, "invalid_input");
}

async fn audit_is_newest_first_paged_filtered_and_scoped(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let p = &w.provider_client.token;
    // Some API activity of the provider and the customer.
    app.post(&format!("/v2/phone/numbers/{}/allocate", w.free.id))
        .bearer(p)
        .json(&json!({"account_id": w.customer.id, "sip_trunk_id": w.trunk}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/v2/phone/numbers/{}/assign", w.held.id))
        .bearer(&w.customer_client.token)
        .json(&json!({"assignee_type": "user", "assignee_id": "u-audit"}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/v2/phone/numbers/{}/unbind", w.returned.id))
        .bearer(p)
        .send()
        .await
        .expect(200);

    // Walk in pages of 3: newest first, each once, totals right.
    let mut events: Vec<Value> = Vec::new();
    let mut next = String::new();
    let mut total = None;
    for _ in 0..100 {
        let mut url = "/v2/audit?page_size=3".to_string();
        if !next.is_empty() {
            url.push_str(&format!("&next_page_token={}", form_encode(&next)));
        }
        let page = app.get(&url).bearer(p).send().await.expect(200).json();
        let t = page["total_records"].as_i64().must("total");
        assert!(total.is_none_or(|x| x == t));
        total = Some(t);
        events.extend(page["events"].as_array().must("events").iter().cloned());
        next = page["next_page_token"].as_str().must("token").to_string();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(Some(events.len() as i64), total, "pages add up");
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "no event twice"
    );
    let mut desc = ids.clone();
    desc.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, desc, "newest first");
    let ats: Vec<i128> = events.iter().map(at).collect();
    assert!(
        ats.windows(2).all(|p| p[0] >= p[1]),
        "newest first: {ats:?}"
    );
    assert_eq!(events[0]["action"], "number.unbind", "{}", events[0]);
    // The customer's assignment is in its provider's log (its subtree).
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "number.assign"
                && e["actor_id"] == w.customer_client.id.as_str()),
        "the customer's event is in the provider's log"
    );

    // Filtered by action, entity.
    let page = app
        .get_as(p, "/v2/audit?action=number.allocate&page_size=300")
        .await
        .expect(200)
        .json();
    let allocs = page["events"].as_array().must("events");
    assert!(!allocs.is_empty());
    assert!(allocs.iter().all(|e| e["action"] == "number.allocate"));
    let expected = events
        .iter()
        .filter(|e| e["action"] == "number.allocate")
        .count();
    assert_eq!(allocs.len(), expected);
    assert_eq!(page["total_records"], expected as i64);
    let page = app
        .get_as(p, &format!("/v2/audit?entity_id={}", w.held.id))
        .await
        .expect(200)
        .json();
    assert!(
        page["events"]
            .as_array()
            .must("events")
            .iter()
            .all(|e| e["entity_id"] == w.held.id.to_string()),
        "{page}"
    );
    assert!(page["total_records"].as_i64().unwrap_or(0) >= 2, "{page}");
    // Time filters.
    let r = app
        .get_as(p, "/v2/audit?since=2999-01-01T00:00:00Z")
        .await
        .expect(200)
        .json();
    assert_eq!(r["total_records"], 0, "{r}");
    let r = app
        .get_as(p, "/v2/audit?until=2999-01-01T00:00:00Z")
        .await
        .expect(200)
        .json();
    assert_eq!(r["total_records"], json!(total.unwrap_or(0)), "{r}");
    let r = app
        .get_as(p, "/v2/audit?since=yesterday")
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("since"), "{}", r.text());

    // The customer's log has its own events only; the tenant's none of the provider's.
    let cust = app
        .get_as(&w.customer_client.token, "/v2/audit?page_size=300")
        .await
        .expect(200)
        .json();
    for e in cust["events"].as_array().must("events") {
        assert_ne!(e["actor_id"], w.provider_client.id.as_str(), "{e}");
        assert_ne!(
            e["actor_account_id"],
            w.provider.id.to_string(),
            "the customer sees its provider's event: {e}"
        );
    }
    let tenant = app
        .get_as(&w.tenant_client.token, "/v2/audit?page_size=300")
        .await
        .expect(200);
    assert_no_leak(&tenant.what, &tenant.text(), &w.provider_secrets(&[]));
    // The connected root customer's own actions are not the provider's to read.
    let root = app.client(&w.root_customer, None).await;
    app.post("/v2/phone/numbers")
        .bearer(&root.token)
        .json(&json!({"phone_number": e164(510).as_str()}))
        .send()
        .await
        .expect(201);
    let after = app.get_as(p, "/v2/audit?page_size=300").await.expect(200);
    assert!(
        !after.text().contains(&root.id) && !after.text().contains(e164(510).as_str()),
        "the provider reads its connected customer's own actions: {}",
        after.text()
    );
}

/// Eight allocations of one free number at once, to different accounts: exactly one wins, the
/// others are 409 `conflict` (R-ALLOC-1), and the number moved once.
async fn concurrent_allocations_one_wins(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let path = format!("/v2/phone/numbers/{}/allocate", w.free.id);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let target = if i % 2 == 0 {
            json!({"account_id": w.customer.id, "sip_trunk_id": w.trunk})
        } else {
            json!({"account_id": w.reseller.id})
        };
        let req = app
            .post(&path)
            .bearer(&w.provider_client.token)
            .json(&target);
        tasks.push(tokio::spawn(req.send()));
    }
    let mut won = Vec::new();
    for t in tasks {
        let r = t.await.must("task");
        match r.status {
            200 => won.push(r.json()),
            409 => {
                assert_eq!(r.code(), "conflict", "{}", r.text());
                assert_eq!(r.json()["rule"], "R-ALLOC-1", "{}", r.text());
            }
            s => panic!("an allocation answered {s}: {}", r.text()),
        }
    }
    assert_eq!(won.len(), 1, "exactly one allocation wins: {won:?}");
    let now = app
        .get_as(
            &w.provider_client.token,
            &format!("/v2/phone/numbers/{}", w.free.id),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        now["version"],
        json!(w.free.version + 1),
        "moved once: {now}"
    );
    assert_eq!(now["holder_id"], won[0]["holder_id"]);
    let h = app
        .get_as(
            &w.provider_client.token,
            &format!("/v2/phone/numbers/{}/history", w.free.id),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(actions(&h), ["number.add", "number.allocate"], "{h}");
}

backend_tests!(
    concurrent_allocations_one_wins,
    a_number_lives_through_http,
    inventory_counts_add_up_per_viewer,
    audit_is_newest_first_paged_filtered_and_scoped,
);
