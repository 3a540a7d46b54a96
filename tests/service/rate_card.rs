//! A provider's rate card (SPEC §1): who manages and who reads entries (R-PROV-1, R-SEC-1),
//! input checks (country parsed and upper-cased, whole cents 0..=100,000,000, ISO 4217
//! currency), one entry per country and type (`already_exists`), filters, If-Match and audited
//! writes.

use numberpool_domain::NumberType;
use numberpool_store::backend_tests;
use numberpool_store::testing::TestDb;

use crate::fixture::*;
use numberpool::service::RatePatch;

async fn rate_card_entries(db: &TestDb) {
    let w = World::new(db).await;
    let svc = &w.service;
    let p = as_(&w.provider);
    let us = svc
        .create_rate(&p, "us", NumberType::Local, 100, None)
        .await
        .must("create");
    assert_eq!(
        (us.country.as_str(), us.currency.as_str(), us.version),
        ("US", "USD", 1)
    );
    assert_eq!(us.monthly_cost_cents, 100);
    assert_eq!(
        actions(&audit_for(&w.store, &us.id.to_string()).await),
        [Action::RateCreate]
    );
    refused(
        svc.create_rate(&p, "US", NumberType::Local, 5, None).await,
        "already_exists",
        None,
        "the same country and type twice",
    );
    let gb = svc
        .create_rate(&p, "GB", NumberType::TollFree, 250, Some("gbp"))
        .await
        .must("another country and type");
    assert_eq!(gb.currency, "GBP");
    svc.create_rate(&p, "US", NumberType::Mobile, 0, None)
        .await
        .must("the same country, another type; free");
    svc.create_rate(&as_(&w.tenant), "US", NumberType::Local, 100, None)
        .await
        .must("another provider may price the same");
    for (country, cents, currency, what) in [
        ("ZZ", 1, None, "unknown country"),
        ("", 1, None, "empty country"),
        ("FR", -1, None, "negative cost"),
        ("FR", 100_000_001, None, "too large a cost"),
        ("FR", 1, Some("EU"), "short currency"),
        ("FR", 1, Some("E1R"), "digit in currency"),
    ] {
        refused(
            svc.create_rate(&p, country, NumberType::Local, cents, currency)
                .await,
            "invalid_input",
            None,
            what,
        );
    }
    svc.create_rate(&p, "FR", NumberType::Local, 100_000_000, Some("EUR"))
        .await
        .must("the largest cost");
    for who in [&w.reseller, &w.customer, &w.unit] {
        refused(
            svc.create_rate(&as_(who), "DE", NumberType::Local, 1, None)
                .await,
            "rule_violation",
            Some("R-PROV-1"),
            "only a provider creates entries",
        );
    }

    // Filters.
    assert_eq!(svc.list_rates(&p, None, None).await.must("list").len(), 4);
    assert_eq!(
        svc.list_rates(&p, Some("us"), None)
            .await
            .must("list")
            .len(),
        2
    );
    assert_eq!(
        svc.list_rates(&p, Some("US"), Some(NumberType::Local))
            .await
            .must("list")
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [us.id]
    );
    assert!(
        svc.list_rates(&p, None, Some(NumberType::National))
            .await
            .must("list")
            .is_empty()
    );
    refused(
        svc.list_rates(&p, Some("ZZ"), None).await,
        "invalid_input",
        None,
        "an unknown country filter",
    );

    // The reseller reads its provider's entries but does not edit them.
    let r = as_(&w.reseller);
    assert_eq!(svc.list_rates(&r, None, None).await.must("list").len(), 4);
    svc.get_rate(&r, us.id).await.must("reseller reads");
    refused(
        svc.update_rate(
            &r,
            us.id,
            RatePatch {
                monthly_cost_cents: Some(1),
                ..Default::default()
            },
            None,
        )
        .await,
        "rule_violation",
        Some("R-PROV-1"),
        "the reseller edits",
    );
    // Customers, units and other tenants find nothing.
    for who in [&w.customer, &w.unit, &w.tenant, &w.tenant_customer] {
        hidden(svc.get_rate(&as_(who), us.id).await, "outside the provider");
        hidden(
            svc.delete_rate(&as_(who), us.id, None).await,
            "outside the provider",
        );
    }
    assert!(
        svc.list_rates(&as_(&w.customer), None, None)
            .await
            .must("list")
            .is_empty()
    );

    // Edits: If-Match, checks, audit.
    let cheaper = RatePatch {
        monthly_cost_cents: Some(75),
        currency: Some("cad".into()),
    };
    refused(
        svc.update_rate(&p, us.id, cheaper.clone(), Some(9)).await,
        "precondition_failed",
        None,
        "a stale If-Match",
    );
    refused(
        svc.update_rate(
            &p,
            us.id,
            RatePatch {
                monthly_cost_cents: Some(-5),
                ..Default::default()
            },
            None,
        )
        .await,
        "invalid_input",
        None,
        "a negative cost",
    );
    let two = svc
        .update_rate(&p, us.id, cheaper.clone(), Some(1))
        .await
        .must("update");
    assert_eq!(
        (two.monthly_cost_cents, two.currency.as_str(), two.version),
        (75, "CAD", 2)
    );
    let same = svc
        .update_rate(&p, us.id, cheaper, None)
        .await
        .must("no change");
    assert_eq!(same.version, 2);
    refused(
        svc.delete_rate(&p, us.id, Some(1)).await,
        "precondition_failed",
        None,
        "a stale If-Match",
    );
    svc.delete_rate(&p, us.id, Some(2)).await.must("delete");
    hidden(svc.get_rate(&p, us.id).await, "deleted");
    assert_eq!(
        actions(&audit_for(&w.store, &us.id.to_string()).await),
        [Action::RateCreate, Action::RateUpdate, Action::RateDelete]
    );
    // The pair is free again.
    svc.create_rate(&p, "US", NumberType::Local, 100, None)
        .await
        .must("create again");
}

backend_tests!(rate_card_entries);
