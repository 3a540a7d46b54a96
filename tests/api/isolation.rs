//! Tenant isolation (R-SEC-1) over HTTP: an unrelated tenant calls every operation of
//! `/openapi.json` with the provider's ids, E.164 numbers, accounts and clients, and finds
//! nothing and changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use numberpool::service::Actor;
use numberpool_domain::Number;
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditFilter, NumberLookup, backend_tests};
use serde_json::{Value, json};

use crate::harness::*;
use crate::http::query;
use crate::synth::{Fill, operations, synthesize};

/// Everything of the provider's side that a tenant's call could change, read unscoped.
#[derive(Debug, PartialEq)]
struct ProviderState {
    numbers: Vec<Option<Number>>,
    accounts: Vec<String>,
    clients: Vec<String>,
    audit_totals: Vec<i64>,
    /// Each of the provider's imports' id, status and version.
    imports: Vec<String>,
    /// The provider's exports, schedules and notifications (with the operator's read marks).
    exports: Vec<String>,
    /// The provider's number blocks with their counts.
    blocks: Vec<String>,
    /// The provider's reservations.
    reservations: Vec<String>,
    /// The provider's porting orders.
    port_orders: Vec<String>,
    /// The provider's webhooks and their deliveries, and its pool thresholds.
    webhooks: Vec<String>,
}

async fn provider_state(w: &World) -> ProviderState {
    let mut numbers = Vec::new();
    {
        let mut r = w.app.store.read().await.must("read");
        for n in w.provider_numbers() {
            numbers.push(r.get_number(&NumberLookup::Id(n.id)).await.must("get"));
        }
    }
    let s = &w.app.service;
    let mut accounts = Vec::new();
    let mut clients = Vec::new();
    let mut audit_totals = Vec::new();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut blocks = Vec::new();
    let mut reservations = Vec::new();
    let mut port_orders = Vec::new();
    let mut webhooks = Vec::new();
    for a in w.provider_accounts() {
        let actor = Actor::cli(a.id);
        // The provider's imports (a sweeping customer's own uploads are its own).
        if a.id == w.provider.id {
            for i in s.list_imports(&actor, 200).await.must("imports") {
                imports.push(format!("{} {} {}", i.id, i.status, i.version));
            }
            for e in s.list_exports(&actor, 200).await.must("exports") {
                exports.push(format!("export {} {}", e.record.id, e.record.status));
            }
            for x in s.list_export_schedules(&actor).await.must("schedules") {
                exports.push(format!("schedule {} {}", x.id, x.next_run_at));
            }
            for n in s.list_notifications(&actor, false, 200).await.must("notes") {
                exports.push(format!("note {} {:?}", n.id, n.read_at));
            }
            for b in s.list_blocks(&actor).await.must("blocks") {
                blocks.push(serde_json::to_string(&b).must("block JSON"));
            }
            for o in s.list_port_orders(&actor).await.must("porting orders") {
                port_orders.push(format!("{} {:?} {}", o.order_id, o.status, o.version));
            }
            for t in s.pool_forecast(&actor).await.must("forecast") {
                webhooks.push(format!("{:?}", t.threshold));
            }
            for h in s.list_webhooks(&actor).await.must("webhooks") {
                let ds = s
                    .list_deliveries(&actor, h.id, None, 100)
                    .await
                    .must("deliveries");
                webhooks.push(format!("{h:?} {ds:?}"));
            }
            for r in s.list_reservations(&actor).await.must("reservations") {
                // Without `seconds_left`, which the clock moves between the two reads.
                reservations.push(format!(
                    "{} {:?} {} {:?}",
                    r.id, r.status, r.version, r.phone_numbers
                ));
            }
        }
        for acc in s.list_accounts(&actor).await.must("accounts") {
            accounts.push(serde_json::to_string(&acc).must("account JSON"));
        }
        for c in s.list_clients(&actor).await.must("clients") {
            clients.push(format!("{}:{}", c.client_id, c.scopes.join(" ")));
        }
        let audit = s
            .audit_log(&actor, &AuditFilter::default(), None, 1)
            .await
            .must("audit");
        audit_totals.push(audit.total);
    }
    ProviderState {
        numbers,
        accounts,
        clients,
        audit_totals,
        imports,
        exports,
        blocks,
        reservations,
        port_orders,
        webhooks,
    }
}

