//! Permissions are the service's (issue 10, item 7): a portal viewer and a read-only token are
//! refused every kind of write by the service itself, called here without the HTTP layer, with
//! nothing written; both may read. And the service's clock moves a token's expiry without
//! waiting.

use std::fmt::Debug;

use numberpool::service::{
    AccountPatch, CarrierPatch, Clock, Permission, RatePatch, Role, Service, ServiceError,
    TrunkPatch,
};
use numberpool_domain::{AccountKind, CarrierKind, NumberType};
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditFilter, backend_tests};

use crate::fixture::*;

backend_tests!(
    viewer_and_read_only_token_are_refused_every_write,
    operator_owner_and_admin_may_write,
    scopes_grant_exactly_their_permission,
    the_clock_moves_token_expiry,
    a_batch_add_writes_one_outbox_event,
);

const PASSWORD: &str = "correct horse battery staple";
const READ_SCOPES: &str = "phone:read:admin phone_number:read:admin";

/// `Forbidden(want)`, answered as a missing scope.
#[track_caller]
fn forbidden<T: Debug>(r: Result<T, ServiceError>, want: Permission, what: &str) {
    let e = refused(r, "insufficient_scope", None, what);
    assert!(
        matches!(e, ServiceError::Forbidden(p) if p == want),
        "{what}: {e:?}"
    );
}

/// A portal user of `account` with `role`, as signed in.
async fn user(w: &World, account: &numberpool_domain::Account, email: &str, role: Role) -> Actor {
    w.service
        .create_user(&as_(account), account.id, email, role, PASSWORD)
        .await
        .must("create user");
    let actor = w
        .service
        .authenticate_user(email, PASSWORD)
        .await
        .must("sign in");
    assert_eq!(actor.access, numberpool::service::Access::Role(role));
    actor
}

/// A token of `account` with `scopes`, as the API authenticates it.
async fn token_actor(
    service: &Service,
    account: &numberpool_domain::Account,
    scopes: &str,
    ttl: i64,
) -> (Actor, String) {
    let c = service
        .create_client(&as_(account), account.id, Some(scopes))
        .await
        .must("create client");
    let token = service
        .issue_token(&c.client_id, &c.client_secret, None, None, ttl)
        .await
        .must("issue token")
        .access_token;
    let (actor, _) = service
        .authenticate_token(&token)
        .await
        .must("authenticate");
    (actor, token)
}

/// How many events have been recorded (every change records one, with its outbox row).
async fn recorded(w: &World) -> usize {
    let mut r = w.store.read().await.must("read");
    r.outbox_after(0, 100_000).await.must("outbox").len()
}

