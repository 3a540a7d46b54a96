//! `numberpool trunk …` and `numberpool carrier …`: a provider's SIP trunks, voice carriers and
//! SMS carrier profiles.

use clap::{Args, Subcommand};
use numberpool_domain::{AccountId, CarrierKind};

use super::{emit, parse_id, service_err};
use crate::service::{Actor, Service};

#[derive(Debug, Subcommand)]
pub enum TrunkCmd {
    /// Create a SIP trunk of a provider (names are unique within the provider).
    Create(NewTrunk),
}

// The verb's doc comment above is its help; these structs carry only the arguments.
#[derive(Debug, Args)]
pub struct NewTrunk {
    /// The provider account.
    #[arg(long)]
    account: String,
    #[arg(long)]
    name: String,
    /// Where the trunk terminates, e.g. us-east.
    #[arg(long)]
    region: String,
    /// Make it the provider's default trunk (its first trunk is the default anyway).
    #[arg(long)]
    default: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CarrierCmd {
    /// Create a voice carrier or SMS carrier profile of a provider. The first of a kind becomes
    /// its default; --default moves the default to the new one (R-PROV-3).
    Create(NewCarrier),
}

#[derive(Debug, Args)]
pub struct NewCarrier {
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
}

pub async fn trunk(service: &Service, cmd: TrunkCmd) -> anyhow::Result<()> {
    let TrunkCmd::Create(new) = cmd;
    let account: AccountId = parse_id("--account", &new.account)?;
    let t = service
        .create_trunk(
            &Actor::cli(account),
            &new.name,
            &new.region,
            new.default.then_some(true),
        )
        .await
        .map_err(service_err)?;
    emit(&t, new.json, |t| {
        let default = if t.is_default { ", the default" } else { "" };
        outln!(
            "SIP trunk {} ({}{default}) created: id {}",
            t.name,
            t.region,
            t.id
        );
        Ok(())
    })
}

pub async fn carrier(service: &Service, cmd: CarrierCmd) -> anyhow::Result<()> {
    let CarrierCmd::Create(new) = cmd;
    let account: AccountId = parse_id("--account", &new.account)?;
    let kind: CarrierKind = new
        .kind
        .parse()
        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let c = service
        .create_carrier(
            &Actor::cli(account),
            kind,
            &new.name,
            new.default.then_some(true),
        )
        .await
        .map_err(service_err)?;
    emit(&c, new.json, |c| {
        outln!(
            "{} {} created: id {}{}",
            kind.noun(),
            c.name,
            c.id,
            if c.is_default { " (the default)" } else { "" }
        );
        Ok(())
    })
}
