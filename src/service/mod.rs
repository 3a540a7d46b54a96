//! The use cases. Each takes an [`Actor`], opens one transaction, applies a domain check or
//! transition, and writes the new state with its audit event before committing. Nothing above
//! this layer touches the store's write methods.

mod accounts;
mod attributes;
mod audit;
mod clock;
mod credentials;
mod exports;
pub mod forecast;
mod idempotency;
mod imports;
mod jobs;
mod numbers;
mod portal;
pub mod progress;
mod providers;
mod rate_card;
mod scope_names;
pub mod sealed;
mod sessions;
mod tenancy;
mod tokens;
mod versioned;
pub mod webhooks;

use numberpool_domain::{AccountId, Action, Rule, RuleViolation};
use numberpool_store::{Channel, NewAudit, Store, StoreError};

pub use accounts::{AccountPatch, CreateAccount};
pub use clock::Clock;
pub use credentials::{
    CreatedClient, CreatedUser, Role, SCOPES, hash_secret, random_token as credentials_token,
    verify_secret,
};
pub use exports::{ExportView, export_file_name};
pub use idempotency::IdemBegin;
pub use imports::{
    AddOptions, ImportLimits, ImportRequest, ImportView, PlanRow, RowOutcome, Table, content_type,
    format_of, import_sample,
};
pub use jobs::{IDEMPOTENCY_KEY_TTL_MS, JobView};
pub use numbers::{
    AccountRef, AddMode, AddNumber, AddOutcome, AllocateOptions, AssignmentsView, AvailableNumber,
    AvailableParams, AvailableQuery, BlockView, DEFAULT_QUANTITY, MAX_PROVISION, MAX_QUANTITY,
    NumberView, PlannedRow, ReservationView, RowRejection,
};
pub use numbers::{
    AttachmentView, NewPortOrder, PortCheck, PortHistoryEntry, PortOrderView, PortPatch,
    PortValidation,
};
pub use providers::{CarrierPatch, TrunkPatch};
pub use rate_card::RatePatch;
pub use sessions::{NewPortalSession, PortalSession, SESSION_TTL_MS};
pub use tenancy::{
    Blocker, ConnectionView, CustomerRelation, CustomerView, EntitlementsView, Licence,
    Offboarding, OffboardingAction, OffboardingCheck,
};
pub use tokens::{ClientView, IssuedToken};

/// Who is acting: the account they act for, how they authenticated, through what channel, and
/// what they may do. Every service call is scoped by `account` (R-SEC-1) and checks `access`
/// ([`Actor::require`]) before it reads or writes anything.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: AccountId,
    pub principal: Principal,
    pub channel: Channel,
    pub access: Access,
    /// The operator with no account ([`Actor::operator`]): acts on any account. `account` is
    /// then the nil id, which no account has, so a scoped query finds nothing for it.
    anywhere: bool,
}

/// The authenticated party behind an [`Actor`].
#[derive(Debug, Clone)]
pub enum Principal {
    User(String),
    Client(String),
    /// The operator at the command line of the server (the `numberpool` CLI).
    Operator,
}

/// What an [`Actor`] may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// An API client's token: exactly these scopes.
    Scopes(Vec<Permission>),
    /// A portal user: owners and admins may do everything, viewers only read.
    Role(Role),
    /// The operator at the server's command line: everything.
    Operator,
}

/// A permission a service function needs: the four API scopes (SPEC §7), checked by the
/// service itself so that no caller (API, portal, CLI, job) can skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// `phone:read:admin`: accounts, connections, clients, the audit log.
    PhoneRead,
    /// `phone:write:admin`: change accounts, connections and credentials.
    PhoneWrite,
    /// `phone_number:read:admin`: numbers and a provider's trunks, carriers, attributes, rates.
    NumberRead,
    /// `phone_number:write:admin`: change them.
    NumberWrite,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Self::PhoneRead,
        Self::PhoneWrite,
        Self::NumberRead,
        Self::NumberWrite,
    ];

    /// The OAuth scope that grants it.
    pub fn scope(self) -> &'static str {
        match self {
            Self::PhoneRead => "phone:read:admin",
            Self::PhoneWrite => "phone:write:admin",
            Self::NumberRead => "phone_number:read:admin",
            Self::NumberWrite => "phone_number:write:admin",
        }
    }

    /// The permission an OAuth scope grants; `None` for a string that is no scope.
    pub fn from_scope(scope: &str) -> Option<Permission> {
        Self::ALL.into_iter().find(|p| p.scope() == scope)
    }

    /// Whether it only lets one read (all a viewer may do).
    pub fn is_read(self) -> bool {
        matches!(self, Self::PhoneRead | Self::NumberRead)
    }
}

impl Access {
    /// The access of a token carrying `scopes` (strings that are no scope grant nothing).
    pub fn from_scopes<S: AsRef<str>>(scopes: &[S]) -> Access {
        Access::Scopes(
            scopes
                .iter()
                .filter_map(|s| Permission::from_scope(s.as_ref()))
                .collect(),
        )
    }

