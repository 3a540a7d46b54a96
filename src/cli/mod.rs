//! The `numberpool` command line: argument definitions and dispatch. Every command goes through
//! the service layer; nothing here writes SQL.

/// `println!` for command output: a write error (the reader went away: `… | head`) is returned
/// with `?` instead of panicking, and `main` ends quietly on a closed pipe.
macro_rules! outln {
    () => {
        $crate::cli::write_out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}
/// `print!` for command output, as `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))?
    };
}
pub(crate) use outln;

mod accounts;
mod attributes;
mod blocks;
mod clients;
mod exchange;
mod imports;
mod numbers;
mod pool;
mod porting;
mod progress;
mod providers;
mod rates;
mod reservations;
mod users;
mod webhooks;

use std::fmt::Display;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use numberpool_domain::{AccountId, BadId};
use serde::Serialize;

use crate::config::{Config, Overrides};
use crate::service::{Actor, Service, ServiceError};
use crate::startup::{Application, open_store};

/// Writes command output to stdout.
pub fn write_out(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    std::io::Write::write_fmt(&mut std::io::stdout().lock(), args)
}

/// Whether a command failed only because its output pipe was closed (`numberpool … | head`):
/// Unix tools end quietly then (a shell reports 141, killed by SIGPIPE), and Rust ignores
/// SIGPIPE, so the write fails instead and lands here.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Numberpool: phone-number (DID) inventory and lifecycle for providers, resellers and their
/// customers.
#[derive(Debug, Parser)]
#[command(name = "numberpool", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes. Each may also come from the environment variable shown, or
/// from the TOML file given with `--config` (keys as in `Config`: `database_url`, `data_dir`,
/// `listen`, `log_format`, `log_level`, `db_max_connections`, `token_ttl_secs`,
/// `rate_limit_per_second`, `rate_limit_burst`, `header_read_timeout_secs`,
/// `body_read_timeout_secs`, `max_connections`, `token_failure_limit`,
/// `token_failure_window_secs`, `secure_cookies`, `import_max_rows`,
/// `import_max_rows_sub_account`, `export_retention_hours`, `pin_key`). Flags beat the environment,
/// which beats the file.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "NUMBERPOOL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://DATA_DIR/numberpool.db]
    #[arg(
        long,
        global = true,
        env = "NUMBERPOOL_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Directory for the embedded SQLite database [default: data]
    #[arg(long, global = true, env = "NUMBERPOOL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format: text or json [default: text]
    #[arg(long, global = true, env = "NUMBERPOOL_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or numberpool=debug [default: info]
    #[arg(long, global = true, env = "NUMBERPOOL_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Database connections per process [default: 8]
    #[arg(long, global = true, env = "NUMBERPOOL_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
    /// Lifetime of an API access token in seconds, 60 to 86400 [default: 3600]
    #[arg(long, global = true, env = "NUMBERPOOL_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<i64>,
    /// Sustained API requests per second per client; 0 turns the limit off [default: 50]
    #[arg(long, global = true, env = "NUMBERPOOL_RATE_LIMIT_PER_SECOND")]
    pub rate_limit_per_second: Option<u32>,
    /// API requests per client allowed in a burst [default: 100]
    #[arg(long, global = true, env = "NUMBERPOOL_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// Seconds a connection may take to send request headers; also the idle keep-alive limit
    /// [default: 10]
    #[arg(long, global = true, env = "NUMBERPOOL_HEADER_READ_TIMEOUT_SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a request body may take to arrive in full [default: 30]
    #[arg(long, global = true, env = "NUMBERPOOL_BODY_READ_TIMEOUT_SECS")]
    pub body_read_timeout_secs: Option<u64>,
    /// Connections served at once; more wait in the listen backlog [default: 512]
    #[arg(long, global = true, env = "NUMBERPOOL_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
    /// Failed token requests per client id, and per source address, per window before 429;
    /// 0 turns the throttle off [default: 10]
    #[arg(long, global = true, env = "NUMBERPOOL_TOKEN_FAILURE_LIMIT")]
    pub token_failure_limit: Option<u32>,
    /// The token failure window, in seconds [default: 60]
    #[arg(long, global = true, env = "NUMBERPOOL_TOKEN_FAILURE_WINDOW_SECS")]
    pub token_failure_window_secs: Option<u64>,
    /// Mark the portal's cookies Secure (HTTPS only); turn on behind a TLS proxy [default: false]
    #[arg(long, global = true, env = "NUMBERPOOL_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Most rows an import of a provider or reseller may hold (R-IMP-1) [default: 9999]
    #[arg(long, global = true, env = "NUMBERPOOL_IMPORT_MAX_ROWS")]
    pub import_max_rows: Option<u64>,
    /// Most rows an import of a customer or unit may hold (R-IMP-1) [default: 200]
    #[arg(long, global = true, env = "NUMBERPOOL_IMPORT_MAX_ROWS_SUB_ACCOUNT")]
    pub import_max_rows_sub_account: Option<u64>,
    /// Hours a finished export's file is kept before it is removed [default: 168]
    #[arg(long, global = true, env = "NUMBERPOOL_EXPORT_RETENTION_HOURS")]
    pub export_retention_hours: Option<u64>,
    /// Let webhooks reach loopback, private and link-local addresses [default: false]
    #[arg(long, global = true, env = "NUMBERPOOL_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<bool>,
    /// Hours a failing webhook is retried before it is disabled [default: 24]
    #[arg(long, global = true, env = "NUMBERPOOL_WEBHOOK_RETRY_WINDOW_HOURS")]
    pub webhook_retry_window_hours: Option<u64>,
    /// Seconds before a failed delivery's first retry, doubling per attempt [default: 10]
    #[arg(long, global = true, env = "NUMBERPOOL_WEBHOOK_RETRY_BASE_SECS")]
    pub webhook_retry_base_secs: Option<u64>,
    /// Seconds one webhook delivery attempt may take [default: 10]
    #[arg(long, global = true, env = "NUMBERPOOL_WEBHOOK_TIMEOUT_SECS")]
    pub webhook_timeout_secs: Option<u64>,
    /// The key porting PINs are sealed with, 64 hex digits [default: the file DATA_DIR/pin.key,
    /// made on first use]. Give it in the environment or the config file: a command line is
    /// visible to other users of the machine.
    #[arg(
        long,
        global = true,
        env = "NUMBERPOOL_PIN_KEY",
        hide_env_values = true
    )]
    pub pin_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server and, beside it, the job worker (migrates the database first).
    Serve(ServeArgs),
    /// Run the job worker alone: claims and runs background jobs until SIGTERM or Ctrl-C.
    /// Any number of workers and servers may share one database.
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Create or reuse a demo database with sample data, print logins, and serve it.
    Demo(DemoArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Account(accounts::AccountCmd),
    /// Manage API clients (OAuth client credentials).
    #[command(subcommand)]
    Client(clients::ClientCmd),
    /// Manage portal users.
    #[command(subcommand)]
    User(users::UserCmd),
    /// Manage a provider's SIP trunks.
    #[command(subcommand)]
    Trunk(providers::TrunkCmd),
    /// Manage a provider's voice carriers and SMS carrier profiles.
    #[command(subcommand)]
    Carrier(providers::CarrierCmd),
    /// Work with numbers, acting as one account.
    #[command(subcommand)]
    Numbers(numbers::NumbersCmd),
    /// Provider Exchange: a root customer's connections to providers, a provider's customers.
    #[command(subcommand)]
    Exchange(exchange::ExchangeCmd),
    /// Manage a provider's attribute keys.
    #[command(subcommand)]
    Attribute(attributes::AttributeCmd),
    /// Manage a provider's rate card.
    #[command(subcommand)]
    Rate(rates::RateCmd),
    /// Number blocks: a range of numbers added to a pool, and released, as one unit.
    #[command(subcommand)]
    Block(blocks::BlockCmd),
    /// Reservations: free numbers held for a reseller or customer until a time.
    #[command(subcommand)]
    Reservation(reservations::ReservationCmd),
    /// Port-in orders: check portability, place, follow and move orders.
    #[command(subcommand)]
    Porting(porting::PortingCmd),
    /// The events that concern an account's subtree, oldest first, from a sequence on.
    Events(webhooks::EventsArgs),
    /// Webhooks: subscribe URLs to an account's events, see deliveries, replay them.
    #[command(subcommand)]
    Webhook(webhooks::WebhookCmd),
    /// Pool-exhaustion thresholds and the forecast of each segment.
    #[command(subcommand)]
    Pool(pool::PoolCmd),
    /// Import a CSV or XLSX file of numbers (add, update or delete): plan it, show every row
    /// with its reason, and apply it unless --dry-run; or apply an earlier plan with --apply.
    Import(imports::ImportArgs),
    /// Export the numbers an account sees as CSV or XLSX: the list, the update template, or
    /// the consolidated list across customers.
    Export(imports::ExportArgs),
    /// Copy the SQLite database, consistent as of one moment, while the server runs
    /// (PostgreSQL: use pg_dump, see the README).
    Backup(BackupArgs),
    /// Print the number state table (the source of docs/STATES.md).
    States,
    /// Check the stored per-holder number counts (behind list totals and the inventory)
    /// against a full count of the numbers; exits 1 when they disagree.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rewrite the counts from the numbers when they disagree (safe while the server runs).
    #[arg(long)]
    pub repair: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (must not exist).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "NUMBERPOOL_LISTEN")]
    pub listen: Option<String>,
    /// Serve without a job worker (run `numberpool worker` elsewhere).
    #[arg(long)]
    pub no_worker: bool,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Seconds a claimed job stays this worker's without renewal; a job whose worker died is
    /// claimed again after this [default: 60]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: Option<u64>,
    /// Milliseconds an idle queue waits before looking for jobs again [default: 1000]
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: Option<u64>,
    /// Also run the test suite's job kinds (tests only).
    #[arg(long, hide = true)]
    pub test_job_kinds: bool,
}

