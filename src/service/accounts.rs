//! Accounts: creation under the tree rule (R-TREE-1), lookups within the caller's scope.

use numberpool_domain::account::check_account_name;
use numberpool_domain::{Account, AccountId, AccountKind, Action, Rule, RuleViolation};
use numberpool_store::{AccountName, NewAccount, Reader, Result as StoreResult, Tx};

use super::versioned::{Versioned, commit_update};
use super::{Actor, Permission, Result, Service, ServiceError};

/// What creating an account asks for.
#[derive(Debug, Clone)]
pub struct CreateAccount {
    pub name: String,
    pub kind: AccountKind,
    pub parent_id: Option<AccountId>,
    pub allow_external_numbers: bool,
}

impl CreateAccount {
    /// An account of `kind` under `parent`, without external numbers.
    pub fn new(name: &str, kind: AccountKind, parent_id: Option<AccountId>) -> Self {
        Self {
            name: name.to_string(),
            kind,
            parent_id,
            allow_external_numbers: false,
        }
    }
}

/// Editable fields of an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// R-ACC-2: granted by an account above the customer, never by the customer itself.
    pub allow_external_numbers: Option<bool>,
    /// R-ACC-3 licence limits, set from above: `Some(None)` removes the limit.
    pub toll_free_licences: Option<Option<i64>>,
    pub contact_center_licences: Option<Option<i64>>,
}

/// Which accounts an actor may name, for [`Service::account_within`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Its scope (R-SEC-1): what it may see and provision.
    Scope,
    /// Its own account or one below it. Credentials and users are managed only there: a
    /// Provider Exchange connection lets a provider see and provision a customer, not act as it.
    OwnSubtree,
}

impl Service {
    /// The account `id`, whoever's it is: for the operator acting for no account, or once the
    /// caller has checked the actor may see it. `NotFound` if there is none.
    pub(crate) async fn existing_account(&self, tx: &mut Reader, id: AccountId) -> Result<Account> {
        tx.get_account(id)
            .await?
            .ok_or(ServiceError::NotFound("account"))
    }

    /// `NotFound` unless `account` is within the actor's `reach` (R-SEC-1).
    pub(crate) async fn account_within(
        &self,
        tx: &mut Reader,
        actor: &Actor,
        account: AccountId,
        reach: Reach,
    ) -> Result<Account> {
        tx.get_account_within(actor.account, account, reach == Reach::Scope)
            .await?
            .ok_or(ServiceError::NotFound("account"))
    }

