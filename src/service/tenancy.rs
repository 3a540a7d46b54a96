//! Tenancy use cases beyond creating accounts: account deactivation and reactivation (R-OFF-1),
//! Provider Exchange (connect, disconnect request, deactivate; R-ACC-1), a provider's customer
//! list, entitlements (R-ACC-3) and the offboarding check that lists every blocker at once.

use numberpool_domain::Action;
use numberpool_domain::{
    Account, AccountId, AccountKind, AccountStatus, EntitlementUse, Entitlements, ExchangeEvent,
    ExchangeStatus, Rule, RuleViolation, StatusEvent, exchange_transition, status_transition,
};
use numberpool_store::{Connection, Lock, NumberSample, Reader, Tx};
use serde::Serialize;

use super::accounts::Reach;
use super::{Actor, Permission, Result, Service, ServiceError, check_version, snapshot};

/// A Provider Exchange connection: the provider (named) and the customer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionView {
    pub customer_id: AccountId,
    pub provider_id: AccountId,
    pub provider_name: String,
    pub provider_account_number: String,
    pub status: ExchangeStatus,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

impl ConnectionView {
    /// The connection as its customer sees it, with the provider on its other side.
    fn new(provider: &Account, connection: &Connection) -> Self {
        ConnectionView {
            customer_id: connection.customer_id,
            provider_id: provider.id,
            provider_name: provider.name.clone(),
            provider_account_number: provider.account_number.clone(),
            status: connection.status,
            created_at: connection.created_at,
            updated_at: connection.updated_at,
        }
    }
}

/// One of a provider's customers: a child customer or a connected one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    pub account_id: AccountId,
    pub name: String,
    pub account_number: String,
    /// The customer account's own status.
    pub status: AccountStatus,
    /// `child` (below the provider) or `connected` (Provider Exchange).
    pub relation: CustomerRelation,
    /// The connection's state for a connected customer; absent for a child.
    pub connection_status: Option<ExchangeStatus>,
    /// Numbers with the customer or its units (for a connected customer, the provider's only).
    pub phone_numbers: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerRelation {
    Child,
    Connected,
}

/// The offboarding check of an account: for each action the caller could take, whether it
/// would succeed now and everything in the way.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offboarding {
    pub account_id: AccountId,
    pub checks: Vec<OffboardingCheck>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OffboardingCheck {
    pub action: OffboardingAction,
    /// The provider of the connection, for the Provider Exchange actions.
    pub provider_id: Option<AccountId>,
    /// True when nothing is in the way.
    pub ready: bool,
    pub blockers: Vec<Blocker>,
}

/// What an offboarding check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffboardingAction {
    /// `POST /v2/accounts/{id}/deactivate` by an account above it (R-OFF-1).
    DeactivateAccount,
    /// `POST /v2/provider_exchange/connections/{provider}/disconnect` by the customer (R-ACC-1).
    RequestDisconnect,
    /// `POST /v2/provider_exchange/customers/{customer}/deactivate` by the provider (R-ACC-1).
    DeactivateConnection,
}

/// One thing in the way, with how many and the first few numbers concerned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Blocker {
    /// `assigned_numbers`, `numbers_held`, `numbers_held_below`,
    /// `numbers_with_connected_customers`, `reserved_numbers`, `numbers_in_open_porting_orders`,
    /// `provider_numbers_with_customer`,
    /// `disconnect_not_requested`.
    pub code: &'static str,
    pub rule: &'static str,
    pub message: String,
    pub count: i64,
    /// Up to 20 of the numbers concerned, by E.164.
    pub phone_numbers: Vec<String>,
}

/// Licences and their use (R-ACC-3).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntitlementsView {
    pub account_id: AccountId,
    pub toll_free: Licence,
    pub contact_center: Licence,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Licence {
    /// `null` is no limit.
    pub limit: Option<i64>,
    pub used: i64,
}