impl WorkerArgs {
    pub fn options(&self) -> crate::jobs::WorkerOptions {
        let mut o = crate::jobs::WorkerOptions::default();
        if let Some(s) = self.lease_secs {
            o.lease = std::time::Duration::from_secs(s);
        }
        if let Some(ms) = self.poll_ms {
            o.poll = std::time::Duration::from_millis(ms);
        }
        o.test_kinds = self.test_job_kinds;
        o
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "NUMBERPOOL_LISTEN")]
    pub listen: Option<String>,
    /// Print the URL and logins as one JSON object on the first line.
    #[arg(long)]
    pub json: bool,
    /// Set up the demo data and print the logins, but do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

impl Cli {
    /// The configuration these arguments describe.
    pub fn config(&self) -> Result<Config, crate::config::ConfigError> {
        let g = &self.global;
        let listen = match &self.command {
            Command::Serve(a) => a.listen.clone(),
            Command::Demo(a) => a.listen.clone(),
            _ => None,
        };
        let overrides = Overrides {
            database_url: g.database_url.clone(),
            data_dir: g.data_dir.clone(),
            listen,
            log_format: g.log_format.clone(),
            log_level: g.log_level.clone(),
            db_max_connections: g.db_max_connections,
            token_ttl_secs: g.token_ttl_secs,
            rate_limit_per_second: g.rate_limit_per_second,
            rate_limit_burst: g.rate_limit_burst,
            header_read_timeout_secs: g.header_read_timeout_secs,
            body_read_timeout_secs: g.body_read_timeout_secs,
            max_connections: g.max_connections,
            token_failure_limit: g.token_failure_limit,
            token_failure_window_secs: g.token_failure_window_secs,
            secure_cookies: g.secure_cookies,
            import_max_rows: g.import_max_rows,
            import_max_rows_sub_account: g.import_max_rows_sub_account,
            export_retention_hours: g.export_retention_hours,
            webhook_allow_private: g.webhook_allow_private,
            webhook_retry_window_hours: g.webhook_retry_window_hours,
            webhook_retry_base_secs: g.webhook_retry_base_secs,
            webhook_timeout_secs: g.webhook_timeout_secs,
            pin_key: g.pin_key.clone().map(crate::config::Secret),
        };
        Config::load(g.config.as_deref(), &overrides)
    }
}

