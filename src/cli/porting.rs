//! `numberpool porting …`: port-in orders (SPEC §5), acting as `--account`: check numbers'
//! portability, place an order (the PIN read from stdin, never from the command line), list
//! and show orders with their history, move an order's status, cancel one.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use numberpool_domain::PortOrderId;
use numberpool_domain::porting::{BillingAddress, PortStatus};

use super::{acting, emit, emit_list, parse_id, service_err};
use crate::service::{NewPortOrder, PortOrderView, PortPatch, Service};

#[derive(Debug, Subcommand)]
pub enum PortingCmd {
    /// Say, per number, whether it can be ported in one order.
    Validate {
        #[arg(long)]
        account: String,
        #[arg(required = true)]
        numbers: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Place a port-in order into the account's pool; the PIN is read from stdin.
    Create {
        #[arg(long)]
        account: String,
        /// The losing carrier.
        #[arg(long)]
        carrier: String,
        /// The account number with the losing carrier.
        #[arg(long)]
        account_number: String,
        /// Read the account PIN from stdin (it is never taken on the command line, where
        /// other users and the shell's history would see it).
        #[arg(long, required = true)]
        pin_stdin: bool,
        #[arg(long)]
        authorized_person: String,
        /// Billing address: street.
        #[arg(long)]
        address: String,
        #[arg(long)]
        city: String,
        #[arg(long)]
        state: String,
        #[arg(long)]
        zip: String,
        /// The requested port date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(required = true)]
        numbers: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the account's orders, newest first.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Show an order with its history.
    Show {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move an order: pending, scheduled (--scheduled-date), completed, rejected (--reason)
    /// or cancelled.
    Update {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        status: String,
        #[arg(long)]
        scheduled_date: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Cancel an open order: its numbers leave the platform.
    Cancel {
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn order_line(o: &PortOrderView) -> anyhow::Result<()> {
    outln!(
        "{}  {:<9} {}  from {}  by {}  ({})",
        o.order_id,
        o.status.as_str(),
        o.phone_numbers.join(" "),
        o.carrier_name,
        o.estimated_completion,
        o.account_pin
    );
    Ok(())
}

fn order_id(id: &str) -> anyhow::Result<PortOrderId> {
    parse_id("porting order id", id)
}

pub async fn run(service: &Service, cmd: PortingCmd) -> anyhow::Result<()> {
    match cmd {
        PortingCmd::Validate {
            account,
            numbers,
            json,
        } => {
            let actor = acting(service, &account).await?;
            let v = service
                .validate_port(&actor, &numbers)
                .await
                .map_err(service_err)?;
            emit(&v, json, |v| {
                for c in &v.phone_numbers {
                    match c.reason {
                        None => outln!("{}  portable", c.phone_number),
                        Some(why) => outln!("{}  not portable: {why}", c.phone_number),
                    }
                }
                Ok(())
            })
        }
        PortingCmd::Create {
            account,
            carrier,
            account_number,
            pin_stdin: _,
            authorized_person,
            address,
            city,
            state,
            zip,
            date,
            numbers,
            json,
        } => {
            let mut pin = String::new();
            std::io::stdin()
                .read_to_string(&mut pin)
                .context("reading the PIN from stdin")?;
            let actor = acting(service, &account).await?;
            let o = service
                .create_port_order(
                    &actor,
                    NewPortOrder {
                        phone_numbers: numbers,
                        carrier_name: carrier,
                        account_number,
                        account_pin: pin.trim_end_matches(['\n', '\r']).to_string(),
                        authorized_person,
                        billing_address: BillingAddress {
                            address,
                            city,
                            state,
                            zip,
                        },
                        requested_port_date: date,
                    },
                )
                .await
                .map_err(service_err)?;
            emit(&o, json, order_line)
        }
        PortingCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service
                .list_port_orders(&actor)
                .await
                .map_err(service_err)?;
            emit_list(&list, json, "porting order", order_line)
        }
        PortingCmd::Show { account, id, json } => {
            let id = order_id(&id)?;
            let actor = acting(service, &account).await?;
            let o = service
                .get_port_order(&actor, id)
                .await
                .map_err(service_err)?;
            emit(&o, json, |o| {
                order_line(o)?;
                for h in o.history.iter().flatten() {
                    outln!(
                        "  {}  {:<22} {}{} via {}",
                        numberpool_domain::timestamp::rfc3339(h.at),
                        h.action,
                        h.status.as_deref().unwrap_or(""),
                        h.note
                            .as_deref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default(),
                        h.channel
                    );
                }
                Ok(())
            })
        }
        PortingCmd::Update {
            account,
            id,
            status,
            scheduled_date,
            reason,
            json,
        } => {
            let id = order_id(&id)?;
            let status: PortStatus = status
                .parse()
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?;
            let actor = acting(service, &account).await?;
            let patch = PortPatch {
                status: Some(status),
                scheduled_date,
                reject_reason: reason,
                ..PortPatch::default()
            };
            let o = service
                .update_port_order(&actor, id, patch, None)
                .await
                .map_err(service_err)?;
            emit(&o, json, order_line)
        }
        PortingCmd::Cancel { account, id, json } => {
            let id = order_id(&id)?;
            let actor = acting(service, &account).await?;
            let o = service
                .cancel_port_order(&actor, id)
                .await
                .map_err(service_err)?;
            emit(&o, json, order_line)
        }
    }
}
