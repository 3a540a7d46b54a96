//! The outbox: `Tx::record` writes the audit row and the outbox row together or not at all,
//! and a reader following the outbox with a cursor misses nothing, even while writers commit.

use super::*;

/// An event about a number moving from `holder` to `customer`, acted by `actor`.
fn move_event(actor: AccountId, holder: AccountId, customer: AccountId, i: usize) -> NewAudit {
    NewAudit {
        actor_type: "client",
        actor_id: format!("client-{i}"),
        actor_account_id: Some(actor.to_string()),
        channel: Channel::Api,
        entity_id: format!("number-{i}"),
        action: Action::NumberAllocate,
        rule: Some("R-MOVE-1"),
        before: Some(json!({"holder_id": holder, "owner_id": holder})),
        after: Some(json!({"holder_id": customer, "customer_id": customer, "seq": i})),
    }
}

/// Records `event` in a transaction of its own; its id.
async fn record_committed(store: &Store, event: &NewAudit) -> AuditId {
    let mut tx = store.begin().await.expect("begin");
    let id = tx.record(event).await.expect("record");
    tx.commit().await.expect("commit");
    id
}

pub(super) async fn record_writes_audit_and_outbox(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let c = add_account(&store, "C", AccountKind::Customer, Some(p.id)).await;
    let raw = Raw::open(db).await;

    let mut tx = store.begin().await.expect("begin");
    let id = tx
        .record(&move_event(p.id, p.id, c.id, 1))
        .await
        .expect("record");
    // Inside the transaction both are there; outside, neither yet.
    assert_eq!(tx.outbox_after(0, 10).await.expect("outbox").len(), 1);
    assert_eq!(raw.count("outbox").await, 0);
    assert_eq!(raw.count("audit_events").await, 0);
    tx.commit().await.expect("commit");

    let mut rd = store.read().await.expect("read");
    let audit = rd.get_audit(id).await.expect("audit").expect("recorded");
    let rows = rd.outbox_after(0, 10).await.expect("outbox");
    assert_eq!(rows.len(), 1);
    let o = &rows[0];
    assert_eq!(o.audit_id, id);
    assert_eq!(o.action, Action::NumberAllocate);
    assert_eq!(audit.action, Action::NumberAllocate);
    assert_eq!(o.entity_type, "number");
    assert_eq!(audit.entity_type, "number");
    assert_eq!(o.entity_id, "number-1");
    assert_eq!(o.actor_account_id, Some(p.id));
    assert_eq!(o.at, audit.at);
    let mut want = vec![p.id, c.id];
    want.sort();
    assert_eq!(
        o.accounts, want,
        "the actor's, the holders' and the customer's"
    );

    // An account event concerns the account itself and its parent; an operator's has no actor.
    let mut tx = store.begin().await.expect("begin");
    tx.record(&NewAudit {
        actor_type: "operator",
        actor_id: "cli".into(),
        actor_account_id: None,
        channel: Channel::Cli,
        entity_id: c.id.to_string(),
        action: Action::AccountCreate,
        rule: None,
        before: None,
        after: Some(json!({"id": c.id, "parent_id": p.id})),
    })
    .await
    .expect("record");
    // A batch: one outbox row per event, in order, under the ids given.
    let ids = tx
        .record_all(&[
            move_event(p.id, p.id, c.id, 2),
            move_event(c.id, c.id, c.id, 3),
        ])
        .await
        .expect("record all");
    let chosen = AuditId::new();
    tx.record_as(chosen, &move_event(p.id, p.id, c.id, 4))
        .await
        .expect("record as");
    tx.commit().await.expect("commit");
    let rows = rd.outbox_after(o.id, 10).await.expect("outbox");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].action, Action::AccountCreate);
    assert_eq!(rows[0].entity_type, "account");
    assert_eq!(rows[0].actor_account_id, None);
    assert_eq!(rows[0].accounts, want);
    assert_eq!(
        rows[1..].iter().map(|r| r.audit_id).collect::<Vec<_>>(),
        vec![ids[0], ids[1], chosen]
    );
    assert_eq!(rows[2].accounts, vec![c.id]);
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(raw.count("outbox").await, raw.count("audit_events").await);
    drop(rd);
    raw.close().await;
}

