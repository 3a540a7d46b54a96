//! `Idempotency-Key`: a repeat replays the stored answer and changes nothing; a key reused for
//! another request is refused; keys are per client; concurrent repeats run once.

use numberpool::service::Actor;
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditFilter, backend_tests};
use serde_json::{Value, json};

use crate::harness::*;

/// `number.add` events in the provider's audit log.
async fn add_events(w: &World) -> i64 {
    let filter = AuditFilter {
        action: Some("number.add".into()),
        ..Default::default()
    };
    w.app
        .service
        .audit_log(&Actor::cli(w.provider.id), &filter, None, 1)
        .await
        .must("audit")
        .total
}

/// How many numbers on the provider's side have this E.164 (0 or 1).
async fn count(w: &World, e164: &str) -> usize {
    w.app
        .list_all(
            &w.provider_client.token,
            "/v2/phone/numbers",
            &format!("contains={}", e164.trim_start_matches('+')),
        )
        .await
        .len()
}

async fn same_key_same_body_replays(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let t = &w.provider_client.token;
    let n = e164(400);
    let body = json!({"phone_number": n.as_str(), "display_name": "Front desk"});
    let events = add_events(&w).await;

    let first = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key("key-400")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key("key-400")
        .json(&body)
        .send()
        .await;
    assert_eq!(again.status, first.status, "{}", again.text());
    assert_eq!(
        again.json(),
        first.json(),
        "the replay is the stored answer"
    );
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(count(&w, n.as_str()).await, 1, "one number");
    assert_eq!(add_events(&w).await, events + 1, "one audit event");

    // Without the key, the same request is a duplicate.
    app.post("/v2/phone/numbers")
        .bearer(t)
        .json(&body)
        .send()
        .await
        .expect_error(409, "number_already_exists");

    // The same key with another body, path or query: 422.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key("key-400")
        .json(&json!({"phone_number": e164(401).as_str()}))
        .send()
        .await
        .expect_error(422, "idempotency_key_reused");
    assert_eq!(r.header("idempotent-replayed"), None);
    app.post(&format!("/v2/phone/numbers/{}/release", w.free.id))
        .bearer(t)
        .idempotency_key("key-400")
        .send()
        .await
        .expect_error(422, "idempotency_key_reused");
    app.post("/v2/phone/numbers?x=1")
        .bearer(t)
        .idempotency_key("key-400")
        .json(&body)
        .send()
        .await
        .expect_error(422, "idempotency_key_reused");
    assert_eq!(count(&w, e164(401).as_str()).await, 0);

    // Another client may use the same key for its own request.
    let other = app.client(&w.provider, None).await;
    let r = app
        .post("/v2/phone/numbers")
        .bearer(&other.token)
        .idempotency_key("key-400")
        .json(&json!({"phone_number": e164(402).as_str()}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("idempotent-replayed"), None);
    assert_eq!(r.json()["phone_number"], e164(402).as_str());
    // And the tenant with the provider's key and body gets its own answer, not the replay.
    let r = app
        .post("/v2/phone/numbers")
        .bearer(&w.tenant_client.token)
        .idempotency_key("key-400")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.header("idempotent-replayed"), None, "{}", r.text());
    assert!(
        !r.text()
            .contains(&first.json()["id"].as_str().unwrap_or("?").to_string()),
        "the tenant got the provider's stored answer: {}",
        r.text()
    );

    // Error answers are replayed too (4xx are stored); a 2xx move replays without moving twice.
    let bad = json!({"phone_number": "nope"});
    let e1 = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key("key-bad")
        .json(&bad)
        .send()
        .await
        .expect_error(400, "invalid_number");
    let e2 = app
        .post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key("key-bad")
        .json(&bad)
        .send()
        .await;
    assert_eq!((e2.status, e2.json()), (e1.status, e1.json()));
    let alloc = json!({"account_id": w.customer.id, "sip_trunk_id": w.trunk});
    let path = format!("/v2/phone/numbers/{}/allocate", w.free.id);
    let a1 = app
        .post(&path)
        .bearer(t)
        .idempotency_key("alloc-1")
        .json(&alloc)
        .send()
        .await
        .expect(200);
    let a2 = app
        .post(&path)
        .bearer(t)
        .idempotency_key("alloc-1")
        .json(&alloc)
        .send()
        .await
        .expect(200);
    assert_eq!(a1.json(), a2.json());
    assert_eq!(a1.json()["version"], json!(w.free.version + 1));

    // Keys: 1 to 255 visible ASCII characters.
    for bad_key in ["", " ", &"k".repeat(256), "a b"] {
        let r = app
            .post("/v2/phone/numbers")
            .bearer(t)
            .header("idempotency-key", bad_key)
            .json(&json!({"phone_number": e164(403).as_str()}))
            .send()
            .await
            .expect_error(400, "invalid_input");
        assert!(r.message().contains("Idempotency-Key"), "{}", r.text());
    }
    assert_eq!(count(&w, e164(403).as_str()).await, 0);
    app.post("/v2/phone/numbers")
        .bearer(t)
        .idempotency_key(&"k".repeat(255))
        .json(&json!({"phone_number": e164(403).as_str()}))
        .send()
        .await
        .expect(201);
}

