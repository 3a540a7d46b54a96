//! OAuth 2.0 client credentials at `/oauth/token` and the API clients under `/v2/api_clients`:
//! scopes, errors in RFC 6749's shape, rotation and deletion ending tokens at once.

use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;
use serde_json::json;

use crate::harness::*;

#[track_caller]
fn oauth_error(r: crate::http::Resp, status: u16, error: &str) -> crate::http::Resp {
    let r = r.expect(status);
    let v = r.json();
    assert_eq!(v["error"], error, "{}: {v}", r.what);
    assert_eq!(v["code"], error, "{}: {v}", r.what);
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}: {v}",
        r.what
    );
    r
}

async fn token_grants_and_errors(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;

    // All scopes by default, an hour, bearer, not cached.
    let r = app.token_request(&c.id, &c.secret, None).await.expect(200);
    let v = r.json();
    assert_eq!(v["token_type"], "bearer", "{v}");
    assert_eq!(v["expires_in"], 3600, "{v}");
    let mut granted: Vec<&str> = v["scope"].as_str().must("scope").split(' ').collect();
    granted.sort_unstable();
    assert_eq!(granted, SCOPES.to_vec(), "{v}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let token = v["access_token"].as_str().must("token").to_string();
    assert!(token.len() >= 32, "{token}");
    app.get_as(&token, "/v2/phone/numbers").await.expect(200);

    // A subset: the token carries only it.
    let r = app
        .token_request(&c.id, &c.secret, Some("phone:read:admin"))
        .await
        .expect(200);
    assert_eq!(r.json()["scope"], "phone:read:admin");
    let read_only = r.json()["access_token"].as_str().must("token").to_string();
    app.get_as(&read_only, "/v2/phone/numbers")
        .await
        .expect(200);
    app.post("/v2/phone/numbers")
        .bearer(&read_only)
        .json(&json!({"phone_number": e164(700).as_str()}))
        .send()
        .await
        .expect_error(403, "insufficient_scope");
    app.get_as(&read_only, "/v2/phone/inventory")
        .await
        .expect_error(403, "insufficient_scope");

    // Unknown scope; a scope the client does not have.
    let r = oauth_error(
        app.token_request(&c.id, &c.secret, Some("phone:read:admin root"))
            .await,
        400,
        "invalid_scope",
    );
    assert!(r.text().contains("root"), "{}", r.text());
    let reader = app.client(&w.provider, Some("phone:read:admin")).await;
    let r = oauth_error(
        app.token_request(&reader.id, &reader.secret, Some("phone_number:write:admin"))
            .await,
        400,
        "invalid_scope",
    );
    assert!(
        r.text().contains("phone_number:write:admin"),
        "{}",
        r.text()
    );

    // Wrong secret, unknown client, no credentials: 401 invalid_client with a Basic challenge.
    for (id, secret) in [
        (c.id.as_str(), "wrong"),
        (c.id.as_str(), ""),
        ("np_unknown", c.secret.as_str()),
        (w.tenant_client.id.as_str(), c.secret.as_str()),
    ] {
        let r = oauth_error(
            app.token_request(id, secret, None).await,
            401,
            "invalid_client",
        );
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic")),
            "{:?}",
            r.headers
        );
        assert!(!r.text().contains(&c.secret), "{}", r.text());
    }
    let r = app
        .post("/oauth/token")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    oauth_error(r, 401, "invalid_client");

    // The form may carry the credentials instead of Basic.
    app.post("/oauth/token")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
        ])
        .send()
        .await
        .expect(200);

    // grant_type missing, or another grant; not a form.
    let r = app
        .post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[("scope", "phone:read:admin")])
        .send()
        .await;
    oauth_error(r, 400, "invalid_request");
    let r = app
        .post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[("grant_type", "password")])
        .send()
        .await;
    oauth_error(r, 400, "unsupported_grant_type");
    let r = app
        .post("/oauth/token")
        .basic(&c.id, &c.secret)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await;
    // As the document says: not form-encoded is 415 `invalid_request`.
    let r = oauth_error(r, 415, "invalid_request");
    assert!(!r.text().contains(&c.secret));
    // A form that does not parse as one (bytes that are not UTF-8): 400 `invalid_request`.
    let r = app
        .post("/oauth/token")
        .basic(&c.id, &c.secret)
        .raw(
            "application/x-www-form-urlencoded",
            b"grant_type=\xff\xfe".to_vec(),
        )
        .send()
        .await;
    assert_eq!(r.status / 100, 4, "{}: {}", r.what, r.text());
}

