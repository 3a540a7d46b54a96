//! The use cases. Each takes an [`Actor`], opens one transaction, applies a domain check or
//! transition, and writes the new state with its audit event before committing. Nothing above
//! this layer touches the store's write methods.

mod accounts;
mod attributes;
mod audit;
mod credentials;
mod idempotency;
mod jobs;
mod numbers;
mod providers;
mod rate_card;
mod tenancy;
mod tokens;

use numberpool_domain::{AccountId, Rule, RuleViolation};
use numberpool_store::{Channel, NewAudit, Store, StoreError};

pub use accounts::{AccountPatch, CreateAccount};
pub use credentials::{
    CreatedClient, CreatedUser, Role, SCOPES, hash_secret, random_token as credentials_token,
    verify_secret,
};
pub use idempotency::IdemBegin;
pub use jobs::IDEMPOTENCY_KEY_TTL_MS;
pub use numbers::{
    AccountRef, AddMode, AddNumber, AddOutcome, AllocateOptions, AssignmentsView, NumberView,
    PlannedRow, RowRejection,
};
pub use providers::{CarrierPatch, TrunkPatch};
pub use rate_card::RatePatch;
pub use tenancy::{
    Blocker, ConnectionView, CustomerRelation, CustomerView, EntitlementsView, Licence,
    Offboarding, OffboardingAction, OffboardingCheck,
};
pub use tokens::{ClientView, IssuedToken};

/// Who is acting: the account they act for, how they authenticated, and through what channel.
/// Every service call is scoped by `account` (R-SEC-1).
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: AccountId,
    pub principal: Principal,
    pub channel: Channel,
}

/// The authenticated party behind an [`Actor`].
#[derive(Debug, Clone)]
pub enum Principal {
    User(String),
    Client(String),
    /// The operator at the command line of the server (the `numberpool` CLI).
    Operator,
}

impl Actor {
    /// The operator acting for `account` from the CLI.
    pub fn cli(account: AccountId) -> Actor {
        Actor {
            account,
            principal: Principal::Operator,
            channel: Channel::Cli,
        }
    }

    /// The audit event of a change made by `actor`, or by the operator at the command line
    /// when there is none (creating and deactivating root accounts).
    pub(crate) fn audit_of(
        actor: Option<&Actor>,
        entity_type: &'static str,
        entity_id: String,
        action: &'static str,
        rule: Option<Rule>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAudit {
        match actor {
            Some(a) => a.audit(entity_type, entity_id, action, rule, before, after),
            None => NewAudit {
                actor_type: "operator",
                actor_id: "cli".into(),
                actor_account_id: None,
                channel: Channel::Cli,
                entity_type,
                entity_id,
                action,
                rule: rule.map(Rule::id),
                before,
                after,
            },
        }
    }

    pub(crate) fn audit(
        &self,
        entity_type: &'static str,
        entity_id: String,
        action: &'static str,
        rule: Option<Rule>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAudit {
        let (actor_type, actor_id) = match &self.principal {
            Principal::User(id) => ("user", id.clone()),
            Principal::Client(id) => ("client", id.clone()),
            Principal::Operator => ("operator", "cli".to_string()),
        };
        NewAudit {
            actor_type,
            actor_id,
            actor_account_id: Some(self.account.to_string()),
            channel: self.channel,
            entity_type,
            entity_id,
            action,
            rule: rule.map(Rule::id),
            before,
            after,
        }
    }
}

/// Every way a use case can fail, with a stable code for the API and CLI.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Absent, or outside the caller's scope (R-SEC-1): the two are indistinguishable.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A rule said no; the rule id travels separately (see [`ServiceError::rule`]).
    #[error("{}", .0.message)]
    Rule(RuleViolation),
    /// Someone else changed the record first (a lost compare-and-set, R-ALLOC-1).
    #[error("{0}")]
    Conflict(String),
    /// The database aborted the transaction to break a deadlock or a serialization conflict
    /// with a concurrent one: nothing was written, and the same request may succeed if retried.
    #[error("{0}")]
    Collided(String),
    #[error("{0} already exists")]
    NumberAlreadyExists(String),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// Input that does not parse or is out of bounds; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("invalid credentials")]
    Unauthorized,
    /// A requested OAuth scope is unknown or not the client's; the message names it.
    #[error("{0}")]
    InvalidScope(String),
    /// The caller's expected version (`If-Match`) is not the record's: it changed since the
    /// caller read it. Distinct from `Conflict`, a compare-and-set lost to a concurrent write.
    #[error("{0}")]
    PreconditionFailed(String),
    /// Overloaded for now (no database connection free, too many credential checks at once);
    /// the same request may succeed in a moment.
    #[error("{0}")]
    Busy(&'static str),
    /// A store failure; its detail is logged, never shown.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl ServiceError {
    /// Stable snake_case code (API `code`, CLI message prefix).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Rule(v) if v.rule == Rule::Alloc1 => "conflict",
            Self::Rule(_) => "rule_violation",
            Self::Conflict(_) | Self::Collided(_) => "conflict",
            Self::NumberAlreadyExists(_) => "number_already_exists",
            Self::Duplicate(_) => "already_exists",
            Self::Invalid(_) => "invalid_input",
            Self::Unauthorized => "unauthorized",
            Self::InvalidScope(_) => "invalid_scope",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::Busy(_) => "service_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The rule id where one applies.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            Self::Rule(v) => Some(v.rule.id()),
            Self::Conflict(_) => Some(Rule::Alloc1.id()),
            Self::NumberAlreadyExists(_) => Some(Rule::Num1.id()),
            Self::NotFound(_) => Some(Rule::Sec1.id()),
            _ => None,
        }
    }
}

