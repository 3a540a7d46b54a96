//! Typed configuration from layered sources: built-in defaults < TOML file < `NUMBERPOOL_*`
//! environment < command-line flags. Clap reads the flags and their environment variables (so
//! `--help` documents both); figment lays them over the file and the defaults. No globals: the
//! caller owns the `Config`, and tests build their own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the server and CLI need to run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`. Empty means `sqlite://<data_dir>/numberpool.db`.
    pub database_url: String,
    /// Where the embedded SQLite database and other local files live.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `numberpool=debug,info`.
    pub log_level: String,
    /// Database connections per process.
    pub db_max_connections: u32,
    /// Lifetime of an API access token, in seconds (default one hour).
    pub token_ttl_secs: i64,
    /// Sustained requests per second per API client; 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// Requests per API client allowed in a burst above the sustained rate.
    pub rate_limit_burst: u32,
    /// Seconds a connection may take to send a request's headers, counted from when it is ready
    /// for a request: from the connect, or from the end of the previous response, so this is
    /// also how long an idle keep-alive connection stays open.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may take to arrive in full, counted from the end of its headers.
    pub body_read_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: u32,
    /// Failed `/oauth/token` attempts allowed per client id, and per source address, in one
    /// window; past that the endpoint answers 429 until the window ends. 0 turns it off.
    pub token_failure_limit: u32,
    /// The length of that window, in seconds.
    pub token_failure_window_secs: u64,
    /// Mark the portal's cookies `Secure` (sent over HTTPS only). Turn on when the portal is
    /// reached over TLS (through a terminating proxy); off, the cookies also work over plain
    /// HTTP on a workstation.
    pub secure_cookies: bool,
    /// R-IMP-1: the most rows an import of a provider or reseller may hold (SPEC: fewer than
    /// 10,000).
    pub import_max_rows: u64,
    /// R-IMP-1: the most rows an import of a customer or unit may hold.
    pub import_max_rows_sub_account: u64,
    /// Hours a finished export's file is kept (then a job removes it).
    pub export_retention_hours: u64,
    /// Let webhooks reach loopback, private and link-local addresses (closed networks, tests).
    pub webhook_allow_private: bool,
    /// Hours a webhook subscription may keep failing before it is disabled.
    pub webhook_retry_window_hours: u64,
    /// Seconds before a failed delivery's first retry (doubling per attempt, to an hour).
    pub webhook_retry_base_secs: u64,
    /// Seconds one delivery attempt may take.
    pub webhook_timeout_secs: u64,
    /// The key porting PINs are sealed with at rest: 64 hex digits. Empty: the key file
    /// `pin.key` in `data_dir`, made on first use. Never logged.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub pin_key: Secret,
}

/// A configuration value that is a secret: its `Debug` shows nothing of it, so a logged
/// configuration does not leak it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "(none)" } else { "(set)" })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            listen: "127.0.0.1:8080".to_string(),
            log_format: "text".to_string(),
            log_level: "info".to_string(),
            db_max_connections: 8,
            token_ttl_secs: 3600,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            max_connections: 512,
            token_failure_limit: 10,
            token_failure_window_secs: 60,
            secure_cookies: false,
            import_max_rows: 9_999,
            import_max_rows_sub_account: 200,
            export_retention_hours: 168,
            webhook_allow_private: false,
            webhook_retry_window_hours: 24,
            webhook_retry_base_secs: 10,
            webhook_timeout_secs: 10,
            pin_key: Secret::default(),
        }
    }
}

/// Values given on the command line or in the environment; `None` leaves the lower layer's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_ttl_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_read_timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_failure_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_failure_window_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_cookies: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_max_rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_max_rows_sub_account: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_retention_hours: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_allow_private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_retry_window_hours: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_retry_base_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_key: Option<Secret>,
}