fn blocker(code: &'static str, rule: Rule, message: String, s: NumberSample) -> Option<Blocker> {
    (s.count > 0).then(|| Blocker {
        code,
        rule: rule.id(),
        message,
        count: s.count,
        phone_numbers: s.phone_numbers,
    })
}

fn check(
    action: OffboardingAction,
    provider_id: Option<AccountId>,
    blockers: Vec<Option<Blocker>>,
) -> OffboardingCheck {
    let blockers: Vec<Blocker> = blockers.into_iter().flatten().collect();
    OffboardingCheck {
        action,
        provider_id,
        ready: blockers.is_empty(),
        blockers,
    }
}

fn connection_key(provider: AccountId, customer: AccountId) -> String {
    format!("{provider}:{customer}")
}

impl Service {
    /// The account, if it is strictly below the actor in its own tree (not the actor itself):
    /// where status and entitlements are decided. Otherwise not found (R-SEC-1), or for the
    /// actor's own account a refusal of `rule` saying an account above decides.
    async fn account_below(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: AccountId,
        rule: Rule,
    ) -> Result<Account> {
        let account = self
            .account_within(tx, actor, id, Reach::OwnSubtree)
            .await?;
        if account.id == actor.account {
            return Err(RuleViolation::new(
                rule,
                "an account cannot change this for itself; an account above it does",
            )
            .into());
        }
        Ok(account)
    }

    /// Deactivates (or reactivates) an account below the actor; the operator acting for no
    /// account ([`Actor::operator`]) any account. R-OFF-1: deactivation needs an empty subtree. The
    /// account's data, clients and users are kept; they are refused (401) until reactivation.
    pub async fn set_account_status(
        &self,
        actor: &Actor,
        id: AccountId,
        deactivate: bool,
        if_version: Option<i64>,
    ) -> Result<Account> {
        actor.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let before = match actor.acting_for() {
            Some(_) => self.account_below(&mut tx, actor, id, Rule::Off1).await?,
            None => self.existing_account(&mut tx, id).await?,
        };
        check_version("account", before.version, if_version)?;
        // The status is written first: its row lock makes any allocation or add into the
        // subtree that holds the account's lock finish before the count below, and any that
        // comes later find the account deactivated. The count then decides, and a refusal
        // rolls the write back.
        if deactivate {
            // Refuse an account that is deactivated already before taking its row and counting.
            status_transition(before.status, StatusEvent::Deactivate { held: 0 })?;
        }
        let event = if deactivate {
            tx.set_account_status_cas(before.id, before.version, AccountStatus::Deactivated)
                .await
                .map_err(super::lost_race_with_version(if_version))?;
            let held = tx.holdings_blocking_deactivation(before.id).await?;
            // The reserve takes the account's row shared: one made before this write is
            // counted here, one after it finds the account deactivated.
            let reserved = tx.reserved_for(before.id, self.now()).await?;
            if reserved.count > 0 {
                return Err(RuleViolation::new(
                    Rule::Off1,
                    format!(
                        "{} numbers are reserved for the account (the first is {}); release \
                         their reservations first",
                        reserved.count,
                        reserved.phone_numbers.first().map_or("", String::as_str)
                    ),
                )
                .into());
            }
            StatusEvent::Deactivate {
                held: u64::try_from(held).unwrap_or(u64::MAX),
            }
        } else {
            StatusEvent::Reactivate
        };
        let to = status_transition(before.status, event)?;
        if !deactivate {
            tx.set_account_status_cas(before.id, before.version, to)
                .await
                .map_err(super::lost_race_with_version(if_version))?;
        }
        let mut after = before.clone();
        after.status = to;
        after.version = before.version + 1;
        let action = if deactivate {
            Action::AccountDeactivate
        } else {
            Action::AccountReactivate
        };
        tx.record(&actor.event(
            action,
            id.to_string(),
            Some(Rule::Off1),
            snapshot(&before),
            snapshot(&after),
        ))
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// R-ACC-3: licences and their use for a customer in the actor's own tree (itself or
    /// below). A connected provider does not see them: the use counts every provider's numbers.
    pub async fn entitlements(&self, actor: &Actor, id: AccountId) -> Result<EntitlementsView> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        let account = self
            .account_within(&mut r, actor, id, Reach::OwnSubtree)
            .await?;
        if account.kind != AccountKind::Customer {
            return Err(ServiceError::Invalid(
                "entitlements are a customer account's (R-ACC-3)".into(),
            ));
        }
        let used = r.entitlement_use(account.id).await?;
        Ok(EntitlementsView {
            account_id: account.id,
            toll_free: Licence {
                limit: account.entitlements.toll_free,
                used: used.toll_free,
            },
            contact_center: Licence {
                limit: account.entitlements.contact_center,
                used: used.contact_center,
            },
        })
    }

