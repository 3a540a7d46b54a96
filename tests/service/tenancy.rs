//! Tenancy through the service: account deactivation and reactivation (R-OFF-1), Provider
//! Exchange (R-ACC-1), a provider's customer list, entitlements (R-ACC-3), the offboarding
//! check, and the races the issue names: a disconnect request racing assignments, and a
//! deactivation racing allocations, never leave a number with a deactivated customer.

use std::sync::Arc;

use numberpool::service::{
    AccountPatch, Actor, CustomerRelation, OffboardingAction, Service, ServiceError,
};
use numberpool_domain::{
    Account, AccountKind, AccountStatus, ExchangeStatus, NewNumber, Number, Product,
};
use numberpool_store::testing::TestDb;
use numberpool_store::{NumberFilter, backend_tests};

use crate::fixture::*;

const TTL: i64 = 3600;

async fn token_of(svc: &Service, a: &Account) -> String {
    let c = svc
        .create_client(&Actor::cli(a.id), a.id, None)
        .await
        .must("create client");
    svc.issue_token(&c.client_id, &c.client_secret, None, None, TTL)
        .await
        .must("issue token")
        .access_token
}

async fn works(svc: &Service, token: &str) -> bool {
    match svc.authenticate_token(token).await {
        Ok(_) => true,
        Err(e) if e.code() == "unauthorized" => false,
        Err(e) => panic!("authenticate: {e}"),
    }
}

/// How many numbers `a` holds (its own listing: numbers with it and below it).
async fn holds(svc: &Service, a: &Account) -> usize {
    svc.list_numbers(&as_(a), &NumberFilter::default(), None, 300)
        .await
        .must("list")
        .items
        .len()
}

async fn status(svc: &Service, a: &Account) -> AccountStatus {
    svc.get_account_unscoped(a.id).await.must("account").status
}

