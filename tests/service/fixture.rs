//! The named fixture world every service case starts from, built through the service itself
//! (accounts, Provider Exchange) and the store (SIP trunks), plus small assertion helpers.

use std::fmt::{Debug, Display};

use numberpool::config::Config;
pub use numberpool::service::Actor;
use numberpool::service::{AddNumber, AllocateOptions, CreateAccount, Service, ServiceError};
use numberpool::startup::Application;
pub use numberpool_domain::Action;
use numberpool_domain::{Account, AccountKind, E164, NewNumber, Number, TrunkId};
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditEvent, NumberLookup, Store};

/// `Result`/`Option` to value, panicking with the context and the error.
pub trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T, E: Display> Must<T> for Result<T, E> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

impl<T> Must<T> for Option<T> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|| panic!("{what}: nothing"))
    }
}

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

/// A valid US number: `+1415555` followed by the four digits of `i`.
pub fn e164(i: u32) -> E164 {
    assert!(i < 10_000, "fixture numbers have four digits");
    E164::parse(&format!("+1415555{i:04}")).must("fixture number")
}

pub fn add(n: &E164) -> AddNumber {
    AddNumber {
        phone_number: n.clone(),
        fields: NewNumber::default(),
    }
}

pub fn by_id(n: &Number) -> NumberLookup {
    NumberLookup::Id(n.id)
}

pub fn by_e164(n: &Number) -> NumberLookup {
    NumberLookup::E164(n.phone_number.clone())
}

pub fn as_(a: &Account) -> Actor {
    Actor::cli(a.id)
}

pub fn with_trunk(trunk: TrunkId) -> AllocateOptions {
    AllocateOptions {
        sip_trunk_id: Some(trunk),
        ..Default::default()
    }
}

/// Creates an account through the service: a root by the operator, a child by its parent.
pub async fn account(
    service: &Service,
    name: &str,
    kind: AccountKind,
    parent: Option<&Account>,
    allow_external_numbers: bool,
) -> Account {
    let actor = parent.map_or_else(Actor::operator, as_);
    service
        .create_account(
            &actor,
            CreateAccount {
                name: name.to_string(),
                kind,
                parent_id: parent.map(|p| p.id),
                allow_external_numbers,
            },
        )
        .await
        .must(name)
}

/// A SIP trunk of `provider`, written straight to the store (there is no use case for it yet).
pub async fn trunk(store: &Store, provider: &Account, name: &str) -> TrunkId {
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .insert_trunk(provider.id, name, "us-west")
        .await
        .must("insert trunk");
    tx.commit().await.must("commit");
    id
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
        let mut v = self
            .service
            .add_numbers(&as_(who), vec![add(n)])
            .await
            .must("add number");
        v.pop().must("one number added")
    }

    /// Adds a number to the provider's pool and allocates it to `customer` (a direct child or
    /// connected customer) with the provider's trunk.
    pub async fn held_by(&self, customer: &Account, n: &E164) -> Number {
        let added = self.add(&self.provider, n).await;
        self.service
            .allocate(
                &as_(&self.provider),
                &by_id(&added),
                customer.id,
                with_trunk(self.trunk),
            )
            .await
            .must("allocate")
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
