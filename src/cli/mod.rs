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

mod numbers;
mod tenancy;

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use numberpool_domain::{AccountId, AccountKind, CarrierKind};

use crate::config::{Config, Overrides};
use crate::service::{Actor, CreateAccount, Role, Service, ServiceError};
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
/// `token_failure_window_secs`). Flags beat the environment,
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Create or reuse a demo database with sample data, print logins, and serve it.
    Demo(DemoArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Manage API clients (OAuth client credentials).
    #[command(subcommand)]
    Client(ClientCmd),
    /// Manage portal users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage a provider's SIP trunks.
    #[command(subcommand)]
    Trunk(TrunkCmd),
    /// Manage a provider's voice carriers and SMS carrier profiles.
    #[command(subcommand)]
    Carrier(CarrierCmd),
    /// Work with numbers, acting as one account.
    #[command(subcommand)]
    Numbers(numbers::NumbersCmd),
    /// Provider Exchange: a root customer's connections to providers, a provider's customers.
    #[command(subcommand)]
    Exchange(tenancy::ExchangeCmd),
    /// Manage a provider's attribute keys.
    #[command(subcommand)]
    Attribute(tenancy::AttributeCmd),
    /// Manage a provider's rate card.
    #[command(subcommand)]
    Rate(tenancy::RateCmd),
    /// Print the number state table (the source of docs/STATES.md).
    States,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "NUMBERPOOL_LISTEN")]
    pub listen: Option<String>,
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

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Create an account.
    Create {
        #[arg(long)]
        name: String,
        /// provider, reseller, customer or unit
        #[arg(long)]
        kind: String,
        /// Parent account id (none for a root provider or customer).
        #[arg(long)]
        parent: Option<String>,
        /// Let a customer add numbers of its own (R-ACC-2).
        #[arg(long)]
        allow_external_numbers: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show an account.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Deactivate an account (any, roots included): its clients and users, and those below it,
    /// are refused until it is reactivated. Refused while it or any account below it holds
    /// numbers (R-OFF-1).
    Deactivate {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Reactivate a deactivated account.
    Reactivate {
        id: String,
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Acting(tenancy::AccountActingCmd),
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Create an API client; prints the client id and secret once (only a hash is stored).
    Create {
        /// The account the client acts for.
        #[arg(long)]
        account: String,
        /// Space- or comma-separated scopes [default: all four]
        #[arg(long)]
        scopes: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give a client a new secret; prints it once. The old secret and all its tokens stop
    /// working.
    Rotate {
        #[arg(long)]
        client_id: String,
        /// The account to act as: the client's or one above it [default: the client's]
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a client; its tokens stop working.
    Delete {
        #[arg(long)]
        client_id: String,
        /// The account to act as: the client's or one above it [default: the client's]
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrunkCmd {
    /// Create a SIP trunk of a provider (names are unique within the provider).
    Create {
        /// The provider account.
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        /// Where the trunk terminates, e.g. us-east.
        #[arg(long)]
        region: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CarrierCmd {
    /// Create a voice carrier or SMS carrier profile of a provider. The first of a kind becomes
    /// its default; --default moves the default to the new one (R-PROV-3).
    Create {
        /// The provider account.
        #[arg(long)]
        account: String,
        /// voice or sms
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// Make it the provider's default of its kind.
        #[arg(long)]
        default: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a portal user (password hashed with argon2).
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        /// owner, admin or viewer
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
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
        };
        Config::load(g.config.as_deref(), &overrides)
    }
}

/// Parses an id argument, naming the argument when it is not one.
pub(crate) fn parse_id<T: std::str::FromStr<Err = numberpool_domain::BadId>>(
    arg: &str,
    v: &str,
) -> anyhow::Result<T> {
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
        Command::Serve(_) => {
            let app = Application::build(&config).await?;
            tracing::info!(addr = %app.local_addr()?, "listening");
            outln!("Numberpool listening on http://{}", app.local_addr()?);
            app.run_until_stopped().await
        }
        Command::Demo(args) => crate::demo::run(&config, args.json, args.no_serve).await,
        Command::Account(cmd) => {
            let service = Service::new(open_store(&config).await?);
            account(&service, cmd).await
        }
        Command::Trunk(TrunkCmd::Create {
            account,
            name,
            region,
            json,
        }) => {
            let service = Service::new(open_store(&config).await?);
            let account: AccountId = parse_id("--account", &account)?;
            let t = service
                .create_trunk(&Actor::cli(account), &name, &region)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&t)?);
            } else {
                outln!("SIP trunk {} ({}) created: id {}", t.name, t.region, t.id);
            }
            Ok(())
        }
        Command::Carrier(CarrierCmd::Create {
            account,
            kind,
            name,
            default,
            json,
        }) => {
            let service = Service::new(open_store(&config).await?);
            let account: AccountId = parse_id("--account", &account)?;
            let kind: CarrierKind = kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let c = service
                .create_carrier(&Actor::cli(account), kind, &name, default.then_some(true))
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&c)?);
            } else {
                outln!(
                    "{} {} created: id {}{}",
                    kind.noun(),
                    c.name,
                    c.id,
                    if c.is_default { " (the default)" } else { "" }
                );
            }
            Ok(())
        }
        Command::Client(ClientCmd::Create {
            account,
            scopes,
            json,
        }) => {
            let service = Service::new(open_store(&config).await?);
            let account: AccountId = parse_id("--account", &account)?;
            service
                .get_account_unscoped(account)
                .await
                .map_err(service_err)?;
            let c = service
                .create_client(&Actor::cli(account), account, scopes.as_deref())
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&c)?);
            } else {
                outln!("client_id:     {}", c.client_id);
                outln!("client_secret: {}", c.client_secret);
                outln!("scopes:        {}", c.scopes.join(" "));
                outln!("(the secret is shown only now; only its hash is stored)");
            }
            Ok(())
        }
        Command::Client(ClientCmd::Rotate {
            client_id,
            account,
            json,
        }) => {
            let service = Service::new(open_store(&config).await?);
            let actor = client_actor(&service, &client_id, account.as_deref()).await?;
            let c = service
                .rotate_client_secret(&actor, &client_id)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&c)?);
            } else {
                outln!("client_id:     {}", c.client_id);
                outln!("client_secret: {}", c.client_secret);
                outln!("scopes:        {}", c.scopes.join(" "));
                outln!(
                    "(the old secret and its tokens no longer work; the new secret is shown only now)"
                );
            }
            Ok(())
        }
        Command::Client(ClientCmd::Delete { client_id, account }) => {
            let service = Service::new(open_store(&config).await?);
            let actor = client_actor(&service, &client_id, account.as_deref()).await?;
            service
                .delete_client(&actor, &client_id)
                .await
                .map_err(service_err)?;
            outln!("client {client_id} deleted; its tokens no longer work");
            Ok(())
        }
        Command::User(UserCmd::Create {
            account,
            email,
            role,
            password_stdin,
            json,
        }) => {
            let service = Service::new(open_store(&config).await?);
            let account: AccountId = parse_id("--account", &account)?;
            let role: Role = role
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from stdin")?;
                (s.trim_end_matches(['\n', '\r']).to_string(), false)
            } else {
                (crate::service::credentials_token(9), true)
            };
            service
                .get_account_unscoped(account)
                .await
                .map_err(service_err)?;
            let u = service
                .create_user(&Actor::cli(account), account, &email, role, &password)
                .await
                .map_err(service_err)?;
            if json {
                let mut v = serde_json::to_value(&u)?;
                if generated {
                    v["password"] = serde_json::Value::String(password);
                }
                outln!("{v}");
            } else {
                outln!(
                    "user {} ({}) created in account {}",
                    u.email,
                    u.role.as_str(),
                    u.account_id
                );
                if generated {
                    outln!("password: {password}");
                }
            }
            Ok(())
        }
        Command::Numbers(cmd) => {
            let service = Service::new(open_store(&config).await?);
            numbers::run(&service, cmd).await
        }
        Command::Exchange(cmd) => {
            let service = Service::new(open_store(&config).await?);
            tenancy::exchange(&service, cmd).await
        }
        Command::Attribute(cmd) => {
            let service = Service::new(open_store(&config).await?);
            tenancy::attribute(&service, cmd).await
        }
        Command::Rate(cmd) => {
            let service = Service::new(open_store(&config).await?);
            tenancy::rate(&service, cmd).await
        }
    }
}