async fn deactivation_needs_an_empty_subtree(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let n = w.held_by(&w.customer, &e164(7001)).await;
    let customer_token = token_of(svc, &w.customer).await;
    let unit_token = token_of(svc, &w.unit).await;
    svc.create_user(
        &as_(&w.unit),
        w.unit.id,
        "Unit.Admin@example.com",
        numberpool::service::Role::Admin,
        "unit admin password 1",
    )
    .await
    .must("unit user");
    let unit_user_signs_in = || async {
        match svc
            .authenticate_user("unit.admin@example.com", "unit admin password 1")
            .await
        {
            Ok(a) => {
                assert_eq!(a.account, w.unit.id);
                true
            }
            Err(e) if e.code() == "unauthorized" => false,
            Err(e) => panic!("sign in: {e}"),
        }
    };
    assert!(unit_user_signs_in().await);
    refused(
        svc.authenticate_user("unit.admin@example.com", "wrong password")
            .await,
        "unauthorized",
        None,
        "wrong password",
    );

    // Refusals: numbers held, its own account, out of scope.
    refused(
        svc.set_account_status(&p, w.customer.id, true, None).await,
        "rule_violation",
        Some("R-OFF-1"),
        "deactivate a customer holding a number",
    );
    refused(
        svc.set_account_status(&as_(&w.customer), w.customer.id, true, None)
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "deactivate itself",
    );
    hidden(
        svc.set_account_status(&as_(&w.tenant), w.customer.id, true, None)
            .await,
        "another tenant's customer",
    );
    hidden(
        svc.set_account_status(&as_(&w.customer), w.provider.id, true, None)
            .await,
        "the account above",
    );
    // The offboarding check lists the number, before anyone has to find it by a refusal.
    let off = svc.offboarding(&p, w.customer.id).await.must("offboarding");
    let check = off
        .checks
        .iter()
        .find(|c| c.action == OffboardingAction::DeactivateAccount)
        .must("deactivate check");
    assert!(!check.ready);
    let held = check
        .blockers
        .iter()
        .find(|b| b.code == "numbers_held")
        .must("numbers_held blocker");
    assert_eq!(
        (held.count, held.rule, held.phone_numbers.clone()),
        (1, "R-OFF-1", vec![n.phone_number.as_str().to_string()])
    );
    // A unit below, moved into: then the number is "held below" the customer.
    svc.move_to_unit(&as_(&w.customer), &by_id(&n), w.unit.id)
        .await
        .must("move to unit");
    let off = svc.offboarding(&p, w.customer.id).await.must("offboarding");
    let codes: Vec<&str> = off.checks[0].blockers.iter().map(|b| b.code).collect();
    assert_eq!(codes, ["numbers_held_below"]);
    refused(
        svc.set_account_status(&as_(&w.customer), w.unit.id, true, None)
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "deactivate a unit holding a number",
    );
    svc.move_to_unit(&as_(&w.customer), &by_id(&n), w.customer.id)
        .await
        .must("back to the customer");
    // The empty unit goes; a number cannot move into it while it is deactivated.
    let u = svc
        .set_account_status(&as_(&w.customer), w.unit.id, true, None)
        .await
        .must("deactivate the unit");
    assert_eq!(u.status, AccountStatus::Deactivated);
    assert!(
        !works(svc, &unit_token).await,
        "the unit's client is refused"
    );
    assert!(works(svc, &customer_token).await, "the customer's is not");
    refused(
        svc.move_to_unit(&as_(&w.customer), &by_id(&n), w.unit.id)
            .await,
        "rule_violation",
        Some("R-MOVE-5"),
        "move into a deactivated unit",
    );
    refused(
        svc.set_account_status(&as_(&w.customer), w.unit.id, true, None)
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "deactivate twice",
    );
    svc.set_account_status(&as_(&w.customer), w.unit.id, false, None)
        .await
        .must("reactivate the unit");
    assert!(
        works(svc, &unit_token).await,
        "reactivation lets it back in"
    );

    // The customer releases; then the provider deactivates it, and everything below is out.
    svc.release(&as_(&w.customer), &by_id(&n))
        .await
        .must("release");
    // A rename since the customer was read makes that read stale.
    let stale = w.customer.version;
    let current = svc
        .update_account(
            &p,
            w.customer.id,
            &AccountPatch {
                name: Some("Customer (leaving)".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .must("rename")
        .version;
    assert_ne!(stale, current);
    refused(
        svc.set_account_status(&p, w.customer.id, true, Some(stale))
            .await,
        "precondition_failed",
        None,
        "If-Match on a stale version",
    );
    svc.set_account_status(&p, w.customer.id, true, Some(current))
        .await
        .must("deactivate the customer");
    assert!(!works(svc, &customer_token).await);
    assert!(
        !works(svc, &unit_token).await,
        "a unit below a deactivated customer is refused too"
    );
    assert!(!unit_user_signs_in().await, "and its user");
    let free = w.add(&w.provider, &e164(7002)).await;
    refused(
        svc.allocate(&p, &by_id(&free), w.customer.id, with_trunk(w.trunk))
            .await,
        "rule_violation",
        Some("R-MOVE-1"),
        "allocate to a deactivated customer",
    );
    // Its data is kept: it is still listed, with its history.
    assert_eq!(status(svc, &w.customer).await, AccountStatus::Deactivated);
    svc.set_account_status(&p, w.customer.id, false, None)
        .await
        .must("reactivate");
    assert!(works(svc, &customer_token).await);
    assert!(works(svc, &unit_token).await);
    let events = audit_for(&w.store, &w.customer.id.to_string()).await;
    let acts = actions(&events);
    assert_eq!(
        acts.iter()
            .filter(|a| a.entity_type() == "account" && **a != Action::AccountCreate)
            .copied()
            .collect::<Vec<_>>(),
        [
            Action::AccountUpdate,
            Action::AccountDeactivate,
            Action::AccountReactivate
        ],
        "the refused deactivations left no event"
    );
    // The operator deactivates a root (no account above it); adds by it are then refused.
    svc.set_account_status(&Actor::operator(), w.tenant.id, true, None)
        .await
        .must("operator deactivates a root");
    refused(
        svc.add_numbers(&as_(&w.tenant), vec![add(&e164(7003))])
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "add by a deactivated account",
    );
    refused(
        svc.add_numbers(&as_(&w.tenant_customer), vec![add(&e164(7004))])
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "add below a deactivated account",
    );
}

async fn exchange_walks_r_acc_1(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let rc = as_(&w.root_customer);
    let n = w.held_by(&w.root_customer, &e164(7101)).await;
    svc.assign(&rc, &by_id(&n), user("u-1"))
        .await
        .must("assign");

    // Connect refusals: connected already, not a root customer, unknown provider.
    refused(
        svc.connect_exchange(&rc, &w.provider.account_number).await,
        "rule_violation",
        Some("R-ACC-1"),
        "connect twice",
    );
    refused(
        svc.connect_exchange(&as_(&w.customer), &w.tenant.account_number)
            .await,
        "rule_violation",
        Some("R-ACC-1"),
        "a child customer connects",
    );
    hidden(
        svc.connect_exchange(&rc, &w.customer.account_number).await,
        "a customer's account number is not a provider's",
    );

    // The customer may not leave while the provider's number is on a user.
    refused(
        svc.request_disconnect(&rc, w.provider.id).await,
        "rule_violation",
        Some("R-ACC-1"),
        "disconnect with an assigned number",
    );
    let off = svc
        .offboarding(&rc, w.root_customer.id)
        .await
        .must("offboarding");
    let req = off
        .checks
        .iter()
        .find(|c| c.action == OffboardingAction::RequestDisconnect)
        .must("request check");
    assert_eq!(req.provider_id, Some(w.provider.id));
    assert_eq!(req.blockers.len(), 1);
    assert_eq!(req.blockers[0].code, "assigned_numbers");
    refused(
        svc.deactivate_connection(&p, w.root_customer.id).await,
        "rule_violation",
        Some("R-ACC-1"),
        "deactivate before the customer asked",
    );
    hidden(
        svc.request_disconnect(&rc, w.tenant.id).await,
        "a provider it is not connected to",
    );
    hidden(
        svc.deactivate_connection(&as_(&w.tenant), w.root_customer.id)
            .await,
        "another provider's customer",
    );

    svc.unassign(&rc, &by_id(&n), None).await.must("unassign");
    let c = svc
        .request_disconnect(&rc, w.provider.id)
        .await
        .must("disconnect request");
    assert_eq!(c.status, ExchangeStatus::DisconnectRequested);
    refused(
        svc.request_disconnect(&rc, w.provider.id).await,
        "rule_violation",
        Some("R-ACC-1"),
        "request twice",
    );
    refused(
        svc.assign(&rc, &by_id(&n), user("u-2")).await,
        "rule_violation",
        Some("R-ACC-1"),
        "assign after the request",
    );
    let more = w.add(&w.provider, &e164(7102)).await;
    refused(
        svc.allocate(&p, &by_id(&more), w.root_customer.id, with_trunk(w.trunk))
            .await,
        "rule_violation",
        Some("R-MOVE-1"),
        "allocate after the request",
    );
    // The provider still sees it, with the number that blocks the deactivation.
    let off = svc
        .offboarding(&p, w.root_customer.id)
        .await
        .must("provider's offboarding");
    let deact = off
        .checks
        .iter()
        .find(|c| c.action == OffboardingAction::DeactivateConnection)
        .must("deactivate check");
    let codes: Vec<&str> = deact.blockers.iter().map(|b| b.code).collect();
    assert_eq!(codes, ["provider_numbers_with_customer"]);
    refused(
        svc.deactivate_connection(&p, w.root_customer.id).await,
        "rule_violation",
        Some("R-ACC-1"),
        "deactivate with the provider's number still there",
    );
    svc.release(&rc, &by_id(&n)).await.must("release");
    let off = svc
        .offboarding(&p, w.root_customer.id)
        .await
        .must("offboarding");
    assert!(off.checks.iter().all(|c| c.ready), "{off:?}");
    let c = svc
        .deactivate_connection(&p, w.root_customer.id)
        .await
        .must("deactivate");
    assert_eq!(c.status, ExchangeStatus::Deactivated);

    // The provider no longer sees or provisions the customer.
    hidden(
        svc.get_account(&p, w.root_customer.id).await,
        "get after deactivation",
    );
    hidden(
        svc.allocate(&p, &by_id(&more), w.root_customer.id, with_trunk(w.trunk))
            .await,
        "allocate after deactivation",
    );
    let customers = svc.list_customers(&p).await.must("customers");
    assert!(customers.iter().all(|c| c.account_id != w.root_customer.id));
    // The customer's own numbers stay its own.
    assert_eq!(
        holds(svc, &w.root_customer).await,
        0,
        "the provider's number went back"
    );
    // It may grant the provider again.
    let c = svc
        .connect_exchange(&rc, &w.provider.account_number)
        .await
        .must("connect again");
    assert_eq!(c.status, ExchangeStatus::Connected);
    let listed = svc.list_connections(&rc).await.must("connections");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].provider_id, w.provider.id);
    let events = audit_for(
        &w.store,
        &format!("{}:{}", w.provider.id, w.root_customer.id),
    )
    .await;
    assert_eq!(
        actions(&events),
        [
            Action::ExchangeConnect,
            Action::ExchangeDisconnectRequest,
            Action::ExchangeDeactivate,
            Action::ExchangeConnect
        ]
    );
}

async fn customers_list_children_and_connected(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    w.held_by(&w.customer, &e164(7201)).await;
    let n = w.held_by(&w.customer, &e164(7202)).await;
    svc.move_to_unit(&as_(&w.customer), &by_id(&n), w.unit.id)
        .await
        .must("to the unit");
    w.held_by(&w.root_customer, &e164(7203)).await;
    // The root customer's own number is not the provider's to count.
    w.add(&w.root_customer, &e164(7204)).await;
    let list = svc.list_customers(&as_(&w.provider)).await.must("list");
    let got: Vec<(String, CustomerRelation, Option<ExchangeStatus>, i64)> = list
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.relation,
                c.connection_status,
                c.phone_numbers,
            )
        })
        .collect();
    let mut want = vec![
        (w.customer.name.clone(), CustomerRelation::Child, None, 2),
        (w.customer2.name.clone(), CustomerRelation::Child, None, 0),
        (
            w.ext_customer.name.clone(),
            CustomerRelation::Child,
            None,
            0,
        ),
        (
            w.root_customer.name.clone(),
            CustomerRelation::Connected,
            Some(ExchangeStatus::Connected),
            1,
        ),
    ];
    want.sort_by_key(|r| {
        [&w.customer, &w.customer2, &w.ext_customer, &w.root_customer]
            .iter()
            .find(|a| a.name == r.0)
            .map(|a| a.id)
    });
    assert_eq!(got, want);
    // A reseller's customers are its own; the tenant sees none of the provider's.
    let res = svc.list_customers(&as_(&w.reseller)).await.must("reseller");
    assert_eq!(
        res.iter().map(|c| c.account_id).collect::<Vec<_>>(),
        [w.res_customer.id]
    );
    let t = svc.list_customers(&as_(&w.tenant)).await.must("tenant");
    assert_eq!(
        t.iter().map(|c| c.account_id).collect::<Vec<_>>(),
        [w.tenant_customer.id]
    );
}

