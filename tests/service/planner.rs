//! The batch planner: one batch of mixed rows gets one outcome per row, for every reason a row
//! can be refused; the dry run writes nothing and answers the same; a partial add writes exactly
//! the accepted rows; an all-or-nothing add writes none of them.

use numberpool::service::{AddMode, AddNumber, PlannedRow};
use numberpool_domain::{
    Capabilities, Capacity, CarrierId, CarrierKind, Customization, NewNumber, Product,
};
use numberpool_store::NumberLookup;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

/// `(code, rule)` of each row's outcome; `None` for an accepted row.
fn codes(rows: &[PlannedRow]) -> Vec<Option<(&'static str, Option<&'static str>)>> {
    rows.iter()
        .map(|r| r.as_ref().err().map(|e| (e.error.code(), e.error.rule())))
        .collect()
}

async fn planner_outcomes_for_every_reason(db: &TestDb) {
    let w = World::new(db).await;
    let (svc, p) = (&w.service, &w.provider);
    let me = as_(p);
    svc.create_attribute(&me, "region", vec!["east".into()])
        .await
        .must("attribute");
    let voice = svc
        .create_carrier(&me, CarrierKind::Voice, "Carrier One", None)
        .await
        .must("carrier");
    // A number another tenant already has: refused without saying whose.
    let elsewhere = e164(9000);
    w.add(&w.tenant, &elsewhere).await;

    let with = |i: u32, f: NewNumber| AddNumber {
        phone_number: e164(i),
        fields: f,
    };
    let attrs = |k: &str, v: &str| NewNumber {
        attributes: [(k.to_string(), v.to_string())].into(),
        ..Default::default()
    };
    let rows = vec![
        // 0: plain, accepted
        add(&e164(1)),
        // 1: the same number again in this batch (R-NUM-1)
        add(&e164(1)),
        // 2: on the platform already, in another tenant (R-NUM-1)
        add(&elsewhere),
        // 3: the other tenant's trunk (R-SEC-1: not found)
        with(
            3,
            NewNumber {
                sip_trunk_id: Some(w.tenant_trunk),
                ..Default::default()
            },
        ),
        // 4: a carrier that does not exist (not found)
        with(
            4,
            NewNumber {
                voice_carrier_id: Some(CarrierId::new()),
                ..Default::default()
            },
        ),
        // 5: an attribute key the provider has not defined
        with(5, attrs("colour", "blue")),
        // 6: a value the key does not allow
        with(6, attrs("region", "west")),
        // 7: a customization the product forbids (R-CUST-1)
        with(
            7,
            NewNumber {
                product: Some(Product::ContactCenter),
                customization: Some(Customization {
                    capacity: Capacity::SingleContactCenter,
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        // 8: a carrier for a capability that is off
        with(
            8,
            NewNumber {
                capabilities: Some(Capabilities::default()),
                voice_carrier_id: Some(voice.id),
                ..Default::default()
            },
        ),
        // 9: free text with a control character
        with(
            9,
            NewNumber {
                billing_reference: Some("bill\u{7}".into()),
                ..Default::default()
            },
        ),
        // 10: everything named correctly, accepted
        with(
            10,
            NewNumber {
                sip_trunk_id: Some(w.trunk),
                voice_carrier_id: Some(voice.id),
                attributes: [("region".to_string(), "east".to_string())].into(),
                ..Default::default()
            },
        ),
    ];
    let want = vec![
        None,
        Some(("number_already_exists", Some("R-NUM-1"))),
        Some(("number_already_exists", Some("R-NUM-1"))),
        Some(("not_found", Some("R-SEC-1"))),
        Some(("not_found", Some("R-SEC-1"))),
        Some(("invalid_input", None)),
        Some(("invalid_input", None)),
        Some(("rule_violation", Some("R-CUST-1"))),
        Some(("invalid_input", None)),
        Some(("invalid_input", None)),
        None,
    ];

    // The dry run: every row's outcome, nothing written.
    let plan = svc.plan_add(&me, rows.clone()).await.must("plan");
    assert_eq!(codes(&plan), want);
    for (i, row) in plan.iter().enumerate() {
        if let Err(r) = row {
            let m = r.error.to_string();
            assert!(
                !m.contains("Unrelated"),
                "row {i} names the other tenant: {m}"
            );
        }
    }
    let accepted = plan.iter().filter_map(|r| r.as_ref().ok()).count();
    assert_eq!(accepted, 2);
    assert!(
        w.get(p, plan[0].as_ref().ok().must("row 0")).await.is_err(),
        "a dry run writes nothing"
    );

    // All-or-nothing: refused whole, with the earliest check's first row, and nothing written.
    let e = svc
        .add_planned(&me, rows.clone(), AddMode::AllOrNothing)
        .await
        .err()
        .must("an all-or-nothing batch with refused rows");
    assert_eq!(e.code(), "number_already_exists", "{e}");
    assert!(e.to_string().contains("given twice"), "{e}");
    assert!(
        svc.get_number(&me, &NumberLookup::E164(e164(1)))
            .await
            .is_err(),
        "all or nothing wrote a number"
    );

    // Partial: the same outcomes, and exactly the accepted rows are on the platform.
    let outcome = svc
        .add_planned(&me, rows, AddMode::Partial)
        .await
        .must("partial add");
    assert_eq!(codes(&outcome.rows), want);
    for i in [1, 10] {
        let n = svc
            .get_number(&me, &NumberLookup::E164(e164(i)))
            .await
            .must("an accepted row is on the platform");
        assert_eq!(n.holder_id, p.id);
    }
    let named = svc
        .get_number(&me, &NumberLookup::E164(e164(10)))
        .await
        .must("row 10");
    assert_eq!(named.sip_trunk_id, Some(w.trunk));
    assert_eq!(named.source, "BYOC - Cloud Carrier One");
    for i in 3..=9 {
        assert!(
            svc.get_number(&me, &NumberLookup::E164(e164(i)))
                .await
                .is_err(),
            "refused row {i} was written"
        );
    }
    // One audit event for the batch, naming the two added numbers.
    let history = audit_for(&w.store, &named.id.to_string()).await;
    let added = history.first().must("the batch's event");
    assert_eq!(added.entity_type, "number_batch");
    let listed = added
        .after
        .as_ref()
        .and_then(|a| a.get("phone_numbers"))
        .and_then(|v| v.as_array())
        .map(Vec::len);
    assert_eq!(listed, Some(2));
}

numberpool_store::backend_tests!(planner_outcomes_for_every_reason);