/// Parses an id argument, naming the argument when it is not one.
pub(crate) fn parse_id<T: std::str::FromStr<Err = BadId>>(arg: &str, v: &str) -> anyhow::Result<T> {
    v.parse::<T>().map_err(|e| anyhow::anyhow!("{arg}: {e}"))
}

/// A service error as the CLI prints it: `code: message (rule)`.
pub(crate) fn service_err(e: ServiceError) -> anyhow::Error {
    match e.rule() {
        Some(rule) if !matches!(e, ServiceError::NotFound(_)) => {
            anyhow::anyhow!("{}: {e} [{rule}]", e.code())
        }
        _ => anyhow::anyhow!("{}: {e}", e.code()),
    }
}

/// The actor for `--account`: the account must exist, so a mistyped id is an error rather than
/// an empty answer.
async fn acting(service: &Service, account: &str) -> anyhow::Result<Actor> {
    let id: AccountId = parse_id("--account", account)?;
    service
        .get_account_unscoped(id)
        .await
        .map_err(service_err)?;
    Ok(Actor::cli(id))
}

/// The actor for `--account` and the other account the verb names with `flag` (a provider, a
/// customer, a receiving account), parsed in that order.
async fn acting_on(
    service: &Service,
    account: &str,
    flag: &str,
    other: &str,
) -> anyhow::Result<(Actor, AccountId)> {
    let actor = acting(service, account).await?;
    Ok((actor, parse_id(flag, other)?))
}

