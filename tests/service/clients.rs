//! OAuth tokens and API client management (SPEC §7): the client credentials grant with scope
//! subsets, bearer authentication, expiry, rotation and deletion ending tokens, tenant scope
//! (R-SEC-1); and, through the same service, the inventory, the audit log and If-Match deletes.

use numberpool::service::{CreatedClient, Principal, SCOPES};
use numberpool_domain::{Account, AccountStatus, NumberStatus, now_ms};
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditFilter, Channel, NewToken, NumberFilter};
use sha2::{Digest, Sha256};

use crate::fixture::*;

const TTL: i64 = 3_600;

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn client(w: &World, of: &Account, scopes: Option<&str>) -> CreatedClient {
    w.service
        .create_client(&as_(of), of.id, scopes)
        .await
        .must("create client")
}

async fn token(w: &World, c: &CreatedClient) -> String {
    w.service
        .issue_token(&c.client_id, &c.client_secret, None, None, TTL)
        .await
        .must("issue token")
        .access_token
}

/// Whether the token still authenticates; anything but `Unauthorized` is a test failure.
async fn works(w: &World, token: &str) -> bool {
    match w.service.authenticate_token(token).await {
        Ok(_) => true,
        Err(e) if e.code() == "unauthorized" => false,
        Err(e) => panic!("authenticate: {e}"),
    }
}

/// Stores a token for `c` straight into the store, with the given expiry.
async fn stored_token(w: &World, c: &CreatedClient, token: &str, expires_at: i64) {
    let mut tx = w.store.begin().await.must("begin");
    tx.insert_token(&NewToken {
        token_hash: sha256_hex(token),
        client_id: c.client_id.clone(),
        account_id: c.account_id,
        scopes: SCOPES.join(" "),
        created_at: now_ms() - 10_000,
        expires_at,
    })
    .await
    .must("insert token");
    tx.commit().await.must("commit");
}

async fn token_grant_and_scopes(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let all = client(&w, p, None).await;
    let reader = client(&w, p, Some("phone:read:admin phone_number:read:admin")).await;

    // All the client's scopes when none are asked for.
    let t = svc
        .issue_token(&all.client_id, &all.client_secret, None, None, TTL)
        .await
        .must("issue");
    assert_eq!(t.token_type, "bearer");
    assert_eq!(t.expires_in, TTL);
    assert_eq!(t.scope, SCOPES.join(" "));
    assert_eq!(t.access_token.len(), 64);
    assert!(t.access_token.chars().all(|c| c.is_ascii_hexdigit()));
    let (actor, scopes) = svc.authenticate_token(&t.access_token).await.must("auth");
    assert_eq!(actor.account, p.id);
    assert!(matches!(&actor.principal, Principal::Client(id) if *id == all.client_id));
    assert_eq!(actor.channel, Channel::Api);
    assert_eq!(scopes, SCOPES.to_vec());
    // Only a hash is stored: the token itself finds nothing in the store.
    let mut r = w.store.read().await.must("read");
    assert!(
        r.get_token(&t.access_token, now_ms())
            .await
            .must("get")
            .is_none()
    );
    let grant = r
        .get_token(&sha256_hex(&t.access_token), now_ms())
        .await
        .must("get")
        .must("the hash is stored");
    let expires_at = grant.expires_at;
    assert!(
        (now_ms() + TTL * 1000 - expires_at).abs() < 60_000,
        "expiry in ms"
    );
    drop(r);

    // A subset, comma- or space-separated, in any order.
    let t = svc
        .issue_token(
            &all.client_id,
            &all.client_secret,
            Some("phone_number:read:admin,phone:read:admin"),
            None,
            TTL,
        )
        .await
        .must("subset");
    assert_eq!(t.scope, "phone:read:admin phone_number:read:admin");
    let (_, scopes) = svc.authenticate_token(&t.access_token).await.must("auth");
    assert_eq!(scopes, vec!["phone:read:admin", "phone_number:read:admin"]);
    let t = svc
        .issue_token(&reader.client_id, &reader.client_secret, None, None, TTL)
        .await
        .must("reader");
    assert_eq!(t.scope, "phone:read:admin phone_number:read:admin");

    // A scope the client lacks, or an unknown one: refused, naming it.
    let e = refused(
        svc.issue_token(
            &reader.client_id,
            &reader.client_secret,
            Some("phone:read:admin phone:write:admin"),
            None,
            TTL,
        )
        .await,
        "invalid_scope",
        None,
        "scope the client lacks",
    );
    assert!(e.to_string().contains("phone:write:admin"), "{e}");
    let e = refused(
        svc.issue_token(&all.client_id, &all.client_secret, Some("root"), None, TTL)
            .await,
        "invalid_scope",
        None,
        "unknown scope",
    );
    assert!(e.to_string().contains("'root'"), "{e}");

    // Unknown client, wrong secret, another client's secret: all alike.
    for (id, secret) in [
        ("np_nobody", all.client_secret.as_str()),
        (all.client_id.as_str(), "wrong"),
        (all.client_id.as_str(), reader.client_secret.as_str()),
        (all.client_id.as_str(), ""),
    ] {
        refused(
            svc.issue_token(id, secret, None, None, TTL).await,
            "unauthorized",
            None,
            "bad credentials",
        );
    }
    refused(
        svc.issue_token(&all.client_id, &all.client_secret, None, None, 0)
            .await,
        "invalid_input",
        None,
        "no lifetime",
    );
    for bad in ["", "nope", &"f".repeat(64), &"x".repeat(100_000)] {
        assert!(!works(&w, bad).await, "token {:.10}…", bad);
    }

    // Expired: refused; the same token unexpired works; the purge (a periodic job since
    // issue 10, no longer part of every grant) deletes the expired one.
    stored_token(&w, &all, "expired-token", now_ms() - 1).await;
    stored_token(&w, &all, "live-token", now_ms() + 60_000).await;
    assert!(!works(&w, "expired-token").await, "expired token refused");
    assert!(works(&w, "live-token").await);
    token(&w, &all).await;
    assert!(
        !works(&w, "expired-token").await,
        "still refused after a grant"
    );
    assert_eq!(
        svc.purge_expired_tokens(now_ms()).await.must("purge"),
        1,
        "only the expired token"
    );
    assert!(works(&w, "live-token").await, "the live one stays");
    let mut r = w.store.read().await.must("read");
    assert!(
        r.get_token(&sha256_hex("expired-token"), 0)
            .await
            .must("get")
            .is_none(),
        "purged"
    );
    drop(r);

    // A deactivated account: its tokens stop working and it gets no new ones.
    let c2 = client(&w, &w.customer2, None).await;
    let t2 = token(&w, &c2).await;
    assert!(works(&w, &t2).await);
    let mut tx = w.store.begin().await.must("begin");
    tx.set_account_status_cas(
        w.customer2.id,
        w.customer2.version,
        AccountStatus::Deactivated,
    )
    .await
    .must("deactivate");
    tx.commit().await.must("commit");
    assert!(!works(&w, &t2).await, "deactivated account");
    refused(
        svc.issue_token(&c2.client_id, &c2.client_secret, None, None, TTL)
            .await,
        "unauthorized",
        None,
        "grant to a deactivated account",
    );
    assert!(works(&w, "live-token").await, "other accounts unaffected");
}