    /// R-ACC-3 when a number comes to (or changes at) `customer`: `more` is what it takes on
    /// top of what it already uses. Reads the customer under a write lock, so two allocations
    /// to one customer count one after the other.
    pub(crate) async fn check_entitlements(
        &self,
        tx: &mut Tx,
        customer: AccountId,
        more: EntitlementUse,
    ) -> Result<()> {
        if more == EntitlementUse::default() {
            return Ok(());
        }
        let account = tx
            .get_account_locked(customer, Lock::Update)
            .await?
            .ok_or(ServiceError::NotFound("account"))?;
        if account.entitlements == Entitlements::default() {
            return Ok(());
        }
        let used = tx.entitlement_use(customer).await?;
        Ok(account.entitlements.check_room(used, more)?)
    }

    /// The offboarding check of the operator at the command line: deactivating any account,
    /// roots included (a provider's numbers with its connected customers count too).
    pub async fn operator_offboarding(&self, id: AccountId) -> Result<Offboarding> {
        let mut r = self.store.read().await?;
        self.existing_account(&mut r, id).await?;
        Ok(Offboarding {
            account_id: id,
            checks: vec![self.deactivation_check(&mut r, id).await?],
        })
    }

    /// R-OFF-1's blockers for deactivating `id`, every one of them.
    async fn deactivation_check(&self, r: &mut Reader, id: AccountId) -> Result<OffboardingCheck> {
        let h = r.held_in_subtree(id).await?;
        let reserved = r.reserved_for(id, self.now()).await?;
        let porting = r.in_open_ports(id).await?;
        Ok(check(
            OffboardingAction::DeactivateAccount,
            None,
            vec![
                blocker(
                    "assigned_numbers",
                    Rule::Off1,
                    "numbers assigned to users or queues; unassign them".into(),
                    h.assigned,
                ),
                blocker(
                    "numbers_held",
                    Rule::Off1,
                    "numbers the account holds; release them (or delete those it uploaded)".into(),
                    h.at,
                ),
                blocker(
                    "numbers_held_below",
                    Rule::Off1,
                    "numbers held by accounts below it; they release them first".into(),
                    h.below,
                ),
                blocker(
                    "numbers_with_connected_customers",
                    Rule::Off1,
                    "the provider's numbers with its connected customers; they release them \
                     first"
                        .into(),
                    h.connected,
                ),
                blocker(
                    "reserved_numbers",
                    Rule::Off1,
                    "numbers reserved for the account; release their reservations (or let them \
                     run out)"
                        .into(),
                    reserved,
                ),
                blocker(
                    "numbers_in_open_porting_orders",
                    Rule::Port1,
                    "numbers on their way in through open porting orders; cancel the orders or \
                     let them complete (then release the numbers)"
                        .into(),
                    porting,
                ),
            ],
        ))
    }

