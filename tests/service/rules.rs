//! Every refusal names its rule: asserted with the code and the rule id.

use numberpool::service::{AddNumber, CreateAccount};
use numberpool_domain::{
    AccountKind, Capacity, Customization, NewNumber, NumberPatch, NumberStatus, NumberType,
    Position, Product, VoiceDirection,
};
use numberpool_store::NumberFilter;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

/// R-MOVE-1 (unit, non-child, deactivated target), R-ALLOC-1 (not free), R-MOVE-2, R-MOVE-5.
async fn move_refusals(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let n = w.add(p, &e164(300)).await;
    let opts = || with_trunk(w.trunk);

    let to = |target: numberpool_domain::AccountId| {
        let n = n.clone();
        let p = p.clone();
        async move { svc.allocate(&as_(&p), &by_id(&n), target, opts()).await }
    };
    refused(
        to(w.unit.id).await,
        "rule_violation",
        Some("R-MOVE-1"),
        "to a unit",
    );
    refused(
        to(w.res_customer.id).await,
        "rule_violation",
        Some("R-MOVE-1"),
        "to a grandchild (the reseller's customer)",
    );
    refused(
        to(p.id).await,
        "rule_violation",
        Some("R-MOVE-1"),
        "to itself",
    );
    // A customer has no pool to allocate from.
    let held = w.held_by(&w.customer, &e164(301)).await;
    refused(
        svc.allocate(&as_(&w.customer), &by_id(&held), w.unit.id, opts())
            .await,
        "rule_violation",
        Some("R-MOVE-1"),
        "a customer allocates",
    );
    // Deactivated target.
    let gone = account(
        svc,
        "Deactivated customer",
        AccountKind::Customer,
        Some(p),
        false,
    )
    .await;
    svc.set_account_status(&as_(&w.provider), gone.id, true, None)
        .await
        .must("deactivate");
    refused(
        to(gone.id).await,
        "rule_violation",
        Some("R-MOVE-1"),
        "to a deactivated account",
    );
    // Another tenant's customer is not merely "not a child": it is not there at all.
    hidden(
        to(w.tenant_customer.id).await,
        "to another tenant's customer",
    );
    // Nothing of the above moved it.
    let same = w.get(p, &n).await.must("get");
    assert_eq!((same.holder_id, same.version), (p.id, n.version));

    // R-ALLOC-1: only a free number in the actor's own pool is allocated.
    refused(
        svc.allocate(&as_(p), &by_id(&held), w.customer2.id, opts())
            .await,
        "conflict",
        Some("R-ALLOC-1"),
        "allocate a number held by a customer",
    );
    let returned = svc
        .release(&as_(&w.customer), &by_id(&held))
        .await
        .must("release");
    refused(
        svc.allocate(&as_(p), &by_id(&returned), w.customer2.id, opts())
            .await,
        "conflict",
        Some("R-ALLOC-1"),
        "allocate a returned number",
    );
    let at_reseller = svc
        .allocate(&as_(p), &by_id(&n), w.reseller.id, opts())
        .await
        .must("to the reseller");
    refused(
        svc.allocate(&as_(p), &by_id(&at_reseller), w.customer2.id, opts())
            .await,
        "conflict",
        Some("R-ALLOC-1"),
        "allocate a number in the reseller's pool",
    );

    // R-MOVE-2: the provider does not assign; a number in a pool is not assigned.
    let m = w.held_by(&w.customer, &e164(302)).await;
    refused(
        svc.assign(&as_(p), &by_id(&m), user("u-1")).await,
        "rule_violation",
        Some("R-MOVE-2"),
        "the provider assigns",
    );
    refused(
        svc.assign(&as_(&w.reseller), &by_id(&at_reseller), user("u-1"))
            .await,
        "rule_violation",
        Some("R-MOVE-2"),
        "assign in a reseller's pool",
    );
    refused(
        svc.unassign(&as_(&w.customer), &by_id(&m), None).await,
        "rule_violation",
        Some("R-MOVE-2"),
        "unassign with no assignee",
    );
    // A unit does not act on its customer's own holding.
    hidden(
        svc.assign(&as_(&w.unit), &by_id(&m), user("u-1")).await,
        "a unit assigns its parent's number",
    );

    // R-ASG-1: single_user takes one assignee.
    let m = svc
        .assign(&as_(&w.customer), &by_id(&m), user("u-1"))
        .await
        .must("assign");
    refused(
        svc.assign(&as_(&w.customer), &by_id(&m), user("u-2")).await,
        "rule_violation",
        Some("R-ASG-1"),
        "second assignee on single_user",
    );
    // R-MOVE-3: an assigned number is unassigned before it is released.
    refused(
        svc.release(&as_(&w.customer), &by_id(&m)).await,
        "rule_violation",
        Some("R-MOVE-3"),
        "release while assigned",
    );

    // Moving to another customer's unit: that unit is outside the customer's scope, so the
    // answer is R-SEC-1 `not_found` (saying R-MOVE-5 would confirm that the account exists).
    hidden(
        svc.move_to_unit(&as_(&w.customer), &by_id(&m), w.unit2.id)
            .await,
        "move to another customer's unit",
    );
    // The provider sees both, but moving within a customer is the customer's move (R-MOVE-2).
    refused(
        svc.move_to_unit(&as_(p), &by_id(&m), w.unit2.id).await,
        "rule_violation",
        Some("R-MOVE-2"),
        "the provider moves a number to a unit",
    );
    // Within the customer, and back again, is fine.
    let m = svc
        .move_to_unit(&as_(&w.customer), &by_id(&m), w.unit.id)
        .await
        .must("to own unit");
    let m = svc
        .move_to_unit(&as_(&w.customer), &by_id(&m), w.customer.id)
        .await
        .must("back to the customer");
    assert_eq!(m.holder_id, w.customer.id);
}

