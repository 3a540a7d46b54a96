//! Scopes (SPEC §7): every operation of `/openapi.json` refuses a token without its scope with
//! 403 `insufficient_scope` naming the scope, before it looks at its input; no token or a bad
//! one is a 401 with `WWW-Authenticate`.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::Value;

use crate::harness::*;
use crate::synth::{Fill, Op, operations, synthesize};

/// The provider's import, export, schedule and notification.
struct Own {
    import: String,
    export: String,
    schedule: String,
    notification: String,
    block: String,
    reservation: String,
    port_order: String,
    attachment: String,
    webhook: String,
    delivery: String,
    threshold: String,
}

async fn own(w: &World) -> Own {
    let order = w.provider_port_order().await;
    let (export, schedule, notification) = w.provider_exports().await;
    let (webhook, delivery) = w.provider_webhook().await;
    Own {
        threshold: w.provider_threshold().await,
        webhook,
        delivery,
        import: w.provider_import().await,
        block: w.provider_block().await,
        port_order: order.clone(),
        attachment: w.provider_port_attachment(&order).await,
        reservation: w.provider_reservation(&w.customer).await,
        export,
        schedule,
        notification,
    }
}

/// A path of the provider's own world for `op` (a number, an account, a client it may manage).
fn own_path(w: &World, client_id: &str, own: &Own, op: &Op) -> String {
    op.path_with(&|name| match name {
        "importId" => own.import.clone(),
        "exportId" => own.export.clone(),
        "scheduleId" => own.schedule.clone(),
        "notificationId" => own.notification.clone(),
        "blockId" => own.block.clone(),
        "reservationId" => own.reservation.clone(),
        "orderId" => own.port_order.clone(),
        "attachmentId" => own.attachment.clone(),
        "webhookId" => own.webhook.clone(),
        "deliveryId" => own.delivery.clone(),
        "thresholdId" => own.threshold.clone(),
        "action" => "add".to_string(),
        "numberId" => w.free.id.to_string(),
        "accountId" => w.customer.id.to_string(),
        "clientId" => client_id.to_string(),
        "trunkId" => w.trunk.to_string(),
        "carrierId" => w.carrier.to_string(),
        "attributeId" => w.attribute.to_string(),
        "rateId" => w.rate.to_string(),
        other => panic!(
            "{}: the scope sweep has no value for {{{other}}}; teach own_path()",
            op.name()
        ),
    })
}

fn own_body(doc: &Value, w: &World, op: &Op) -> Option<Value> {
    let fill = Fill {
        account: w.customer.id.to_string(),
        trunk: w.trunk.to_string(),
        client: w.provider_client.id.clone(),
        e164: e164(900).as_str().to_string(),
        other_id: uuid::Uuid::now_v7().to_string(),
        number: w.free.id.to_string(),
    };
    op.json_body().map(|s| synthesize(doc, &s, "", &fill))
}

/// For each operation with scope S: a token with every scope but S gets 403 naming S (body and
/// `WWW-Authenticate`), and a token with only S is not refused for its scope.
async fn every_operation_needs_its_scope(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let doc = app.openapi().await;
    // One client per missing scope, and one per single scope.
    let mut without = Vec::new();
    let mut only = Vec::new();
    for s in SCOPES {
        let others: Vec<&str> = SCOPES.iter().copied().filter(|x| *x != s).collect();
        without.push((s, app.client(&w.provider, Some(&others.join(" "))).await));
        only.push((s, app.client(&w.provider, Some(s)).await));
    }
    // A client the rotate and delete calls may name (they must not reach it).
    let victim = app.client(&w.provider, None).await;
    let own = own(&w).await;
    let mut checked = 0;
    for op in operations(&doc) {
        let Some(scope) = op.scope() else { continue };
        let path = own_path(&w, &victim.id, &own, &op);
        let body = own_body(&doc, &w, &op);
        let (_, lacking) = without
            .iter()
            .find(|(s, _)| *s == scope)
            .must("a client without the scope");
        let mut req = app.req(op.http_method(), &path).bearer(&lacking.token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let r = req.send().await;
        let r = r.expect_error(403, "insufficient_scope");
        assert!(
            r.message().contains(&scope),
            "{}: the message names {scope}: {}",
            op.name(),
            r.text()
        );
        let www = r.header("www-authenticate").unwrap_or_default();
        assert!(
            www.contains(&scope) && www.contains("insufficient_scope"),
            "{}: WWW-Authenticate names {scope}: {www:?}",
            op.name()
        );
        // A body the handler would refuse makes no difference: the scope comes first.
        let mut req = app.req(op.http_method(), &path).bearer(&lacking.token);
        if body.is_some() {
            req = req.raw("application/json", b"{not json".to_vec());
        }
        req.send().await.expect_error(403, "insufficient_scope");

        // A token with just this scope passes the scope check (whatever the handler says).
        let (_, single) = only.iter().find(|(s, _)| *s == scope).must("single");
        if op.method != "delete" && !op.path.contains("rotate_secret") {
            let mut req = app.req(op.http_method(), &path).bearer(&single.token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await;
            assert_ne!(
                r.code(),
                "insufficient_scope",
                "{} with a token of only {scope}: {}",
                op.name(),
                r.text()
            );
            assert_ne!(r.status, 401, "{}: {}", op.name(), r.text());
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} operations checked");
    // The victim client was neither rotated nor deleted.
    app.get_as(&victim.token, "/v2/api_clients")
        .await
        .expect(200);
}

/// No token, a garbage token, a token in the wrong scheme: 401 with `WWW-Authenticate: Bearer`
/// on every operation.
async fn missing_or_bad_tokens_are_401(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let doc = app.openapi().await;
    let own = own(&w).await;
    for op in operations(&doc) {
        if op.scope().is_none() {
            continue;
        }
        let path = own_path(&w, &w.provider_client.id, &own, &op);
        let body = own_body(&doc, &w, &op);
        let garbage = format!("{}x", w.provider_client.token);
        let basic = crate::http::basic_value(&w.provider_client.id, &w.provider_client.secret);
        for auth in [
            None,
            Some("Bearer ".to_string()),
            Some("Bearer garbage".to_string()),
            Some(format!("Bearer {garbage}")),
            Some(format!("Bearer {}", "a".repeat(5000))),
            Some(basic),
            Some(w.provider_client.token.clone()),
        ] {
            let mut req = app.req(op.http_method(), &path);
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await.expect_error(401, "unauthorized");
            let www = r.header("www-authenticate").unwrap_or_default();
            assert!(
                www.starts_with("Bearer") && www.contains("realm="),
                "{} with {auth:?}: WWW-Authenticate {www:?}",
                op.name()
            );
        }
    }
}

backend_tests!(
    every_operation_needs_its_scope,
    missing_or_bad_tokens_are_401
);