/// A configuration problem, as one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Layers the file (if any) and the overrides over the defaults, then checks the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        let config: Config = fig
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(e.to_string().replace('\n', " ")))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database_url must start with sqlite:, postgres:// or postgresql:// (got '{}')",
                redact_url(&url)
            )));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError(format!(
                "log_format must be text or json (got '{}')",
                self.log_format
            )));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return Err(ConfigError(format!(
                "log_level '{}' is not a valid filter",
                self.log_level
            )));
        }
        if self.db_max_connections == 0 || self.db_max_connections > 1000 {
            return Err(ConfigError(
                "db_max_connections must be between 1 and 1000".into(),
            ));
        }
        if !(60..=86_400).contains(&self.token_ttl_secs) {
            return Err(ConfigError(
                "token_ttl_secs must be between 60 and 86400".into(),
            ));
        }
        if self.rate_limit_per_second > 0 && self.rate_limit_burst == 0 {
            return Err(ConfigError(
                "rate_limit_burst must be at least 1 when rate_limit_per_second is set".into(),
            ));
        }
        for (name, v) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
        ] {
            if !(1..=3600).contains(&v) {
                return Err(ConfigError(format!("{name} must be between 1 and 3600")));
            }
        }
        if !(1..=100_000).contains(&self.max_connections) {
            return Err(ConfigError(
                "max_connections must be between 1 and 100000".into(),
            ));
        }
        if !(1..=86_400).contains(&self.token_failure_window_secs) {
            return Err(ConfigError(
                "token_failure_window_secs must be between 1 and 86400".into(),
            ));
        }
        for (name, v) in [
            ("import_max_rows", self.import_max_rows),
            (
                "import_max_rows_sub_account",
                self.import_max_rows_sub_account,
            ),
        ] {
            if !(1..=10_000_000).contains(&v) {
                return Err(ConfigError(format!(
                    "{name} must be between 1 and 10000000"
                )));
            }
        }
        if !(1..=720).contains(&self.webhook_retry_window_hours) {
            return Err(ConfigError(
                "webhook_retry_window_hours must be between 1 and 720 (30 days)".into(),
            ));
        }
        if !(1..=3_600).contains(&self.webhook_retry_base_secs) {
            return Err(ConfigError(
                "webhook_retry_base_secs must be between 1 and 3600".into(),
            ));
        }
        if !(1..=120).contains(&self.webhook_timeout_secs) {
            return Err(ConfigError(
                "webhook_timeout_secs must be between 1 and 120".into(),
            ));
        }
        if !(1..=8_760).contains(&self.export_retention_hours) {
            return Err(ConfigError(
                "export_retention_hours must be between 1 and 8760 (a year)".into(),
            ));
        }
        Ok(())
    }

    /// The key porting PINs are sealed with: `pin_key`, else the key file `pin.key` in
    /// `data_dir`, made (readable by its owner only) the first time it is needed. Several
    /// servers on one PostgreSQL database must be given the same `pin_key`.
    pub fn seal_key(&self) -> Result<crate::service::sealed::SealKey, ConfigError> {
        use crate::service::sealed::SealKey;
        if !self.pin_key.is_empty() {
            return SealKey::from_hex(&self.pin_key.0).map_err(ConfigError);
        }
        let path = self.data_dir.join("pin.key");
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", p.display())))
                .and_then(|hex| {
                    SealKey::from_hex(&hex)
                        .map_err(|e| ConfigError(format!("{}: {e}", p.display())))
                })
        };
        if path.exists() {
            return read(&path);
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            ConfigError(format!(
                "cannot create data_dir {}: {e}",
                self.data_dir.display()
            ))
        })?;
        // Written whole to a file of its own, synced, then linked into place: a crash leaves no
        // half-written key, and of two processes starting at once the second links nothing and
        // reads the first's key.
        let partial = self
            .data_dir
            .join(format!("pin.key.{}.partial", std::process::id()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            let mut f = open.open(&partial)?;
            f.write_all(SealKey::generate_hex().as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| ConfigError(format!("cannot write {}: {e}", partial.display())))?;
        let linked = std::fs::hard_link(&partial, &path);
        let _ = std::fs::remove_file(&partial);
        match linked {
            Ok(()) => read(&path),
            // Another process made it first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
            Err(e) => Err(ConfigError(format!(
                "cannot create {}: {e}",
                path.display()
            ))),
        }
    }

    /// How long a finished export's file is kept, in milliseconds.
    /// Webhooks as configured (`webhook_*`).
    pub fn webhook_options(&self) -> crate::service::webhooks::WebhookOptions {
        let secs = |s: u64| i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000);
        crate::service::webhooks::WebhookOptions {
            allow_private: self.webhook_allow_private,
            retry_base_ms: secs(self.webhook_retry_base_secs),
            retry_window_ms: secs(self.webhook_retry_window_hours.saturating_mul(3600)),
            timeout: std::time::Duration::from_secs(self.webhook_timeout_secs),
        }
    }

    pub fn export_retention_ms(&self) -> i64 {
        i64::try_from(self.export_retention_hours)
            .unwrap_or(8_760)
            .saturating_mul(3_600_000)
    }

    /// R-IMP-1's limits, for the service.
    pub fn import_limits(&self) -> crate::service::ImportLimits {
        crate::service::ImportLimits {
            pool_rows: usize::try_from(self.import_max_rows).unwrap_or(usize::MAX),
            sub_account_rows: usize::try_from(self.import_max_rows_sub_account)
                .unwrap_or(usize::MAX),
        }
    }

    /// How the HTTP server treats connections.
    pub fn server_limits(&self) -> crate::server::ServerLimits {
        crate::server::ServerLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: std::time::Duration::from_secs(self.body_read_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }

    /// What the API layer needs of the configuration.
    pub fn web(&self) -> crate::web::WebConfig {
        crate::web::WebConfig {
            secure_cookies: self.secure_cookies,
            signin_failure_limit: self.token_failure_limit,
            signin_failure_window: std::time::Duration::from_secs(self.token_failure_window_secs),
        }
    }

    pub fn api(&self) -> crate::api::ApiConfig {
        crate::api::ApiConfig {
            token_ttl_secs: self.token_ttl_secs,
            rate_limit_per_second: self.rate_limit_per_second,
            rate_limit_burst: self.rate_limit_burst,
            db_max_connections: self.db_max_connections,
            token_failure_limit: self.token_failure_limit,
            token_failure_window_secs: self.token_failure_window_secs,
        }
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen '{}' is not an address like 127.0.0.1:8080",
                self.listen
            ))
        })
    }

    /// The effective database URL.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("numberpool.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Creates the data directory when the database is a SQLite file in it.
    pub fn prepare_data_dir(&self) -> Result<(), ConfigError> {
        if self.database_url().starts_with("sqlite:") {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                ConfigError(format!(
                    "cannot create data_dir {}: {e}",
                    self.data_dir.display()
                ))
            })?;
        }
        Ok(())
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // user:password@ in the authority, with or without the `//`.
    let start = base
        .find("://")
        .map(|i| i + 3)
        .or_else(|| base.find(':').map(|i| i + 1))
        .unwrap_or(0);
    let mut out = match base.rfind('@') {
        Some(at) if at > start => match base[start..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &base[..start], &base[at..]),
            None => base.to_string(),
        },
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_key_file_is_made_once_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let c = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let first = c.seal_key().unwrap_or_else(|e| panic!("{e}"));
        let sealed = first.seal("1234");
        let path = c.data_dir.join("pin.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
        }
        let again = c.seal_key().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            again.open(&sealed).ok().as_deref(),
            Some("1234"),
            "the same key"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&c.data_dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(leftovers, ["pin.key"], "no partial file left");
        // A configured key wins over the file; a bad one stops the program, saying why.
        let hex = crate::service::sealed::SealKey::generate_hex();
        let configured = Config {
            pin_key: Secret(hex),
            ..c.clone()
        };
        let k = configured.seal_key().unwrap_or_else(|e| panic!("{e}"));
        assert!(k.open(&sealed).is_err());
        let bad = Config {
            pin_key: Secret("abc".into()),
            ..c.clone()
        };
        assert!(bad.seal_key().is_err_and(|e| e.0.contains("64 hex digits")));
        assert_eq!(format!("{:?}", configured.pin_key), "(set)");
    }

    #[test]
    fn layers_file_then_overrides() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("np.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = Config::load(Some(&file), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.log_level, "debug");
        let o = Overrides {
            listen: Some("127.0.0.1:9001".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&file), &o).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen, "127.0.0.1:9001");
        assert_eq!(c.log_level, "debug");
    }

    #[test]
    fn bad_values_are_one_line_errors() {
        let bad = |o: Overrides| {
            Config::load(None, &o)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            bad(Overrides {
                listen: Some("nope".into()),
                ..Default::default()
            })
            .contains("listen")
        );
        assert!(
            bad(Overrides {
                database_url: Some("mysql://x".into()),
                ..Default::default()
            })
            .contains("database_url")
        );
        assert!(
            bad(Overrides {
                log_format: Some("xml".into()),
                ..Default::default()
            })
            .contains("log_format")
        );
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("np.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap_or_else(|e| panic!("{e}"));
        let e = Config::load(Some(&file), &Overrides::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("lisen") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(redact_url("postgres:/u:pw@h/db"), "postgres:/u:***@h/db");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=pw&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
    }
}