    pub fn allows(&self, p: Permission) -> bool {
        match self {
            Access::Operator | Access::Role(Role::Owner | Role::Admin) => true,
            Access::Role(Role::Viewer) => p.is_read(),
            Access::Scopes(granted) => granted.contains(&p),
        }
    }
}

impl Actor {
    /// The operator acting for `account` from the CLI: everything, within that account's
    /// scope, as the account would see it.
    pub fn cli(account: AccountId) -> Actor {
        Actor {
            account,
            principal: Principal::Operator,
            channel: Channel::Cli,
            access: Access::Operator,
            anywhere: false,
        }
    }

    /// The operator at the command line acting for no account: may create root accounts and
    /// change or deactivate any account. Its audit events have no actor account.
    pub fn operator() -> Actor {
        Actor {
            // The nil UUID: never an account's id (ids are UUIDv7), so nothing is in its scope.
            account: "00000000-0000-0000-0000-000000000000"
                .parse()
                .unwrap_or_default(),
            principal: Principal::Operator,
            channel: Channel::Cli,
            access: Access::Operator,
            anywhere: true,
        }
    }

    /// An API client's token for `account` with `scopes`, through the API.
    pub fn client(account: AccountId, client_id: String, scopes: &[String]) -> Actor {
        Actor {
            account,
            principal: Principal::Client(client_id),
            channel: Channel::Api,
            access: Access::from_scopes(scopes),
            anywhere: false,
        }
    }

    /// A portal user of `account` with `role`, through the portal.
    pub fn user(account: AccountId, user_id: String, role: Role) -> Actor {
        Actor {
            account,
            principal: Principal::User(user_id),
            channel: Channel::Ui,
            access: Access::Role(role),
            anywhere: false,
        }
    }

    /// The actor a bulk job acts as: whoever asked for it (`principal` as an import records
    /// it: `user:ID`, `client:ID` or `operator`), on `account`, through the import channel.
    /// The request was authorised when the job was queued, so the job may do what it asked.
    pub(crate) fn for_job(account: AccountId, principal: &str) -> Actor {
        let principal = match principal.split_once(':') {
            Some(("user", id)) => Principal::User(id.to_string()),
            Some(("client", id)) => Principal::Client(id.to_string()),
            _ => Principal::Operator,
        };
        Actor {
            account,
            principal,
            channel: Channel::Import,
            access: Access::Operator,
            anywhere: false,
        }
    }

    /// A periodic job acting on its own (no one asked): the reservation expiry, on behalf of
    /// the pool whose numbers it frees, through the job channel.
    pub(crate) fn periodic_job(account: AccountId) -> Actor {
        Actor {
            account,
            principal: Principal::Operator,
            channel: Channel::Job,
            access: Access::Operator,
            anywhere: false,
        }
    }

    /// How records name the actor (`user:ID`, `client:ID`, `operator`), as [`Actor::for_job`]
    /// reads it back.
    pub(crate) fn principal_name(&self) -> String {
        match &self.principal {
            Principal::User(id) => format!("user:{id}"),
            Principal::Client(id) => format!("client:{id}"),
            Principal::Operator => "operator".into(),
        }
    }

    /// `Forbidden` unless the actor may do what `p` covers. Every public service function
    /// calls it first.
    pub fn require(&self, p: Permission) -> Result<()> {
        if self.access.allows(p) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(p))
        }
    }

    /// The account the actor acts for; `None` for the operator acting for none, who may act
    /// on any account.
    pub fn acting_for(&self) -> Option<AccountId> {
        (!self.anywhere).then_some(self.account)
    }

    /// The audit event of `action` on `entity_id` by this actor.
    pub(crate) fn event(
        &self,
        action: Action,
        entity_id: String,
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
            actor_account_id: self.acting_for().map(|a| a.to_string()),
            channel: self.channel,
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
    /// The actor may not do this: a token without the scope, a portal viewer writing. Said
    /// as a missing scope, the answer the API gave before the service checked it.
    #[error("this call needs the scope {}, which the caller does not have", .0.scope())]
    Forbidden(Permission),
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
    /// An import file refused whole (unreadable, a bad header, too many rows: R-IMP-1); the
    /// reason's code is the error's code.
    #[error("{}", .0.message)]
    FileRefused(numberpool_domain::import::Reason),
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
            Self::Forbidden(_) => "insufficient_scope",
            Self::InvalidScope(_) => "invalid_scope",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::Busy(_) => "service_unavailable",
            Self::FileRefused(r) => r.code.as_str(),
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
            Self::FileRefused(r) => r.rule.map(Rule::id),
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
    clock: Clock,
    /// Account names per scope, valid while the store's `scope_generation` stands still.
    scope_names: std::sync::Arc<scope_names::ScopeNames>,
    /// R-IMP-1's row limits.
    import_limits: ImportLimits,
    /// Live progress of the bulk jobs running in this process.
    progress: std::sync::Arc<progress::ProgressBoard>,
    /// Moves when this process queues a job, so that its worker claims it at once instead of
    /// at its next poll.
    job_queued: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// How long a finished export's file is kept.
    export_retention_ms: i64,
    /// The key porting PINs and webhook secrets are sealed with at rest.
    seal_key: sealed::SealKey,
    /// Webhook deliveries' options and HTTP client.
    webhooks: webhooks::WebhookRuntime,
}