pub(super) async fn rolled_back_record_writes_neither(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let raw = Raw::open(db).await;

    let mut tx = store.begin().await.expect("begin");
    tx.record(&move_event(p.id, p.id, p.id, 1))
        .await
        .expect("record");
    tx.record_all(&(0..5).map(|i| audit_event(i, p.id)).collect::<Vec<_>>())
        .await
        .expect("record all");
    assert_eq!(tx.outbox_after(0, 100).await.expect("outbox").len(), 6);
    drop(tx);
    assert_eq!(raw.count("audit_events").await, 0);
    assert_eq!(raw.count("outbox").await, 0);

    // The outbox goes on after the rolled-back ids: a later event is the first a reader sees.
    let id = record_committed(&store, &move_event(p.id, p.id, p.id, 2)).await;
    let mut rd = store.read().await.expect("read");
    let rows = rd.outbox_after(0, 100).await.expect("outbox");
    assert_eq!(
        rows.iter().map(|r| r.audit_id).collect::<Vec<_>>(),
        vec![id]
    );
    assert_eq!(raw.count("audit_events").await, 1);
    raw.close().await;
}

/// Writers commit events from many tasks at once while a reader follows the outbox with a
/// cursor, as a webhook consumer would. Ids must be handed out in commit order: a row that
/// commits after the reader passed its id would never be seen. At the end the reader has seen
/// every event exactly once, in increasing id order.
pub(super) async fn outbox_ids_follow_commit_order(db: &TestDb) {
    const WRITERS: usize = 8;
    const EACH: usize = 15;
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen: Vec<OutboxEvent> = Vec::new();
            let mut cursor = 0;
            loop {
                // Read whether the writers were done before reading, so the last read after
                // they finished sees everything they committed.
                let finished = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS;
                let mut rd = store.read().await.expect("read");
                let rows = rd.outbox_after(cursor, 7).await.expect("outbox");
                drop(rd);
                if let Some(last) = rows.last() {
                    cursor = last.id;
                }
                let empty = rows.is_empty();
                seen.extend(rows);
                if finished && empty {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let done = done.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let mut tx = store.begin().await.expect("begin");
                // Some work before the event, so that transactions overlap.
                tx.get_account(p.id).await.expect("get");
                ids.push(
                    tx.record(&move_event(p.id, p.id, p.id, w * 1000 + i))
                        .await
                        .expect("record"),
                );
                tokio::task::yield_now().await;
                tx.commit().await.expect("commit");
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ids
        }));
    }
    let mut written: Vec<AuditId> = Vec::new();
    for w in writers {
        written.extend(w.await.expect("writer"));
    }
    let seen = reader.await.expect("reader");
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    let mut seen_ids: Vec<AuditId> = seen.iter().map(|o| o.audit_id).collect();
    seen_ids.sort();
    written.sort();
    assert_eq!(seen_ids.len(), WRITERS * EACH, "every event seen once");
    assert_eq!(seen_ids, written);
}

/// A stored action that is no [`Action`] is a corrupt row, in the audit log and in the outbox.
pub(super) async fn unknown_action_is_corrupt(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let id = record_committed(&store, &move_event(p.id, p.id, p.id, 1)).await;
    let raw = Raw::open(db).await;
    let id_s = id.to_string();
    raw.exec_one(
        "UPDATE audit_events SET action = 'number.steal' WHERE id = $1",
        &[&id_s],
    )
    .await;
    raw.exec_one(
        "UPDATE outbox SET action = 'number.steal' WHERE audit_id = $1",
        &[&id_s],
    )
    .await;
    let mut rd = store.read().await.expect("read");
    let res = rd.get_audit(id).await;
    assert!(matches!(res, Err(StoreError::Corrupt(_))), "audit: {res:?}");
    let res = rd.outbox_after(0, 10).await;
    assert!(
        matches!(res, Err(StoreError::Corrupt(_))),
        "outbox: {res:?}"
    );
    raw.close().await;
}
