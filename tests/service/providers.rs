//! A provider's SIP trunks and carriers (SPEC §1): who manages and who reads them (R-PROV-1,
//! R-SEC-1), unique names, the one default per carrier kind (R-PROV-3), delete refusals while
//! numbers use them (R-PROV-2), and the default carrier a number gets when a capability is on
//! and none is named (SPEC §2), under R-CAP-1.

use numberpool::service::{CarrierPatch, TrunkPatch};
use numberpool_domain::{
    Assignee, AssigneeType, Capabilities, CarrierId, CarrierKind, NumberPatch,
};
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

fn caps(voice: bool, sms: bool) -> Capabilities {
    Capabilities {
        voice,
        sms,
        ..Default::default()
    }
}

/// Names are unique per provider, not across providers; edits and deletes are the provider's,
/// resellers read, customers and other tenants find nothing.
async fn trunks_by_provider(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let east = svc
        .create_trunk(&p, "east-1", "us-east", None)
        .await
        .must("create");
    assert_eq!((east.name.as_str(), east.version), ("east-1", 1));
    refused(
        svc.create_trunk(&p, " east-1 ", "eu-west", None).await,
        "already_exists",
        None,
        "the same name twice",
    );
    svc.create_trunk(&as_(&w.tenant), "east-1", "us-east", None)
        .await
        .must("another provider may use the name");
    refused(
        svc.create_trunk(&p, "", "us-east", None).await,
        "invalid_input",
        None,
        "empty name",
    );
    for who in [&w.reseller, &w.customer, &w.unit] {
        refused(
            svc.create_trunk(&as_(who), "mine", "us-east", None).await,
            "rule_violation",
            Some("R-PROV-1"),
            "only a provider creates trunks",
        );
    }
    // Several per provider: the fixture's and the new one.
    let listed = svc.list_trunks(&p).await.must("list");
    assert_eq!(listed.len(), 2, "{listed:?}");
    // The reseller reads its provider's trunks (it allocates with them) but does not edit.
    let seen = svc
        .list_trunks(&as_(&w.reseller))
        .await
        .must("reseller list");
    assert_eq!(seen, listed);
    svc.get_trunk(&as_(&w.reseller), east.id)
        .await
        .must("reseller get");
    let rename = TrunkPatch {
        name: Some("east-2".into()),
        region: None,
        is_default: None,
    };
    refused(
        svc.update_trunk(&as_(&w.reseller), east.id, &rename, None)
            .await,
        "rule_violation",
        Some("R-PROV-1"),
        "a reseller renames its provider's trunk",
    );
    // Customers see none; the other tenant's trunk is not found (R-SEC-1).
    assert!(
        svc.list_trunks(&as_(&w.customer))
            .await
            .must("c")
            .is_empty()
    );
    for (who, id) in [
        (&w.customer, east.id),
        (&w.tenant, east.id),
        (&w.provider, w.tenant_trunk),
    ] {
        hidden(svc.get_trunk(&as_(who), id).await, "another's trunk");
        hidden(
            svc.update_trunk(&as_(who), id, &rename, None).await,
            "edit another's trunk",
        );
        hidden(
            svc.delete_trunk(&as_(who), id, None).await,
            "delete another's trunk",
        );
    }
    // Edits: If-Match, a taken name, then a rename with its audit event.
    refused(
        svc.update_trunk(&p, east.id, &rename, Some(7)).await,
        "precondition_failed",
        None,
        "stale version",
    );
    let fixture_trunk = svc.get_trunk(&p, w.trunk).await.must("fixture trunk");
    let taken = TrunkPatch {
        name: Some(fixture_trunk.name.clone()),
        region: None,
        is_default: None,
    };
    refused(
        svc.update_trunk(&p, east.id, &taken, None).await,
        "already_exists",
        None,
        "rename onto another trunk's name",
    );
    let moved = svc
        .update_trunk(
            &p,
            east.id,
            &TrunkPatch {
                name: Some("east-2".into()),
                region: Some("us-east-2".into()),
                is_default: None,
            },
            Some(1),
        )
        .await
        .must("rename");
    assert_eq!(
        (moved.name.as_str(), moved.region.as_str(), moved.version),
        ("east-2", "us-east-2", 2)
    );
    let events = audit_for(&w.store, &east.id.to_string()).await;
    assert_eq!(
        actions(&events),
        [Action::SipTrunkCreate, Action::SipTrunkUpdate]
    );
}