async fn rotate_and_delete_clients(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let a = client(&w, p, Some("phone:read:admin phone:write:admin")).await;
    let b = client(&w, p, None).await;
    let (t1, t2, tb) = (
        token(&w, &a).await,
        token(&w, &a).await,
        token(&w, &b).await,
    );
    let res = client(&w, &w.reseller, None).await;
    let root = client(&w, &w.root_customer, None).await;
    let foreign = client(&w, &w.tenant, None).await;
    let tf = token(&w, &foreign).await;

    // Rotation: a new secret, the same client; the old secret and every token end.
    let rotated = svc
        .rotate_client_secret(&as_(p), &a.client_id)
        .await
        .must("rotate");
    assert_eq!(
        (&rotated.client_id, rotated.account_id, &rotated.scopes),
        (&a.client_id, a.account_id, &a.scopes)
    );
    assert_ne!(rotated.client_secret, a.client_secret);
    assert!(
        !works(&w, &t1).await && !works(&w, &t2).await,
        "old tokens end"
    );
    assert!(works(&w, &tb).await, "another client's token is untouched");
    refused(
        svc.issue_token(&a.client_id, &a.client_secret, None, None, TTL)
            .await,
        "unauthorized",
        None,
        "old secret",
    );
    let t3 = svc
        .issue_token(&a.client_id, &rotated.client_secret, None, None, TTL)
        .await
        .must("new secret works")
        .access_token;
    assert!(works(&w, &t3).await);
    let events = audit_for(&w.store, &client_row_id(&w, &a.client_id).await).await;
    assert_eq!(
        actions(&events),
        vec![Action::ClientCreate, Action::ClientRotateSecret]
    );
    assert_eq!(events[1].actor_account_id, Some(p.id.to_string()));
    assert_eq!(
        events[1]
            .after
            .as_ref()
            .and_then(|v| v["tokens_ended"].as_i64()),
        Some(2)
    );
    assert!(
        !serde_json::to_string(&events)
            .must("json")
            .contains(&rotated.client_secret),
        "the secret is not in the audit log"
    );

    // Scope (R-SEC-1): a provider manages its subtree's clients, not a connected customer's
    // nor another tenant's; nobody below manages the provider's. Refusals change nothing.
    svc.rotate_client_secret(&as_(p), &res.client_id)
        .await
        .must("the provider rotates its reseller's client");
    let outsiders: [(&Account, &str); 5] = [
        (p, &root.client_id),
        (p, &foreign.client_id),
        (&w.tenant, &a.client_id),
        (&w.reseller, &a.client_id),
        (&w.root_customer, &a.client_id),
    ];
    for (who, id) in outsiders {
        hidden(
            svc.rotate_client_secret(&as_(who), id).await,
            "rotate out of scope",
        );
        hidden(
            svc.delete_client(&as_(who), id).await,
            "delete out of scope",
        );
    }
    hidden(
        svc.rotate_client_secret(&as_(p), "np_nobody").await,
        "unknown client",
    );
    assert!(
        works(&w, &tf).await && works(&w, &t3).await,
        "refusals changed nothing"
    );
    svc.issue_token(&root.client_id, &root.client_secret, None, None, TTL)
        .await
        .must("the connected customer's secret is unchanged");

    // Listing: the actor's own account's clients only, never a secret.
    let listed = svc.list_clients(&as_(p)).await.must("list");
    assert_eq!(
        listed
            .iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        vec![a.client_id.as_str(), b.client_id.as_str()]
    );
    assert!(listed.iter().all(|c| c.account_id == p.id));
    assert_eq!(listed[0].scopes, a.scopes);
    assert!((now_ms() - listed[0].created_at).abs() < 600_000);
    let json = serde_json::to_string(&listed).must("json");
    assert!(!json.contains("secret"), "{json}");
    assert_eq!(
        svc.list_clients(&as_(&w.reseller)).await.must("list").len(),
        1
    );
    assert!(
        svc.list_clients(&as_(&w.customer))
            .await
            .must("list")
            .is_empty()
    );

    // Deletion ends the client and its tokens; a second delete finds nothing.
    assert!(works(&w, &tb).await);
    let row = client_row_id(&w, &b.client_id).await;
    svc.delete_client(&as_(p), &b.client_id)
        .await
        .must("delete");
    assert!(!works(&w, &tb).await, "tokens end with the client");
    refused(
        svc.issue_token(&b.client_id, &b.client_secret, None, None, TTL)
            .await,
        "unauthorized",
        None,
        "deleted client",
    );
    hidden(
        svc.delete_client(&as_(p), &b.client_id).await,
        "deleted twice",
    );
    let events = audit_for(&w.store, &row).await;
    assert_eq!(
        actions(&events),
        vec![Action::ClientCreate, Action::ClientDelete]
    );
    assert_eq!(
        events[1]
            .before
            .as_ref()
            .and_then(|v| v["client_id"].as_str()),
        Some(b.client_id.as_str())
    );
    assert_eq!(svc.list_clients(&as_(p)).await.must("list").len(), 1);
    // The operator (CLI) finds a client's account without a scope.
    assert_eq!(
        svc.get_client_unscoped(&root.client_id)
            .await
            .must("unscoped")
            .account_id,
        w.root_customer.id
    );
    hidden(
        svc.get_client_unscoped(&b.client_id).await,
        "deleted client, unscoped",
    );
}

