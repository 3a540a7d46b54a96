//! `numberpool reservation …`: free numbers of a pool held for one account until a time
//! (SPEC §5): make one, list them, move one's time, release one early, and the provider's
//! default time; acting as `--account`.

use clap::Subcommand;
use numberpool_domain::{E164, ReservationId, timestamp};

use super::{acting, emit, emit_list, parse_id, service_err};
use crate::service::{ReservationView, Service};

#[derive(Debug, Subcommand)]
pub enum ReservationCmd {
    /// Hold free numbers of the account's pool for a reseller or customer, all or none.
    Create {
        /// The provider or reseller whose numbers they are.
        #[arg(long)]
        account: String,
        /// The reseller or customer they are held for.
        #[arg(long = "for")]
        for_account: String,
        /// Seconds it lasts, 60 to 2592000 [default: the provider's setting, else one day]
        #[arg(long)]
        ttl: Option<i64>,
        /// E.164 numbers, as the available search found them.
        #[arg(required = true)]
        numbers: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the reservations the account made or that hold numbers for it, newest first.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a reservation end a number of seconds from now (later or sooner).
    Extend {
        #[arg(long)]
        account: String,
        /// The reservation's id.
        id: String,
        /// Seconds from now, 60 to 2592000.
        #[arg(long)]
        ttl: i64,
        #[arg(long)]
        json: bool,
    },
    /// End a reservation early: its numbers are free again.
    Release {
        #[arg(long)]
        account: String,
        /// The reservation's id.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Show the provider's default reservation time, or set it with --default-ttl.
    Settings {
        #[arg(long)]
        account: String,
        /// Seconds, 60 to 2592000.
        #[arg(long)]
        default_ttl: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

fn reservation_line(r: &ReservationView) -> anyhow::Result<()> {
    let numbers = if r.phone_numbers.is_empty() {
        String::new()
    } else {
        format!("  {}", r.phone_numbers.join(" "))
    };
    outln!(
        "{}  {:<11} for {}  until {} ({}s left){}",
        r.id,
        r.status.as_str(),
        r.account_id,
        timestamp::rfc3339(r.expires_at),
        r.seconds_left,
        numbers
    );
    Ok(())
}

fn ms(flag: &str, seconds: i64) -> anyhow::Result<i64> {
    seconds
        .checked_mul(1000)
        .ok_or_else(|| anyhow::anyhow!("{flag}: give 60 to 2592000 seconds"))
}

pub async fn run(service: &Service, cmd: ReservationCmd) -> anyhow::Result<()> {
    match cmd {
        ReservationCmd::Create {
            account,
            for_account,
            ttl,
            numbers,
            json,
        } => {
            let for_account = parse_id("--for", &for_account)?;
            let numbers = numbers
                .iter()
                .map(|n| E164::parse(n).map_err(|e| anyhow::anyhow!("{n}: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let ttl = ttl.map(|t| ms("--ttl", t)).transpose()?;
            let actor = acting(service, &account).await?;
            let r = service
                .reserve(&actor, &numbers, for_account, ttl)
                .await
                .map_err(service_err)?;
            emit(&r, json, reservation_line)
        }
        ReservationCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service
                .list_reservations(&actor)
                .await
                .map_err(service_err)?;
            emit_list(&list, json, "reservation", reservation_line)
        }
        ReservationCmd::Extend {
            account,
            id,
            ttl,
            json,
        } => {
            let id: ReservationId = parse_id("reservation id", &id)?;
            let ttl = ms("--ttl", ttl)?;
            let actor = acting(service, &account).await?;
            let r = service
                .extend_reservation(&actor, id, ttl, None)
                .await
                .map_err(service_err)?;
            emit(&r, json, reservation_line)
        }
        ReservationCmd::Release { account, id, json } => {
            let id: ReservationId = parse_id("reservation id", &id)?;
            let actor = acting(service, &account).await?;
            let r = service
                .release_reservation(&actor, id)
                .await
                .map_err(service_err)?;
            emit(&r, json, reservation_line)
        }
        ReservationCmd::Settings {
            account,
            default_ttl,
            json,
        } => {
            let actor = acting(service, &account).await?;
            let ms = match default_ttl {
                Some(s) => service
                    .set_reservation_ttl(&actor, ms("--default-ttl", s)?)
                    .await
                    .map_err(service_err)?,
                None => service
                    .reservation_ttl_setting(&actor)
                    .await
                    .map_err(service_err)?,
            };
            let v = serde_json::json!({ "default_ttl_seconds": ms / 1000 });
            emit(&v, json, |_| {
                outln!("reservations last {} seconds by default", ms / 1000);
                Ok(())
            })
        }
    }
}