/// Eight identical requests with one key at once: one runs, the others replay it or are told
/// it is in progress; never two creations.
async fn concurrent_repeats_run_once(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    for round in 0..3u32 {
        let n = e164(410 + round);
        let body = json!({"phone_number": n.as_str()});
        let key = format!("race-{round}");
        let events = add_events(&w).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let req = app
                .post("/v2/phone/numbers")
                .bearer(&w.provider_client.token)
                .idempotency_key(&key)
                .json(&body);
            tasks.push(tokio::spawn(req.send()));
        }
        let mut fresh = 0;
        let mut replayed = 0;
        let mut in_progress = 0;
        let mut answers: Vec<Value> = Vec::new();
        for t in tasks {
            let r = t.await.must("task");
            match (r.status, r.header("idempotent-replayed").is_some()) {
                (201, false) => fresh += 1,
                (201, true) => replayed += 1,
                (409, _) if r.code() == "idempotency_in_progress" => {
                    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
                    in_progress += 1;
                    continue;
                }
                _ => panic!(
                    "round {round}: unexpected answer {}: {}",
                    r.status,
                    r.text()
                ),
            }
            answers.push(r.json());
        }
        assert_eq!(
            fresh, 1,
            "round {round}: exactly one request runs ({replayed} replayed, {in_progress} in progress)"
        );
        assert!(
            answers.windows(2).all(|p| p[0] == p[1]),
            "round {round}: every replay is the one answer"
        );
        assert_eq!(count(&w, n.as_str()).await, 1, "round {round}: one number");
        assert_eq!(
            add_events(&w).await,
            events + 1,
            "round {round}: one audit event"
        );
        // Afterwards the key replays.
        let r = app
            .post("/v2/phone/numbers")
            .bearer(&w.provider_client.token)
            .idempotency_key(&key)
            .json(&body)
            .send()
            .await
            .expect(201);
        assert_eq!(r.header("idempotent-replayed").as_deref(), Some("true"));
    }
}

/// A replay is the first answer: the single add's `ETag` header too, not only its body.
async fn replays_carry_the_etag(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let body = json!({"phone_number": e164(430).as_str()});
    let send = || {
        app.post("/v2/phone/numbers")
            .bearer(&w.provider_client.token)
            .idempotency_key("etag-key")
            .json(&body)
            .send()
    };
    let first = send().await.expect(201);
    let again = send().await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        again.header("etag"),
        first.header("etag"),
        "the replay of a single add lacks the ETag the first answer had"
    );
}