    /// Creates an account below one in the actor's own subtree; the operator acting for no
    /// account ([`Actor::operator`]) below any account, or a root with no parent.
    pub async fn create_account(&self, actor: &Actor, req: CreateAccount) -> Result<Account> {
        actor.require(Permission::PhoneWrite)?;
        let name = check_account_name(&req.name).map_err(ServiceError::Invalid)?;
        let mut tx = self.store.begin().await?;
        let parent = match req.parent_id {
            Some(pid) => Some(match actor.acting_for() {
                // Below the actor's own tree only: a Provider Exchange connection lets a provider
                // see and provision a customer, not reshape its organisation.
                Some(_) => {
                    self.account_within(&mut tx, actor, pid, Reach::OwnSubtree)
                        .await?
                }
                None => tx
                    .get_account(pid)
                    .await?
                    .ok_or(ServiceError::NotFound("parent account"))?,
            }),
            None => None,
        };
        if actor.acting_for().is_some() && parent.is_none() {
            return Err(ServiceError::Invalid(
                "parent_id: an account creates accounts below itself".into(),
            ));
        }
        req.kind.check_parent(parent.as_ref().map(|p| p.kind))?;
        if req.allow_external_numbers && req.kind != AccountKind::Customer {
            return Err(ServiceError::Invalid(
                "allow_external_numbers applies to customer accounts only (R-ACC-2)".into(),
            ));
        }
        let account = tx
            .insert_account(&NewAccount {
                name,
                kind: req.kind,
                parent_id: req.parent_id,
                allow_external_numbers: req.allow_external_numbers,
            })
            .await?;
        let after = serde_json::to_value(&account).ok();
        tx.record(&actor.event(
            Action::AccountCreate,
            account.id.to_string(),
            None,
            None,
            after,
        ))
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Renames an account in the actor's own subtree (itself included), or grants or withdraws
    /// R-ACC-2 and sets R-ACC-3 licences for a customer below it; the operator acting for no
    /// account ([`Actor::operator`]) any account, such as a root customer's licences, which no
    /// account is above to change. `if_version` is the version the caller read (If-Match). A
    /// Provider Exchange connection does not reach here: a provider provisions a connected
    /// customer, it does not run it.
    pub async fn update_account(
        &self,
        actor: &Actor,
        id: AccountId,
        patch: &AccountPatch,
        if_version: Option<i64>,
    ) -> Result<Account> {
        actor.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let before = match actor.acting_for() {
            Some(_) => {
                self.account_within(&mut tx, actor, id, Reach::OwnSubtree)
                    .await?
            }
            None => self.existing_account(&mut tx, id).await?,
        };
        // An account does not grant itself numbers or licences; the operator is above all.
        let itself = actor.acting_for() == Some(before.id);
        super::check_version("account", before.version, if_version)?;
        let mut next = before.clone();
        if let Some(name) = &patch.name {
            next.name = check_account_name(name).map_err(ServiceError::Invalid)?;
        }
        if let Some(allow) = patch.allow_external_numbers
            && allow != before.allow_external_numbers
        {
            if before.kind != AccountKind::Customer {
                return Err(ServiceError::Invalid(
                    "allow_external_numbers applies to customer accounts only (R-ACC-2)".into(),
                ));
            }
            if itself {
                return Err(RuleViolation::new(
                    Rule::Acc2,
                    "a customer cannot grant itself its own numbers; an account above it does",
                )
                .into());
            }
            next.allow_external_numbers = allow;
        }
        let entitlements =
            patch.toll_free_licences.is_some() || patch.contact_center_licences.is_some();
        if entitlements {
            if before.kind != AccountKind::Customer {
                return Err(ServiceError::Invalid(
                    "entitlements apply to customer accounts only (R-ACC-3)".into(),
                ));
            }
            if let Some(v) = patch.toll_free_licences {
                next.entitlements.toll_free = v;
            }
            if let Some(v) = patch.contact_center_licences {
                next.entitlements.contact_center = v;
            }
            if next.entitlements != before.entitlements {
                if itself {
                    return Err(RuleViolation::new(
                        Rule::Acc3,
                        "a customer cannot set its own licences; an account above it does",
                    )
                    .into());
                }
                // Under the account's write lock: an allocation counting licences waits.
                tx.lock_account(before.id).await?;
                let used = tx.entitlement_use(before.id).await?;
                next.entitlements.check_limits(used)?;
            }
        }
        let rule = if entitlements {
            Some(Rule::Acc3)
        } else {
            patch.allow_external_numbers.map(|_| Rule::Acc2)
        };
        commit_update(tx, actor, before, next, rule, if_version).await
    }

    pub async fn get_account(&self, actor: &Actor, id: AccountId) -> Result<Account> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        self.account_within(&mut r, actor, id, Reach::Scope).await
    }

    /// Accounts the operator can see without acting as one: used by the CLI only.
    pub async fn get_account_unscoped(&self, id: AccountId) -> Result<Account> {
        let mut r = self.store.read().await?;
        self.existing_account(&mut r, id).await
    }

    pub async fn list_accounts(&self, actor: &Actor) -> Result<Vec<Account>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_accounts_in_scope(actor.account).await?)
    }

    /// The id, name and kind of the accounts of `kinds` in the actor's scope (R-SEC-1): what
    /// [`Service::list_accounts`] gives of them, for a page that only names accounts.
    /// `generation` is the store's `scope_generation` as read at or before this call (a portal
    /// session carries it): names read at that value are kept and given again until it moves.
    pub async fn account_names(
        &self,
        actor: &Actor,
        kinds: &[AccountKind],
        generation: i64,
    ) -> Result<std::sync::Arc<Vec<AccountName>>> {
        actor.require(Permission::PhoneRead)?;
        if let Some(names) = self.scope_names.get(actor.account, kinds, generation) {
            return Ok(names);
        }
        let mut r = self.store.read().await?;
        let names = std::sync::Arc::new(r.account_names_in_scope(actor.account, kinds).await?);
        self.scope_names.put(
            actor.account,
            kinds,
            generation,
            std::sync::Arc::clone(&names),
        );
        Ok(names)
    }
}

impl Versioned for Account {
    type Id = AccountId;
    const UPDATE: Action = Action::AccountUpdate;

    fn id(&self) -> AccountId {
        self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    async fn store_update(tx: &mut Tx, next: &Self) -> StoreResult<Self> {
        tx.update_account_cas(next).await
    }
}
