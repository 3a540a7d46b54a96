//! `numberpool exchange|attribute|rate …` and `account update|offboarding|entitlements`: Provider
//! Exchange, account settings, licences and the offboarding check, and a provider's attribute
//! keys and rate card, each acting as the account given with `--account`.

use clap::Subcommand;
use numberpool_domain::attribute::{check_key, check_values};
use numberpool_domain::rate::{check_cents, check_country, check_currency};
use numberpool_domain::{AccountId, AttributeId, NumberType, Rate, RateId};

use super::{parse_id, service_err};
use crate::service::{
    AccountPatch, Actor, ConnectionView, CustomerRelation, Licence, OffboardingAction, RatePatch,
    Service, ServiceError,
};

#[derive(Debug, Subcommand)]
pub enum ExchangeCmd {
    /// Connect a root customer to a provider by the provider's account number (R-ACC-1).
    Connect {
        /// The root customer granting the provider access.
        #[arg(long)]
        account: String,
        /// The provider's account number (it gives it to its customers).
        #[arg(long)]
        provider_number: String,
        #[arg(long)]
        json: bool,
    },
    /// List a customer's Provider Exchange connections, every status.
    List {
        /// The customer.
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Ask to leave a provider; refused while its numbers are assigned to your users (R-ACC-1).
    Disconnect {
        /// The customer.
        #[arg(long)]
        account: String,
        /// The provider's account id.
        #[arg(long)]
        provider: String,
        #[arg(long)]
        json: bool,
    },
    /// List a provider's (or reseller's) customers, child and connected, with number counts.
    Customers {
        /// The provider or reseller.
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// End a connection once the customer asked and none of your numbers remain with it
    /// (R-ACC-1).
    Deactivate {
        /// The provider.
        #[arg(long)]
        account: String,
        /// The connected customer's account id.
        #[arg(long)]
        customer: String,
        #[arg(long)]
        json: bool,
    },
}

/// The `account` verbs that act as an account (flattened into `account …`).
#[derive(Debug, Subcommand)]
pub enum AccountActingCmd {
    /// Rename an account in your own subtree, or set a customer's R-ACC-2 grant and R-ACC-3
    /// licence limits (from an account above it).
    Update {
        id: String,
        /// The account to act as; without it, the operator (any account, e.g. a root
        /// customer's licences, which no account is above to set).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// true or false: let the customer add numbers of its own (R-ACC-2).
        #[arg(long)]
        allow_external_numbers: Option<String>,
        /// Toll-free licences: a count, or none for no limit (R-ACC-3).
        #[arg(long, allow_hyphen_values = true)]
        toll_free_licences: Option<String>,
        /// Contact-center licences: a count, or none for no limit (R-ACC-3).
        #[arg(long, allow_hyphen_values = true)]
        contact_center_licences: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Everything in the way of offboarding the account, for each action open to the actor.
    Offboarding {
        id: String,
        /// The account to act as; without it, the operator's check before
        /// `account deactivate` (any account, roots included).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A customer's licence limits and use (R-ACC-3).
    Entitlements {
        id: String,
        /// The account to act as.
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AttributeCmd {
    /// Create an attribute key of a provider with the values numbers may carry (R-PROV-1).
    Create {
        /// The provider.
        #[arg(long)]
        account: String,
        /// 1 to 64 characters of a-z, 0-9 and _.
        #[arg(long)]
        key: String,
        /// An allowed value; repeat for each.
        #[arg(long = "value", required = true)]
        values: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the attribute keys of the account's provider.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an attribute key no number carries (R-ATTR-1).
    Delete {
        /// The provider.
        #[arg(long)]
        account: String,
        /// The attribute key's id.
        id: String,
        #[arg(long)]
        json: bool,
    },
}

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
    Delete {
        /// The provider.
        #[arg(long)]
        account: String,
        /// The entry's id.
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// The actor for `--account`: the account must exist, so a mistyped id is an error rather than
/// an empty answer.
pub(super) async fn acting(service: &Service, account: &str) -> anyhow::Result<Actor> {
    let id: AccountId = parse_id("--account", account)?;
    service
        .get_account_unscoped(id)
        .await
        .map_err(service_err)?;
    Ok(Actor::cli(id))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string(v)?);
    Ok(())
}

fn print_connection(c: &ConnectionView, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(c);
    }
    outln!(
        "{}  {}  {}  {}",
        c.provider_id,
        c.provider_account_number,
        c.status.as_str(),
        c.provider_name
    );
    Ok(())
}

/// `N` or `none` (no limit) for a licence flag.
fn licences(flag: &str, v: Option<&str>) -> anyhow::Result<Option<Option<i64>>> {
    v.map(|s| {
        let t = s.trim();
        if t.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        t.parse::<u32>().map(|n| Some(i64::from(n))).map_err(|_| {
            anyhow::anyhow!("{flag}: give a number of licences (0 or more) or none, not '{s}'")
        })
    })
    .transpose()
}

fn boolean(flag: &str, v: Option<&str>) -> anyhow::Result<Option<bool>> {
    v.map(|s| match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(anyhow::anyhow!("{flag}: give true or false, not '{s}'")),
    })
    .transpose()
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

fn licence(l: &Licence) -> String {
    match l.limit {
        Some(limit) => format!("{} of {limit} used", l.used),
        None => format!("{} used (no limit)", l.used),
    }
}

fn print_rate(r: &Rate, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(r);
    }
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

fn action(a: OffboardingAction) -> &'static str {
    match a {
        OffboardingAction::DeactivateAccount => "deactivate_account",
        OffboardingAction::RequestDisconnect => "request_disconnect",
        OffboardingAction::DeactivateConnection => "deactivate_connection",
    }
}

pub async fn exchange(service: &Service, cmd: ExchangeCmd) -> anyhow::Result<()> {
    match cmd {
        ExchangeCmd::Connect {
            account,
            provider_number,
            json,
        } => {
            if provider_number.trim().is_empty() || provider_number.len() > 64 {
                anyhow::bail!("--provider-number: give the provider's account number");
            }
            let actor = acting(service, &account).await?;
            let c = service
                .connect_exchange(&actor, &provider_number)
                .await
                .map_err(service_err)?;
            print_connection(&c, json)
        }
        ExchangeCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service
                .list_connections(&actor)
                .await
                .map_err(service_err)?;
            if json {
                return print_json(&list);
            }
            for c in &list {
                print_connection(c, false)?;
            }
            outln!("{} connection(s)", list.len());
            Ok(())
        }
        ExchangeCmd::Disconnect {
            account,
            provider,
            json,
        } => {
            let actor = acting(service, &account).await?;
            let provider: AccountId = parse_id("--provider", &provider)?;
            let c = service
                .request_disconnect(&actor, provider)
                .await
                .map_err(service_err)?;
            print_connection(&c, json)
        }
        ExchangeCmd::Deactivate {
            account,
            customer,
            json,
        } => {
            let actor = acting(service, &account).await?;
            let customer: AccountId = parse_id("--customer", &customer)?;
            let c = service
                .deactivate_connection(&actor, customer)
                .await
                .map_err(service_err)?;
            if json {
                return print_json(&c);
            }
            outln!("connection with customer {customer}: {}", c.status.as_str());
            Ok(())
        }
        ExchangeCmd::Customers { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service.list_customers(&actor).await.map_err(service_err)?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<[String; 6]> = list
                .iter()
                .map(|c| {
                    [
                        c.name.clone(),
                        c.account_number.clone(),
                        match c.relation {
                            CustomerRelation::Child => "child".to_string(),
                            CustomerRelation::Connected => "connected".to_string(),
                        },
                        c.connection_status.map_or("-", |s| s.as_str()).to_string(),
                        c.phone_numbers.to_string(),
                        c.account_id.to_string(),
                    ]
                })
                .collect();
            let header = [
                "NAME",
                "ACCOUNT NUMBER",
                "RELATION",
                "CONNECTION",
                "NUMBERS",
                "ID",
            ];
            let mut width = header.map(str::len);
            for r in &rows {
                for (w, cell) in width.iter_mut().zip(r) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let line = |cells: [&str; 6]| -> std::io::Result<()> {
                let [name, number, relation, connection, count, id] = cells;
                outln!(
                    "{name:<w0$}  {number:<w1$}  {relation:<w2$}  {connection:<w3$}  {count:>w4$}  {id}",
                    w0 = width[0],
                    w1 = width[1],
                    w2 = width[2],
                    w3 = width[3],
                    w4 = width[4],
                );
                Ok(())
            };
            line(header)?;
            for r in &rows {
                line(r.each_ref().map(String::as_str))?;
            }
            let total: i64 = list.iter().map(|c| c.phone_numbers).sum();
            outln!("{} customer(s), {total} number(s)", list.len());
            Ok(())
        }
    }
}

pub async fn account(service: &Service, cmd: AccountActingCmd) -> anyhow::Result<()> {
    match cmd {
        AccountActingCmd::Update {
            id,
            account,
            name,
            allow_external_numbers,
            toll_free_licences,
            contact_center_licences,
            json,
        } => {
            let id: AccountId = parse_id("account id", &id)?;
            let patch = AccountPatch {
                name,
                allow_external_numbers: boolean(
                    "--allow-external-numbers",
                    allow_external_numbers.as_deref(),
                )?,
                toll_free_licences: licences(
                    "--toll-free-licences",
                    toll_free_licences.as_deref(),
                )?,
                contact_center_licences: licences(
                    "--contact-center-licences",
                    contact_center_licences.as_deref(),
                )?,
            };
            let a = match account {
                Some(account) => {
                    let actor = acting(service, &account).await?;
                    service.update_account(&actor, id, &patch, None).await
                }
                None => service.operator_update_account(id, &patch).await,
            }
            .map_err(service_err)?;
            if json {
                return print_json(&a);
            }
            let limit = |l: Option<i64>| l.map_or_else(|| "none".to_string(), |n| n.to_string());
            outln!(
                "{} {}: name {}, external numbers {}, toll-free licences {}, contact-center licences {}",
                a.kind.as_str(),
                a.id,
                a.name,
                if a.allow_external_numbers {
                    "allowed"
                } else {
                    "not allowed"
                },
                limit(a.entitlements.toll_free),
                limit(a.entitlements.contact_center)
            );
            Ok(())
        }
        AccountActingCmd::Offboarding { id, account, json } => {
            let id: AccountId = parse_id("account id", &id)?;
            let (o, who) = match account {
                Some(account) => {
                    let actor = acting(service, &account).await?;
                    let o = service.offboarding(&actor, id).await;
                    (o, format!("account {}", actor.account))
                }
                None => (
                    service.operator_offboarding(id).await,
                    "the operator".to_string(),
                ),
            };
            let o = o.map_err(service_err)?;
            if json {
                return print_json(&o);
            }
            if o.checks.is_empty() {
                outln!("no offboarding action on account {id} is open to {who}");
            }
            for c in &o.checks {
                let provider = c
                    .provider_id
                    .map(|p| format!(" (provider {p})"))
                    .unwrap_or_default();
                let ready = if c.ready { "ready" } else { "not ready" };
                outln!("{}{provider}: {ready}", action(c.action));
                for b in &c.blockers {
                    outln!("  {} ({}) [{}]: {}", b.code, b.count, b.rule, b.message);
                    if !b.phone_numbers.is_empty() {
                        outln!("    {}", b.phone_numbers.join(" "));
                    }
                }
            }
            Ok(())
        }
        AccountActingCmd::Entitlements { id, account, json } => {
            let id: AccountId = parse_id("account id", &id)?;
            let actor = acting(service, &account).await?;
            let e = service
                .entitlements(&actor, id)
                .await
                .map_err(service_err)?;
            if json {
                return print_json(&e);
            }
            outln!("toll_free:      {}", licence(&e.toll_free));
            outln!("contact_center: {}", licence(&e.contact_center));
            Ok(())
        }
    }
}

pub async fn attribute(service: &Service, cmd: AttributeCmd) -> anyhow::Result<()> {
    match cmd {
        AttributeCmd::Create {
            account,
            key,
            values,
            json,
        } => {
            check_key(&key).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
            check_values(&values).map_err(|e| anyhow::anyhow!("--value: {e}"))?;
            let actor = acting(service, &account).await?;
            let a = service
                .create_attribute(&actor, &key, values)
                .await
                .map_err(service_err)?;
            if json {
                return print_json(&a);
            }
            outln!(
                "attribute {} created: id {} values {}",
                a.key,
                a.id,
                a.allowed_values.join(", ")
            );
            Ok(())
        }
        AttributeCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service.list_attributes(&actor).await.map_err(service_err)?;
            if json {
                return print_json(&list);
            }
            for a in &list {
                outln!("{}  {}  {}", a.id, a.key, a.allowed_values.join(", "));
            }
            outln!("{} attribute key(s)", list.len());
            Ok(())
        }
        AttributeCmd::Delete { account, id, json } => {
            let id: AttributeId = parse_id("attribute id", &id)?;
            let actor = acting(service, &account).await?;
            service
                .delete_attribute(&actor, id, None)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::json!({ "deleted": id }));
            } else {
                outln!("attribute {id} deleted");
            }
            Ok(())
        }
    }
}

pub async fn rate(service: &Service, cmd: RateCmd) -> anyhow::Result<()> {
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
            let cents: i64 = monthly_cost_cents
                .trim()
                .parse::<u32>()
                .map(i64::from)
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--monthly-cost-cents: give whole cents (0 or more), e.g. 125 for 1.25, not '{monthly_cost_cents}'"
                    )
                })?;
            check_cents(cents).map_err(|e| anyhow::anyhow!("--monthly-cost-cents: {e}"))?;
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
            print_rate(&r, json)
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
            if json {
                return print_json(&list);
            }
            for r in &list {
                print_rate(r, false)?;
            }
            outln!("{} rate(s)", list.len());
            Ok(())
        }
        RateCmd::Delete { account, id, json } => {
            let id: RateId = parse_id("rate id", &id)?;
            let actor = acting(service, &account).await?;
            service
                .delete_rate(&actor, id, None)
                .await
                .map_err(service_err)?;
            if json {
                outln!("{}", serde_json::json!({ "deleted": id }));
            } else {
                outln!("rate {id} deleted");
            }
            Ok(())
        }
    }
}