/// A US toll-free number.
fn toll_free(i: u32) -> numberpool_domain::E164 {
    numberpool_domain::E164::parse(&format!("+1800555{i:04}")).must("toll-free")
}

async fn entitlements_count_licences(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let limits = |tf: Option<i64>, cc: Option<i64>| AccountPatch {
        toll_free_licences: Some(tf),
        contact_center_licences: Some(cc),
        ..Default::default()
    };
    refused(
        svc.update_account(
            &as_(&w.customer),
            w.customer.id,
            &limits(Some(9), None),
            None,
        )
        .await,
        "rule_violation",
        Some("R-ACC-3"),
        "a customer sets its own licences",
    );
    refused(
        svc.update_account(&p, w.reseller.id, &limits(Some(1), None), None)
            .await,
        "invalid_input",
        None,
        "licences on a reseller",
    );
    svc.update_account(&p, w.customer.id, &limits(Some(1), Some(1)), None)
        .await
        .must("set limits");
    let add_to_pool = |e: numberpool_domain::E164, product: Product| {
        let svc = svc.clone();
        let p = p.clone();
        async move {
            let mut v = svc
                .add_numbers(
                    &p,
                    vec![numberpool::service::AddNumber {
                        phone_number: e,
                        fields: NewNumber {
                            product: Some(product),
                            ..Default::default()
                        },
                    }],
                )
                .await
                .must("add");
            v.pop().must("added")
        }
    };
    let tf1 = add_to_pool(toll_free(1), Product::Phone).await;
    assert_eq!(tf1.number_type, numberpool_domain::NumberType::TollFree);
    let tf2 = add_to_pool(toll_free(2), Product::Phone).await;
    let cc1 = add_to_pool(e164(7301), Product::ContactCenter).await;
    let cc2 = add_to_pool(e164(7302), Product::ContactCenter).await;
    let to_customer = |n: &Number| {
        let (svc, p, id, to, trunk) = (svc.clone(), p.clone(), by_id(n), w.customer.id, w.trunk);
        async move { svc.allocate(&p, &id, to, with_trunk(trunk)).await }
    };
    to_customer(&tf1).await.must("first toll-free");
    refused(
        to_customer(&tf2).await,
        "rule_violation",
        Some("R-ACC-3"),
        "second toll-free past the licence",
    );
    to_customer(&cc1).await.must("first contact center");
    refused(
        to_customer(&cc2).await,
        "rule_violation",
        Some("R-ACC-3"),
        "second contact center past the licence",
    );
    let e = svc
        .entitlements(&p, w.customer.id)
        .await
        .must("entitlements");
    assert_eq!(
        (e.toll_free.limit, e.toll_free.used),
        (Some(1), 1),
        "toll-free"
    );
    assert_eq!(
        (e.contact_center.limit, e.contact_center.used),
        (Some(1), 1)
    );
    refused(
        svc.update_account(&p, w.customer.id, &limits(Some(0), Some(1)), None)
            .await,
        "rule_violation",
        Some("R-ACC-3"),
        "a limit below what is in use",
    );
    // Removing the number frees its licence.
    svc.release(&as_(&w.customer), &by_id(&tf1))
        .await
        .must("release");
    to_customer(&tf2).await.must("the freed licence");
    // Other customers are not limited by this one's licences; `null` lifts the limit.
    svc.allocate(&p, &by_id(&cc2), w.customer2.id, with_trunk(w.trunk))
        .await
        .must("another customer");
    svc.update_account(&p, w.customer.id, &limits(None, None), None)
        .await
        .must("no limits");
    let e = svc
        .entitlements(&p, w.customer.id)
        .await
        .must("entitlements");
    assert_eq!((e.toll_free.limit, e.toll_free.used), (None, 1));
    hidden(
        svc.entitlements(&as_(&w.tenant), w.customer.id).await,
        "another tenant's entitlements",
    );
}