/// What a sweep aims at: things the caller must not find, and the strings its answers must not
/// hold.
struct Targets<'a> {
    /// Who sweeps, for messages.
    who: &'static str,
    token: String,
    numbers: Vec<&'a Number>,
    accounts: Vec<&'a numberpool_domain::Account>,
    clients: Vec<&'a Client>,
    /// SIP trunks and carriers (ids).
    trunks: Vec<String>,
    carriers: Vec<String>,
    attributes: Vec<String>,
    rates: Vec<String>,
    imports: Vec<String>,
    exports: Vec<String>,
    schedules: Vec<String>,
    notifications: Vec<String>,
    blocks: Vec<String>,
    reservations: Vec<String>,
    port_orders: Vec<String>,
    attachments: Vec<String>,
    webhooks: Vec<String>,
    deliveries: Vec<String>,
    thresholds: Vec<String>,
    forbidden: Vec<String>,
}

impl Targets<'_> {
    /// The values a path parameter takes: the targets' ids, and numbers also by E.164. A
    /// parameter the sweep does not know is a failure, not a skip.
    fn path_values(&self, param: &str) -> Vec<String> {
        match param {
            "numberId" => self
                .numbers
                .iter()
                .flat_map(|n| [n.id.to_string(), enc(n.phone_number.as_str())])
                .collect(),
            "accountId" => self.accounts.iter().map(|a| a.id.to_string()).collect(),
            "clientId" => self.clients.iter().map(|c| c.id.clone()).collect(),
            "trunkId" => self.trunks.clone(),
            "carrierId" => self.carriers.clone(),
            "attributeId" => self.attributes.clone(),
            "rateId" => self.rates.clone(),
            "importId" => self.imports.clone(),
            "exportId" => self.exports.clone(),
            "scheduleId" => self.schedules.clone(),
            "notificationId" => self.notifications.clone(),
            "blockId" => self.blocks.clone(),
            "reservationId" => self.reservations.clone(),
            "orderId" => self.port_orders.clone(),
            "attachmentId" => self.attachments.clone(),
            "webhookId" => self.webhooks.clone(),
            "deliveryId" => self.deliveries.clone(),
            "thresholdId" => self.thresholds.clone(),
            other => panic!(
                "the isolation sweep has no values for the path parameter {{{other}}}: teach \
                 Targets::path_values() which ids it takes"
            ),
        }
    }
}

fn fill(w: &World, t: &Targets, account: &str, fresh: u32) -> Fill {
    Fill {
        account: account.to_string(),
        trunk: w.trunk.to_string(),
        client: t.clients[0].id.clone(),
        e164: tenant_e164(fresh).as_str().to_string(),
        other_id: uuid::Uuid::now_v7().to_string(),
        number: t.numbers[0].id.to_string(),
    }
}

