//! Tenant isolation (R-SEC-1): another tenant finds nothing of ours, by id or by E.164, and a
//! provider sees everything below it and its connected customers.

use std::collections::HashSet;

use numberpool::service::NumberView;
use numberpool_domain::import::ExportKind;
use numberpool_domain::{Account, Assignee, AssigneeType, Number, NumberId, NumberPatch};
use numberpool_store::testing::TestDb;
use numberpool_store::{NumberFilter, NumberLookup};

use crate::fixture::*;

async fn listed(w: &World, who: &Account) -> HashSet<NumberId> {
    let mut out = HashSet::new();
    let mut after = None;
    loop {
        // Small pages, so paging is exercised too.
        let page = w
            .service
            .list_numbers(&as_(who), &NumberFilter::default(), after, 3)
            .await
            .must("list");
        let total = usize::try_from(page.total).must("total");
        out.extend(page.items.iter().map(|n| n.id));
        match page.next_after {
            Some(a) => after = Some(a.parse().must("next_after")),
            None => {
                assert_eq!(out.len(), total, "pages add up to the total");
                return out;
            }
        }
    }
}

/// The numbers `who` sees as an export's walks find them, in pages of two: the whole table's
/// and each holder's in turn, each reading whole numbers and listings. Each walk is in id
/// order and gives no number twice.
async fn walked(w: &World, who: &Account) -> [HashSet<NumberId>; 4] {
    let mut r = w.store.read().await.must("read");
    let ids = |name: &str, walk: Vec<Vec<NumberId>>| {
        for page in &walk {
            assert!(page.is_sorted(), "{}: {name}: a page in id order", who.name);
        }
        let all: Vec<NumberId> = walk.concat();
        let set: HashSet<NumberId> = all.iter().copied().collect();
        assert_eq!(
            set.len(),
            all.len(),
            "{}: {name}: no number twice",
            who.name
        );
        set
    };
    let (mut table, mut table_whole) = (Vec::new(), Vec::new());
    for whole in [false, true] {
        let mut after = None;
        loop {
            let (ids, last): (Vec<NumberId>, _) = if whole {
                let page = r.scan_scope(who.id, after, 2).await.must("scan scope");
                let last = page.last();
                (
                    page.decode().must("decode").iter().map(|n| n.id).collect(),
                    last,
                )
            } else {
                let page = r
                    .scan_scope_listings(who.id, after, 2)
                    .await
                    .must("scan scope");
                let last = page.last();
                (
                    page.decode().must("decode").iter().map(|n| n.id).collect(),
                    last,
                )
            };
            let full = ids.len() == 2;
            if whole { &mut table_whole } else { &mut table }.push(ids);
            after = last;
            if !full {
                break;
            }
        }
    }
    assert!(
        table.concat().is_sorted(),
        "{}: the table walk is in id order",
        who.name
    );
    let (mut held, mut held_whole) = (Vec::new(), Vec::new());
    for (holder, all) in r.scope_holders(who.id).await.must("holders") {
        let owner = (!all).then_some(who.id);
        for whole in [false, true] {
            let mut after = None;
            loop {
                let (ids, last): (Vec<NumberId>, _) = if whole {
                    let page = r.scan_held(holder, owner, after, 2).await.must("scan held");
                    let last = page.last();
                    (
                        page.decode().must("decode").iter().map(|n| n.id).collect(),
                        last,
                    )
                } else {
                    let page = r
                        .scan_held_listings(holder, owner, after, 2)
                        .await
                        .must("scan held");
                    let last = page.last();
                    (
                        page.decode().must("decode").iter().map(|n| n.id).collect(),
                        last,
                    )
                };
                let full = ids.len() == 2;
                if whole { &mut held_whole } else { &mut held }.push(ids);
                after = last;
                if !full {
                    break;
                }
            }
        }
    }
    [
        ids("table walk", table),
        ids("table walk, whole numbers", table_whole),
        ids("holder walk", held),
        ids("holder walk, whole numbers", held_whole),
    ]
}