async fn rotation_and_deletion_end_tokens(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let admin = &w.provider_client.token;
    let second = app.client(&w.provider, None).await;
    let other_token = app.token(&second.id, &second.secret, None).await;

    // Listed without secrets.
    let list = app.get_as(admin, "/v2/api_clients").await.expect(200);
    let text = list.text();
    assert!(text.contains(&second.id), "{text}");
    assert!(
        !text.contains(&second.secret) && !text.contains("secret_hash") && !text.contains("argon"),
        "{text}"
    );

    // Rotate: the old tokens and the old secret stop working, the new secret works.
    let r = app
        .post(&format!("/v2/api_clients/{}/rotate_secret", second.id))
        .bearer(admin)
        .send()
        .await
        .expect(200);
    let v = r.json();
    assert_eq!(v["client_id"], second.id.as_str(), "{v}");
    let new_secret = v["client_secret"].as_str().must("new secret").to_string();
    assert_ne!(new_secret, second.secret);
    for t in [&second.token, &other_token] {
        app.get_as(t, "/v2/phone/numbers")
            .await
            .expect_error(401, "unauthorized");
    }
    let r = app.token_request(&second.id, &second.secret, None).await;
    oauth_error(r, 401, "invalid_client");
    let fresh = app.token(&second.id, &new_secret, None).await;
    app.get_as(&fresh, "/v2/phone/numbers").await.expect(200);
    // The admin's own token is untouched.
    app.get_as(admin, "/v2/phone/numbers").await.expect(200);

    // Delete: its token and its secret stop working; a second delete is a 404.
    app.delete_as(admin, &format!("/v2/api_clients/{}", second.id))
        .await
        .expect(204);
    app.get_as(&fresh, "/v2/phone/numbers")
        .await
        .expect_error(401, "unauthorized");
    oauth_error(
        app.token_request(&second.id, &new_secret, None).await,
        401,
        "invalid_client",
    );
    app.delete_as(admin, &format!("/v2/api_clients/{}", second.id))
        .await
        .expect_error(404, "not_found");
    app.post(&format!("/v2/api_clients/{}/rotate_secret", second.id))
        .bearer(admin)
        .send()
        .await
        .expect_error(404, "not_found");
    let list = app.get_as(admin, "/v2/api_clients").await.expect(200);
    assert!(!list.text().contains(&second.id), "{}", list.text());

    // A parent manages the clients of the accounts below it; a child not its parent's.
    let below = app.client(&w.customer, None).await;
    app.post(&format!("/v2/api_clients/{}/rotate_secret", below.id))
        .bearer(admin)
        .send()
        .await
        .expect(200);
    app.get_as(&below.token, "/v2/phone/numbers")
        .await
        .expect_error(401, "unauthorized");
    app.delete_as(
        &w.customer_client.token,
        &format!("/v2/api_clients/{}", w.provider_client.id),
    )
    .await
    .expect_error(404, "not_found");
}