/// A query value for `name`, pointing at the targets where the parameter names something.
fn query_value(doc: &Value, w: &World, t: &Targets, name: &str, schema: &Value) -> String {
    if name == "next_page_token" {
        // A well-formed keyset position at one of the targets.
        return URL_SAFE_NO_PAD.encode(format!("np1.{}", t.numbers[0].id));
    }
    match synthesize(
        doc,
        schema,
        name,
        &fill(w, t, &t.accounts[0].id.to_string(), 0),
    ) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Calls every operation of the document as `t.token`, aimed at the targets: 404 wherever a
/// path names one, no target's data in any answer. Returns the number of calls.
async fn sweep(w: &World, t: &Targets<'_>) -> usize {
    let app = &w.app;
    let who = t.who;
    let forbidden = &t.forbidden;
    let doc = app.openapi().await;
    let mut fresh = 500;
    let mut calls = 0;
    let ops = operations(&doc);
    for op in &ops {
        if op.scope().is_none() {
            assert_eq!(
                op.path,
                "/oauth/token",
                "{}: only the token endpoint is without an oauth2 scope",
                op.name()
            );
            continue;
        }
        let params = op.path_params();
        if op.path == "/v2/imports/samples/{action}" {
            // The same sample for everyone: no tenant's data in it.
            let r = app
                .get("/v2/imports/samples/add")
                .bearer(&t.token)
                .send()
                .await
                .expect(200);
            calls += 1;
            assert_no_leak(&r.what, &r.text(), forbidden);
            continue;
        }
        if op.path == "/v2/imports" && op.method == "post" {
            calls += upload_targets(w, t).await;
            continue;
        }
        if params.is_empty() {
            if let Some(schema) = op.json_body() {
                // The body is the only input: one call per target account it can name.
                for a in &t.accounts {
                    fresh += 1;
                    let f = fill(w, t, &a.id.to_string(), fresh);
                    let body = synthesize(&doc, &schema, "", &f);
                    let r = app
                        .req(op.http_method(), &op.path)
                        .bearer(&t.token)
                        .json(&body)
                        .send()
                        .await;
                    calls += 1;
                    let names_target = forbidden
                        .iter()
                        .any(|f| !f.is_empty() && body.to_string().contains(f.as_str()));
                    if names_target || !(200..300).contains(&r.status) {
                        assert!(
                            matches!(r.status, 400 | 404 | 422),
                            "{} as {who} with {body}: expected 404 (or 400/422), got {}: {}",
                            op.name(),
                            r.status,
                            r.text()
                        );
                        assert!(!r.code().is_empty(), "{}: an error code", r.what);
                    }
                    assert_no_leak(&format!("{} {body}", r.what), &r.text(), forbidden);
                }
            } else if op.method == "post" && op.path == "/v2/notifications/read" {
                // Marks the caller's own account's notifications read: none of the targets'
                // (the state compared after the sweep holds their read marks).
                app.post(&op.path).bearer(&t.token).send().await.expect(204);
                calls += 1;
            } else {
                assert_eq!(
                    op.method,
                    "get",
                    "{}: a write without a body or path parameter; teach the sweep",
                    op.name()
                );
                // A list: its answer holds none of the targets, with or without filters that
                // name them.
                let r = app.get(&op.path).bearer(&t.token).send().await.expect(200);
                calls += 1;
                assert_no_leak(&r.what, &r.text(), forbidden);
                for (name, schema) in op.query_params() {
                    let v = query_value(&doc, w, t, &name, &schema);
                    let path = format!("{}{}", op.path, query(&[(name.as_str(), v.as_str())]));
                    let r = app.get(&path).bearer(&t.token).send().await;
                    calls += 1;
                    assert!(
                        matches!(r.status, 200 | 400),
                        "{path} as {who}: expected 200 or 400, got {}: {}",
                        r.status,
                        r.text()
                    );
                    assert_no_leak(&r.what, &r.text(), forbidden);
                }
            }
            continue;
        }
        assert!(params.len() <= 4, "{}: too many path parameters", op.name());
        for param in &params {
            for value in t.path_values(param) {
                let path = op.path_with(&|name| {
                    if name == param {
                        value.clone()
                    } else {
                        t.path_values(name)[0].clone()
                    }
                });
                let mut req = app.req(op.http_method(), &path).bearer(&t.token);
                if let Some(schema) = op.json_body() {
                    fresh += 1;
                    let f = fill(w, t, &w.customer.id.to_string(), fresh);
                    req = req.json(&synthesize(&doc, &schema, "", &f));
                }
                let r = req.send().await;
                calls += 1;
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (404, "not_found"),
                    "{} as {who} ({}): expected 404 not_found, got {}: {}",
                    op.name(),
                    r.what,
                    r.status,
                    r.text()
                );
                assert_no_leak(&r.what, &r.text(), forbidden);
            }
        }
    }
    calls
}

