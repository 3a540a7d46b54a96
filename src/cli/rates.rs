//! `numberpool rate …`: a provider's rate card, the monthly cost of a country and number type,
//! acting as the account given with `--account`.

use clap::Subcommand;
use numberpool_domain::rate::{check_cents, check_country, check_currency};
use numberpool_domain::{NumberType, Rate, RateId};

use super::{ById, acting, delete, emit, emit_list, service_err};
use crate::service::{Actor, RatePatch, Service, ServiceError};

#[derive(Debug, Subcommand)]
pub enum RateCmd {
    /// Set the monthly cost of a country and number type on a provider's rate card (creates the
    /// entry or changes it).
    Set {
        /// The provider.
        #[arg(long)]
        account: String,
        /// ISO 3166 alpha-2, any case.
        #[arg(long)]
        country: String,
        /// local, mobile, toll_free or national
        #[arg(long = "type")]
        number_type: String,
        /// Whole cents, as the API takes them: 125 is 1.25.
        #[arg(long, allow_hyphen_values = true)]
        monthly_cost_cents: String,
        /// ISO 4217 [default: USD for a new entry; unchanged for an existing one]
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the rate card of the account's provider.
    List {
        #[arg(long)]
        account: String,
        /// Only this country.
        #[arg(long)]
        country: Option<String>,
        /// Only this number type.
        #[arg(long = "type")]
        number_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a rate card entry.
    #[command(mut_arg("id", |a| a.help("The entry's id")))]
    Delete(ById),
}

fn country_arg(v: &str) -> anyhow::Result<()> {
    check_country(v).map_err(|e| anyhow::anyhow!("--country: {e}"))?;
    Ok(())
}

fn number_type(v: &str) -> anyhow::Result<NumberType> {
    v.parse().map_err(|e| anyhow::anyhow!("--type: {e}"))
}

/// Cents as a decimal amount for people: 125 is 1.25.
fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn rate_line(r: &Rate) -> anyhow::Result<()> {
    outln!(
        "{}  {}  {:<9} {:>10} {}",
        r.id,
        r.country,
        r.number_type.as_str(),
        money(r.monthly_cost_cents),
        r.currency
    );
    Ok(())
}

/// The entry of the actor's rate card for a country and type, if there is one.
async fn rate_of(
    service: &Service,
    actor: &Actor,
    country: &str,
    t: NumberType,
) -> Result<Option<RateId>, ServiceError> {
    let found = service.list_rates(actor, Some(country), Some(t)).await?;
    Ok(found.first().map(|r| r.id))
}

/// `--monthly-cost-cents` as whole cents within the rate card's range.
fn cents(v: &str) -> anyhow::Result<i64> {
    let cents: i64 = v.trim().parse::<u32>().map(i64::from).map_err(|_| {
        anyhow::anyhow!(
            "--monthly-cost-cents: give whole cents (0 or more), e.g. 125 for 1.25, not '{v}'"
        )
    })?;
    check_cents(cents).map_err(|e| anyhow::anyhow!("--monthly-cost-cents: {e}"))?;
    Ok(cents)
}

pub async fn run(service: &Service, cmd: RateCmd) -> anyhow::Result<()> {
    match cmd {
        RateCmd::Set {
            account,
            country,
            number_type: t,
            monthly_cost_cents,
            currency,
            json,
        } => {
            let t = number_type(&t)?;
            country_arg(&country)?;
            if let Some(c) = &currency {
                check_currency(c).map_err(|e| anyhow::anyhow!("--currency: {e}"))?;
            }
            let cents = cents(&monthly_cost_cents)?;
            let actor = acting(service, &account).await?;
            let patch = RatePatch {
                monthly_cost_cents: Some(cents),
                currency: currency.clone(),
            };
            let r = match rate_of(service, &actor, &country, t).await {
                Ok(Some(id)) => service.update_rate(&actor, id, patch, None).await,
                Ok(None) => match service
                    .create_rate(&actor, &country, t, cents, currency.as_deref())
                    .await
                {
                    // Created at the same time by someone else: set that one.
                    Err(ServiceError::Duplicate(_)) => {
                        match rate_of(service, &actor, &country, t).await {
                            Ok(Some(id)) => service.update_rate(&actor, id, patch, None).await,
                            Ok(None) => Err(ServiceError::NotFound("rate")),
                            Err(e) => Err(e),
                        }
                    }
                    other => other,
                },
                Err(e) => Err(e),
            }
            .map_err(service_err)?;
            emit(&r, json, rate_line)
        }
        RateCmd::List {
            account,
            country,
            number_type: t,
            json,
        } => {
            let t = t.as_deref().map(number_type).transpose()?;
            if let Some(c) = &country {
                country_arg(c)?;
            }
            let actor = acting(service, &account).await?;
            let list = service
                .list_rates(&actor, country.as_deref(), t)
                .await
                .map_err(service_err)?;
            emit_list(&list, json, "rate", rate_line)
        }
        RateCmd::Delete(args) => {
            delete::<RateId>(service, "rate", args, async |a, id| {
                service.delete_rate(a, id, None).await
            })
            .await
        }
    }
}