async fn viewer_and_read_only_token_are_refused_every_write(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    // Something of each kind to change.
    let trunk = svc.create_trunk(&p, "t", "eu", None).await.must("trunk");
    let carrier = svc
        .create_carrier(&p, CarrierKind::Voice, "c", None)
        .await
        .must("carrier");
    let attr = svc
        .create_attribute(&p, "tier", vec!["gold".into()])
        .await
        .must("attribute");
    let rate = svc
        .create_rate(&p, "us", NumberType::Local, 100, None)
        .await
        .must("rate");
    let target = svc
        .create_client(&p, w.provider.id, None)
        .await
        .must("client");
    user(&w, &w.provider, "someone@example.com", Role::Admin).await;

    let free_number = w.add(&w.provider, &e164(70)).await;
    let held_number = w.held_by(&w.customer, &e164(71)).await;
    let viewer = user(&w, &w.provider, "viewer@example.com", Role::Viewer).await;
    let (reader, _) = token_actor(svc, &w.provider, READ_SCOPES, 3_600).await;
    let before = recorded(&w).await;

    for (who, a) in [("viewer", &viewer), ("read-only token", &reader)] {
        use Permission::{NumberWrite, PhoneWrite};
        let new_account = numberpool::service::CreateAccount::new(
            "Nope",
            AccountKind::Customer,
            Some(w.provider.id),
        );
        forbidden(svc.create_account(a, new_account).await, PhoneWrite, who);
        let rename = AccountPatch {
            name: Some("Renamed".into()),
            ..Default::default()
        };
        forbidden(
            svc.update_account(a, w.customer.id, &rename, None).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.set_account_status(a, w.customer2.id, true, None).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.connect_exchange(a, &w.tenant.account_number).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.request_disconnect(a, w.tenant.id).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.deactivate_connection(a, w.root_customer.id).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.create_client(a, w.provider.id, None).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.rotate_client_secret(a, &target.client_id).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.delete_client(a, &target.client_id).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.own_client_scopes(a, &target.client_id).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.create_user(a, w.provider.id, "x@example.com", Role::Owner, PASSWORD)
                .await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.reset_password(a, "someone@example.com", "a brand new password")
                .await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.create_trunk(a, "t2", "eu", None).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.update_trunk(a, trunk.id, &TrunkPatch::default(), None)
                .await,
            NumberWrite,
            who,
        );
        forbidden(svc.delete_trunk(a, trunk.id, None).await, NumberWrite, who);
        forbidden(
            svc.create_carrier(a, CarrierKind::Sms, "s", None).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.update_carrier(a, carrier.id, &CarrierPatch::default(), None)
                .await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.delete_carrier(a, carrier.id, None).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.create_attribute(a, "colour", vec![]).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.update_attribute(a, attr.id, Some(vec!["silver".into()]), None)
                .await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.delete_attribute(a, attr.id, None).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.create_rate(a, "gb", NumberType::Local, 5, None).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.update_rate(a, rate.id, RatePatch::default(), None)
                .await,
            NumberWrite,
            who,
        );
        forbidden(svc.delete_rate(a, rate.id, None).await, NumberWrite, who);

        // The number writes and moves, each with the scope its route names.
        let free = by_id(&free_number);
        let held = by_id(&held_number);
        forbidden(
            svc.add_numbers(a, vec![add(&e164(77))]).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.add_planned(
                a,
                vec![add(&e164(78))],
                numberpool::service::AddMode::Partial,
            )
            .await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.plan_add(a, vec![add(&e164(79))]).await,
            NumberWrite,
            who,
        );
        forbidden(
            svc.allocate(a, &free, w.customer.id, with_trunk(w.trunk))
                .await,
            NumberWrite,
            who,
        );
        forbidden(svc.release(a, &held).await, NumberWrite, who);
        forbidden(svc.unbind(a, &free).await, NumberWrite, who);
        forbidden(svc.delete_number(a, &free, None).await, NumberWrite, who);
        forbidden(
            svc.update_number(a, &free, &Default::default(), None).await,
            PhoneWrite,
            who,
        );
        forbidden(
            svc.assign(
                a,
                &held,
                numberpool_domain::Assignee {
                    kind: numberpool_domain::AssigneeType::User,
                    id: "u".into(),
                    display_name: None,
                },
            )
            .await,
            PhoneWrite,
            who,
        );
        forbidden(svc.unassign(a, &held, None).await, PhoneWrite, who);
        forbidden(svc.move_to_unit(a, &held, w.unit.id).await, PhoneWrite, who);

        // Every read is theirs.
        svc.get_number(a, &free).await.must(who);
        svc.list_numbers(a, &Default::default(), None, 10)
            .await
            .must(who);
        svc.inventory(a, &Default::default()).await.must(who);
        svc.number_history(a, &free).await.must(who);
        svc.number_assignments(a, &held).await.must(who);
        svc.list_accounts(a).await.must(who);
        svc.get_account(a, w.customer.id).await.must(who);
        svc.entitlements(a, w.customer.id).await.must(who);
        svc.offboarding(a, w.customer.id).await.must(who);
        svc.audit_log(a, &AuditFilter::default(), None, 10)
            .await
            .must(who);
        svc.list_connections(a).await.must(who);
        svc.list_customers(a).await.must(who);
        svc.list_clients(a).await.must(who);
        assert_eq!(svc.list_trunks(a).await.must(who).len(), 2);
        svc.get_trunk(a, trunk.id).await.must(who);
        svc.list_carriers(a, None).await.must(who);
        svc.get_carrier(a, carrier.id).await.must(who);
        svc.list_attributes(a).await.must(who);
        svc.get_attribute(a, attr.id).await.must(who);
        svc.list_rates(a, None, None).await.must(who);
        svc.get_rate(a, rate.id).await.must(who);
    }
    assert_eq!(recorded(&w).await, before, "a refusal writes nothing");
    assert_eq!(
        svc.get_trunk(&p, trunk.id).await.must("trunk").version,
        trunk.version
    );
}