/// R-PROV-2: a trunk a number is on stays; once the number leaves it, it goes. A trunk of
/// another provider cannot be put on a number (R-SEC-1).
async fn trunk_in_use_is_not_deleted(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let t = svc
        .create_trunk(&p, "spare", "eu-west", None)
        .await
        .must("create");
    let n = w.add(&w.provider, &e164(7001)).await;
    let on = |id| NumberPatch {
        sip_trunk_id: Some(Some(id)),
        ..Default::default()
    };
    hidden(
        svc.update_number(&p, &by_id(&n), &on(w.tenant_trunk), None)
            .await,
        "the other provider's trunk on our number",
    );
    let n = svc
        .update_number(&p, &by_id(&n), &on(t.id), None)
        .await
        .must("our trunk");
    refused(
        svc.delete_trunk(&p, t.id, None).await,
        "rule_violation",
        Some("R-PROV-2"),
        "a trunk a number is on",
    );
    // The fixture's trunk carries held numbers.
    let _held = w.held_by(&w.customer, &e164(7002)).await;
    refused(
        svc.delete_trunk(&p, w.trunk, None).await,
        "rule_violation",
        Some("R-PROV-2"),
        "the trunk of a held number",
    );
    svc.update_number(
        &p,
        &by_id(&n),
        &NumberPatch {
            sip_trunk_id: Some(None),
            ..Default::default()
        },
        None,
    )
    .await
    .must("off the trunk");
    refused(
        svc.delete_trunk(&p, t.id, Some(9)).await,
        "precondition_failed",
        None,
        "stale version",
    );
    svc.delete_trunk(&p, t.id, Some(t.version))
        .await
        .must("delete");
    hidden(svc.get_trunk(&p, t.id).await, "deleted");
    let events = audit_for(&w.store, &t.id.to_string()).await;
    assert_eq!(
        actions(&events),
        [Action::SipTrunkCreate, Action::SipTrunkDelete]
    );
}

