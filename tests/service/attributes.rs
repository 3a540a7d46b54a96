//! A provider's attribute keys (SPEC §1) and a number's `attributes` (SPEC §2): who manages and
//! who reads keys (R-PROV-1, R-SEC-1), input checks, R-ATTR-1 on removing a value or key that
//! numbers carry, audited writes, and the check of numbers' attributes against the owner's keys
//! on add (whole batch) and edit, including a customer's own numbers (none allowed).

use std::collections::BTreeMap;

use numberpool_domain::NumberPatch;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn vals(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn attribute_keys(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let region = svc
        .create_attribute(&p, "region", vals(&["emea", "apac"]))
        .await
        .must("create");
    assert_eq!((region.key.as_str(), region.version), ("region", 1));
    assert_eq!(
        actions(&audit_for(&w.store, &region.id.to_string()).await),
        [Action::AttributeCreate]
    );
    refused(
        svc.create_attribute(&p, "region", vals(&["x"])).await,
        "already_exists",
        None,
        "the same key twice",
    );
    svc.create_attribute(&as_(&w.tenant), "region", vals(&["x"]))
        .await
        .must("another provider may use the key");
    for (key, values, what) in [
        ("Bad", vals(&["x"]), "upper case"),
        ("", vals(&["x"]), "empty key"),
        ("k", vals(&[]), "no values"),
        ("k", vals(&["x", "x"]), "a duplicate value"),
        ("k", vals(&["a\tb"]), "a control character"),
    ] {
        refused(
            svc.create_attribute(&p, key, values).await,
            "invalid_input",
            None,
            what,
        );
    }
    for who in [&w.reseller, &w.customer, &w.unit] {
        refused(
            svc.create_attribute(&as_(who), "mine", vals(&["x"])).await,
            "rule_violation",
            Some("R-PROV-1"),
            "only a provider creates keys",
        );
    }
    // The reseller reads its provider's keys but does not edit them.
    let r = as_(&w.reseller);
    assert_eq!(svc.list_attributes(&r).await.must("list").len(), 1);
    svc.get_attribute(&r, region.id)
        .await
        .must("reseller reads");
    refused(
        svc.update_attribute(&r, region.id, Some(vals(&["emea"])), None)
            .await,
        "rule_violation",
        Some("R-PROV-1"),
        "the reseller edits",
    );
    // Customers, units and other tenants find nothing.
    for who in [&w.customer, &w.unit, &w.tenant, &w.tenant_customer] {
        hidden(
            svc.get_attribute(&as_(who), region.id).await,
            "outside the provider",
        );
        hidden(
            svc.delete_attribute(&as_(who), region.id, None).await,
            "outside the provider",
        );
    }
    assert!(
        svc.list_attributes(&as_(&w.customer))
            .await
            .must("list")
            .is_empty()
    );

    // Numbers: keys and values checked against the owner's keys, for the whole batch.
    let mut a = add(&e164(1));
    a.fields.attributes = attrs(&[("region", "emea")]);
    let mut b = add(&e164(2));
    b.fields.attributes = attrs(&[("region", "mars")]);
    let e = refused(
        svc.add_numbers(&p, vec![a.clone(), b]).await,
        "invalid_input",
        None,
        "a value not allowed",
    );
    assert!(e.to_string().contains("region"), "{e}");
    let mut c = add(&e164(3));
    c.fields.attributes = attrs(&[("colour", "red")]);
    let e = refused(
        svc.add_numbers(&p, vec![c]).await,
        "invalid_input",
        None,
        "an unknown key",
    );
    assert!(e.to_string().contains("colour"), "{e}");
    let added = svc.add_numbers(&p, vec![a]).await.must("add");
    let n = &added[0];
    assert_eq!(n.attributes, attrs(&[("region", "emea")]));
    // A reseller's numbers belong to its provider: the provider's keys apply.
    let mut d = add(&e164(4));
    d.fields.attributes = attrs(&[("region", "apac")]);
    svc.add_numbers(&r, vec![d]).await.must("reseller adds");
    // A customer's own numbers have no provider and so no keys (R-ACC-2).
    let mut x = add(&e164(5));
    x.fields.attributes = attrs(&[("region", "emea")]);
    refused(
        svc.add_numbers(&as_(&w.ext_customer), vec![x]).await,
        "invalid_input",
        None,
        "a customer's own number with attributes",
    );
    svc.add_numbers(&as_(&w.ext_customer), vec![add(&e164(6))])
        .await
        .must("a customer's own number without attributes");
    // Edits: checked too.
    let bad = NumberPatch {
        attributes: Some(attrs(&[("region", "mars")])),
        ..Default::default()
    };
    refused(
        svc.update_number(&p, &by_id(n), &bad, None).await,
        "invalid_input",
        None,
        "an edit to a value not allowed",
    );

    // R-ATTR-1: a carried value stays; a free one goes; the key stays while carried.
    refused(
        svc.update_attribute(&p, region.id, Some(vals(&["apac", "amer"])), None)
            .await,
        "rule_violation",
        Some("R-ATTR-1"),
        "removing a carried value",
    );
    refused(
        svc.update_attribute(&p, region.id, Some(vals(&["emea", "apac"])), Some(9))
            .await,
        "precondition_failed",
        None,
        "a stale If-Match",
    );
    let two = svc
        .update_attribute(
            &p,
            region.id,
            Some(vals(&["emea", "apac", "amer"])),
            Some(1),
        )
        .await
        .must("add a value");
    assert_eq!(two.version, 2);
    refused(
        svc.delete_attribute(&p, region.id, None).await,
        "rule_violation",
        Some("R-ATTR-1"),
        "deleting a carried key",
    );
    let clear = NumberPatch {
        attributes: Some(BTreeMap::new()),
        ..Default::default()
    };
    for num in [n.phone_number.clone(), e164(4)] {
        let got = svc
            .get_number(&p, &numberpool_store::NumberLookup::E164(num))
            .await
            .must("get");
        svc.update_number(&p, &by_id(&got), &clear, None)
            .await
            .must("clear attributes");
    }
    svc.delete_attribute(&p, region.id, Some(2))
        .await
        .must("delete a free key");
    assert_eq!(
        actions(&audit_for(&w.store, &region.id.to_string()).await),
        [
            Action::AttributeCreate,
            Action::AttributeUpdate,
            Action::AttributeDelete
        ]
    );
}

backend_tests!(attribute_keys);
