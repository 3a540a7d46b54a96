//! Boundaries found in review: a customer connected to two providers, history seen by a later
//! holder, credentials through a connection, carriers of another tenant, and a held number's
//! trunk.

use numberpool::service::Role;
use numberpool_domain::{Assignee, AssigneeType, CarrierId, NumberPatch};
use numberpool_store::testing::TestDb;
use numberpool_store::{NumberFilter, backend_tests};

use crate::fixture::*;

/// R-SEC-1: a root customer connected to two providers holds numbers of both; each provider
/// sees only its own.
async fn shared_connected_customer(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    svc.connect_exchange(&as_(&w.root_customer), &w.tenant.account_number)
        .await
        .must("connect to the second provider");
    let theirs = w.add(&w.tenant, &e164(9001)).await;
    let theirs = svc
        .allocate(
            &as_(&w.tenant),
            &by_id(&theirs),
            w.root_customer.id,
            with_trunk(w.tenant_trunk),
        )
        .await
        .must("the other provider allocates to the shared customer");
    let ours = w.held_by(&w.root_customer, &e164(9002)).await;

    hidden(
        w.get(&w.provider, &theirs).await,
        "get the other provider's number",
    );
    let patch = NumberPatch {
        billing_reference: Some(Some("hijacked".into())),
        ..Default::default()
    };
    hidden(
        svc.update_number(&as_(&w.provider), &by_id(&theirs), &patch, None)
            .await,
        "edit the other provider's number",
    );
    hidden(
        svc.number_history(&as_(&w.provider), &by_e164(&theirs))
            .await,
        "history of the other provider's number",
    );
    let page = svc
        .list_numbers(&as_(&w.provider), &NumberFilter::default(), None, 1000)
        .await
        .must("list");
    assert!(
        page.items.iter().all(|n| n.id != theirs.id),
        "the other provider's number is listed"
    );
    assert!(
        page.items.iter().any(|n| n.id == ours.id),
        "our own number at the customer is listed"
    );
    // Each provider and the customer still see what is theirs.
    assert_eq!(
        w.get(&w.tenant, &theirs)
            .await
            .must("the owner sees it")
            .billing_reference,
        None
    );
    w.get(&w.root_customer, &theirs)
        .await
        .must("the customer sees it");
    w.get(&w.root_customer, &ours)
        .await
        .must("the customer sees ours");
}

/// A later holder sees the number's life from its own allocation on, not the earlier
/// holder's assignees; the owner sees everything.
async fn history_since_allocation(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let n = w.held_by(&w.customer, &e164(9101)).await;
    let secret = Assignee {
        kind: AssigneeType::User,
        id: "alice-secret".into(),
        display_name: None,
    };
    svc.assign(&as_(&w.customer), &by_id(&n), secret)
        .await
        .must("assign");
    svc.unassign(&as_(&w.customer), &by_id(&n), None)
        .await
        .must("unassign");
    // What the customer names the number for its own use leaves with it (R-SEC-1).
    let own_use = NumberPatch {
        display_name: Some(Some("Globex collections line".into())),
        call_purpose: Some(Some("globex-debt-collection".into())),
        ..Default::default()
    };
    svc.update_number(&as_(&w.customer), &by_id(&n), &own_use, None)
        .await
        .must("customer names its number");
    svc.release(&as_(&w.customer), &by_id(&n))
        .await
        .must("release");
    svc.unbind(&as_(&w.provider), &by_id(&n))
        .await
        .must("unbind");
    svc.allocate(
        &as_(&w.provider),
        &by_id(&n),
        w.customer2.id,
        with_trunk(w.trunk),
    )
    .await
    .must("allocate to the second customer");

    let theirs = svc
        .number_history(&as_(&w.customer2), &by_id(&n))
        .await
        .must("history");
    assert_eq!(actions(&theirs), [Action::NumberAllocate]);
    let text = serde_json::to_string(&theirs).must("json");
    for earlier in [
        "alice-secret",
        "Globex collections line",
        "globex-debt-collection",
    ] {
        assert!(
            !text.contains(earlier),
            "an earlier holder's {earlier} leaked: {text}"
        );
    }
    assert!(
        theirs[0].before.is_none(),
        "the state before the allocation was the earlier holder's"
    );
    let now = w.get(&w.customer2, &n).await.must("the new holder sees it");
    assert_eq!((now.display_name, now.call_purpose), (None, None));
    // A unit of the new customer sees the same window once the number moves there.
    svc.move_to_unit(&as_(&w.customer2), &by_id(&n), w.unit2.id)
        .await
        .must("move to unit");
    let unit_view = svc
        .number_history(&as_(&w.unit2), &by_id(&n))
        .await
        .must("unit history");
    assert_eq!(
        actions(&unit_view),
        [Action::NumberAllocate, Action::NumberMoveToUnit]
    );

    let all = svc
        .number_history(&as_(&w.provider), &by_id(&n))
        .await
        .must("owner history");
    assert_eq!(
        actions(&all),
        [
            Action::NumberAdd,
            Action::NumberAllocate,
            Action::NumberAssign,
            Action::NumberUnassign,
            Action::NumberUpdate,
            Action::NumberRelease,
            Action::NumberUnbind,
            Action::NumberAllocate,
            Action::NumberMoveToUnit
        ]
    );
}