/// Rounds per race; each on fresh numbers and accounts.
const ROUNDS: u32 = 6;
/// Assignments or allocations racing the one status change per round.
const MOVERS: usize = 8;

/// Runs `movers` and `change` together, released by one barrier; returns their outcomes.
async fn together<A, B>(
    movers: Vec<A>,
    change: B,
) -> (Vec<Result<Number, ServiceError>>, Result<(), ServiceError>)
where
    A: std::future::Future<Output = Result<Number, ServiceError>> + Send + 'static,
    B: std::future::Future<Output = Result<(), ServiceError>> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(movers.len() + 1));
    let mut tasks = Vec::new();
    for m in movers {
        let b = barrier.clone();
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            m.await
        }));
    }
    let b = barrier.clone();
    let change = tokio::spawn(async move {
        b.wait().await;
        change.await
    });
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.must("mover"));
    }
    (out, change.await.must("change"))
}

/// R-ACC-1 under contention: assignments of the provider's numbers race the customer's
/// disconnect request (through two servers on PostgreSQL). Either the request wins and no
/// number is on a user, or it is refused and at least one is.
async fn disconnect_request_races_assignments(db: &TestDb) {
    let apps = applications(db).await;
    let svc = apps[0].service().clone();
    let w = World::build(svc.clone()).await;
    let rc = as_(&w.root_customer);
    let (mut won, mut lost) = (0, 0);
    for round in 0..ROUNDS {
        let mut numbers = Vec::new();
        for i in 0..MOVERS as u32 {
            numbers.push(
                w.held_by(&w.root_customer, &e164(7400 + round * 20 + i))
                    .await,
            );
        }
        let movers = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let s = apps[i % apps.len()].service().clone();
                let (rc, id) = (rc.clone(), by_id(n));
                async move { s.assign(&rc, &id, user("racer")).await }
            })
            .collect();
        let change = {
            let s = apps[apps.len() - 1].service().clone();
            let (rc, provider) = (rc.clone(), w.provider.id);
            async move { s.request_disconnect(&rc, provider).await.map(|_| ()) }
        };
        let (assigned, request) = together(movers, change).await;
        let mut on_users = 0;
        for n in &numbers {
            if !svc
                .get_number(&rc, &by_id(n))
                .await
                .must("get")
                .assignees
                .is_empty()
            {
                on_users += 1;
            }
        }
        let ok = assigned.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            ok, on_users,
            "round {round}: assignments that say they won are the ones on users"
        );
        match request {
            Ok(()) => {
                won += 1;
                assert_eq!(
                    on_users, 0,
                    "round {round}: disconnect requested with numbers on users"
                );
                for r in assigned {
                    refused(
                        r,
                        "rule_violation",
                        Some("R-ACC-1"),
                        "assign after the request",
                    );
                }
                // Back to connected for the next round: release, deactivate, connect again.
                for n in &numbers {
                    svc.release(&rc, &by_id(n)).await.must("release");
                }
                svc.deactivate_connection(&as_(&w.provider), w.root_customer.id)
                    .await
                    .must("deactivate");
                svc.connect_exchange(&rc, &w.provider.account_number)
                    .await
                    .must("connect again");
            }
            Err(e) => {
                lost += 1;
                assert_eq!(
                    (e.code(), e.rule()),
                    ("rule_violation", Some("R-ACC-1")),
                    "{e}"
                );
                assert!(on_users > 0, "round {round}: refused with nothing on users");
                for n in &numbers {
                    let n = svc.get_number(&rc, &by_id(n)).await.must("get");
                    if !n.assignees.is_empty() {
                        svc.unassign(&rc, &by_id(&n), None).await.must("unassign");
                    }
                    svc.release(&rc, &by_id(&n)).await.must("release");
                }
            }
        }
    }
    assert_eq!(won + lost, ROUNDS);
    for app in &apps {
        app.service().store().close().await;
    }
}