async fn clients_get_at_most_the_callers_scopes(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;
    let writer = app
        .token(&c.id, &c.secret, Some("phone:write:admin phone:read:admin"))
        .await;
    // More scopes than the token: 403 naming the scope.
    let r = app
        .post("/v2/api_clients")
        .bearer(&writer)
        .json(&json!({"scopes": ["phone:read:admin", "phone_number:write:admin"]}))
        .send()
        .await
        .expect_error(403, "insufficient_scope");
    assert!(
        r.message().contains("phone_number:write:admin"),
        "{}",
        r.text()
    );
    // An unknown scope: 400 naming it.
    let r = app
        .post("/v2/api_clients")
        .bearer(&writer)
        .json(&json!({"scopes": ["phone:read:admin", "superuser"]}))
        .send()
        .await
        .expect_error(400, "invalid_input");
    assert!(r.message().contains("superuser"), "{}", r.text());
    // Without `scopes`: the token's scopes, not the client's.
    let r = app
        .post("/v2/api_clients")
        .bearer(&writer)
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let v = r.json();
    let mut scopes: Vec<&str> = v["scopes"]
        .as_array()
        .must("scopes")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["phone:read:admin", "phone:write:admin"], "{v}");
    assert_eq!(v["account_id"], w.provider.id.to_string(), "{v}");
    let id = v["client_id"].as_str().must("client_id").to_string();
    let secret = v["client_secret"].as_str().must("secret").to_string();
    oauth_error(
        app.token_request(&id, &secret, Some("phone_number:read:admin"))
            .await,
        400,
        "invalid_scope",
    );
    app.token(&id, &secret, None).await;
    // For an account below: created there.
    let r = app
        .post("/v2/api_clients")
        .bearer(&writer)
        .json(&json!({"account_id": w.customer.id, "scopes": ["phone:read:admin"]}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.json()["account_id"], w.customer.id.to_string());
}

/// "Secrets are returned once, at creation, and never stored in clear": an `Idempotency-Key`
/// on a create or a rotation must not make the server keep the new secret to replay it.
/// How the idempotency layer names a key's owner: the client with its token's scopes (here
/// all four).
fn idempotency_owner(client_id: &str) -> String {
    let mut scopes = numberpool::service::SCOPES.to_vec();
    scopes.sort_unstable();
    format!("{client_id} {}", scopes.join(" "))
}

async fn secrets_are_not_kept_for_replay(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let admin = &w.provider_client;
    let target = app.client(&w.provider, None).await;
    let mut kept_in_clear = Vec::new();
    for (path, body, key) in [
        (
            "/v2/api_clients".to_string(),
            Some(json!({})),
            "create-with-key",
        ),
        (
            format!("/v2/api_clients/{}/rotate_secret", target.id),
            None,
            "rotate-with-key",
        ),
    ] {
        let mut req = app.post(&path).bearer(&admin.token).idempotency_key(key);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let r = req.send().await;
        assert!(
            r.status == 200 || r.status == 201,
            "{}: {}",
            r.what,
            r.text()
        );
        let secret = r.json()["client_secret"]
            .as_str()
            .must("client_secret")
            .to_string();
        let stored = app
            .store
            .read()
            .await
            .must("read")
            .idem_get(&idempotency_owner(&admin.id), key, 0)
            .await
            .must("idem_get");
        let kept = stored
            .and_then(|rec| rec.body)
            .is_some_and(|b| b.contains(&secret));
        if kept {
            kept_in_clear.push(path.clone());
        }
        // The retry is a replay of the same client, with the secret blanked: shown once only.
        let mut again = app.post(&path).bearer(&admin.token).idempotency_key(key);
        if let Some(b) = &body {
            again = again.json(b);
        }
        let replayed = again.send().await;
        assert_eq!(
            replayed.status,
            r.status,
            "{}: {}",
            replayed.what,
            replayed.text()
        );
        assert_eq!(
            replayed.header("idempotent-replayed").as_deref(),
            Some("true"),
            "{}",
            replayed.what
        );
        assert_eq!(
            replayed.json()["client_id"],
            r.json()["client_id"],
            "{}",
            replayed.what
        );
        assert_eq!(replayed.json()["client_secret"], "", "{}", replayed.what);
    }
    assert!(
        kept_in_clear.is_empty(),
        "with an Idempotency-Key, the new client secret is stored in clear in \
         idempotency_keys.body for 24 hours (and a retry shows it a second time): {kept_in_clear:?}"
    );
}