/// R-PROV-3: the first of a kind is the default; a new or edited carrier made the default takes
/// over in the same transaction; the default is never un-set directly and goes only as the last.
async fn one_default_per_kind(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let v1 = svc
        .create_carrier(&p, CarrierKind::Voice, "Voice One", Some(false))
        .await
        .must("first voice");
    assert!(v1.is_default, "the first of a kind is the default");
    let s1 = svc
        .create_carrier(&p, CarrierKind::Sms, "SMS One", None)
        .await
        .must("first sms");
    assert!(s1.is_default, "each kind has its own default");
    let v2 = svc
        .create_carrier(&p, CarrierKind::Voice, "Voice Two", None)
        .await
        .must("second voice");
    assert!(!v2.is_default);
    refused(
        svc.create_carrier(&p, CarrierKind::Voice, "Voice Two", None)
            .await,
        "already_exists",
        None,
        "the same kind and name",
    );
    svc.create_carrier(&p, CarrierKind::Sms, "Voice Two", None)
        .await
        .must("a name is unique per kind");
    let defaults = |list: Vec<numberpool_domain::Carrier>| -> Vec<CarrierId> {
        list.into_iter()
            .filter(|c| c.is_default)
            .map(|c| c.id)
            .collect()
    };
    let v3 = svc
        .create_carrier(&p, CarrierKind::Voice, "Voice Three", Some(true))
        .await
        .must("a new default");
    assert!(v3.is_default);
    let voice = svc
        .list_carriers(&p, Some(CarrierKind::Voice))
        .await
        .must("list");
    assert_eq!(voice.len(), 3);
    assert_eq!(defaults(voice), vec![v3.id], "the new one took over");
    // Made default by an edit: v2 takes over from v3.
    let v2 = svc
        .update_carrier(
            &p,
            v2.id,
            &CarrierPatch {
                is_default: Some(true),
                ..Default::default()
            },
            Some(v2.version),
        )
        .await
        .must("make v2 the default");
    assert!(v2.is_default);
    let voice = svc
        .list_carriers(&p, Some(CarrierKind::Voice))
        .await
        .must("list");
    assert_eq!(defaults(voice), vec![v2.id]);
    assert_eq!(
        defaults(
            svc.list_carriers(&p, Some(CarrierKind::Sms))
                .await
                .must("sms")
        ),
        vec![s1.id],
        "the other kind's default is untouched"
    );
    let v3_now = svc.get_carrier(&p, v3.id).await.must("v3");
    assert_eq!((v3_now.is_default, v3_now.version), (false, 2));
    // Un-setting the default directly is refused; so is deleting it while others remain.
    refused(
        svc.update_carrier(
            &p,
            v2.id,
            &CarrierPatch {
                is_default: Some(false),
                ..Default::default()
            },
            None,
        )
        .await,
        "rule_violation",
        Some("R-PROV-3"),
        "un-default the default",
    );
    refused(
        svc.delete_carrier(&p, v2.id, None).await,
        "rule_violation",
        Some("R-PROV-3"),
        "delete the default while others remain",
    );
    for id in [v1.id, v3.id] {
        svc.delete_carrier(&p, id, None)
            .await
            .must("delete a non-default");
    }
    svc.delete_carrier(&p, v2.id, None)
        .await
        .must("the last of its kind goes, default or not");
    assert!(
        svc.list_carriers(&p, Some(CarrierKind::Voice))
            .await
            .must("list")
            .is_empty()
    );
    // Who may: resellers read, customers see none, the other tenant finds nothing.
    assert_eq!(
        svc.list_carriers(&as_(&w.reseller), None)
            .await
            .must("r")
            .len(),
        2
    );
    assert!(
        svc.list_carriers(&as_(&w.customer), None)
            .await
            .must("c")
            .is_empty()
    );
    refused(
        svc.create_carrier(&as_(&w.reseller), CarrierKind::Voice, "R", None)
            .await,
        "rule_violation",
        Some("R-PROV-1"),
        "a reseller creates a carrier",
    );
    for who in [&w.customer, &w.tenant] {
        hidden(svc.get_carrier(&as_(who), s1.id).await, "another's carrier");
        hidden(
            svc.delete_carrier(&as_(who), s1.id, None).await,
            "delete another's carrier",
        );
    }
    let events = audit_for(&w.store, &v3.id.to_string()).await;
    assert_eq!(
        actions(&events),
        [
            Action::CarrierCreate,
            Action::CarrierUpdate,
            Action::CarrierDelete
        ],
        "the take-over is audited on the carrier that lost the default"
    );
}