/// Grants racing a rotation: whichever commits first, no token issued for the old secret
/// works once the rotation has committed (the grant re-checks the secret under the client's
/// row lock; the rotation ends the tokens committed before it).
async fn rotation_races_grants(db: &TestDb) {
    let w = World::new(db).await;
    let p = w.provider.clone();
    let a = client(&w, &p, None).await;
    let mut grants = Vec::new();
    for _ in 0..12 {
        let (svc, a) = (w.service.clone(), a.clone());
        grants.push(tokio::spawn(async move {
            svc.issue_token(&a.client_id, &a.client_secret, None, None, TTL)
                .await
        }));
    }
    let rotated = w
        .service
        .rotate_client_secret(&as_(&p), &a.client_id)
        .await
        .must("rotate");
    let mut issued = Vec::new();
    for g in grants {
        match g.await.must("grant task") {
            Ok(t) => issued.push(t.access_token),
            Err(e) => assert_eq!(e.code(), "unauthorized", "{e}"),
        }
    }
    for t in &issued {
        assert!(!works(&w, t).await, "a token of the old secret survived");
    }
    let t = w
        .service
        .issue_token(&a.client_id, &rotated.client_secret, None, None, TTL)
        .await
        .must("new secret");
    assert!(works(&w, &t.access_token).await);
}