/// R-OFF-1 under contention: allocations to a customer race its deactivation. Either the
/// deactivation wins and the customer holds nothing, or it is refused and it holds what the
/// winning allocations gave it.
async fn deactivation_races_allocations(db: &TestDb) {
    let apps = applications(db).await;
    let svc = apps[0].service().clone();
    let w = World::build(svc.clone()).await;
    let p = as_(&w.provider);
    for round in 0..ROUNDS {
        let target = account(
            &svc,
            &format!("Leaving customer {round}"),
            AccountKind::Customer,
            Some(&w.provider),
            false,
        )
        .await;
        let mut numbers = Vec::new();
        for i in 0..MOVERS as u32 {
            numbers.push(w.add(&w.provider, &e164(7600 + round * 20 + i)).await);
        }
        let movers = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let s = apps[i % apps.len()].service().clone();
                let (p, id, to, trunk) = (p.clone(), by_id(n), target.id, w.trunk);
                async move { s.allocate(&p, &id, to, with_trunk(trunk)).await }
            })
            .collect();
        let change = {
            let s = apps[apps.len() - 1].service().clone();
            let (p, id) = (p.clone(), target.id);
            async move { s.set_account_status(&p, id, true, None).await.map(|_| ()) }
        };
        let (allocated, deactivation) = together(movers, change).await;
        let held = holds(&svc, &target).await;
        let ok = allocated.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            ok, held,
            "round {round}: allocations that say they won are the ones held"
        );
        let now = status(&svc, &target).await;
        match deactivation {
            Ok(()) => {
                assert_eq!(now, AccountStatus::Deactivated);
                assert_eq!(
                    held, 0,
                    "round {round}: a deactivated customer holds numbers"
                );
                for r in allocated {
                    refused(
                        r,
                        "rule_violation",
                        Some("R-MOVE-1"),
                        "allocate to the deactivated",
                    );
                }
            }
            Err(e) => {
                assert_eq!(
                    (e.code(), e.rule()),
                    ("rule_violation", Some("R-OFF-1")),
                    "{e}"
                );
                assert_eq!(now, AccountStatus::Active);
                assert!(held > 0, "round {round}: refused with nothing held");
            }
        }
    }
    for app in &apps {
        app.service().store().close().await;
    }
}