/// Whom the operator acts as on an API client: the account given with `--account` (which must
/// exist; the service then checks the client is in its own subtree), else the client's own.
async fn client_actor(
    service: &Service,
    client_id: &str,
    account: Option<&str>,
) -> anyhow::Result<Actor> {
    let account: AccountId = match account {
        Some(a) => {
            let id = parse_id("--account", a)?;
            service
                .get_account_unscoped(id)
                .await
                .map_err(service_err)?;
            id
        }
        None => {
            service
                .get_client_unscoped(client_id)
                .await
                .map_err(service_err)?
                .account_id
        }
    };
    Ok(Actor::cli(account))
}

async fn account(service: &Service, cmd: AccountCmd) -> anyhow::Result<()> {
    let deactivate = matches!(cmd, AccountCmd::Deactivate { .. });
    match cmd {
        AccountCmd::Create {
            name,
            kind,
            parent,
            allow_external_numbers,
            json,
        } => {
            let kind: AccountKind = kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let parent_id = parent
                .as_deref()
                .map(|p| parse_id::<AccountId>("--parent", p))
                .transpose()?;
            let a = service
                .create_account(
                    None,
                    CreateAccount {
                        name,
                        kind,
                        parent_id,
                        allow_external_numbers,
                    },
                )
                .await
                .map_err(service_err)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"id": a.id, "account_number": a.account_number, "kind": a.kind})
                );
            } else {
                outln!(
                    "{} account {} created: id {} number {}",
                    a.kind.as_str(),
                    a.name,
                    a.id,
                    a.account_number
                );
            }
            Ok(())
        }
        AccountCmd::Show { id, json } => {
            let a = service
                .get_account_unscoped(parse_id("account id", &id)?)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&a)?);
            } else {
                outln!("id:             {}", a.id);
                outln!("name:           {}", a.name);
                outln!("account_number: {}", a.account_number);
                outln!("kind:           {}", a.kind.as_str());
                outln!("status:         {}", a.status.as_str());
                outln!(
                    "parent:         {}",
                    a.parent_id
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "-".into())
                );
            }
            Ok(())
        }
        AccountCmd::Deactivate { id, json } | AccountCmd::Reactivate { id, json } => {
            let a = service
                .set_account_status(None, parse_id("account id", &id)?, deactivate, None)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::to_string(&a)?);
            } else {
                outln!("{} {}: {}", a.kind.as_str(), a.id, a.status.as_str());
            }
            Ok(())
        }
        AccountCmd::Acting(cmd) => tenancy::account(service, cmd).await,
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
