//! Fixture builders below the HTTP layer: accounts, numbers and moves through the service (as
//! the operator acting for an account), and the provider resources that have no use case yet
//! (trunks, carriers, attribute keys, rate entries) written straight to the store.

use numberpool::service::{Actor, AddNumber, AllocateOptions, CreateAccount, Service};
use numberpool_domain::{
    Account, AccountKind, Assignee, AssigneeType, AttributeId, CarrierId, E164, NewNumber, Number,
    NumberType, RateId, TrunkId,
};
use numberpool_store::{NumberLookup, Store};

use super::Must;

/// A valid US number: `+1415555` followed by the four digits of `i`.
pub fn e164(i: u32) -> E164 {
    assert!(i < 10_000, "fixture numbers have four digits");
    E164::parse(&format!("+1415555{i:04}")).must("fixture number")
}

/// One row of an add with no fields but the number.
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

/// A user assignee with no display name.
pub fn user(id: &str) -> Assignee {
    Assignee {
        kind: AssigneeType::User,
        id: id.to_string(),
        display_name: None,
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
    // A root by the operator, a child by its parent.
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

/// Adds one number to `who`'s pool (or as its own), by `who`.
pub async fn add_one(service: &Service, who: &Account, n: &E164) -> Number {
    let mut v = service
        .add_numbers(&as_(who), vec![add(n)])
        .await
        .must("add number");
    v.pop().must("one number added")
}

/// `who` allocates `n` to `to`, with `trunk` when `to` is a customer.
pub async fn allocate(
    service: &Service,
    who: &Account,
    n: &Number,
    to: &Account,
    trunk: Option<TrunkId>,
) -> Number {
    let opts = AllocateOptions {
        sip_trunk_id: trunk,
        ..Default::default()
    };
    service
        .allocate(&as_(who), &by_id(n), to.id, opts)
        .await
        .must("allocate")
}

/// A SIP trunk of `provider` in us-west, written straight to the store.
pub async fn trunk(store: &Store, provider: &Account, name: &str) -> TrunkId {
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .insert_trunk(provider.id, name, "us-west")
        .await
        .must("insert trunk");
    tx.commit().await.must("commit");
    id
}

/// A carrier of `provider` (`kind` voice or sms), written straight to the store.
pub async fn carrier(
    store: &Store,
    provider: &Account,
    kind: &str,
    name: &str,
    default: bool,
) -> CarrierId {
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .insert_carrier(provider.id, kind, name, default)
        .await
        .must("insert carrier");
    tx.commit().await.must("commit");
    id
}

/// An attribute key of `provider` with its allowed values, written straight to the store.
pub async fn attribute(
    store: &Store,
    provider: &Account,
    key: &str,
    values: &[&str],
) -> AttributeId {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .insert_attribute(provider.id, key, &values)
        .await
        .must("insert attribute");
    tx.commit().await.must("commit");
    id
}

/// A rate card entry of `provider`, written straight to the store.
pub async fn rate(
    store: &Store,
    provider: &Account,
    country: &str,
    t: NumberType,
    cents: i64,
    currency: &str,
) -> RateId {
    let mut tx = store.begin().await.must("begin");
    let id = tx
        .insert_rate(provider.id, country, t, cents, currency)
        .await
        .must("insert rate");
    tx.commit().await.must("commit");
    id
}