/// A request refused before its handler ran (the token lacks the route's scope) changed
/// nothing; a retry with the same key from the same client, now with a token that has the
/// scope, runs instead of replaying the refusal for 24 hours.
async fn scope_refusals_are_not_kept(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;
    let reader = app.token(&c.id, &c.secret, Some("phone:read:admin")).await;
    let body = json!({"phone_number": e164(420).as_str()});
    app.post("/v2/phone/numbers")
        .bearer(&reader)
        .idempotency_key("retry-with-scope")
        .json(&body)
        .send()
        .await
        .expect_error(403, "insufficient_scope");
    let r = app
        .post("/v2/phone/numbers")
        .bearer(&c.token)
        .idempotency_key("retry-with-scope")
        .json(&body)
        .send()
        .await;
    assert_eq!(
        (r.status, r.header("idempotent-replayed")),
        (201, None),
        "the retry with the scope is replayed the 403 instead of running: {}",
        r.text()
    );
    assert_eq!(count(&w, e164(420).as_str()).await, 1);
}

/// The same race on a creation nothing else makes unique (an account; names may repeat):
/// the key alone must keep it to one.
async fn concurrent_repeats_create_one_account(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    for round in 0..3u32 {
        let name = format!("Race Account {round}");
        let body = json!({"name": name, "kind": "customer"});
        let key = format!("account-race-{round}");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let req = app
                .post("/v2/accounts")
                .bearer(&w.provider_client.token)
                .idempotency_key(&key)
                .json(&body);
            tasks.push(tokio::spawn(req.send()));
        }
        let mut fresh = 0;
        for t in tasks {
            let r = t.await.must("task");
            match (r.status, r.header("idempotent-replayed").is_some()) {
                (201, false) => fresh += 1,
                (201, true) => {}
                (409, _) if r.code() == "idempotency_in_progress" => {}
                _ => panic!(
                    "round {round}: unexpected answer {}: {}",
                    r.status,
                    r.text()
                ),
            }
        }
        assert_eq!(fresh, 1, "round {round}: exactly one request runs");
        let accounts = app
            .get_as(&w.provider_client.token, "/v2/accounts?page_size=300")
            .await
            .expect(200)
            .json();
        let same: Vec<&Value> = accounts["accounts"]
            .as_array()
            .must("accounts")
            .iter()
            .filter(|a| a["name"] == name.as_str())
            .collect();
        assert_eq!(
            same.len(),
            1,
            "round {round}: one account created: {same:?}"
        );
    }
}

/// A key's record belongs to the client with its token's scopes: a token with fewer scopes
/// meets the scope check, never a replay of what the stronger token did; and refusals a retry
/// can get past (415) are not kept.
async fn replays_need_the_same_scopes_and_an_outcome(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;
    let body = json!({"name": "Idem scoped", "kind": "customer"});
    let first = app
        .post("/v2/accounts")
        .bearer(&c.token)
        .idempotency_key("scoped-key")
        .json(&body)
        .send()
        .await
        .expect(201);
    let read_only = app.token(&c.id, &c.secret, Some("phone:read:admin")).await;
    app.post("/v2/accounts")
        .bearer(&read_only)
        .idempotency_key("scoped-key")
        .json(&body)
        .send()
        .await
        .expect_error(403, "insufficient_scope");
    // The full-scope token still replays its own answer.
    let again = app
        .post("/v2/accounts")
        .bearer(&c.token)
        .idempotency_key("scoped-key")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));

    // A wrong content type is refused, not kept: the retry with JSON runs.
    let text =
        serde_json::to_string(&json!({"name": "Idem typed", "kind": "customer"})).must("json");
    app.post("/v2/accounts")
        .bearer(&c.token)
        .idempotency_key("typed-key")
        .raw("text/plain", text.clone().into_bytes())
        .send()
        .await
        .expect(415);
    let ran = app
        .post("/v2/accounts")
        .bearer(&c.token)
        .idempotency_key("typed-key")
        .raw("application/json", text.into_bytes())
        .send()
        .await
        .expect(201);
    assert_eq!(ran.header("idempotent-replayed"), None);
}

backend_tests!(
    replays_need_the_same_scopes_and_an_outcome,
    concurrent_repeats_create_one_account,
    same_key_same_body_replays,
    concurrent_repeats_run_once,
    scope_refusals_are_not_kept,
    replays_carry_the_etag,
);