/// SPEC §2: a capability that is on and names no carrier gets the provider's default of its
/// kind, at add and at edit; one that is off has none. R-CAP-1 holds for the outcome. R-PROV-2:
/// a carrier a number uses is not deleted.
async fn default_carriers_on_numbers(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    // Before any carrier: voice on, no carrier.
    let early = w.add(&w.provider, &e164(7100)).await;
    assert_eq!((early.voice_carrier_id, early.sms_carrier_id), (None, None));
    let voice = svc
        .create_carrier(&p, CarrierKind::Voice, "Voice A", None)
        .await
        .must("voice");
    let other_voice = svc
        .create_carrier(&p, CarrierKind::Voice, "Voice B", None)
        .await
        .must("voice b");
    let sms = svc
        .create_carrier(&p, CarrierKind::Sms, "SMS A", None)
        .await
        .must("sms");
    // Added with the default capabilities (voice only): the default voice carrier, no SMS.
    let n = w.add(&w.provider, &e164(7101)).await;
    assert_eq!(
        (n.voice_carrier_id, n.sms_carrier_id),
        (Some(voice.id), None)
    );
    // A reseller's upload belongs to the provider's inventory: the provider's defaults.
    let r = w.add(&w.reseller, &e164(7102)).await;
    assert_eq!(r.voice_carrier_id, Some(voice.id));
    // SMS on, none named: the default profile; voice off: no voice carrier.
    let set_caps = |c| NumberPatch {
        capabilities: Some(c),
        ..Default::default()
    };
    let n = svc
        .update_number(&p, &by_id(&n), &set_caps(caps(false, true)), None)
        .await
        .must("sms on, voice off");
    assert_eq!((n.voice_carrier_id, n.sms_carrier_id), (None, Some(sms.id)));
    // Voice on with a carrier named: that one.
    let n = svc
        .update_number(
            &p,
            &by_id(&n),
            &NumberPatch {
                capabilities: Some(caps(true, true)),
                voice_carrier_id: Some(Some(other_voice.id)),
                ..Default::default()
            },
            None,
        )
        .await
        .must("named voice carrier");
    assert_eq!(n.voice_carrier_id, Some(other_voice.id));
    // Cleared while on: back to the default.
    let n = svc
        .update_number(
            &p,
            &by_id(&n),
            &NumberPatch {
                voice_carrier_id: Some(None),
                ..Default::default()
            },
            None,
        )
        .await
        .must("cleared");
    assert_eq!(n.voice_carrier_id, Some(voice.id));
    // A carrier named for a capability that is off: refused.
    refused(
        svc.update_number(
            &p,
            &by_id(&n),
            &NumberPatch {
                capabilities: Some(caps(true, false)),
                sms_carrier_id: Some(Some(sms.id)),
                ..Default::default()
            },
            None,
        )
        .await,
        "invalid_input",
        None,
        "an SMS profile with SMS off",
    );
    // The early number: resending its capabilities as they are changes nothing (no carrier
    // appears behind the caller's back); clearing its voice carrier with null takes the default.
    let early = svc
        .update_number(&p, &by_id(&early), &set_caps(caps(true, false)), None)
        .await
        .must("resend the early number's capabilities");
    assert_eq!(early.voice_carrier_id, None);
    let early = svc
        .update_number(
            &p,
            &by_id(&early),
            &NumberPatch {
                voice_carrier_id: Some(None),
                ..Default::default()
            },
            None,
        )
        .await
        .must("clear the early number's voice carrier");
    assert_eq!(early.voice_carrier_id, Some(voice.id));
    // R-PROV-2: carriers in use stay.
    for id in [voice.id, sms.id] {
        refused(
            svc.delete_carrier(&p, id, None).await,
            "rule_violation",
            Some("R-PROV-2"),
            "a carrier a number uses",
        );
    }
    // R-CAP-1 on the outcome: an assigned number cannot gain a carrier by a capability.
    let held = w.held_by(&w.customer, &e164(7103)).await;
    let held = svc
        .assign(
            &as_(&w.customer),
            &by_id(&held),
            Assignee {
                kind: AssigneeType::User,
                id: "u-7103".into(),
                display_name: None,
            },
        )
        .await
        .must("assign");
    refused(
        svc.update_number(&p, &by_id(&held), &set_caps(caps(true, true)), None)
            .await,
        "rule_violation",
        Some("R-CAP-1"),
        "SMS on (gaining the default profile) while assigned",
    );
    // Capabilities that change no carrier are fine while assigned.
    let fax = Capabilities {
        fax: true,
        ..caps(true, false)
    };
    svc.update_number(&p, &by_id(&held), &set_caps(fax), None)
        .await
        .must("fax on changes no carrier");
}

