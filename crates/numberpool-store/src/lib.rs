//! Numberpool's storage seam: one [`Store`] over SQLite or PostgreSQL, chosen once from the URL,
//! read handles ([`Reader`]) that can only read, and write transactions ([`Tx`]) whose every state
//! change is a compare-and-set written with its audit event. The SQL is written once (`$n` placeholders work on both backends) and compiled
//! for each backend by the [`on_conn!`] macro, so the two cannot drift apart silently.
#![forbid(unsafe_code)]

mod accounts;
mod attributes;
mod audit;
mod available;
mod blocks;
mod bulk;
mod chains;
mod counts;
mod credentials;
mod exchange;
mod exports;
mod forecast;
mod idempotency;
mod imports;
mod jobs;
mod numbers;
mod outbox;
mod port_orders;
mod providers;
mod rate_card;
mod reservations;
mod rows;
mod self_service;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod versioned;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::rows::Arg;

pub use accounts::{AccountName, CustomerRow, Lock, NewAccount, NumberSample, SubtreeHoldings};
pub use audit::{AuditEvent, AuditFilter, Channel, NewAudit};
pub use available::AvailableFilter;
pub use bulk::PreparedNumbers;
pub use counts::{CountKey, CountMismatch};
pub use credentials::{ApiClient, User};
pub use exchange::{Connection, ConnectionWith};
pub use exports::{ExportRecord, ExportSchedule, Notification};
pub use forecast::PoolThreshold;
pub use idempotency::IdemRecord;
pub use imports::{ImportCounts, ImportPart, ImportRecord};
pub use jobs::{Job, JobRetry, NewJob};
pub use numberpool_domain::ExchangeStatus;
pub use numbers::{InventoryCounts, NumberCursor, NumberFilter, NumberLookup, Page, RawPage};
pub use outbox::{FeedEvent, OutboxEvent};
pub use port_orders::PortAttachment;
pub use sessions::{NewSession, SessionUser};
pub use tokens::{NewToken, TokenGrant};
pub use webhooks::{
    Delivery, DeliveryAttempt, WEBHOOK_JOB_ATTEMPTS, WEBHOOK_JOB_KIND, WEBHOOK_QUEUE, Webhook,
    delivery_job,
};

/// What can go wrong in the store. A row that does not parse is `Corrupt`, never "not found".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A compare-and-set lost: someone else changed the row first.
    #[error("the record was changed by someone else")]
    Conflict,
    /// R-NUM-1.
    #[error("{0} already exists")]
    NumberAlreadyExists(String),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("stored data does not parse: {0}")]
    Corrupt(String),
    #[error("bad database url: {0}")]
    BadUrl(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A write referred to a row another transaction removed meanwhile (a trunk or carrier
    /// deleted while a number was being given it): a lost race, not a fault.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation())
    }

    /// PostgreSQL broke a deadlock or a serialization conflict by aborting this transaction
    /// (SQLSTATE 40P01, 40001): two writers collided, and a retry may succeed.
    pub fn is_transaction_conflict(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(d))
            if matches!(d.code().as_deref(), Some("40P01" | "40001")))
    }

    /// No connection (or, on SQLite, no write turn) came free in time: the database is
    /// overloaded, not broken.
    pub fn is_pool_timeout(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::PoolTimedOut))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// A time the tests set by hand, which audit events then carry instead of the system's
    /// (the service's manual clock, shared); `None`: the system clock.
    clock: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
    /// Told after a commit that queued a job (the worker of this process then claims it at
    /// once instead of at its next poll).
    job_signal: Option<std::sync::Arc<tokio::sync::watch::Sender<u64>>>,
    /// Held by every clone of a SQLite store: its checkpointer stops once the last one is
    /// dropped (or the pool is closed).
    _alive: std::sync::Arc<()>,
    /// SQLite: this process's writers take turns here, and its checkpointer with them
    /// ([`WriteGate`]); `None` on PostgreSQL.
    write_gate: Option<WriteGate>,
    /// How long a writer waits for its turn (SQLite's busy timeout, for the same purpose).
    busy_timeout: Duration,
    /// The account chains this store has read (`chains.rs`).
    chains: std::sync::Arc<chains::Chains>,
}