/// Every verb's answer: one line of JSON for scripts with `--json`, else `text` for people.
fn emit<T: Serialize>(
    v: &T,
    json: bool,
    text: impl FnOnce(&T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string(v)?);
    } else {
        text(v)?;
    }
    Ok(())
}

/// Every list verb's answer: a JSON array with `--json`, else `line` for each item and how many
/// there are (`3 rate(s)`).
fn emit_list<T: Serialize>(
    list: &[T],
    json: bool,
    noun: &str,
    line: impl Fn(&T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    emit(&list, json, |list| {
        list.iter().try_for_each(&line)?;
        outln!("{} {noun}(s)", list.len());
        Ok(())
    })
}

/// The arguments of a verb that only names the account it acts as; a verb gives `--account`
/// its own help with `mut_arg` where it says more than the account's id.
#[derive(Debug, Args)]
pub struct AsAccount {
    #[arg(long)]
    account: String,
    #[arg(long)]
    json: bool,
}

/// The arguments of the `delete` verb of a provider's resource kept by id (attribute keys,
/// rate card entries); each verb says what the id is with `mut_arg`.
#[derive(Debug, Args)]
pub struct ById {
    /// The provider.
    #[arg(long)]
    account: String,
    id: String,
    #[arg(long)]
    json: bool,
}

/// The `delete` verb of a provider's resource kept by id: parse the id, act as `--account`,
/// delete without a version check, and say what went.
async fn delete<I>(
    service: &Service,
    noun: &str,
    args: ById,
    delete: impl AsyncFnOnce(&Actor, I) -> Result<(), ServiceError>,
) -> anyhow::Result<()>
where
    I: std::str::FromStr<Err = BadId> + Serialize + Display + Copy,
{
    let id: I = parse_id(&format!("{noun} id"), &args.id)?;
    let actor = acting(service, &args.account).await?;
    delete(&actor, id).await.map_err(service_err)?;
    if args.json {
        outln!("{}", serde_json::json!({ "deleted": id }));
    } else {
        outln!("{noun} {id} deleted");
    }
    Ok(())
}

/// `numberpool backup`: written beside the target and renamed into place, so an interrupted
/// backup never leaves a file that looks whole.
async fn backup(service: &Service, out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("--out: {} exists already; give a new file", out.display());
    }
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    match service.backup_sqlite(&partial).await {
        Ok(true) => {}
        Ok(false) => anyhow::bail!(
            "this database is PostgreSQL: back it up with pg_dump (README, \"Backup and restore\")"
        ),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(service_err(e));
        }
    }
    std::fs::rename(&partial, out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    outln!("backup written to {} ({bytes} bytes)", out.display());
    Ok(())
}