async fn operator_owner_and_admin_may_write(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let owner = user(&w, &w.provider, "owner@example.com", Role::Owner).await;
    let admin = user(&w, &w.provider, "admin@example.com", Role::Admin).await;
    for (who, a) in [
        ("owner", &owner),
        ("admin", &admin),
        ("operator", &as_(&w.provider)),
    ] {
        let t = svc.create_trunk(a, who, "eu", None).await.must(who);
        svc.delete_trunk(a, t.id, None).await.must(who);
        svc.create_client(a, w.provider.id, Some(READ_SCOPES))
            .await
            .must(who);
    }
    // The operator acting for no account reaches any account, as the CLI's did before.
    let op = Actor::operator();
    assert_eq!(op.acting_for(), None);
    let renamed = svc
        .update_account(
            &op,
            w.tenant.id,
            &AccountPatch {
                name: Some("Renamed by the operator".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .must("operator rename");
    let events = audit_for(&w.store, &w.tenant.id.to_string()).await;
    let last = events.last().must("event");
    assert_eq!(last.action, Action::AccountUpdate);
    assert_eq!(
        (
            last.actor_type.as_str(),
            last.actor_id.as_str(),
            &last.actor_account_id
        ),
        ("operator", "cli", &None)
    );
    assert_eq!(renamed.name, "Renamed by the operator");
    // …but nothing scoped to an account: it is no account's.
    refused(
        svc.get_account(&op, w.tenant.id).await,
        "not_found",
        Some("R-SEC-1"),
        "the operator without an account",
    );
}

async fn scopes_grant_exactly_their_permission(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let (numbers_only, _) = token_actor(
        svc,
        &w.provider,
        "phone_number:read:admin phone_number:write:admin",
        3_600,
    )
    .await;
    forbidden(
        svc.list_accounts(&numbers_only).await,
        Permission::PhoneRead,
        "a numbers token reading accounts",
    );
    svc.create_trunk(&numbers_only, "ok", "eu", None)
        .await
        .must("a numbers token creating a trunk");
    let (phone_only, _) = token_actor(
        svc,
        &w.provider,
        "phone:read:admin phone:write:admin",
        3_600,
    )
    .await;
    forbidden(
        svc.list_trunks(&phone_only).await,
        Permission::NumberRead,
        "a phone token reading trunks",
    );
    svc.list_accounts(&phone_only)
        .await
        .must("a phone token reading accounts");
}

async fn the_clock_moves_token_expiry(db: &TestDb) {
    let w = World::new(db).await;
    let clock = Clock::manual(numberpool_domain::now_ms());
    let svc = Service::with_clock(w.store.clone(), clock.clone());
    let (_, token) = token_actor(&svc, &w.provider, READ_SCOPES, 60).await;
    clock.advance(59_999);
    svc.authenticate_token(&token)
        .await
        .must("valid until its last millisecond");
    clock.advance(1);
    refused(
        svc.authenticate_token(&token).await,
        "unauthorized",
        None,
        "expired at issue + TTL",
    );
    // The same token on the system clock is still good: only the service's clock moved.
    w.service
        .authenticate_token(&token)
        .await
        .must("on the system clock");
}

async fn a_batch_add_writes_one_outbox_event(db: &TestDb) {
    let w = World::new(db).await;
    let before = recorded(&w).await;
    let mut r = w.store.read().await.must("read");
    let cursor = r
        .outbox_after(0, 100_000)
        .await
        .must("outbox")
        .last()
        .map_or(0, |o| o.id);
    drop(r);
    let numbers: Vec<_> = (0..200).map(|i| add(&e164(i))).collect();
    w.service
        .add_numbers(&as_(&w.provider), numbers)
        .await
        .must("add");
    let mut r = w.store.read().await.must("read");
    let new = r.outbox_after(cursor, 100).await.must("outbox");
    assert_eq!(new.len(), 1, "one event for the batch: {new:?}");
    assert_eq!(new[0].action, Action::NumberAdd);
    assert_eq!(new[0].entity_type, "number_batch");
    assert_eq!(new[0].accounts, vec![w.provider.id]);
    assert_eq!(recorded(&w).await, before + 1);
}