/// R-ACC-3 under contention: toll-free allocations to a customer with one licence left; one
/// wins.
async fn licences_hold_under_contention(db: &TestDb) {
    let apps = applications(db).await;
    let svc = apps[0].service().clone();
    let w = World::build(svc.clone()).await;
    let p = as_(&w.provider);
    svc.update_account(
        &p,
        w.customer2.id,
        &AccountPatch {
            toll_free_licences: Some(Some(1)),
            ..Default::default()
        },
        None,
    )
    .await
    .must("limit");
    let mut numbers = Vec::new();
    for i in 0..MOVERS as u32 {
        numbers.push(w.add(&w.provider, &toll_free(100 + i)).await);
    }
    let movers: Vec<_> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let s = apps[i % apps.len()].service().clone();
            let (p, id, to, trunk) = (p.clone(), by_id(n), w.customer2.id, w.trunk);
            tokio::spawn(async move { s.allocate(&p, &id, to, with_trunk(trunk)).await })
        })
        .collect();
    let mut ok = 0;
    for m in movers {
        match m.await.must("mover") {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(
                (e.code(), e.rule()),
                ("rule_violation", Some("R-ACC-3")),
                "{e}"
            ),
        }
    }
    assert_eq!(ok, 1, "one licence, one allocation");
    let e = svc
        .entitlements(&p, w.customer2.id)
        .await
        .must("entitlements");
    assert_eq!(e.toll_free.used, 1);
    for app in &apps {
        app.service().store().close().await;
    }
}