/// Declares a `Reader` method `$name(id) -> Result<Option<$t>>`: the record of `$table`
/// with that id ([`Reader::row_by_id`]), one line per kind of record.
macro_rules! get_by_id {
    ($name:ident($id:ty) -> $t:ty: $table:literal, $columns:expr, $parse:path) => {
        pub async fn $name(&mut self, id: $id) -> Result<Option<$t>> {
            self.row_by_id($columns, $table, id, $parse).await
        }
    };
}
pub(crate) use get_by_id;

/// Runs the same body against whichever backend `$conn` is, binding the backend's connection to
/// `$c`. Each arm is compiled for its own database type, so a query that does not type-check on
/// either backend does not build.
#[macro_export]
#[doc(hidden)]
macro_rules! on_conn {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx.connection() {
            $crate::ConnRef::Sqlite($c) => $body,
            $crate::ConnRef::Postgres($c) => $body,
        }
    };
}

/// Runs backend-specific code: `$s` with `$c: &mut SqliteConnection`, or `$p` with
/// `$c: &mut PgConnection`. For the few bulk paths where the fastest SQL differs by backend.
macro_rules! per_backend {
    ($tx:expr, $c:ident => sqlite: $s:expr, postgres: $p:expr $(,)?) => {
        match $tx.connection() {
            $crate::ConnRef::Sqlite($c) => $s,
            $crate::ConnRef::Postgres($c) => $p,
        }
    };
}
pub(crate) use per_backend;

/// A pooled SQLite connection's page cache (`PRAGMA cache_size`; negative: KiB): 32 MiB.
pub(crate) const SQLITE_CACHE_SIZE: &str = "-32768";

/// SQLite: how often the store's checkpointer copies the write-ahead log into the database
/// file (`PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own). SQLite's default is for
/// the writer whose commit finds the log past 1,000 pages to copy it before its commit returns,
/// which put an allocation's p99 at 10–15 times its p50 (docs/PERFORMANCE.md, issue 16).
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// SQLite: the log size in pages (16 KiB) past which a committing writer still checkpoints by
/// itself: 256 MiB, only reached when the checkpointer falls behind a burst of writes, cannot
/// finish because readers hold old snapshots, or is not running (a store opened outside a
/// Tokio runtime's reach, which every process here has).
const SQLITE_WAL_AUTOCHECKPOINT: &str = "16384";

/// How long the checkpointer waits for its turn among the writers before it checkpoints
/// beside them instead (a long transaction, such as a big import's apply, holds the turn).
const SQLITE_CHECKPOINT_TURN_WAIT: Duration = Duration::from_millis(100);

/// SQLite: the turn a write transaction of this process takes before it opens
/// (`Store::begin`), held until it ends, and which the checkpointer takes too.
///
/// Why the checkpointer waits for its turn (docs/PERFORMANCE.md, issue 16): a checkpoint
/// syncs the log to disk, and the writers that appended to the log during that sync were slowed
/// two to three times, a few allocations at each checkpoint; and a checkpoint that ran beside
/// writers never saw the log at rest, so the log was never restarted and grew to the writers'
/// own limit. Between two writes, a checkpoint copies the whole log and the next writer starts
/// it again from the beginning; one write waits for it instead of several running slower.
///
/// Writers of one process also queue here in arrival order, holding no pooled connection while
/// they wait, where `BEGIN IMMEDIATE` alone made each wait with a connection and retry on
/// SQLite's busy timer. Writers of other processes still meet at SQLite's write lock.
#[derive(Clone, Debug, Default)]
struct WriteGate(std::sync::Arc<tokio::sync::Mutex<()>>);

impl WriteGate {
    /// This process's write turn, or `PoolTimedOut` (the database is busy) after `wait`.
    async fn take(&self, wait: Duration) -> Result<tokio::sync::OwnedMutexGuard<()>> {
        tokio::time::timeout(wait, self.0.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))
    }
}