/// A token manages only clients that hold no scope it lacks: a write-only client rotating a
/// full client's secret would otherwise hand itself every scope.
async fn weaker_tokens_cannot_take_over_stronger_clients(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let weak = app.client(&w.provider, Some("phone:write:admin")).await;
    let strong = app.client(&w.provider, None).await;
    let r = app
        .post(&format!("/v2/api_clients/{}/rotate_secret", strong.id))
        .bearer(&weak.token)
        .send()
        .await
        .expect_error(403, "insufficient_scope");
    assert!(r.text().contains("phone:read:admin"), "{}", r.text());
    app.delete_as(&weak.token, &format!("/v2/api_clients/{}", strong.id))
        .await
        .expect_error(403, "insufficient_scope");
    // The strong client still works with its old secret and token.
    app.get_as(&strong.token, "/v2/phone/numbers")
        .await
        .expect(200);
    app.token(&strong.id, &strong.secret, None).await;
    // A client with the same scopes or fewer is within reach.
    let peer = app.client(&w.provider, Some("phone:write:admin")).await;
    app.post(&format!("/v2/api_clients/{}/rotate_secret", peer.id))
        .bearer(&weak.token)
        .send()
        .await
        .expect(200);
}

/// Zoom's server-to-server OAuth, as its clients send it: `grant_type=account_credentials` and
/// `account_id` in the query string, HTTP Basic, and no form (an empty JSON body, or none).
async fn zoom_account_credentials(db: &TestDb) {
    let w = World::new(db).await;
    let app = &w.app;
    let c = &w.provider_client;
    let own = w.provider.id.to_string();
    let zoom = |account: &str| {
        format!(
            "/oauth/token{}",
            crate::http::query(&[
                ("grant_type", "account_credentials"),
                ("account_id", account)
            ])
        )
    };
    for body in [("application/json", b"{}".to_vec()), ("", Vec::new())] {
        let r = app
            .post(&zoom(&own))
            .basic(&c.id, &c.secret)
            .raw(body.0, body.1.clone())
            .send()
            .await
            .expect(200);
        let v = r.json();
        assert_eq!(v["token_type"], "bearer", "{v}");
        let token = v["access_token"].as_str().must("token").to_string();
        app.get_as(&token, "/v2/phone/numbers").await.expect(200);
    }
    // The same in the form.
    let r = app
        .post("/oauth/token")
        .basic(&c.id, &c.secret)
        .form(&[("grant_type", "account_credentials"), ("account_id", &own)])
        .send()
        .await
        .expect(200);
    assert!(r.json()["access_token"].is_string(), "{}", r.text());

    // Another account, even one below the client's, or no account at all: the answer of a
    // wrong secret, which says nothing of whose client it is.
    for account in [
        w.customer.id.to_string(),
        w.tenant.id.to_string(),
        "not-an-account".to_string(),
    ] {
        let r = app
            .post(&zoom(&account))
            .basic(&c.id, &c.secret)
            .send()
            .await;
        let r = oauth_error(r, 401, "invalid_client");
        let wrong_secret = app
            .post(&zoom(&own))
            .basic(&c.id, "not-the-secret")
            .send()
            .await;
        assert_eq!(
            r.json()["error_description"],
            wrong_secret.json()["error_description"]
        );
    }
    // No account_id: a missing parameter.
    let r = app
        .post("/oauth/token?grant_type=account_credentials")
        .basic(&c.id, &c.secret)
        .send()
        .await;
    let r = oauth_error(r, 400, "invalid_request");
    assert!(r.text().contains("account_id"), "{}", r.text());
    // The query string and the form disagreeing: which one counts must not be a guess.
    let r = app
        .post(&zoom(&own))
        .basic(&c.id, &c.secret)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    oauth_error(r, 400, "invalid_request");
    // A control character in the query string: refused before anything reads it, in the
    // endpoint's own error shape.
    let r = app
        .post("/oauth/token?grant_type=account_credentials&account_id=%1E")
        .basic(&c.id, &c.secret)
        .send()
        .await;
    let r = oauth_error(r, 400, "invalid_request");
    assert!(r.text().contains("account_id"), "{}", r.text());
    // A grant neither of the two: unsupported, naming both.
    let r = app
        .post("/oauth/token?grant_type=password")
        .basic(&c.id, &c.secret)
        .send()
        .await;
    let r = oauth_error(r, 400, "unsupported_grant_type");
    assert!(r.text().contains("account_credentials"), "{}", r.text());
}

backend_tests!(
    zoom_account_credentials,
    weaker_tokens_cannot_take_over_stronger_clients,
    secrets_are_not_kept_for_replay,
    token_grants_and_errors,
    rotation_and_deletion_end_tokens,
    clients_get_at_most_the_callers_scopes,
);