/// The upload: files naming the targets' numbers, to add and to delete. Every row is refused
/// (already on the platform, not found) without naming whose the number is; nothing changes.
async fn upload_targets(w: &World, t: &Targets<'_>) -> usize {
    let sent: Vec<String> = t
        .numbers
        .iter()
        .map(|n| n.phone_number.as_str().to_string())
        .collect();
    let file = format!("Phone Number\n{}\n", sent.join("\n"));
    let mut calls = 0;
    // The numbers sent come back as sent; nothing else of the targets does.
    let others: Vec<String> = t
        .forbidden
        .iter()
        .filter(|f| !sent.iter().any(|s| s.contains(f.as_str())))
        .cloned()
        .collect();
    for (action, reason) in [("add", "already_exists"), ("delete", "not_found")] {
        let r = w
            .app
            .post(&format!("/v2/imports?action={action}"))
            .bearer(&t.token)
            .raw("text/csv", file.clone().into_bytes())
            .send()
            .await;
        calls += 1;
        if r.status == 422 {
            // An account that may not add numbers at all is refused whole (R-ACC-2).
            assert_eq!(
                (action, r.code().as_str()),
                ("add", "rule_violation"),
                "{}",
                r.text()
            );
            assert_no_leak(&r.what, &r.text(), &t.forbidden);
            continue;
        }
        let r = r.expect(201);
        let plan = r.json();
        assert_eq!(
            plan["counts"]["rejected"],
            sent.len(),
            "{action} as {}: {plan}",
            t.who
        );
        for row in plan["rows"].as_array().must("rows") {
            assert_eq!(row["reason"], reason, "{action} as {}: {row}", t.who);
        }
        assert_no_leak(&r.what, &r.text(), &others);
        // Applying it changes nothing of the targets' (the digest is over refused rows only).
        let id = plan["id"].as_str().must("id");
        w.app
            .post(&format!("/v2/imports/{id}/apply"))
            .bearer(&t.token)
            .send()
            .await
            .expect(202);
        let done = crate::imports::until_finished(&w.app, &t.token, id).await;
        assert_eq!(done["status"], "applied", "{done}");
        calls += 1;
    }
    calls
}

/// Every operation of the document, as the unrelated tenant, aimed at the provider's world.
async fn tenant_sweeps_every_operation(db: &TestDb) {
    let w = World::new(db).await;
    let reseller_client = w.app.client(&w.reseller, None).await;
    let clients = vec![&w.provider_client, &w.customer_client, &reseller_client];
    let import = w.provider_import().await;
    let (export, schedule, note) = w.provider_exports().await;
    let block = w.provider_block().await;
    let port_order = w.provider_port_order().await;
    let attachment = w.provider_port_attachment(&port_order).await;
    let reservation = w.provider_reservation(&w.customer).await;
    let (webhook, delivery) = w.provider_webhook().await;
    let threshold = w.provider_threshold().await;
    let before = provider_state(&w).await;
    let targets = Targets {
        who: "the unrelated tenant",
        token: w.tenant_client.token.clone(),
        numbers: w.provider_numbers(),
        accounts: w.provider_accounts(),
        forbidden: w.provider_secrets(&clients),
        clients: clients.clone(),
        trunks: vec![w.trunk.to_string()],
        carriers: vec![w.carrier.to_string()],
        attributes: vec![w.attribute.to_string()],
        rates: vec![w.rate.to_string()],
        imports: vec![import],
        exports: vec![export],
        schedules: vec![schedule],
        notifications: vec![note],
        blocks: vec![block.clone()],
        reservations: vec![reservation.clone()],
        port_orders: vec![port_order.clone()],
        attachments: vec![attachment.clone()],
        webhooks: vec![webhook.clone()],
        deliveries: vec![delivery.clone()],
        thresholds: vec![threshold.clone()],
    };
    let calls = sweep(&w, &targets).await;
    assert!(calls > 150, "the sweep made only {calls} calls");
    assert_eq!(
        before,
        provider_state(&w).await,
        "the tenant's calls changed the provider's world"
    );
    // The provider's credentials still work.
    for c in clients {
        w.app
            .get_as(&c.token, "/v2/phone/numbers")
            .await
            .expect(200);
    }
}