/// The review's cases: a provider whose numbers are with a connected customer stays active, a
/// unit below a deactivated unit takes no number, a customer's own numbers take no licence, and
/// a unit's admin does not see the business above it in the assignments view.
async fn offboarding_edges(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    // Only the connected customer holds anything of the provider's.
    let n = w.held_by(&w.root_customer, &e164(7801)).await;
    refused(
        svc.set_account_status(&Actor::operator(), w.provider.id, true, None)
            .await,
        "rule_violation",
        Some("R-OFF-1"),
        "a provider whose number is with a connected customer",
    );
    let off = svc
        .operator_offboarding(w.provider.id)
        .await
        .must("the operator's check");
    let codes: Vec<(&str, i64)> = off.checks[0]
        .blockers
        .iter()
        .map(|b| (b.code, b.count))
        .collect();
    assert_eq!(codes, [("numbers_with_connected_customers", 1)]);
    svc.release(&as_(&w.root_customer), &by_id(&n))
        .await
        .must("release");
    svc.delete_number(&p, &by_id(&n), None).await.must("delete");

    // A unit below a deactivated unit.
    let inner = account(svc, "Inner unit", AccountKind::Unit, Some(&w.unit), false).await;
    svc.set_account_status(&as_(&w.customer), w.unit.id, true, None)
        .await
        .must("deactivate the outer unit");
    let m = w.held_by(&w.customer, &e164(7802)).await;
    refused(
        svc.move_to_unit(&as_(&w.customer), &by_id(&m), inner.id)
            .await,
        "rule_violation",
        Some("R-MOVE-5"),
        "into a unit below a deactivated one",
    );
    svc.set_account_status(&as_(&w.customer), w.unit.id, false, None)
        .await
        .must("reactivate");
    svc.move_to_unit(&as_(&w.customer), &by_id(&m), inner.id)
        .await
        .must("into the inner unit");
    let v = svc
        .number_assignments(&as_(&inner), &by_id(&m))
        .await
        .must("assignments as the inner unit");
    assert!(v.business.is_none() && v.business_unit.is_none(), "{v:?}");
    assert_eq!(v.program.map(|a| a.id), Some(inner.id));
    assert_eq!(v.units.iter().map(|a| a.id).collect::<Vec<_>>(), [inner.id]);
    let v = svc
        .number_assignments(&as_(&w.customer), &by_id(&m))
        .await
        .must("assignments as the customer");
    assert_eq!(v.business.map(|a| a.id), Some(w.customer.id));
    assert_eq!(v.business_unit.map(|a| a.id), Some(w.unit.id));
    assert_eq!(v.program.map(|a| a.id), Some(inner.id));

    // A customer's own toll-free number takes no licence.
    svc.update_account(
        &p,
        w.ext_customer.id,
        &AccountPatch {
            toll_free_licences: Some(Some(0)),
            ..Default::default()
        },
        None,
    )
    .await
    .must("no toll-free licences");
    w.add(&w.ext_customer, &toll_free(700)).await;
    // Nor does turning one of its own numbers into a contact-center number, with no licence.
    svc.update_account(
        &p,
        w.ext_customer.id,
        &AccountPatch {
            contact_center_licences: Some(Some(0)),
            ..Default::default()
        },
        None,
    )
    .await
    .must("no contact-center licences");
    let own = w.add(&w.ext_customer, &e164(7803)).await;
    svc.update_number(
        &as_(&w.ext_customer),
        &by_id(&own),
        &numberpool_domain::NumberPatch {
            product: Some(Product::ContactCenter),
            ..Default::default()
        },
        None,
    )
    .await
    .must("its own number becomes contact center");
    let e = svc
        .entitlements(&p, w.ext_customer.id)
        .await
        .must("entitlements");
    assert_eq!((e.toll_free.limit, e.toll_free.used), (Some(0), 0));
    // A connected provider does not see a customer's licences (they count every provider's).
    hidden(
        svc.entitlements(&p, w.root_customer.id).await,
        "a connected customer's entitlements",
    );
    // No account is above a root customer: its licences are the operator's to set, and bind the
    // providers connected to it.
    hidden(
        svc.update_account(
            &p,
            w.root_customer.id,
            &AccountPatch {
                toll_free_licences: Some(Some(0)),
                ..Default::default()
            },
            None,
        )
        .await,
        "a connected provider sets a root customer's licences",
    );
    svc.update_account(
        &Actor::operator(),
        w.root_customer.id,
        &AccountPatch {
            toll_free_licences: Some(Some(0)),
            ..Default::default()
        },
        None,
    )
    .await
    .must("the operator sets them");
    let tf = w.add(&w.provider, &toll_free(701)).await;
    let e = refused(
        svc.allocate(&p, &by_id(&tf), w.root_customer.id, with_trunk(w.trunk))
            .await,
        "rule_violation",
        Some("R-ACC-3"),
        "toll-free to a root customer without licences",
    );
    assert!(
        !e.to_string().chars().any(|c| c.is_ascii_digit()),
        "the refusal names no counts: {e}"
    );
}