/// The SQLite store's checkpointer: every [`SQLITE_CHECKPOINT_EVERY`], a passive checkpoint
/// on a connection of its own, outside the pool, taken between two writes of this process
/// ([`WriteGate`]) when the turn comes within [`SQLITE_CHECKPOINT_TURN_WAIT`], else beside
/// them (passive: it copies what it can without waiting for readers or blocking a writer).
/// Stops when the store is dropped or closed. A failure is logged and tried again at the next
/// tick: the writers' own checkpoint ([`SQLITE_WAL_AUTOCHECKPOINT`]) is the net beneath it.
async fn checkpoint_sqlite(
    options: SqliteConnectOptions,
    pool: SqlitePool,
    gate: WriteGate,
    alive: std::sync::Weak<()>,
) {
    use sqlx::Connection;
    let mut conn: Option<sqlx::SqliteConnection> = None;
    let mut tick = tokio::time::interval(SQLITE_CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 || pool.is_closed() {
            break;
        }
        if conn.is_none() {
            match sqlx::SqliteConnection::connect_with(&options).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "sqlite checkpointer cannot connect");
                    continue;
                }
            }
        }
        let turn = gate.take(SQLITE_CHECKPOINT_TURN_WAIT).await.ok();
        if let Some(c) = conn.as_mut()
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut *c)
                .await
        {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
            conn = None;
        }
        drop(turn);
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// A connection held for one task by [`Store::hold_for`], and the store it came from.
struct Held {
    store: usize,
    conn: Option<Conn>,
}

tokio::task_local! {
    static HELD: std::cell::RefCell<Held>;
}

/// A backend connection: inside a write transaction, or a pooled connection for reads.
#[doc(hidden)]
pub enum Conn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    SqliteRead(PoolConnection<Sqlite>),
    PostgresRead(PoolConnection<Postgres>),
}

/// The backend connection of a [`Conn`], whether a transaction or a pooled connection holds
/// it: what [`on_conn!`] and `per_backend!` run their bodies against, so each body is compiled
/// once per backend rather than once per way of holding it.
#[doc(hidden)]
pub enum ConnRef<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// A read handle: every query that only reads is a method of this type, and nothing else is.
/// From [`Store::read`] it is a plain pooled connection; inside a [`Tx`] (which derefs to it) the
/// same reads run in the write transaction and see its writes.
pub struct Reader {
    conn: Conn,
    /// On PostgreSQL, the counts of the numbers this transaction inserted, by their
    /// `number_counts` key, written at commit or before this handle next reads a count
    /// (`counts.rs`); always empty on SQLite and on a read handle.
    pending_counts: std::collections::BTreeMap<counts::CountKey, i64>,
    /// The store's account chains (`chains.rs`).
    chains: std::sync::Arc<chains::Chains>,
}

/// A write transaction from [`Store::begin`]: `BEGIN IMMEDIATE` on SQLite, read committed on
/// PostgreSQL. Writes, compare-and-sets and row locks are methods of this type only, so a read
/// handle cannot call them (a `FOR SHARE` on a pooled SQLite connection would lock nothing).
/// Dropping it without [`Tx::commit`] rolls back. It derefs to [`Reader`] for its reads.
pub struct Tx {
    inner: Reader,
    clock: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
    job_signal: Option<std::sync::Arc<tokio::sync::watch::Sender<u64>>>,
    /// Whether this transaction queued a job.
    pub(crate) queued_job: bool,
    /// The jobs this transaction wakes, written as it commits ([`Tx::wake_job`]).
    wakes: Vec<(NewJob, i64)>,
    /// SQLite: this process's write turn ([`WriteGate`]), given back when the transaction
    /// ends: after its commit, or once it is dropped (its rollback then queued on the
    /// connection, before the turn is given back).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    /// The time this transaction's audit events carry (Unix ms).
    pub(crate) fn now(&self) -> i64 {
        match &self.clock {
            Some(c) => c.load(std::sync::atomic::Ordering::SeqCst),
            None => numberpool_domain::now_ms(),
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.inner
    }
}

impl Reader {
    fn new(conn: Conn, chains: std::sync::Arc<chains::Chains>) -> Reader {
        Reader {
            conn,
            pending_counts: std::collections::BTreeMap::new(),
            chains,
        }
    }