    /// The blockers of an account's offboarding, for the actions the actor could take.
    pub async fn offboarding(&self, actor: &Actor, id: AccountId) -> Result<Offboarding> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        let account = self.account_within(&mut r, actor, id, Reach::Scope).await?;
        let own = r.in_own_subtree(actor.account, id).await?;
        let mut checks = Vec::new();
        if own && id != actor.account {
            checks.push(self.deactivation_check(&mut r, id).await?);
        }
        if id == actor.account && account.kind == AccountKind::Customer {
            for c in r.connections_of_customer(id).await? {
                if c.connection.status != ExchangeStatus::Connected {
                    continue;
                }
                let (_, assigned) = r.provider_numbers_with(c.other.id, id).await?;
                checks.push(check(
                    OffboardingAction::RequestDisconnect,
                    Some(c.other.id),
                    vec![blocker(
                        "assigned_numbers",
                        Rule::Acc1,
                        "the provider's numbers still assigned to your users; unassign them".into(),
                        assigned,
                    )],
                ));
            }
        }
        if !own
            && let Some(conn) = r.get_connection(actor.account, id).await?
            && conn.status != ExchangeStatus::Deactivated
        {
            let (all, assigned) = r.provider_numbers_with(actor.account, id).await?;
            let not_requested = (conn.status == ExchangeStatus::Connected).then(|| Blocker {
                code: "disconnect_not_requested",
                rule: Rule::Acc1.id(),
                message: "the customer has not requested disconnection".into(),
                count: 1,
                phone_numbers: vec![],
            });
            let assigned_blocker = blocker(
                "assigned_numbers",
                Rule::Acc1,
                "your numbers assigned to the customer's users; the customer unassigns them".into(),
                assigned,
            );
            if conn.status == ExchangeStatus::Connected {
                checks.push(check(
                    OffboardingAction::RequestDisconnect,
                    Some(actor.account),
                    vec![assigned_blocker.clone()],
                ));
            }
            checks.push(check(
                OffboardingAction::DeactivateConnection,
                Some(actor.account),
                vec![
                    not_requested,
                    blocker(
                        "provider_numbers_with_customer",
                        Rule::Acc1,
                        "your numbers still with the customer; the customer releases them (or \
                         unassigns and you delete them)"
                            .into(),
                        all,
                    ),
                ],
            ));
        }
        Ok(Offboarding {
            account_id: id,
            checks,
        })
    }

    /// Connects the actor (a root customer) to the provider with `provider_account_number`
    /// through Provider Exchange: the customer grants, the provider need not accept (SPEC §1).
    pub async fn connect_exchange(
        &self,
        customer: &Actor,
        provider_account_number: &str,
    ) -> Result<ConnectionView> {
        customer.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let c = self.acting_account(&mut tx, customer).await?;
        if c.kind != AccountKind::Customer || c.parent_id.is_some() {
            return Err(RuleViolation::new(
                Rule::Acc1,
                "only a root customer connects to providers through Provider Exchange",
            )
            .into());
        }
        if !tx.lock_inactive_among(&[c.id]).await?.is_empty() {
            return Err(RuleViolation::new(Rule::Off1, "the account is deactivated").into());
        }
        let p = tx
            .find_provider_by_number(provider_account_number.trim())
            .await?
            .filter(|p| p.status == AccountStatus::Active)
            .ok_or(ServiceError::NotFound("provider"))?;
        let before = tx.get_connection_locked(p.id, c.id, Lock::Update).await?;
        exchange_transition(before.as_ref().map(|b| b.status), ExchangeEvent::Connect)?;
        let conn = tx.upsert_connection(p.id, c.id).await?;
        let view = ConnectionView::new(&p, &conn);
        tx.record(&customer.event(
            Action::ExchangeConnect,
            connection_key(p.id, c.id),
            Some(Rule::Acc1),
            before.map(|b| serde_json::json!({"status": b.status})),
            Some(serde_json::json!({"provider_id": p.id, "customer_id": c.id, "status": conn.status})),
        ))
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The actor's Provider Exchange connections (as a customer), every status.
    pub async fn list_connections(&self, actor: &Actor) -> Result<Vec<ConnectionView>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(r.connections_of_customer(actor.account)
            .await?
            .into_iter()
            .map(|c| ConnectionView::new(&c.other, &c.connection))
            .collect())
    }

    /// R-ACC-1, customer side: asks to leave `provider`; refused while any of the provider's
    /// numbers is assigned to the customer's users. The connection's write lock comes first, so
    /// an assignment that holds its share lock finishes before the count, and a later one finds
    /// the request made.
    pub async fn request_disconnect(
        &self,
        customer: &Actor,
        provider: AccountId,
    ) -> Result<ConnectionView> {
        customer.require(Permission::PhoneWrite)?;
        self.exchange_step(customer, provider, customer.account, true)
            .await
    }

    /// R-ACC-1, provider side: ends the connection once the customer asked and none of the
    /// provider's numbers remain with it. Afterwards the provider no longer sees the customer.
    pub async fn deactivate_connection(
        &self,
        provider: &Actor,
        customer: AccountId,
    ) -> Result<ConnectionView> {
        provider.require(Permission::PhoneWrite)?;
        self.exchange_step(provider, provider.account, customer, false)
            .await
    }

    async fn exchange_step(
        &self,
        actor: &Actor,
        provider: AccountId,
        customer: AccountId,
        disconnect: bool,
    ) -> Result<ConnectionView> {
        let mut tx = self.store.begin().await?;
        // Either side sees only its own connections: anything else is not found (R-SEC-1).
        let conn = tx
            .get_connection_locked(provider, customer, Lock::Update)
            .await?
            .filter(|c| c.status != ExchangeStatus::Deactivated)
            .ok_or(ServiceError::NotFound("connection"))?;
        let (all, assigned) = tx.provider_numbers_with(provider, customer).await?;
        let count = |s: &NumberSample| u64::try_from(s.count).unwrap_or(u64::MAX);
        let event = if disconnect {
            ExchangeEvent::RequestDisconnect {
                assigned: count(&assigned),
            }
        } else {
            ExchangeEvent::Deactivate {
                remaining: count(&all),
            }
        };
        let to = exchange_transition(Some(conn.status), event)?;
        tx.set_connection_status_cas(provider, customer, conn.status, to)
            .await?;
        // The counts above ran under the connection's row lock (PostgreSQL) or the database's
        // write lock (SQLite): no assignment or allocation through this connection can have
        // slipped in between.
        let other = tx
            .get_account(provider)
            .await?
            .ok_or(ServiceError::NotFound("provider"))?;
        tx.record(&actor.event(
            if disconnect {
                Action::ExchangeDisconnectRequest
            } else {
                Action::ExchangeDeactivate
            },
            connection_key(provider, customer),
            Some(Rule::Acc1),
            Some(serde_json::json!({"status": conn.status})),
            Some(
                serde_json::json!({"provider_id": provider, "customer_id": customer, "status": to}),
            ),
        ))
        .await?;
        let stored = tx
            .get_connection(provider, customer)
            .await?
            .ok_or(ServiceError::NotFound("connection"))?;
        tx.commit().await?;
        Ok(ConnectionView::new(&other, &stored))
    }

    /// The actor's customers (a provider's or reseller's): child customers and connected ones,
    /// each with its number count.
    pub async fn list_customers(&self, actor: &Actor) -> Result<Vec<CustomerView>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_customers(actor.account)
            .await?
            .into_iter()
            .map(|c| CustomerView {
                account_id: c.account.id,
                name: c.account.name,
                account_number: c.account.account_number,
                status: c.account.status,
                relation: if c.connection.is_some() {
                    CustomerRelation::Connected
                } else {
                    CustomerRelation::Child
                },
                connection_status: c.connection,
                phone_numbers: c.phone_numbers,
            })
            .collect())
    }
}