/// The row id of a client, which its audit events name.
async fn client_row_id(w: &World, client_id: &str) -> String {
    let mut r = w.store.read().await.must("read");
    r.get_client(client_id)
        .await
        .must("get client")
        .must("client exists")
        .id
        .to_string()
}

async fn inventory_audit_and_if_match(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p, c) = (&w.service, &w.provider, &w.customer);
    let free = w.add(p, &e164(700)).await;
    w.add(p, &e164(701)).await;
    let held = w.held_by(c, &e164(702)).await;
    svc.assign(
        &as_(c),
        &by_id(&held),
        numberpool_domain::Assignee {
            kind: numberpool_domain::AssigneeType::User,
            id: "u-1".into(),
            display_name: None,
        },
    )
    .await
    .must("assign");
    w.held_by(c, &e164(703)).await;

    let inv = svc
        .inventory(&as_(p), &NumberFilter::default())
        .await
        .must("inventory");
    assert_eq!(inv.total, 4);
    assert_eq!((inv.by_position["free"], inv.by_position["in_use"]), (2, 2));
    assert_eq!(inv.by_status["active"], 4);
    assert_eq!(inv.by_country["US"], 4);
    let inv = svc
        .inventory(&as_(c), &NumberFilter::default())
        .await
        .must("inventory");
    assert_eq!(
        (
            inv.total,
            inv.by_position["assigned"],
            inv.by_position["unassigned"]
        ),
        (2, 1, 1)
    );
    let only_pending = NumberFilter {
        status: Some(NumberStatus::Pending),
        ..Default::default()
    };
    assert_eq!(
        svc.inventory(&as_(p), &only_pending)
            .await
            .must("inv")
            .total,
        0
    );
    assert_eq!(
        svc.inventory(&as_(&w.tenant), &NumberFilter::default())
            .await
            .must("inventory")
            .total,
        0,
        "another tenant counts none of ours"
    );

    // The audit log: the actor's own subtree, newest first, filtered, paged.
    let log = svc
        .audit_log(&as_(p), &AuditFilter::default(), None, 1_000)
        .await
        .must("audit log");
    assert!(
        log.items.windows(2).all(|e| e[0].id > e[1].id),
        "newest first"
    );
    assert_eq!(log.total as usize, log.items.len());
    let mine: Vec<String> = [
        p,
        &w.reseller,
        &w.res_customer,
        c,
        &w.unit,
        &w.customer2,
        &w.unit2,
        &w.ext_customer,
    ]
    .iter()
    .map(|a| a.id.to_string())
    .collect();
    assert!(log.items.iter().all(|e| {
        e.actor_account_id
            .as_ref()
            .is_some_and(|a| mine.contains(a))
    }));
    assert!(
        log.items.iter().any(|e| e.action == Action::NumberAssign),
        "the customer's own moves are in its provider's log"
    );
    let adds = svc
        .audit_log(
            &as_(p),
            &AuditFilter {
                action: Some("number.add".into()),
                ..Default::default()
            },
            None,
            2,
        )
        .await
        .must("audit log");
    assert_eq!((adds.total, adds.items.len()), (4, 2));
    let rest = svc
        .audit_log(
            &as_(p),
            &AuditFilter {
                action: Some("number.add".into()),
                ..Default::default()
            },
            adds.next_after
                .as_deref()
                .map(|a| a.parse().must("audit id")),
            2,
        )
        .await
        .must("audit log");
    assert_eq!((rest.items.len(), rest.next_after), (2, None));
    for who in [&w.tenant, &w.root_customer] {
        let theirs = svc
            .audit_log(&as_(who), &AuditFilter::default(), None, 1_000)
            .await
            .must("audit log");
        assert!(
            theirs
                .items
                .iter()
                .all(|e| e.actor_account_id == Some(who.id.to_string())),
            "{}: only its own events",
            who.name
        );
    }

    // Delete with If-Match: another version fails the precondition and deletes nothing.
    refused(
        svc.delete_number(&as_(p), &by_id(&free), Some(free.version + 1))
            .await,
        "precondition_failed",
        None,
        "stale delete",
    );
    w.get(p, &free).await.must("still there");
    svc.delete_number(&as_(p), &by_id(&free), Some(free.version))
        .await
        .must("delete at the version read");
    hidden(w.get(p, &free).await, "deleted");
}

numberpool_store::backend_tests!(
    token_grant_and_scopes,
    rotate_and_delete_clients,
    rotation_races_grants,
    inventory_audit_and_if_match
);