    #[doc(hidden)]
    pub fn connection(&mut self) -> ConnRef<'_> {
        match &mut self.conn {
            Conn::Sqlite(t) => ConnRef::Sqlite(t),
            Conn::SqliteRead(t) => ConnRef::Sqlite(t),
            Conn::Postgres(t) => ConnRef::Postgres(t),
            Conn::PostgresRead(t) => ConnRef::Postgres(t),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) | Conn::SqliteRead(_) => Backend::Sqlite,
            Conn::Postgres(_) | Conn::PostgresRead(_) => Backend::Postgres,
        }
    }
}

/// A row type both backends decode (`#[derive(sqlx::FromRow)]` of text, integer and boolean
/// columns).
pub(crate) trait DbRow:
    Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

impl<R> DbRow for R where
    R: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

impl Reader {
    /// The row `sql` selects with `$1` bound to `key`, if any, parsed by `parse` (a row that
    /// does not parse is `Corrupt`, never "not found").
    pub(crate) async fn row_by<R: DbRow, T>(
        &mut self,
        sql: &str,
        key: &str,
        parse: fn(R) -> Result<T>,
    ) -> Result<Option<T>> {
        self.row_with(sql, &[Arg::Text(key)], parse).await
    }

    /// The row of `table` (its `columns`) whose id is `id`, parsed by `parse`: every typed
    /// record's `get_…`.
    pub(crate) async fn row_by_id<R: DbRow, T>(
        &mut self,
        columns: &str,
        table: &str,
        id: impl std::fmt::Display,
        parse: fn(R) -> Result<T>,
    ) -> Result<Option<T>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE id = $1");
        self.row_by(&sql, &id.to_string(), parse).await
    }

    /// [`Reader::row_by`] for a credential: `$1` its hash, `$2` now (a bearer token or a
    /// portal session is found only while unexpired).
    pub(crate) async fn live_by_hash<R: DbRow, T>(
        &mut self,
        sql: &str,
        hash: &str,
        now: i64,
        parse: fn(R) -> Result<T>,
    ) -> Result<Option<T>> {
        self.row_with(sql, &[Arg::Text(hash), Arg::Int(now)], parse)
            .await
    }

    /// [`Reader::row_by`] with `args` bound to `$1, $2, …` in order.
    pub(crate) async fn row_with<R: DbRow, T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        parse: fn(R) -> Result<T>,
    ) -> Result<Option<T>> {
        let row: Option<R> = on_conn!(self, c => {
            rows::bind_args!(sqlx::query_as(sql), args).fetch_optional(&mut *c).await?
        });
        row.map(parse).transpose()
    }

    /// Every row `sql` selects with `$1` bound to `key`, in its order, parsed by `parse`.
    pub(crate) async fn rows_by<R: DbRow, T>(
        &mut self,
        sql: &str,
        key: &str,
        parse: fn(R) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.rows_with(sql, &[Arg::Text(key)], parse).await
    }

    /// [`Reader::rows_by`] with `args` bound to `$1, $2, …` in order.
    pub(crate) async fn rows_with<R: DbRow, T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        parse: fn(R) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows: Vec<R> = on_conn!(self, c => {
            rows::bind_args!(sqlx::query_as(sql), args).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(parse).collect()
    }

    /// Whether `sql` (a `SELECT` of one text column, `LIMIT 1`) with `args` bound finds a row:
    /// the "is anything still using it" questions.
    pub(crate) async fn any_row(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<bool> {
        let row: Option<(String,)> = on_conn!(self, c => {
            rows::bind_args!(sqlx::query_as(sql), args).fetch_optional(&mut *c).await?
        });
        Ok(row.is_some())
    }
}

/// The guard every compare-and-set ends with: exactly one row changed, or another writer got
/// there first (`Conflict`, R-ALLOC-1).
pub(crate) fn one_row(rows_affected: u64) -> Result<()> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Opens a store from a URL: `sqlite://path` (or `sqlite:path`, `sqlite::memory:`) or
    /// `postgres://…` / `postgresql://…`. Does not migrate.
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Store {
                clock: None,
                job_signal: None,
                pool: Pool::Postgres(pool),
                _alive: std::sync::Arc::new(()),
                write_gate: None,
                busy_timeout: opts.busy_timeout,
                chains: Default::default(),
            })
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(opts.busy_timeout)
                .foreign_keys(true)
                // A page cache of 32 MiB a connection holds a 10,000-row add's pages without
                // spilling them mid-transaction; 64 MiB made no add faster (1,000,000 rows:
                // 106,675 rows/s with 32; 78,000–105,000 in five runs with 64) and made a
                // million-row import hold 30 MB more (docs/PERFORMANCE.md). 16 KiB pages (new
                // databases only) quarter the page writes at commit.
                .pragma("cache_size", SQLITE_CACHE_SIZE)
                .pragma("wal_autocheckpoint", SQLITE_WAL_AUTOCHECKPOINT)
                .page_size(16384);
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                // A connection to a local file cannot go stale the way a socket can; the ping
                // sqlx sends before each checkout was a round trip through the connection's
                // worker thread on every request.
                .test_before_acquire(false)
                .acquire_timeout(opts.busy_timeout + Duration::from_secs(5))
                .connect_with(options.clone())
                .await?;
            let alive = std::sync::Arc::new(());
            let gate = WriteGate::default();
            tokio::spawn(checkpoint_sqlite(
                options,
                pool.clone(),
                gate.clone(),
                std::sync::Arc::downgrade(&alive),
            ));
            Ok(Store {
                clock: None,
                job_signal: None,
                pool: Pool::Sqlite(pool),
                _alive: alive,
                write_gate: Some(gate),
                busy_timeout: opts.busy_timeout,
                chains: Default::default(),
            })
        } else {
            Err(StoreError::BadUrl(
                "expected a sqlite: or postgres:// URL".to_string(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Open and idle connections of the pool, for metrics.
    pub fn pool_stats(&self) -> (u32, u32) {
        match &self.pool {
            Pool::Sqlite(p) => (p.size(), u32::try_from(p.num_idle()).unwrap_or(u32::MAX)),
            Pool::Postgres(p) => (p.size(), u32::try_from(p.num_idle()).unwrap_or(u32::MAX)),
        }
    }

    /// Applies this backend's migrations; safe to run concurrently from several processes on
    /// PostgreSQL (sqlx takes an advisory lock) and repeatedly.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Lets the query planner catch up with the data: on SQLite, `ANALYZE` with an
    /// `analysis_limit` (it samples about a thousand rows per index, so it takes milliseconds
    /// even on a million numbers) gathers the statistics that tell the planner a keyset page
    /// walks the primary key instead of sorting a whole scope (measured on a million numbers:
    /// 130 ms a page without statistics, under 1 ms with). PostgreSQL's autovacuum does this by
    /// itself.
    pub async fn optimize(&self) -> Result<()> {
        if let Pool::Sqlite(p) = &self.pool {
            let mut c = p.acquire().await?;
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *c)
                .await?;
            sqlx::query("ANALYZE").execute(&mut *c).await?;
        }
        Ok(())
    }

    /// A consistent copy of an SQLite database at `path` while it is in use (`VACUUM INTO`:
    /// one read transaction, so the copy is the database as of one moment, with every
    /// committed write before it and none after; writers go on meanwhile). `path` must not
    /// exist. PostgreSQL is backed up with `pg_dump` (README, "Backup and restore"): `None`.
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> Result<Option<()>> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(None);
        };
        let target = path.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(p)
            .await?;
        Ok(Some(()))
    }

    /// Readiness: the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
        }
        Ok(())
    }

    /// This store with its audit events timed by `clock` (a manual time in Unix ms) instead of
    /// the system clock: the service's manual clock, so a test's moved time reaches the log.
    pub fn with_clock(mut self, clock: std::sync::Arc<std::sync::atomic::AtomicI64>) -> Store {
        self.clock = Some(clock);
        self
    }

    /// This store telling `signal` after each commit that queued a job.
    pub fn with_job_signal(
        mut self,
        signal: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    ) -> Store {
        self.job_signal = Some(signal);
        self
    }

    /// Starts a write transaction: on SQLite, this process's write turn ([`WriteGate`]; busy
    /// after the busy timeout) and then `BEGIN IMMEDIATE`, so writers queue up front instead of
    /// failing at their first write; `BEGIN` (read committed) on PostgreSQL, where the guarded
    /// updates serialise racing writers.
    pub async fn begin(&self) -> Result<Tx> {
        // A read connection held for this task goes back first: a write has no use for it.
        drop(self.take_held());
        let turn = match &self.write_gate {
            Some(g) => Some(g.take(self.busy_timeout).await?),
            None => None,
        };
        let conn = match &self.pool {
            Pool::Sqlite(p) => Conn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Conn::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner: Reader::new(conn, self.chains.clone()),
            clock: self.clock.clone(),
            job_signal: self.job_signal.clone(),
            queued_job: false,
            wakes: Vec::new(),
            _turn: turn,
        })
    }

    /// A connection for reads outside a transaction: the one held for this task by
    /// [`Store::hold_for`] if there is one (once), else one from the pool.
    pub async fn read(&self) -> Result<Reader> {
        if let Some(conn) = self.take_held() {
            return Ok(Reader::new(conn, self.chains.clone()));
        }
        let conn = match &self.pool {
            Pool::Sqlite(p) => Conn::SqliteRead(p.acquire().await?),
            Pool::Postgres(p) => Conn::PostgresRead(p.acquire().await?),
        };
        Ok(Reader::new(conn, self.chains.clone()))
    }

    /// Runs `work` with `reader`'s connection held for it: the first [`Store::read`] of this
    /// store inside `work` (on the same task) gets that connection instead of checking one out
    /// of the pool. A request's authentication and its handler's first read then share one
    /// checkout: each checkout costs a round trip besides the queries (sqlx tests a connection
    /// as it is returned, and a PostgreSQL one as it is taken), which made bearer
    /// authentication plus one read cost 5 times one read (docs/PERFORMANCE.md, issue 16).
    /// A connection not taken is returned when `work` ends; [`Store::begin`] returns it first.
    pub async fn hold_for<F: std::future::Future>(&self, reader: Reader, work: F) -> F::Output {
        let held = Held {
            store: self.identity(),
            conn: Some(reader.conn),
        };
        HELD.scope(std::cell::RefCell::new(held), work).await
    }

    /// The connection [`Store::hold_for`] holds for this task, if it is this store's.
    fn take_held(&self) -> Option<Conn> {
        HELD.try_with(|h| {
            let mut h = h.borrow_mut();
            if h.store == self.identity() {
                h.conn.take()
            } else {
                None
            }
        })
        .ok()
        .flatten()
    }

    /// Which store this is: clones share it.
    fn identity(&self) -> usize {
        std::sync::Arc::as_ptr(&self._alive) as usize
    }

    /// A read handle for one long scan that reads each page once (an export's walk): on SQLite
    /// its connection's page cache is held to 4 MiB, where a connection's cache otherwise
    /// grows to 32 MiB as a scan of a large table passes through it, and the connection is
    /// closed when the handle is dropped, so that no pooled connection keeps the small cache.
    pub async fn read_for_scan(&self) -> Result<Reader> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => {
                let mut c = p.acquire().await?;
                c.close_on_drop();
                sqlx::query("PRAGMA cache_size = -4096")
                    .execute(&mut *c)
                    .await?;
                Conn::SqliteRead(c)
            }
            Pool::Postgres(p) => Conn::PostgresRead(p.acquire().await?),
        };
        Ok(Reader::new(conn, self.chains.clone()))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(mut self) -> Result<()> {
        self.write_wakes().await?;
        self.inner.flush_counts().await?;
        match self.inner.conn {
            Conn::Sqlite(t) => t.commit().await?,
            Conn::Postgres(t) => t.commit().await?,
            // A `Tx` is only made by `Store::begin`, which opens a transaction.
            Conn::SqliteRead(_) | Conn::PostgresRead(_) => {}
        }
        if self.queued_job
            && let Some(s) = &self.job_signal
        {
            s.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }
}

/// Maps a unique violation to `Duplicate(what)`, passing other errors through.
pub(crate) fn unique_as(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Db(e),
    }
}
