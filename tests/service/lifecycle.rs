//! A number's whole life through the service, at one level and through a reseller.

use numberpool::service::{AllocateOptions, NumberView};
use numberpool_domain::Position;
use numberpool_store::Channel;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

/// add → allocate → assign → unassign → move to unit → release → unbind → delete, with the
/// refusals and views in between and the history at the end.
async fn full_lifecycle(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p, c) = (&w.service, &w.provider, &w.customer);
    let n = w.add(p, &e164(100)).await;
    assert_eq!(n.position, Position::Free);
    assert_eq!((n.holder_id, n.uploaded_by, n.owner_id), (p.id, p.id, p.id));
    assert_eq!(NumberView::of(&n, p.id).position.as_str(), "free");

    // A number goes to a customer only with a SIP trunk; the refusal writes nothing.
    let e = refused(
        svc.allocate(&as_(p), &by_id(&n), c.id, AllocateOptions::default())
            .await,
        "invalid_input",
        None,
        "allocate without a trunk",
    );
    assert!(e.to_string().contains("sip_trunk_id"), "{e}");
    let still = w.get(p, &n).await.must("get");
    assert_eq!((still.holder_id, still.version), (p.id, n.version));

    let n = svc
        .allocate(&as_(p), &by_e164(&n), c.id, with_trunk(w.trunk))
        .await
        .must("allocate");
    assert_eq!(n.position, Position::Held);
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (c.id, Some(c.id), Some(p.id))
    );
    assert_eq!(n.sip_trunk_id, Some(w.trunk));
    assert_eq!(NumberView::of(&n, p.id).position.as_str(), "in_use");
    assert_eq!(NumberView::of(&n, c.id).position.as_str(), "unassigned");

    let n = svc
        .assign(&as_(c), &by_id(&n), user("u-1"))
        .await
        .must("assign");
    assert_eq!(n.assignees, vec![user("u-1")]);
    assert_eq!(NumberView::of(&n, c.id).position.as_str(), "assigned");

    let n = svc
        .unassign(&as_(c), &by_id(&n), None)
        .await
        .must("unassign");
    assert!(n.assignees.is_empty());

    let n = svc
        .move_to_unit(&as_(c), &by_id(&n), w.unit.id)
        .await
        .must("move to unit");
    assert_eq!((n.holder_id, n.customer_id), (w.unit.id, Some(c.id)));
    // The unit sees it; the customer still does, through its unit.
    w.get(&w.unit, &n).await.must("unit sees it");
    assert_eq!(
        NumberView::of(&w.get(c, &n).await.must("customer sees it"), c.id)
            .position
            .as_str(),
        "unassigned"
    );

    // The customer releases the number its unit holds: back to the provider, `returned`.
    let n = svc.release(&as_(c), &by_id(&n)).await.must("release");
    assert_eq!(n.position, Position::Returned);
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (p.id, None, None)
    );
    let seen = w.get(p, &n).await.must("provider sees it");
    assert_eq!(NumberView::of(&seen, p.id).position.as_str(), "returned");
    hidden(w.get(c, &n).await, "customer after release");
    hidden(w.get(&w.unit, &n).await, "unit after release");

    let n = svc.unbind(&as_(p), &by_id(&n)).await.must("unbind");
    assert_eq!(n.position, Position::Free);
    assert_eq!(n.sip_trunk_id, None);
    assert_eq!(NumberView::of(&n, p.id).position.as_str(), "free");

    let history = svc
        .number_history(&as_(p), &by_id(&n))
        .await
        .must("history");
    let lived = [
        Action::NumberAdd,
        Action::NumberAllocate,
        Action::NumberAssign,
        Action::NumberUnassign,
        Action::NumberMoveToUnit,
        Action::NumberRelease,
        Action::NumberUnbind,
    ];
    assert_eq!(actions(&history), lived);
    for (i, e) in history.iter().enumerate() {
        assert_eq!(e.channel, Channel::Cli, "{e:?}");
        assert_eq!(e.actor_type, "operator");
        if i == 0 {
            // The add is one event for the whole batch; the number points at it.
            assert_eq!(e.entity_type, "number_batch");
            assert_eq!(Some(e.id), n.add_event_id);
            let listed = e
                .after
                .as_ref()
                .and_then(|a| a["phone_numbers"].as_array().cloned());
            assert!(
                listed.is_some_and(|l| l.iter().any(|x| x == n.phone_number.as_str())),
                "{e:?}"
            );
        } else {
            assert_eq!(e.entity_type, "number");
            assert_eq!(e.entity_id, n.id.to_string());
        }
    }
    // Each move's actor is the account that made it.
    let by: Vec<_> = history
        .iter()
        .map(|e| e.actor_account_id.clone().must("actor account"))
        .collect();
    let (ps, cs) = (p.id.to_string(), c.id.to_string());
    assert_eq!(by, [&ps, &ps, &cs, &cs, &cs, &cs, &ps].map(String::clone));

    let deleted = svc
        .delete_number(&as_(p), &by_id(&n), None)
        .await
        .must("delete");
    assert_eq!(deleted.id, n.id);
    hidden(w.get(p, &n).await, "after delete");
    hidden(
        svc.number_history(&as_(p), &by_id(&n)).await,
        "history through the service after delete",
    );
    // The rows stay in the store.
    let kept = audit_for(&w.store, &n.id.to_string()).await;
    let mut all = lived.to_vec();
    all.push(Action::NumberDelete);
    assert_eq!(actions(&kept), all);
    assert!(kept.iter().all(|e| e.channel == Channel::Cli));
    let last = kept.last().must("delete event");
    assert!(last.after.is_none() && last.before.is_some(), "{last:?}");

    // The E.164 is free to come back as a new number with a fresh history.
    let again = w.add(p, &e164(100)).await;
    assert_ne!(again.id, n.id);
    assert_eq!(
        actions(&audit_for(&w.store, &again.id.to_string()).await),
        [Action::NumberAdd]
    );
}