/// The numbers of `who`'s export of `kind` (CSV), by its number column.
async fn exported(w: &World, who: &Account, kind: ExportKind) -> HashSet<String> {
    let mut out = Vec::new();
    w.service
        .export_numbers(
            &as_(who),
            kind,
            numberpool_domain::import::FileFormat::Csv,
            &mut out,
            &numberpool::service::progress::Progress::none(),
        )
        .await
        .must("export");
    let text = String::from_utf8(out).must("utf-8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().must("header").split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == "Phone Number")
        .must("a number column");
    let rows: Vec<String> = lines
        .map(|l| l.split(',').nth(at).unwrap_or_default().to_string())
        .collect();
    let set: HashSet<String> = rows.iter().cloned().collect();
    assert_eq!(
        set.len(),
        rows.len(),
        "{}: {kind:?}: no number twice",
        who.name
    );
    set
}

fn set(v: &[&Number]) -> HashSet<NumberId> {
    v.iter().map(|n| n.id).collect()
}

async fn tenant_isolation(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p, t) = (&w.service, &w.provider, &w.tenant);
    // Numbers of the first tenant in every position and at every level.
    let free = w.add(p, &e164(600)).await;
    let held = w.held_by(&w.customer, &e164(601)).await;
    let in_unit = svc
        .move_to_unit(
            &as_(&w.customer),
            &by_id(&w.held_by(&w.customer, &e164(602)).await),
            w.unit.id,
        )
        .await
        .must("move to unit");
    let returned = svc
        .release(
            &as_(&w.customer),
            &by_id(&w.held_by(&w.customer, &e164(603)).await),
        )
        .await
        .must("release");
    let at_reseller = {
        let n = w.add(p, &e164(604)).await;
        svc.allocate(&as_(p), &by_id(&n), w.reseller.id, Default::default())
            .await
            .must("to reseller")
    };
    let reseller_own = w.add(&w.reseller, &e164(605)).await;
    let res_held = svc
        .allocate(
            &as_(&w.reseller),
            &by_id(&w.add(&w.reseller, &e164(606)).await),
            w.res_customer.id,
            with_trunk(w.trunk),
        )
        .await
        .must("reseller allocates");
    let external = w.add(&w.ext_customer, &e164(607)).await;
    // The connected root customer: one number allocated to it, one of its own.
    let connected = w.held_by(&w.root_customer, &e164(608)).await;
    let root_own = w.add(&w.root_customer, &e164(609)).await;
    let ours = [
        &free,
        &held,
        &in_unit,
        &returned,
        &at_reseller,
        &reseller_own,
        &res_held,
        &external,
        &connected,
        &root_own,
    ];
    // The other tenant's own numbers.
    let theirs_free = w.add(t, &e164(700)).await;
    let theirs_held = svc
        .allocate(
            &as_(t),
            &by_id(&w.add(t, &e164(701)).await),
            w.tenant_customer.id,
            with_trunk(w.tenant_trunk),
        )
        .await
        .must("tenant allocates");
    let theirs = [&theirs_free, &theirs_held];

    // The other tenant (and its customer) cannot reach any of ours, whatever the move.
    for who in [t, &w.tenant_customer] {
        let a = as_(who);
        for n in ours {
            for l in [by_id(n), by_e164(n)] {
                let what = |op: &str| format!("{} {op} {} by {l:?}", who.name, n.phone_number);
                let nf = |r: Result<_, _>, op| {
                    refused::<Number>(r, "not_found", Some("R-SEC-1"), &what(op));
                };
                nf(svc.get_number(&a, &l).await, "get");
                nf(
                    svc.allocate(&a, &l, w.tenant_customer.id, with_trunk(w.tenant_trunk))
                        .await,
                    "allocate",
                );
                nf(svc.release(&a, &l).await, "release");
                nf(svc.unbind(&a, &l).await, "unbind");
                nf(svc.delete_number(&a, &l, None).await, "delete");
                nf(
                    svc.assign(
                        &a,
                        &l,
                        Assignee {
                            kind: AssigneeType::User,
                            id: "intruder".into(),
                            display_name: None,
                        },
                    )
                    .await,
                    "assign",
                );
                nf(svc.unassign(&a, &l, None).await, "unassign");
                nf(svc.move_to_unit(&a, &l, who.id).await, "move");
                nf(
                    svc.update_number(&a, &l, &NumberPatch::default(), None)
                        .await,
                    "update",
                );
                hidden(svc.number_history(&a, &l).await, &what("history"));
            }
        }
        let seen = listed(&w, who).await;
        assert!(
            seen.is_disjoint(&set(&ours)),
            "{} lists our numbers",
            who.name
        );
    }
    assert_eq!(listed(&w, t).await, set(&theirs));
    assert_eq!(listed(&w, &w.tenant_customer).await, set(&[&theirs_held]));
    // Nothing of the above changed any of our numbers.
    // A connected customer's own numbers (R-ACC-2) are its own: the provider does not see them.
    hidden(
        w.get(p, &root_own).await,
        "provider reads a connected customer's own number",
    );
    for n in ours {
        let viewer = if n.id == root_own.id {
            &w.root_customer
        } else {
            p
        };
        let now = w.get(viewer, n).await.must("its owner still sees it");
        assert_eq!(
            (now.holder_id, now.version),
            (n.holder_id, n.version),
            "{}",
            n.phone_number
        );
    }
    // …nor wrote an event: each of our numbers has only the events of its own moves.
    let mut r = w.store.read().await.must("read");
    for action in [
        Action::NumberUpdate,
        Action::NumberDelete,
        Action::NumberUnbind,
        Action::NumberAssign,
    ] {
        assert!(
            r.audit_by_action(action).await.must("audit").is_empty(),
            "{action}"
        );
    }
    drop(r);

    // Nor do we reach theirs: isolation holds both ways, also for account targets.
    for n in theirs {
        hidden(w.get(p, n).await, "provider gets theirs");
        hidden(
            svc.number_history(&as_(p), &by_e164(n)).await,
            "provider reads their history",
        );
    }
    hidden(
        svc.allocate(
            &as_(p),
            &by_id(&free),
            w.tenant_customer.id,
            with_trunk(w.trunk),
        )
        .await,
        "allocate to another tenant's customer",
    );
    let e = hidden(
        svc.allocate(
            &as_(p),
            &by_id(&free),
            w.customer.id,
            with_trunk(w.tenant_trunk),
        )
        .await,
        "allocate with another tenant's trunk",
    );
    assert!(e.to_string().contains("SIP trunk"), "{e}");

    // The provider loses sight of nothing: every level below it and what it allocated to its
    // connected customer (that customer's own numbers are not the provider's).
    let mine = listed(&w, p).await;
    let provider_sees: Vec<&Number> = ours
        .iter()
        .copied()
        .filter(|n| n.id != root_own.id)
        .collect();
    assert_eq!(mine, set(&provider_sees));
    for n in provider_sees {
        let got = w.get(p, n).await.must("provider gets ours");
        svc.get_number(&as_(p), &by_e164(n)).await.must("by E.164");
        svc.number_history(&as_(p), &by_id(n)).await.must("history");
        let expect = if got.holder_id == p.id {
            if got.position == numberpool_domain::Position::Returned {
                "returned"
            } else {
                "free"
            }
        } else {
            "in_use"
        };
        assert_eq!(
            NumberView::of(&got, p.id).position.as_str(),
            expect,
            "{}",
            n.phone_number
        );
    }
    // Each account below sees exactly its own part.
    assert_eq!(
        listed(&w, &w.reseller).await,
        set(&[&at_reseller, &reseller_own, &res_held])
    );
    assert_eq!(listed(&w, &w.res_customer).await, set(&[&res_held]));
    assert_eq!(listed(&w, &w.customer).await, set(&[&held, &in_unit]));
    assert_eq!(listed(&w, &w.unit).await, set(&[&in_unit]));
    assert_eq!(listed(&w, &w.customer2).await, HashSet::new());
    assert_eq!(listed(&w, &w.ext_customer).await, set(&[&external]));
    assert_eq!(
        listed(&w, &w.root_customer).await,
        set(&[&connected, &root_own])
    );
    // An export walks the whole table for a scope that holds much of it and each holder's
    // index otherwise: both walks, and the export itself, give every account what it lists.
    for who in [
        p,
        &w.reseller,
        &w.res_customer,
        &w.customer,
        &w.unit,
        &w.customer2,
        &w.ext_customer,
        &w.root_customer,
        t,
        &w.tenant_customer,
    ] {
        let expect = listed(&w, who).await;
        for (i, walk) in walked(&w, who).await.into_iter().enumerate() {
            assert_eq!(walk, expect, "{}: walk {i}", who.name);
        }
        let phones: HashSet<String> = svc
            .list_numbers(&as_(who), &NumberFilter::default(), None, 1000)
            .await
            .must("list")
            .items
            .iter()
            .map(|n| n.phone_number.as_str().to_string())
            .collect();
        assert_eq!(phones.len(), expect.len());
        assert_eq!(
            exported(&w, who, ExportKind::List).await,
            phones,
            "{}: the list export",
            who.name
        );
        assert_eq!(
            exported(&w, who, ExportKind::UpdateTemplate).await,
            phones,
            "{}: the update template",
            who.name
        );
        let with_customers: HashSet<String> = svc
            .list_numbers(&as_(who), &NumberFilter::default(), None, 1000)
            .await
            .must("list")
            .items
            .iter()
            .filter(|n| n.customer_id.is_some())
            .map(|n| n.phone_number.as_str().to_string())
            .collect();
        let consolidated: HashSet<String> = exported(&w, who, ExportKind::Consolidated)
            .await
            .into_iter()
            .collect();
        assert_eq!(
            consolidated, with_customers,
            "{}: the consolidated export",
            who.name
        );
    }
    // Siblings are other tenants to each other.
    hidden(w.get(&w.customer2, &held).await, "sibling customer");
    hidden(
        w.get(&w.unit, &held).await,
        "a unit does not see its customer's own holding",
    );
    hidden(
        w.get(&w.root_customer, &free).await,
        "a connected customer does not see the provider's pool",
    );
    // Filters narrow within the scope, never widen it.
    let by_holder = svc
        .list_numbers(
            &as_(t),
            &NumberFilter {
                holder: Some(w.customer.id),
                ..Default::default()
            },
            None,
            1000,
        )
        .await
        .must("list by a foreign holder");
    assert_eq!(by_holder.total, 0);
    assert!(by_holder.items.is_empty());
    let by_prefix = svc
        .list_numbers(
            &as_(t),
            &NumberFilter {
                e164_prefix: Some("+1415555060".into()),
                ..Default::default()
            },
            None,
            1000,
        )
        .await
        .must("list by prefix");
    assert_eq!(by_prefix.total, 0);
    // A missing number looks exactly like a foreign one.
    let nf = hidden(
        svc.get_number(&as_(t), &NumberLookup::Id(NumberId::new()))
            .await,
        "absent",
    );
    let foreign = hidden(svc.get_number(&as_(t), &by_id(&free)).await, "foreign");
    assert_eq!(nf.to_string(), foreign.to_string());
}

numberpool_store::backend_tests!(tenant_isolation);