impl Service {
    /// The service on `store`, on the system clock.
    pub fn new(store: Store) -> Self {
        Self::with_clock(store, Clock::system())
    }

    /// The service on `store` with `clock` for its "now" (tests pass a manual one).
    pub fn with_clock(store: Store, clock: Clock) -> Self {
        // A manual clock reaches the audit log too: a test that moves time moves its events.
        let store = match clock.manual_time() {
            Some(t) => store.with_clock(t),
            None => store,
        };
        let job_queued = std::sync::Arc::new(tokio::sync::watch::Sender::new(0));
        // A job queued inside a store transaction (a webhook's, by the outbox) wakes this
        // process's worker at its commit.
        let store = store.with_job_signal(job_queued.clone());
        Self {
            store,
            clock,
            scope_names: Default::default(),
            import_limits: ImportLimits::default(),
            progress: Default::default(),
            job_queued,
            export_retention_ms: exports::DEFAULT_EXPORT_RETENTION_MS,
            // Without configuration (tests), a key that lives as long as the process.
            seal_key: sealed::SealKey::ephemeral(),
            webhooks: webhooks::WebhookRuntime::default(),
        }
    }

    /// Webhooks as the operator configured them.
    pub fn with_webhook_options(mut self, options: webhooks::WebhookOptions) -> Self {
        self.webhooks = webhooks::WebhookRuntime::new(options);
        self
    }

    /// The key porting PINs are sealed with (`Config::seal_key`).
    pub fn with_seal_key(mut self, key: sealed::SealKey) -> Self {
        self.seal_key = key;
        self
    }

    /// This service keeping finished exports' files for `ms` milliseconds.
    pub fn with_export_retention(mut self, ms: i64) -> Self {
        self.export_retention_ms = ms.max(0);
        self
    }

    /// Wakes this process's worker: a job was queued.
    pub(crate) fn job_queued(&self) {
        self.job_queued.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes when this process queues a job (see [`Service::job_queued`]).
    pub fn job_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.job_queued.subscribe()
    }

    /// The live progress of the bulk jobs running in this process.
    pub fn progress_board(&self) -> &progress::ProgressBoard {
        &self.progress
    }

    /// A consistent copy of the SQLite database at `path` while it is in use (the operator's
    /// `numberpool backup`); `false` on PostgreSQL, which `pg_dump` backs up.
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> Result<bool> {
        Ok(self.store.backup_sqlite(path).await?.is_some())
    }

    /// The groups where the per-holder number counts (`number_counts`) disagree with a full
    /// count of the numbers (the operator's `numberpool check`); with `repair`, the counts are
    /// then rewritten from the numbers in one transaction (serialised with every counter
    /// write) and the check runs again: what comes back second is what is still wrong.
    pub async fn check_counts(
        &self,
        repair: bool,
    ) -> Result<(
        Vec<numberpool_store::CountMismatch>,
        Vec<numberpool_store::CountMismatch>,
    )> {
        let found = self.store.read().await?.check_counts().await?;
        if !repair || found.is_empty() {
            return Ok((found.clone(), found));
        }
        let mut tx = self.store.begin().await?;
        tx.rebuild_counts().await?;
        tx.commit().await?;
        let left = self.store.read().await?.check_counts().await?;
        Ok((found, left))
    }

    /// This service with R-IMP-1's limits set by the operator.
    pub fn with_import_limits(mut self, limits: ImportLimits) -> Self {
        self.import_limits = limits;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The service's current time (Unix ms). Service code asks this, never the system clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_allows_what_each_kind_of_actor_may_do() {
        for p in Permission::ALL {
            assert!(Access::Operator.allows(p));
            assert!(Access::Role(Role::Owner).allows(p));
            assert!(Access::Role(Role::Admin).allows(p));
            assert_eq!(Access::Role(Role::Viewer).allows(p), p.is_read());
            assert!(Access::from_scopes(&[p.scope()]).allows(p));
            for q in Permission::ALL.into_iter().filter(|q| *q != p) {
                assert!(!Access::from_scopes(&[p.scope()]).allows(q));
            }
            assert_eq!(Permission::from_scope(p.scope()), Some(p));
        }
        assert!(!Access::from_scopes(&["phone:read:admin:x"]).allows(Permission::PhoneRead));
    }
}