/// Concurrent adds with attributes under one provider, through two servers on PostgreSQL: each
/// takes the provider's row shared, so none waits for another and none deadlocks.
async fn concurrent_adds_with_attributes(db: &TestDb) {
    let apps = applications(db).await;
    let svc = apps[0].service().clone();
    let w = World::build(svc.clone()).await;
    svc.create_attribute(&as_(&w.provider), "region", vec!["emea".into()])
        .await
        .must("attribute");
    let adders: Vec<_> = (0..MOVERS as u32)
        .map(|i| {
            let s = apps[i as usize % apps.len()].service().clone();
            let who = if i % 2 == 0 { &w.provider } else { &w.reseller };
            let actor = as_(who);
            tokio::spawn(async move {
                let mut fields = NewNumber::default();
                fields.attributes.insert("region".into(), "emea".into());
                let adds = (0..20)
                    .map(|k| numberpool::service::AddNumber {
                        phone_number: e164(7900 + i * 20 + k),
                        fields: fields.clone(),
                    })
                    .collect();
                s.add_numbers(&actor, adds).await
            })
        })
        .collect();
    for a in adders {
        let added = a.await.must("adder").must("add with attributes");
        assert_eq!(added.len(), 20);
    }
    for app in &apps {
        app.service().store().close().await;
    }
}

/// The portal's account names (kept between requests, issue 12) follow a rename, a new
/// customer and a Provider Exchange disconnect as soon as a new session read sees the change,
/// and never hold another tenant's accounts (R-SEC-1).
async fn portal_account_names_follow_every_scope_change(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let admin = as_(&w.provider);
    svc.create_user(
        &admin,
        w.provider.id,
        "names@provider.example",
        numberpool::service::Role::Admin,
        "long enough password",
    )
    .await
    .must("user");
    let session = || async {
        let s = svc
            .sign_in("names@provider.example", "long enough password")
            .await
            .must("sign in");
        svc.portal_session(&s.id).await.must("session")
    };
    let kinds = [AccountKind::Customer, AccountKind::Unit];
    let names = |g: i64| {
        let actor = admin.clone();
        async move {
            let got = svc.account_names(&actor, &kinds, g).await.must("names");
            let mut v: Vec<String> = got.iter().map(|a| a.name.clone()).collect();
            v.sort();
            v
        }
    };
    let s0 = session().await;
    let before = names(s0.scope_generation).await;
    assert!(before.contains(&"Customer".to_string()), "{before:?}");
    assert!(before.contains(&"Root customer".to_string()), "{before:?}");
    assert!(
        !before.iter().any(|n| n.starts_with("Unrelated")),
        "another tenant's accounts: {before:?}"
    );
    // Unchanged: the same names again (kept).
    assert_eq!(names(session().await.scope_generation).await, before);

    let patch = AccountPatch {
        name: Some("Customer renamed".into()),
        ..AccountPatch::default()
    };
    svc.update_account(&admin, w.customer.id, &patch, None)
        .await
        .must("rename");
    let s1 = session().await;
    assert!(s1.scope_generation > s0.scope_generation);
    let renamed = names(s1.scope_generation).await;
    assert!(
        renamed.contains(&"Customer renamed".to_string()),
        "{renamed:?}"
    );
    assert!(!renamed.contains(&"Customer".to_string()), "{renamed:?}");

    svc.create_account(
        &admin,
        numberpool::service::CreateAccount::new(
            "Newcomer",
            AccountKind::Customer,
            Some(w.provider.id),
        ),
    )
    .await
    .must("new customer");
    let added = names(session().await.scope_generation).await;
    assert!(added.contains(&"Newcomer".to_string()), "{added:?}");

    // The connected root customer leaves the provider's scope once the connection ends.
    svc.request_disconnect(&as_(&w.root_customer), w.provider.id)
        .await
        .must("disconnect request");
    svc.deactivate_connection(&admin, w.root_customer.id)
        .await
        .must("deactivate connection");
    let after = names(session().await.scope_generation).await;
    assert!(!after.contains(&"Root customer".to_string()), "{after:?}");
}

backend_tests!(
    portal_account_names_follow_every_scope_change,
    offboarding_edges,
    concurrent_adds_with_attributes,
    deactivation_needs_an_empty_subtree,
    exchange_walks_r_acc_1,
    customers_list_children_and_connected,
    entitlements_count_licences,
    disconnect_request_races_assignments,
    deactivation_races_allocations,
    licences_hold_under_contention,
);