/// The same sweep one level down: the provider's customer, aimed at what is above and beside
/// it (the provider's pool, the reseller's branch, the connected root customer, their clients).
async fn customer_sweeps_every_operation(db: &TestDb) {
    let w = World::new(db).await;
    let reseller_client = w.app.client(&w.reseller, None).await;
    let root_client = w.app.client(&w.root_customer, None).await;
    let clients = vec![&w.provider_client, &reseller_client, &root_client];
    let import = w.provider_import().await;
    let (export, schedule, note) = w.provider_exports().await;
    let block = w.provider_block().await;
    let port_order = w.provider_port_order().await;
    let attachment = w.provider_port_attachment(&port_order).await;
    // Held for the connected root customer: not the sweeping customer's.
    let reservation = w.provider_reservation(&w.root_customer).await;
    let (webhook, delivery) = w.provider_webhook().await;
    let threshold = w.provider_threshold().await;
    let before = provider_state(&w).await;
    // Numbers the customer never held; `returned` it did hold (its own audit log keeps its
    // release), so that one is a path target only.
    let unseen = [
        &w.free,
        &w.at_reseller,
        &w.res_held,
        &w.connected,
        &w.root_own,
    ];
    let mut forbidden = Vec::new();
    for n in unseen {
        forbidden.push(n.id.to_string());
        forbidden.push(n.phone_number.as_str().to_string());
    }
    for a in [&w.reseller, &w.res_customer, &w.root_customer] {
        forbidden.push(a.id.to_string());
        forbidden.push(a.name.clone());
    }
    forbidden.push(w.provider.name.clone());
    for c in &clients {
        forbidden.push(c.id.clone());
        forbidden.push(c.secret.clone());
        forbidden.push(c.token.clone());
    }
    let mut numbers = unseen.to_vec();
    numbers.push(&w.returned);
    let targets = Targets {
        who: "the provider's customer",
        token: w.customer_client.token.clone(),
        numbers,
        accounts: vec![&w.provider, &w.reseller, &w.res_customer, &w.root_customer],
        clients: clients.clone(),
        // The provider's, which the customer's numbers ride on but which it does not manage
        // or read.
        trunks: vec![w.trunk.to_string()],
        carriers: vec![w.carrier.to_string()],
        attributes: vec![w.attribute.to_string()],
        rates: vec![w.rate.to_string()],
        imports: vec![import],
        exports: vec![export],
        schedules: vec![schedule],
        notifications: vec![note],
        blocks: vec![block.clone()],
        reservations: vec![reservation.clone()],
        port_orders: vec![port_order.clone()],
        attachments: vec![attachment.clone()],
        webhooks: vec![webhook.clone()],
        deliveries: vec![delivery.clone()],
        thresholds: vec![threshold.clone()],
        forbidden,
    };
    let calls = sweep(&w, &targets).await;
    assert!(calls > 150, "the sweep made only {calls} calls");
    assert_eq!(
        before,
        provider_state(&w).await,
        "the customer's calls changed what is above it"
    );
}

