//! The named fixture world every service case starts from, built through the service itself
//! (accounts, Provider Exchange) and the store (SIP trunks), plus small assertion helpers.

use std::fmt::Debug;

use numberpool::config::Config;
pub use numberpool::service::Actor;
use numberpool::service::{Service, ServiceError};
use numberpool::startup::Application;
pub use numberpool_domain::Action;
use numberpool_domain::{Account, AccountKind, E164, Number, TrunkId};
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditEvent, Store};

pub use crate::common::Must;
pub use crate::common::fixture::*;

/// Asserts that `r` is a refusal with this code and rule; returns the error for more checks.
#[track_caller]
pub fn refused<T: Debug>(
    r: Result<T, ServiceError>,
    code: &str,
    rule: Option<&str>,
    what: &str,
) -> ServiceError {
    match r {
        Ok(v) => panic!("{what}: expected {code} {rule:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(
                (e.code(), e.rule()),
                (code, rule),
                "{what}: wrong refusal: {e}"
            );
            e
        }
    }
}

/// Asserts that `r` is `not_found` under R-SEC-1: what lies outside the actor's scope is
/// hidden, not forbidden. Returns the error for more checks.
#[track_caller]
pub fn hidden<T: Debug>(r: Result<T, ServiceError>, what: &str) -> ServiceError {
    refused(r, "not_found", Some("R-SEC-1"), what)
}

/// The audit events of one entity, read from the store (unscoped: survives deletion).
/// The audit trail of an entity; for a number, its whole history (the batch event that added
/// it, then every event about it), also after it was deleted.
pub async fn audit_for(store: &Store, entity: &str) -> Vec<AuditEvent> {
    let mut r = store.read().await.must("read");
    match entity.parse::<numberpool_domain::NumberId>() {
        Ok(id) => r.number_history(id).await.must("number_history"),
        Err(_) => r.audit_for(entity).await.must("audit_for"),
    }
}

pub fn actions(events: &[AuditEvent]) -> Vec<Action> {
    events.iter().map(|e| e.action).collect()
}

/// The tenants of the fixture:
///
/// ```text
/// provider ─┬─ reseller ── res_customer
///           ├─ customer ── unit
///           ├─ customer2 ── unit2
///           ├─ ext_customer (allow_external_numbers)
///           └┈ root_customer (a root, connected through Provider Exchange; own numbers allowed)
/// tenant ──── tenant_customer          (an unrelated provider)
/// ```
pub struct World {
    pub service: Service,
    pub store: Store,
    pub provider: Account,
    pub reseller: Account,
    pub res_customer: Account,
    pub customer: Account,
    pub unit: Account,
    pub customer2: Account,
    pub unit2: Account,
    pub ext_customer: Account,
    pub root_customer: Account,
    pub tenant: Account,
    pub tenant_customer: Account,
    /// The provider's SIP trunk.
    pub trunk: TrunkId,
    /// The unrelated tenant's SIP trunk.
    pub tenant_trunk: TrunkId,
}

impl World {
    /// A world on a fresh, migrated store of `db`.
    pub async fn new(db: &TestDb) -> World {
        World::build(Service::new(db.store().await)).await
    }

    pub async fn build(service: Service) -> World {
        use AccountKind::*;
        let s = &service;
        let provider = account(s, "Provider One", Provider, None, false).await;
        let reseller = account(s, "Reseller", Reseller, Some(&provider), false).await;
        let res_customer =
            account(s, "Reseller's customer", Customer, Some(&reseller), false).await;
        let customer = account(s, "Customer", Customer, Some(&provider), false).await;
        let unit = account(s, "Customer unit", Unit, Some(&customer), false).await;
        let customer2 = account(s, "Customer two", Customer, Some(&provider), false).await;
        let unit2 = account(s, "Customer two unit", Unit, Some(&customer2), false).await;
        let ext_customer = account(s, "External customer", Customer, Some(&provider), true).await;
        let root_customer = account(s, "Root customer", Customer, None, true).await;
        service
            .connect_exchange(&as_(&root_customer), &provider.account_number)
            .await
            .must("connect exchange");
        let tenant = account(s, "Unrelated provider", Provider, None, false).await;
        let tenant_customer =
            account(s, "Unrelated customer", Customer, Some(&tenant), false).await;
        let store = service.store().clone();
        let tenant_trunk = trunk(&store, &tenant, "tenant-trunk").await;
        let trunk = trunk(&store, &provider, "trunk-1").await;
        World {
            service,
            store,
            provider,
            reseller,
            res_customer,
            customer,
            unit,
            customer2,
            unit2,
            ext_customer,
            root_customer,
            tenant,
            tenant_customer,
            trunk,
            tenant_trunk,
        }
    }

    /// Adds one number to `who`'s pool (or as its own), by `who`.
    pub async fn add(&self, who: &Account, n: &E164) -> Number {
        add_one(&self.service, who, n).await
    }

    /// Adds a number to the provider's pool and allocates it to `customer` (a direct child or
    /// connected customer) with the provider's trunk.
    pub async fn held_by(&self, customer: &Account, n: &E164) -> Number {
        let added = self.add(&self.provider, n).await;
        allocate(
            &self.service,
            &self.provider,
            &added,
            customer,
            Some(self.trunk),
        )
        .await
    }

    /// The number as `who` sees it now.
    pub async fn get(&self, who: &Account, n: &Number) -> Result<Number, ServiceError> {
        self.service.get_number(&as_(who), &by_id(n)).await
    }
}

/// One `Application` per instance sharing `db`: two on PostgreSQL (two servers on one
/// database), one on SQLite (an embedded file belongs to one process).
pub async fn applications(db: &TestDb) -> Vec<Application> {
    let instances = if is_postgres(db) { 2 } else { 1 };
    let config = Config {
        database_url: db.url.clone(),
        listen: "127.0.0.1:0".into(),
        data_dir: std::env::temp_dir(),
        ..Default::default()
    };
    let mut apps = Vec::with_capacity(instances);
    for _ in 0..instances {
        apps.push(Application::build(&config).await.must("build application"));
    }
    apps
}

pub fn is_postgres(db: &TestDb) -> bool {
    db.url.starts_with("postgres")
}

/// The numbers `who`'s available search finds with `contains` (up to 100), in its order.
pub async fn found(s: &Service, who: &Actor, contains: &str) -> Vec<String> {
    let q = numberpool::service::AvailableParams {
        contains: Some(contains.into()),
        quantity: Some(100),
        ..numberpool::service::AvailableParams::default()
    }
    .parse(None)
    .must("query");
    s.search_available(who, &q)
        .await
        .must("search")
        .into_iter()
        .map(|n| n.phone_number)
        .collect()
}