/// provider → reseller pool → reseller's customer, and back one level at a time.
async fn multi_level(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p, r, rc) = (&w.service, &w.provider, &w.reseller, &w.res_customer);
    let n = w.add(p, &e164(200)).await;

    // To a reseller: a pool-to-pool move, no trunk needed; the number stays free there.
    let n = svc
        .allocate(&as_(p), &by_id(&n), r.id, AllocateOptions::default())
        .await
        .must("allocate to reseller");
    assert_eq!(n.position, Position::Free);
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (r.id, None, Some(p.id))
    );
    assert_eq!(NumberView::of(&n, p.id).position.as_str(), "in_use");
    assert_eq!(NumberView::of(&n, r.id).position.as_str(), "free");
    // R-DEL-1: the provider cannot delete what sits in its reseller's pool.
    refused(
        svc.delete_number(&as_(p), &by_id(&n), None).await,
        "rule_violation",
        Some("R-DEL-1"),
        "provider deletes from the reseller's pool",
    );

    let n = svc
        .allocate(&as_(r), &by_id(&n), rc.id, with_trunk(w.trunk))
        .await
        .must("reseller allocates to its customer");
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (rc.id, Some(rc.id), Some(r.id))
    );
    // R-DEL-1: nobody deletes a number that is with a customer.
    refused(
        svc.delete_number(&as_(p), &by_id(&n), None).await,
        "rule_violation",
        Some("R-DEL-1"),
        "provider deletes while with a customer",
    );
    refused(
        svc.delete_number(&as_(r), &by_id(&n), None).await,
        "rule_violation",
        Some("R-DEL-2"),
        "the reseller did not upload it",
    );

    // Release walks back one level: to the reseller, not to the provider.
    let n = svc
        .release(&as_(rc), &by_id(&n))
        .await
        .must("customer releases");
    assert_eq!(n.position, Position::Returned);
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (r.id, None, Some(p.id))
    );
    assert_eq!(NumberView::of(&n, r.id).position.as_str(), "returned");
    assert_eq!(NumberView::of(&n, p.id).position.as_str(), "in_use");
    hidden(w.get(rc, &n).await, "customer after release");
    // R-MOVE-4: only the pool it was returned to unbinds it.
    refused(
        svc.unbind(&as_(p), &by_id(&n)).await,
        "rule_violation",
        Some("R-MOVE-4"),
        "provider unbinds the reseller's returned number",
    );
    // R-MOVE-3: a returned number is not released again; the reseller unbinds it first.
    refused(
        svc.release(&as_(r), &by_id(&n)).await,
        "rule_violation",
        Some("R-MOVE-3"),
        "release while returned",
    );
    let n = svc
        .unbind(&as_(r), &by_id(&n))
        .await
        .must("reseller unbinds");
    assert_eq!((n.position, n.holder_id), (Position::Free, r.id));
    let n = svc
        .release(&as_(r), &by_id(&n))
        .await
        .must("reseller releases");
    assert_eq!(n.position, Position::Returned);
    assert_eq!(
        (n.holder_id, n.customer_id, n.allocated_from),
        (p.id, None, None)
    );
    hidden(w.get(r, &n).await, "reseller after release");
    // R-MOVE-3: the provider brought it in; there is no pool above to release it to.
    let n = svc
        .unbind(&as_(p), &by_id(&n))
        .await
        .must("provider unbinds");
    refused(
        svc.release(&as_(p), &by_id(&n)).await,
        "rule_violation",
        Some("R-MOVE-3"),
        "release at the top",
    );
    svc.delete_number(&as_(p), &by_id(&n), None)
        .await
        .must("provider deletes");
    assert_eq!(
        actions(&audit_for(&w.store, &n.id.to_string()).await),
        [
            Action::NumberAdd,
            Action::NumberAllocate,
            Action::NumberAllocate,
            Action::NumberRelease,
            Action::NumberUnbind,
            Action::NumberRelease,
            Action::NumberUnbind,
            Action::NumberDelete,
        ]
    );

    // R-DEL-2 the other way: the reseller's own upload is the reseller's to delete.
    let m = w.add(r, &e164(201)).await;
    assert_eq!((m.holder_id, m.uploaded_by, m.owner_id), (r.id, r.id, p.id));
    w.get(p, &m)
        .await
        .must("the provider sees its reseller's upload");
    refused(
        svc.delete_number(&as_(p), &by_id(&m), None).await,
        "rule_violation",
        Some("R-DEL-2"),
        "provider deletes the reseller's upload",
    );
    // Its own upload released by the customer comes back to the reseller with nothing above.
    let m = svc
        .allocate(&as_(r), &by_id(&m), rc.id, with_trunk(w.trunk))
        .await
        .must("allocate own upload");
    let m = svc
        .release(&as_(rc), &by_id(&m))
        .await
        .must("release own upload");
    assert_eq!((m.holder_id, m.allocated_from), (r.id, None));
    svc.delete_number(&as_(r), &by_id(&m), None)
        .await
        .must("reseller deletes its returned upload");
    hidden(w.get(p, &m).await, "after delete");
}

numberpool_store::backend_tests!(full_lifecycle, multi_level);