/// Credentials and users are managed in one's own subtree only: a Provider Exchange
/// connection lets a provider provision a customer, not act as it.
async fn credentials_not_through_connections(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    hidden(
        svc.create_client(&as_(&w.provider), w.root_customer.id, None)
            .await,
        "client for a connected customer",
    );
    hidden(
        svc.create_user(
            &as_(&w.provider),
            w.root_customer.id,
            "x@root.example",
            Role::Admin,
            "long enough password",
        )
        .await,
        "user for a connected customer",
    );
    svc.create_client(&as_(&w.provider), w.customer.id, None)
        .await
        .must("client for a child customer");
    // Another tenant's user and an unknown email answer alike.
    svc.create_user(
        &as_(&w.tenant),
        w.tenant.id,
        "Boss@Tenant.example",
        Role::Owner,
        "long enough password",
    )
    .await
    .must("tenant user");
    let foreign = hidden(
        svc.reset_password(
            &as_(&w.provider),
            "boss@tenant.example",
            "another long password",
        )
        .await,
        "reset another tenant's user",
    );
    let unknown = hidden(
        svc.reset_password(
            &as_(&w.provider),
            "nobody@nowhere.example",
            "another long password",
        )
        .await,
        "reset an unknown user",
    );
    assert_eq!(foreign.to_string(), unknown.to_string());
    refused(
        svc.reset_password(&as_(&w.tenant), "BOSS@tenant.example", "short")
            .await,
        "invalid_input",
        None,
        "short password on reset",
    );
    svc.reset_password(
        &as_(&w.tenant),
        "BOSS@tenant.example",
        "another long password",
    )
    .await
    .must("reset by the owner's tenant, email in any case");
}

/// Carriers are the number owner's, of the right kind; a held number keeps a trunk.
async fn carriers_and_trunks(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let ours_voice = carrier(&w.store, &w.provider, "voice", "Voice A", true).await;
    let ours_sms = carrier(&w.store, &w.provider, "sms", "SMS A", true).await;
    let theirs_voice = carrier(&w.store, &w.tenant, "voice", "Voice T", true).await;
    let n = w.add(&w.provider, &e164(9201)).await;
    let voice = |c| NumberPatch {
        voice_carrier_id: Some(Some(c)),
        ..Default::default()
    };
    let sms = |c| NumberPatch {
        sms_carrier_id: Some(Some(c)),
        ..Default::default()
    };
    for (patch, what) in [
        (voice(theirs_voice), "another tenant's voice carrier"),
        (voice(ours_sms), "an SMS profile as the voice carrier"),
        (sms(ours_voice), "a voice carrier as the SMS profile"),
        (voice(CarrierId::new()), "an unknown carrier"),
    ] {
        let e = svc
            .update_number(&as_(&w.provider), &by_id(&n), &patch, None)
            .await;
        assert_eq!(
            e.as_ref().err().map(|e| e.code()),
            Some("not_found"),
            "{what}: {e:?}"
        );
    }
    let set = svc
        .update_number(&as_(&w.provider), &by_id(&n), &voice(ours_voice), None)
        .await
        .must("own carrier");
    assert_eq!(set.voice_carrier_id, Some(ours_voice));

    let held = w.held_by(&w.customer, &e164(9202)).await;
    let clear = NumberPatch {
        sip_trunk_id: Some(None),
        ..Default::default()
    };
    refused(
        svc.update_number(&as_(&w.customer), &by_id(&held), &clear, None)
            .await,
        "rule_violation",
        Some("R-EDIT-1"),
        "clear the trunk of a held number",
    );
    // In the pool it may go.
    let free = svc
        .update_number(&as_(&w.provider), &by_id(&n), &clear, None)
        .await
        .must("clear in pool");
    assert_eq!(free.sip_trunk_id, None);
}

backend_tests!(
    shared_connected_customer,
    history_since_allocation,
    credentials_not_through_connections,
    carriers_and_trunks
);