/// `numberpool check`: every disagreeing group, and whether the repair (when asked for) left
/// any. Exit status 1 when the counts are wrong at the end.
async fn check(service: &Service, args: &CheckArgs) -> anyhow::Result<()> {
    let (found, left) = service
        .check_counts(args.repair)
        .await
        .map_err(service_err)?;
    if args.json {
        outln!(
            "{}",
            serde_json::json!({ "mismatches": found, "repaired": args.repair && !found.is_empty(), "left": left })
        );
    } else if found.is_empty() {
        outln!("number counts: every group agrees with a full count of the numbers");
    } else {
        outln!(
            "number counts: {} group(s) disagree with a full count:",
            found.len()
        );
        for m in &found {
            let k = &m.key;
            outln!(
                "  holder {} owner {} customer {} {} {} {} {} {} {}: stored {}, counted {}",
                k.holder_id,
                k.owner_id,
                if k.customer_id.is_empty() {
                    "-"
                } else {
                    &k.customer_id
                },
                k.position,
                if k.assigned { "assigned" } else { "unassigned" },
                k.status,
                k.product,
                k.number_type,
                k.country,
                m.stored,
                m.counted
            );
        }
        if args.repair {
            outln!(
                "repaired: counts rewritten from the numbers; {} group(s) disagree now",
                left.len()
            );
        } else {
            outln!("run `numberpool check --repair` to rewrite them from the numbers");
        }
    }
    if !left.is_empty() {
        anyhow::bail!("the number counts disagree with the numbers");
    }
    Ok(())
}

/// The service on the configured database, for the verbs that work on the data.
async fn service(config: &Config) -> anyhow::Result<Service> {
    Ok(Service::new(open_store(config).await?)
        .with_import_limits(config.import_limits())
        .with_export_retention(config.export_retention_ms()))
}

pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::States => {
            out!("{}", numberpool_domain::lifecycle::render_states_md());
            Ok(())
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            outln!("migrations applied");
            Ok(())
        }
        Command::Serve(args) => {
            let worker = (!args.no_worker).then(|| args.worker.options());
            let app = Application::build(&config).await?.with_worker(worker);
            tracing::info!(addr = %app.local_addr()?, "listening");
            outln!("Numberpool listening on http://{}", app.local_addr()?);
            app.run_until_stopped().await
        }
        Command::Worker(args) => {
            let store = open_store(&config).await?;
            let worker = crate::jobs::Worker::new(
                Service::new(store.clone())
                    .with_import_limits(config.import_limits())
                    .with_export_retention(config.export_retention_ms())
                    .with_seal_key(config.seal_key()?)
                    .with_webhook_options(config.webhook_options()),
                args.options(),
            );
            let stop = crate::shutdown::Shutdown::on_signal();
            outln!("Numberpool worker started");
            worker.run_until_stopped(stop).await;
            store.close().await;
            Ok(())
        }
        Command::Demo(args) => crate::demo::run(&config, args.json, args.no_serve).await,
        Command::Account(cmd) => accounts::run(&service(&config).await?, cmd).await,
        Command::Trunk(cmd) => providers::trunk(&service(&config).await?, cmd).await,
        Command::Carrier(cmd) => providers::carrier(&service(&config).await?, cmd).await,
        Command::Client(cmd) => clients::run(&service(&config).await?, cmd).await,
        Command::User(cmd) => users::run(&service(&config).await?, cmd).await,
        Command::Numbers(cmd) => numbers::run(&service(&config).await?, cmd).await,
        Command::Exchange(cmd) => exchange::run(&service(&config).await?, cmd).await,
        Command::Attribute(cmd) => attributes::run(&service(&config).await?, cmd).await,
        Command::Rate(cmd) => rates::run(&service(&config).await?, cmd).await,
        Command::Block(cmd) => blocks::run(&service(&config).await?, cmd).await,
        Command::Reservation(cmd) => reservations::run(&service(&config).await?, cmd).await,
        // Only porting seals PINs: the other verbs neither need the key nor make its file.
        Command::Porting(cmd) => {
            let service = service(&config).await?.with_seal_key(config.seal_key()?);
            porting::run(&service, cmd).await
        }
        Command::Pool(cmd) => pool::run(&service(&config).await?, cmd).await,
        Command::Events(args) => webhooks::events(&service(&config).await?, args).await,
        // Webhook secrets are sealed with the installation's key, and URLs checked against
        // the operator's private-address setting.
        Command::Webhook(cmd) => {
            let service = service(&config)
                .await?
                .with_seal_key(config.seal_key()?)
                .with_webhook_options(config.webhook_options());
            webhooks::run(&service, cmd).await
        }
        Command::Import(args) => imports::run(&service(&config).await?, args).await,
        Command::Export(args) => imports::export(&service(&config).await?, args).await,
        Command::Backup(args) => backup(&service(&config).await?, &args.out).await,
        Command::Check(args) => check(&service(&config).await?, &args).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