fn patch() -> NumberPatch {
    NumberPatch::default()
}

/// R-CAP-1, R-STAT-1, R-PROD-1, R-EDIT-1 through update_number.
async fn edit_refusals(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p, c) = (&w.service, &w.provider, &w.customer);
    let carrier = carrier(&w.store, p, "voice", "Carrier A", false).await;

    // R-CAP-1: carriers change only without assignees.
    let n = w.held_by(c, &e164(400)).await;
    let n = svc
        .assign(&as_(c), &by_id(&n), user("u-1"))
        .await
        .must("assign");
    let carrier_patch = NumberPatch {
        voice_carrier_id: Some(Some(carrier)),
        ..patch()
    };
    refused(
        svc.update_number(&as_(p), &by_id(&n), &carrier_patch, None)
            .await,
        "rule_violation",
        Some("R-CAP-1"),
        "carrier change with an assignee",
    );
    let n = svc
        .unassign(&as_(c), &by_id(&n), Some("u-1"))
        .await
        .must("unassign");
    let n = svc
        .update_number(&as_(p), &by_id(&n), &carrier_patch, Some(n.version))
        .await
        .must("carrier change without assignees");
    assert_eq!(n.voice_carrier_id, Some(carrier));
    // A stale version fails the precondition (If-Match), not a silent overwrite; so does a
    // delete, which then leaves the number alone.
    refused(
        svc.update_number(&as_(p), &by_id(&n), &patch(), Some(n.version - 1))
            .await,
        "precondition_failed",
        None,
        "stale if_version",
    );
    refused(
        svc.delete_number(&as_(p), &by_id(&n), Some(n.version + 1))
            .await,
        "precondition_failed",
        None,
        "delete with another if_version",
    );
    assert_eq!(w.get(p, &n).await.must("still there").version, n.version);

    // R-STAT-1: an active number never goes back to pending.
    let active = w.add(p, &e164(401)).await;
    assert_eq!(active.status, NumberStatus::Normal);
    refused(
        svc.update_number(
            &as_(p),
            &by_id(&active),
            &NumberPatch {
                status: Some(NumberStatus::Pending),
                ..patch()
            },
            None,
        )
        .await,
        "rule_violation",
        Some("R-STAT-1"),
        "normal → pending",
    );

    // R-EDIT-1: an active number's type is fixed; a pending one's may change.
    let other_type = if active.number_type == NumberType::TollFree {
        NumberType::Local
    } else {
        NumberType::TollFree
    };
    let type_patch = NumberPatch {
        number_type: Some(other_type),
        ..patch()
    };
    refused(
        svc.update_number(&as_(p), &by_id(&active), &type_patch, None)
            .await,
        "rule_violation",
        Some("R-EDIT-1"),
        "type of an active number",
    );
    let pending = svc
        .add_numbers(
            &as_(p),
            vec![AddNumber {
                phone_number: e164(402),
                fields: NewNumber {
                    status: Some(NumberStatus::Pending),
                    ..Default::default()
                },
            }],
        )
        .await
        .must("add pending")
        .remove(0);
    let pending = svc
        .update_number(&as_(p), &by_id(&pending), &type_patch, None)
        .await
        .must("type of a pending number");
    assert_eq!(pending.number_type, other_type);
    let pending = svc
        .update_number(
            &as_(p),
            &by_id(&pending),
            &NumberPatch {
                status: Some(NumberStatus::Normal),
                ..patch()
            },
            None,
        )
        .await
        .must("pending → normal");
    assert_eq!(pending.status, NumberStatus::Normal);

    // R-PROD-1: unallocated becomes a product once, then never changes.
    assert_eq!(active.product, Product::Unallocated);
    let product = |p: Product| NumberPatch {
        product: Some(p),
        ..patch()
    };
    let active = svc
        .update_number(&as_(p), &by_id(&active), &product(Product::Phone), None)
        .await
        .must("unallocated → phone");
    refused(
        svc.update_number(
            &as_(p),
            &by_id(&active),
            &product(Product::ContactCenter),
            None,
        )
        .await,
        "rule_violation",
        Some("R-PROD-1"),
        "phone → contact_center",
    );
    refused(
        svc.update_number(
            &as_(p),
            &by_id(&active),
            &product(Product::Unallocated),
            None,
        )
        .await,
        "rule_violation",
        Some("R-PROD-1"),
        "phone → unallocated",
    );
    // R-CUST-* hold on edits too.
    refused(
        svc.update_number(
            &as_(p),
            &by_id(&active),
            &NumberPatch {
                customization: Some(Customization {
                    outbound_dialer: true,
                    voice_direction: VoiceDirection::InboundOnly,
                    ..Default::default()
                }),
                ..patch()
            },
            None,
        )
        .await,
        "rule_violation",
        Some("R-CUST-2"),
        "dialer on an inbound-only number",
    );
    // None of the refused edits was written: the history has the accepted ones only.
    let h = svc
        .number_history(&as_(p), &by_id(&active))
        .await
        .must("history");
    assert_eq!(actions(&h), [Action::NumberAdd, Action::NumberUpdate]);
}

