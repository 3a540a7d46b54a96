//! `numberpool account …`: the operator's account verbs (create, show, deactivate, reactivate)
//! and those acting as an account (settings and R-ACC-3 licences, the offboarding check,
//! entitlements).

use clap::Subcommand;
use numberpool_domain::{AccountId, AccountKind};

use super::{acting, emit, parse_id, service_err};
use crate::service::{AccountPatch, Actor, CreateAccount, Licence, OffboardingAction, Service};

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

fn licence(l: &Licence) -> String {
    match l.limit {
        Some(limit) => format!("{} of {limit} used", l.used),
        None => format!("{} used (no limit)", l.used),
    }
}

fn action(a: OffboardingAction) -> &'static str {
    match a {
        OffboardingAction::DeactivateAccount => "deactivate_account",
        OffboardingAction::RequestDisconnect => "request_disconnect",
        OffboardingAction::DeactivateConnection => "deactivate_connection",
    }
}

pub async fn run(service: &Service, cmd: AccountCmd) -> anyhow::Result<()> {
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
                    &Actor::operator(),
                    CreateAccount {
                        name,
                        kind,
                        parent_id,
                        allow_external_numbers,
                    },
                )
                .await
                .map_err(service_err)?;
            let created =
                serde_json::json!({"id": a.id, "account_number": a.account_number, "kind": a.kind});
            emit(&created, json, |_| {
                outln!(
                    "{} account {} created: id {} number {}",
                    a.kind.as_str(),
                    a.name,
                    a.id,
                    a.account_number
                );
                Ok(())
            })
        }
        AccountCmd::Show { id, json } => {
            let a = service
                .get_account_unscoped(parse_id("account id", &id)?)
                .await
                .map_err(service_err)?;
            emit(&a, json, |a| {
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
                Ok(())
            })
        }
        AccountCmd::Deactivate { id, json } | AccountCmd::Reactivate { id, json } => {
            let a = service
                .set_account_status(
                    &Actor::operator(),
                    parse_id("account id", &id)?,
                    deactivate,
                    None,
                )
                .await
                .map_err(service_err)?;
            emit(&a, json, |a| {
                outln!("{} {}: {}", a.kind.as_str(), a.id, a.status.as_str());
                Ok(())
            })
        }
        AccountCmd::Update {
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
                None => {
                    service
                        .update_account(&Actor::operator(), id, &patch, None)
                        .await
                }
            }
            .map_err(service_err)?;
            emit(&a, json, |a| {
                let limit =
                    |l: Option<i64>| l.map_or_else(|| "none".to_string(), |n| n.to_string());
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
            })
        }
        AccountCmd::Offboarding { id, account, json } => {
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
            emit(&o, json, |o| {
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
            })
        }
        AccountCmd::Entitlements { id, account, json } => {
            let id: AccountId = parse_id("account id", &id)?;
            let actor = acting(service, &account).await?;
            let e = service
                .entitlements(&actor, id)
                .await
                .map_err(service_err)?;
            emit(&e, json, |e| {
                outln!("toll_free:      {}", licence(&e.toll_free));
                outln!("contact_center: {}", licence(&e.contact_center));
                Ok(())
            })
        }
    }
}