/// Hand-made attacks the sweep's synthesized bodies do not make: the tenant's own numbers
/// moved towards the provider's accounts and trunk, the provider's number uploaded again, raw
/// `+` and non-id path segments.
async fn tenant_cannot_reach_through_its_own_numbers(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.tenant_client.token;
    let forbidden = w.provider_secrets(&[]);
    let before = provider_state(&w).await;
    let own = format!("/v2/phone/numbers/{}", w.tenant_free.id);

    // Allocate its own free number to the provider's customer or reseller: no such account.
    for target in [&w.customer, &w.reseller, &w.root_customer] {
        let r = app
            .post(&format!("{own}/allocate"))
            .bearer(t)
            .json(&json!({"account_id": target.id, "sip_trunk_id": w.tenant_trunk}))
            .send()
            .await
            .expect_error(404, "not_found");
        assert_no_leak(&r.what, &r.text(), &forbidden);
    }
    // Its own number on the provider's trunk: no such trunk.
    for body in [
        json!({"sip_trunk_id": w.trunk}),
        json!({"sip_trunk_id": w.trunk, "billing_reference": "x"}),
    ] {
        let r = app
            .patch(&own)
            .bearer(t)
            .json(&body)
            .send()
            .await
            .expect_error(404, "not_found");
        assert_no_leak(&r.what, &r.text(), &forbidden);
    }
    let mine = app.get(&own).bearer(t).send().await.expect(200).json();
    assert_eq!(mine["version"], json!(w.tenant_free.version), "unchanged");
    // Accounts and clients below the provider's accounts: not found.
    for a in w.provider_accounts() {
        app.post("/v2/accounts")
            .bearer(t)
            .json(&json!({"name": "Intruder", "kind": "customer", "parent_id": a.id}))
            .send()
            .await
            .expect_error(404, "not_found");
        app.post("/v2/api_clients")
            .bearer(t)
            .json(&json!({"account_id": a.id}))
            .send()
            .await
            .expect_error(404, "not_found");
    }
    // Filters naming the provider's accounts find nothing.
    for q in [
        format!("customer_id={}", w.customer.id),
        format!("customer_id={}", w.root_customer.id),
        format!("prefix={}", enc("+1415")),
        "contains=4155550".to_string(),
    ] {
        for base in ["/v2/phone/numbers", "/v2/phone/numbers/unassigned"] {
            let r = app.get_as(t, &format!("{base}?{q}")).await.expect(200);
            assert_eq!(r.json()["total_records"], 0, "{}: {}", r.what, r.text());
            assert_no_leak(&r.what, &r.text(), &forbidden);
        }
    }
    let r = app
        .get(&format!(
            "/v2/phone/inventory?customer_id={}",
            w.customer.id
        ))
        .bearer(t)
        .send()
        .await
        .expect(200);
    assert_eq!(r.json()["total"], 0, "{}", r.text());
    // The provider's number by raw `+`, by digits only, by a near-miss id: not found.
    let e = w.held.phone_number.as_str();
    for seg in [
        e.to_string(),
        e.trim_start_matches('+').to_string(),
        format!("%2B{}", e.trim_start_matches('+')),
        "xyz".to_string(),
        "00000000-0000-0000-0000-000000000000".to_string(),
    ] {
        let r = app
            .get_as(t, &format!("/v2/phone/numbers/{seg}"))
            .await
            .expect_error(404, "not_found");
        assert_no_leak(&r.what, &r.text(), &forbidden);
    }
    // Uploading one of the provider's numbers again: R-NUM-1 is platform-wide, so this is the
    // one answer that differs from "absent" (409 instead of 201); it changes nothing.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .json(&json!({"phone_number": w.free.phone_number.as_str()}))
        .send()
        .await
        .expect_error(409, "number_already_exists");
    assert_eq!(r.json()["rule"], "R-NUM-1", "{}", r.text());
    assert_eq!(
        before,
        provider_state(&w).await,
        "the provider's world changed"
    );
}