fn with(n: u32, product: Product, c: Customization) -> AddNumber {
    AddNumber {
        phone_number: e164(n),
        fields: NewNumber {
            product: Some(product),
            customization: Some(c),
            ..Default::default()
        },
    }
}

/// R-CUST-1..3, R-ACC-2, R-NUM-1 through add_numbers.
async fn add_refusals(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let cases = [
        (
            "R-CUST-1",
            Product::ContactCenter,
            Customization {
                capacity: Capacity::SingleContactCenter,
                ..Default::default()
            },
        ),
        (
            "R-CUST-2",
            Product::Phone,
            Customization {
                outbound_dialer: true,
                voice_direction: VoiceDirection::InboundOnly,
                ..Default::default()
            },
        ),
        (
            "R-CUST-3",
            Product::Phone,
            Customization {
                outbound_cli_shared: true,
                capacity: Capacity::SingleUser,
                ..Default::default()
            },
        ),
        (
            "R-CUST-3",
            Product::Phone,
            Customization {
                outbound_cli_shared: true,
                capacity: Capacity::Multiple,
                voice_direction: VoiceDirection::InboundOnly,
                ..Default::default()
            },
        ),
    ];
    for (i, (rule, product, c)) in cases.into_iter().enumerate() {
        // A good number first: the whole batch is refused.
        let good = with(500 + 2 * i as u32, Product::Phone, Customization::default());
        let bad = with(501 + 2 * i as u32, product, c);
        let e = refused(
            svc.add_numbers(&as_(p), vec![good.clone(), bad.clone()])
                .await,
            "rule_violation",
            Some(rule),
            rule,
        );
        assert!(e.to_string().contains(bad.phone_number.as_str()), "{e}");
        for a in [good, bad] {
            hidden(
                svc.get_number(
                    &as_(p),
                    &numberpool_store::NumberLookup::E164(a.phone_number),
                )
                .await,
                "nothing of a refused batch is added",
            );
        }
    }
    // The allowed neighbours of those combinations are accepted.
    let ok = svc
        .add_numbers(
            &as_(p),
            vec![
                with(
                    520,
                    Product::ContactCenter,
                    Customization {
                        capacity: Capacity::Multiple,
                        ..Default::default()
                    },
                ),
                with(
                    521,
                    Product::Phone,
                    Customization {
                        outbound_dialer: true,
                        voice_direction: VoiceDirection::OutboundOnly,
                        ..Default::default()
                    },
                ),
                with(
                    522,
                    Product::Phone,
                    Customization {
                        outbound_cli_shared: true,
                        capacity: Capacity::Multiple,
                        ..Default::default()
                    },
                ),
            ],
        )
        .await
        .must("valid customizations");
    assert_eq!(ok.len(), 3);

    // R-ACC-2: a customer adds numbers only when allowed external numbers.
    refused(
        svc.add_numbers(&as_(&w.customer), vec![add(&e164(530))])
            .await,
        "rule_violation",
        Some("R-ACC-2"),
        "customer without allow_external_numbers",
    );
    refused(
        svc.add_numbers(&as_(&w.unit), vec![add(&e164(530))]).await,
        "rule_violation",
        Some("R-ACC-2"),
        "unit",
    );
    let x = &w.ext_customer;
    let own = w.add(x, &e164(531)).await;
    assert_eq!(own.source, "external");
    assert_eq!(own.position, Position::Held);
    assert_eq!(
        (
            own.holder_id,
            own.customer_id,
            own.uploaded_by,
            own.owner_id,
            own.allocated_from
        ),
        (x.id, Some(x.id), x.id, x.id, None)
    );
    // Its own number: the provider sees it but cannot delete it (R-DEL-2), the customer can
    // once unassigned (R-DEL-1 while assigned), and it is not released anywhere (R-MOVE-3).
    w.get(p, &own)
        .await
        .must("provider sees the external number");
    refused(
        svc.delete_number(&as_(p), &by_id(&own), None).await,
        "rule_violation",
        Some("R-DEL-2"),
        "provider deletes the customer's own number",
    );
    refused(
        svc.release(&as_(x), &by_id(&own)).await,
        "rule_violation",
        Some("R-MOVE-3"),
        "release an own number",
    );
    let own = svc
        .assign(&as_(x), &by_id(&own), user("u-1"))
        .await
        .must("assign own");
    refused(
        svc.delete_number(&as_(x), &by_id(&own), None).await,
        "rule_violation",
        Some("R-DEL-1"),
        "delete own while assigned",
    );
    let own = svc
        .unassign(&as_(x), &by_id(&own), None)
        .await
        .must("unassign own");
    svc.delete_number(&as_(x), &by_id(&own), Some(own.version))
        .await
        .must("delete own when unassigned, at the version read");
    hidden(w.get(x, &own).await, "deleted");
    // A customer does not remove a number the provider allocated to it from the platform: its
    // delete is the release (SPEC §3), so the provider sees the number returned (R-MOVE-3).
    let lent = w.held_by(x, &e164(532)).await;
    let gone = svc
        .delete_number(&as_(x), &by_id(&lent), None)
        .await
        .must("customer deletes an allocated number: released");
    assert_eq!(gone.position, numberpool_domain::Position::Returned);
    assert_eq!(gone.holder_id, p.id);
    hidden(w.get(x, &lent).await, "released");

    // R-NUM-1: unique across the platform, whoever adds it and however it is written.
    let taken = w.add(p, &e164(540)).await;
    for who in [p, &w.reseller, &w.ext_customer, &w.root_customer, &w.tenant] {
        refused(
            svc.add_numbers(&as_(who), vec![add(&e164(540))]).await,
            "number_already_exists",
            Some("R-NUM-1"),
            &format!("duplicate added by {}", who.name),
        );
    }
    let spelled = numberpool_domain::E164::parse("+1 (415) 555-0540").must("parse");
    refused(
        svc.add_numbers(&as_(&w.tenant), vec![add(&spelled)]).await,
        "number_already_exists",
        Some("R-NUM-1"),
        "same number written differently",
    );
    // A failed batch adds nothing: fresh numbers before and after the duplicate stay absent.
    let batch = vec![add(&e164(541)), add(&e164(540)), add(&e164(542))];
    let e = refused(
        svc.add_numbers(&as_(&w.tenant), batch).await,
        "number_already_exists",
        Some("R-NUM-1"),
        "batch with a platform duplicate",
    );
    assert!(e.to_string().contains(taken.phone_number.as_str()), "{e}");
    // Twice within one batch.
    let batch = vec![add(&e164(543)), add(&e164(544)), add(&e164(543))];
    let e = refused(
        svc.add_numbers(&as_(p), batch).await,
        "number_already_exists",
        Some("R-NUM-1"),
        "the same number twice in one batch",
    );
    assert!(e.to_string().contains("+14155550543"), "{e}");
    for i in [541, 542, 543, 544] {
        let l = numberpool_store::NumberLookup::E164(e164(i));
        hidden(
            svc.get_number(&as_(p), &l).await,
            "nothing of a failed batch",
        );
        hidden(
            svc.get_number(&as_(&w.tenant), &l).await,
            "nothing of a failed batch",
        );
    }
    let tenant_list = svc
        .list_numbers(&as_(&w.tenant), &NumberFilter::default(), None, 1000)
        .await
        .must("list");
    assert_eq!(tenant_list.total, 0);
    // The taken number is untouched by the attempts.
    let same = w.get(p, &taken).await.must("get");
    assert_eq!((same.holder_id, same.version), (p.id, taken.version));
    // Only the accepted adds are in the audit log.
    let mut r = w.store.read().await.must("read");
    let adds = r.audit_by_action(Action::NumberAdd).await.must("audit");
    // Adds are recorded one event per accepted batch, which lists the batch's numbers.
    let e540: Vec<_> = adds
        .iter()
        .filter(|e| {
            e.after.as_ref().is_some_and(|a| {
                a["phone_numbers"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x == taken.phone_number.as_str()))
            })
        })
        .collect();
    assert_eq!(e540.len(), 1);
    assert_eq!(Some(e540[0].id), taken.add_event_id);
    assert_eq!(
        adds.len(),
        4,
        "one event per accepted batch: the valid batch, own, lent, taken"
    );
    let listed: usize = adds
        .iter()
        .map(|e| {
            e.after
                .as_ref()
                .and_then(|a| a["phone_numbers"].as_array().map(Vec::len))
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(listed, 3 + 1 + 1 + 1, "the numbers those batches added");
}

/// R-TREE-1 through create_account, with and without an actor.
async fn tree_refusals(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let mk = |kind, parent: Option<&numberpool_domain::Account>| CreateAccount {
        name: "New account".into(),
        kind,
        parent_id: parent.map(|p| p.id),
        allow_external_numbers: false,
    };
    use AccountKind::*;
    let by_parent = [
        (Unit, &w.provider),
        (Provider, &w.provider),
        (Unit, &w.reseller),
        (Reseller, &w.customer),
        (Customer, &w.customer),
        (Customer, &w.unit),
        (Reseller, &w.unit),
    ];
    for (kind, parent) in by_parent {
        refused(
            svc.create_account(&as_(parent), mk(kind, Some(parent)))
                .await,
            "rule_violation",
            Some("R-TREE-1"),
            &format!("{kind:?} under {:?}", parent.kind),
        );
    }
    // The operator may create roots, but only providers and customers are roots.
    for kind in [Reseller, Unit] {
        refused(
            svc.create_account(&Actor::operator(), mk(kind, None)).await,
            "rule_violation",
            Some("R-TREE-1"),
            &format!("root {kind:?}"),
        );
    }
    refused(
        svc.create_account(&Actor::operator(), mk(Provider, Some(&w.provider)))
            .await,
        "rule_violation",
        Some("R-TREE-1"),
        "provider under provider by the operator",
    );
    // The allowed shapes, for contrast: reseller under reseller, unit under unit.
    let sub = svc
        .create_account(&as_(&w.reseller), mk(Reseller, Some(&w.reseller)))
        .await
        .must("reseller under reseller");
    assert_eq!(sub.parent_id, Some(w.reseller.id));
    svc.create_account(&as_(&w.customer), mk(Unit, Some(&w.unit)))
        .await
        .must("unit under unit");
    // An account creates below itself only: a parent outside its scope is not found.
    hidden(
        svc.create_account(&as_(&w.tenant), mk(Customer, Some(&w.provider)))
            .await,
        "child of another tenant",
    );
    refused(
        svc.create_account(&as_(&w.customer), mk(Customer, None))
            .await,
        "invalid_input",
        None,
        "an actor creating a root",
    );
    refused(
        svc.create_account(
            &as_(&w.provider),
            CreateAccount {
                allow_external_numbers: true,
                ..mk(Reseller, Some(&w.provider))
            },
        )
        .await,
        "invalid_input",
        None,
        "external numbers on a reseller",
    );
}

numberpool_store::backend_tests!(move_refusals, edit_refusals, add_refusals, tree_refusals);
