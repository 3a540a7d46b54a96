//! `numberpool client …`: API clients (OAuth client credentials) of an account; a secret is
//! printed once, only its hash is stored.

use clap::Subcommand;
use numberpool_domain::AccountId;

use super::{emit, parse_id, service_err};
use crate::service::{Actor, CreatedClient, Service};

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

/// The client with its new secret, then `note` on what the secret replaced.
fn print_secret(c: &CreatedClient, json: bool, note: &str) -> anyhow::Result<()> {
    emit(c, json, |c| {
        outln!("client_id:     {}", c.client_id);
        outln!("client_secret: {}", c.client_secret);
        outln!("scopes:        {}", c.scopes.join(" "));
        outln!("{note}");
        Ok(())
    })
}

pub async fn run(service: &Service, cmd: ClientCmd) -> anyhow::Result<()> {
    match cmd {
        ClientCmd::Create {
            account,
            scopes,
            json,
        } => {
            let account: AccountId = parse_id("--account", &account)?;
            service
                .get_account_unscoped(account)
                .await
                .map_err(service_err)?;
            let c = service
                .create_client(&Actor::cli(account), account, scopes.as_deref())
                .await
                .map_err(service_err)?;
            print_secret(
                &c,
                json,
                "(the secret is shown only now; only its hash is stored)",
            )
        }
        ClientCmd::Rotate {
            client_id,
            account,
            json,
        } => {
            let actor = client_actor(service, &client_id, account.as_deref()).await?;
            let c = service
                .rotate_client_secret(&actor, &client_id)
                .await
                .map_err(service_err)?;
            print_secret(
                &c,
                json,
                "(the old secret and its tokens no longer work; the new secret is shown only now)",
            )
        }
        ClientCmd::Delete { client_id, account } => {
            let actor = client_actor(service, &client_id, account.as_deref()).await?;
            service
                .delete_client(&actor, &client_id)
                .await
                .map_err(service_err)?;
            outln!("client {client_id} deleted; its tokens no longer work");
            Ok(())
        }
    }
}