/// The provider sees its whole branch and its connected customer's allocated number, but not
/// the connected customer's own number; the customer sees only its branch.
async fn each_account_sees_its_scope(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let ids = |v: &[Value]| -> std::collections::BTreeSet<String> {
        v.iter()
            .map(|n| n["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let set = |ns: &[&Number]| -> std::collections::BTreeSet<String> {
        ns.iter().map(|n| n.id.to_string()).collect()
    };
    let p = app
        .list_all(&w.provider_client.token, "/v2/phone/numbers", "")
        .await;
    assert_eq!(
        ids(&p),
        set(&[
            &w.free,
            &w.held,
            &w.assigned,
            &w.in_unit,
            &w.returned,
            &w.at_reseller,
            &w.res_held,
            &w.connected
        ]),
        "the provider's numbers"
    );
    let c = app
        .list_all(&w.customer_client.token, "/v2/phone/numbers", "")
        .await;
    assert_eq!(
        ids(&c),
        set(&[&w.held, &w.assigned, &w.in_unit]),
        "the customer's numbers"
    );
    let t = app
        .list_all(&w.tenant_client.token, "/v2/phone/numbers", "")
        .await;
    assert_eq!(
        ids(&t),
        set(&[&w.tenant_free, &w.tenant_held]),
        "the tenant's numbers"
    );
    // The customer cannot see its provider's pool either.
    for n in [&w.free, &w.returned, &w.at_reseller, &w.connected] {
        w.get_as(&w.customer_client.token, n)
            .await
            .expect_error(404, "not_found");
    }
    // Accounts: the provider's list has its branch and the connected customer, not the tenant.
    let accounts = app
        .get_as(&w.provider_client.token, "/v2/accounts?page_size=300")
        .await
        .expect(200)
        .json();
    let listed: std::collections::BTreeSet<String> = accounts["accounts"]
        .as_array()
        .must("accounts")
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: std::collections::BTreeSet<String> = w
        .provider_accounts()
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(listed, expected, "the provider's accounts");
    let tenant = app
        .get_as(&w.tenant_client.token, "/v2/accounts")
        .await
        .expect(200)
        .json();
    let listed: std::collections::BTreeSet<String> = tenant["accounts"]
        .as_array()
        .must("accounts")
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        [w.tenant.id.to_string(), w.tenant_customer.id.to_string()].into();
    assert_eq!(listed, expected, "the tenant's accounts");
    assert_eq!(tenant["total_records"], 2, "{tenant}");
    // Clients are managed in the own subtree only: the connected customer's are not the
    // provider's to rotate or delete.
    let root_client = app.client(&w.root_customer, None).await;
    app.post(&format!("/v2/api_clients/{}/rotate_secret", root_client.id))
        .bearer(&w.provider_client.token)
        .send()
        .await
        .expect_error(404, "not_found");
    app.delete_as(
        &w.provider_client.token,
        &format!("/v2/api_clients/{}", root_client.id),
    )
    .await
    .expect_error(404, "not_found");
    app.get_as(&root_client.token, "/v2/api_clients")
        .await
        .expect(200);
}

/// "A new account below the caller (or below `parent_id`, an account in the caller's
/// subtree)": a Provider Exchange connection lets the provider see the connected root
/// customer, not grow accounts inside its tree.
async fn connected_customers_tree_is_not_the_providers(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let r = app
        .post("/v2/accounts")
        .bearer(&w.provider_client.token)
        .json(&json!({"name": "Planted unit", "kind": "unit", "parent_id": w.root_customer.id}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "not_found"),
        "the provider created an account inside its connected root customer's tree: {}",
        r.text()
    );
}

backend_tests!(
    connected_customers_tree_is_not_the_providers,
    tenant_sweeps_every_operation,
    customer_sweeps_every_operation,
    tenant_cannot_reach_through_its_own_numbers,
    each_account_sees_its_scope,
);