impl From<RuleViolation> for ServiceError {
    fn from(v: RuleViolation) -> Self {
        Self::Rule(v)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("record"),
            StoreError::Conflict => Self::Conflict(
                "the record was changed by someone else at the same time; read it again and retry"
                    .into(),
            ),
            e if e.is_transaction_conflict() => Self::Collided(
                "the change collided with another one made at the same time; nothing was \
                 written: retry it"
                    .into(),
            ),
            e if e.is_foreign_key_violation() => Self::Conflict(
                "a record this change refers to was removed at the same time; read it again and \
                 retry"
                    .into(),
            ),
            StoreError::NumberAlreadyExists(n) => Self::NumberAlreadyExists(n),
            StoreError::Duplicate(w) => Self::Duplicate(w),
            e if e.is_pool_timeout() => Self::Busy("the database is busy; retry shortly"),
            other => Self::Internal(other),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// `PreconditionFailed` when the caller expects another version of `what` than the stored one
/// (`If-Match`): the one check every versioned record goes through before its write.
pub(crate) fn check_version(what: &str, current: i64, if_version: Option<i64>) -> Result<()> {
    match if_version {
        Some(v) if v != current => Err(ServiceError::PreconditionFailed(format!(
            "the {what} has changed since you read it: it is at version {current}, not {v}; read it again"
        ))),
        _ => Ok(()),
    }
}

/// A record as an audit snapshot (`before`/`after`).
pub(crate) fn snapshot<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

/// With an `If-Match` version, a lost compare-and-set means the record changed after the caller
/// read it: `PreconditionFailed` (412), the same answer on both backends. (On SQLite a queued
/// writer sees the new version before its compare-and-set and is refused there; on PostgreSQL
/// two writers both pass that check and the second finds out at the compare-and-set.)
pub(crate) fn lost_race_with_version<E: Into<ServiceError>>(
    if_version: Option<i64>,
) -> impl FnOnce(E) -> ServiceError {
    move |e| match (e.into(), if_version) {
        (ServiceError::Conflict(_), Some(v)) => ServiceError::PreconditionFailed(format!(
            "the record has changed since version {v} was read; read it again"
        )),
        (e, _) => e,
    }
}

/// The service layer: cheap to clone, shared by the HTTP server, the CLI and the jobs.
#[derive(Clone, Debug)]
pub struct Service {
    store: Store,
}

impl Service {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