/// R-PROV-3 under concurrency: deleting the last carrier of a kind while another is created
/// never leaves carriers without a default (PostgreSQL reads without locks; the provider's
/// row lock orders the two). And two edits sent with the same If-Match: one wins, the other
/// is a 412 on both backends, never a 409.
async fn defaults_and_if_match_under_races(db: &TestDb) {
    let w = World::new(db).await;
    let apps = applications(db).await;
    let svcs: Vec<_> = apps.iter().map(|a| a.service().clone()).collect();
    let p = as_(&w.provider);
    for round in 0..8 {
        let only = svcs[0]
            .create_carrier(&p, CarrierKind::Voice, &format!("Only {round}"), None)
            .await
            .must("the only voice carrier");
        assert!(only.is_default, "the first of its kind is the default");
        let (a, b) = (svcs[0].clone(), svcs[svcs.len() - 1].clone());
        let (pa, pb) = (p.clone(), p.clone());
        let del = tokio::spawn(async move { a.delete_carrier(&pa, only.id, None).await });
        let add = tokio::spawn(async move {
            b.create_carrier(&pb, CarrierKind::Voice, &format!("New {round}"), None)
                .await
        });
        let _ = del.await.must("join delete");
        let _ = add.await.must("join create");
        let left = svcs[0]
            .list_carriers(&p, Some(CarrierKind::Voice))
            .await
            .must("list");
        let defaults = left.iter().filter(|c| c.is_default).count();
        assert!(
            left.is_empty() || defaults == 1,
            "round {round}: {} voice carriers, {defaults} defaults",
            left.len()
        );
        for c in left {
            let _ = svcs[0].delete_carrier(&p, c.id, None).await;
        }
        // Whatever is left after the cleanup must not be a kind without a default.
        let rest = svcs[0]
            .list_carriers(&p, Some(CarrierKind::Voice))
            .await
            .must("list");
        assert!(rest.is_empty() || rest.iter().filter(|c| c.is_default).count() == 1);
        for c in rest {
            svcs[0]
                .delete_carrier(&p, c.id, None)
                .await
                .must("clean up");
        }
    }

    let n = w.add(&w.provider, &e164(7200)).await;
    for round in 0..8 {
        let cur = svcs[0].get_number(&p, &by_id(&n)).await.must("read");
        let edit = |i: usize| NumberPatch {
            billing_reference: Some(Some(format!("PO-{round}-{i}"))),
            ..Default::default()
        };
        let mut tasks = Vec::new();
        for i in 0..4 {
            let s = svcs[i % svcs.len()].clone();
            let (pp, id, patch) = (p.clone(), by_id(&n), edit(i));
            let v = cur.version;
            tasks.push(tokio::spawn(async move {
                s.update_number(&pp, &id, &patch, Some(v)).await
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.must("join") {
                Ok(_) => won += 1,
                Err(e) => assert_eq!(e.code(), "precondition_failed", "round {round}: {e}"),
            }
        }
        assert_eq!(
            won, 1,
            "round {round}: exactly one edit of version {}",
            cur.version
        );
    }
}

backend_tests!(
    defaults_and_if_match_under_races,
    trunks_by_provider,
    trunk_in_use_is_not_deleted,
    one_default_per_kind,
    default_carriers_on_numbers,
    provision_needs_a_trunk,
);

/// A provider without a SIP trunk cannot provision to a customer (R-PROV-3's default is
/// missing): a 409 that says what to do, and nothing moves. Its first trunk is the default,
/// and then the same provision goes through on it.
async fn provision_needs_a_trunk(db: &TestDb) {
    use numberpool_domain::AccountKind;
    let w = World::new(db).await;
    let svc = &w.service;
    let bare = account(svc, "Bare Provider", AccountKind::Provider, None, false).await;
    let client = account(
        svc,
        "Bare Client",
        AccountKind::Customer,
        Some(&bare),
        false,
    )
    .await;
    let n = add_one(svc, &bare, &e164(4321)).await;
    // A reseller's pool needs no trunk: that provision goes through without one.
    let pool = account(svc, "Bare Pool", AccountKind::Reseller, Some(&bare), false).await;
    let spare = add_one(svc, &bare, &e164(4322)).await;
    let to_pool = svc
        .provision(
            &as_(&bare),
            std::slice::from_ref(&spare.phone_number),
            pool.id,
            None,
        )
        .await
        .must("provision to a reseller");
    assert_eq!(to_pool[0].sip_trunk_id, None);
    assert_eq!(to_pool[0].holder_id, pool.id);
    let err = svc
        .provision(
            &as_(&bare),
            std::slice::from_ref(&n.phone_number),
            client.id,
            None,
        )
        .await
        .err()
        .must("refused without a trunk");
    assert!(
        matches!(&err, numberpool::service::ServiceError::Conflict(m) if m.contains("no SIP trunk")),
        "{err:?}"
    );
    let first = svc
        .create_trunk(&as_(&bare), "only", "us", None)
        .await
        .must("trunk");
    assert!(first.is_default);
    let done = svc
        .provision(
            &as_(&bare),
            std::slice::from_ref(&n.phone_number),
            client.id,
            None,
        )
        .await
        .must("provision");
    assert_eq!(done[0].sip_trunk_id, Some(first.id));
    assert_eq!(done[0].customer_id, Some(client.id));
}
