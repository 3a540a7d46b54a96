//! `numberpool exchange …`: Provider Exchange from both sides, a root customer's connections to
//! providers and a provider's (or reseller's) customers, acting as the account given with
//! `--account`.

use clap::Subcommand;

use super::{AsAccount, acting, acting_on, emit, emit_list, service_err};
use crate::service::{ConnectionView, CustomerRelation, CustomerView, Service};

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
    #[command(mut_arg("account", |a| a.help("The customer")))]
    List(AsAccount),
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
    #[command(mut_arg("account", |a| a.help("The provider or reseller")))]
    Customers(AsAccount),
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

fn connection_line(c: &ConnectionView) -> anyhow::Result<()> {
    let (id, number, name) = (c.provider_id, &c.provider_account_number, &c.provider_name);
    outln!("{id}  {number}  {}  {name}", c.status.as_str());
    Ok(())
}

/// The customers as a table whose columns fit their widest cell, then the totals.
fn print_customers(list: &[CustomerView]) -> anyhow::Result<()> {
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
    let line = |cells: [&str; 6]| -> anyhow::Result<()> {
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

pub async fn run(service: &Service, cmd: ExchangeCmd) -> anyhow::Result<()> {
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
            emit(&c, json, connection_line)
        }
        ExchangeCmd::List(AsAccount { account, json }) => {
            let actor = acting(service, &account).await?;
            let list = service
                .list_connections(&actor)
                .await
                .map_err(service_err)?;
            emit_list(&list, json, "connection", connection_line)
        }
        ExchangeCmd::Disconnect {
            account,
            provider,
            json,
        } => {
            let (actor, provider) = acting_on(service, &account, "--provider", &provider).await?;
            let c = service
                .request_disconnect(&actor, provider)
                .await
                .map_err(service_err)?;
            emit(&c, json, connection_line)
        }
        ExchangeCmd::Deactivate {
            account,
            customer,
            json,
        } => {
            let (actor, customer) = acting_on(service, &account, "--customer", &customer).await?;
            let c = service
                .deactivate_connection(&actor, customer)
                .await
                .map_err(service_err)?;
            emit(&c, json, |c| {
                outln!("connection with customer {customer}: {}", c.status.as_str());
                Ok(())
            })
        }
        ExchangeCmd::Customers(AsAccount { account, json }) => {
            let actor = acting(service, &account).await?;
            let list = service.list_customers(&actor).await.map_err(service_err)?;
            emit(&list, json, |list| print_customers(list))
        }
    }
}
