//! `numberpool user …`: portal users of an account, with a password read from standard input
//! or generated and printed once.

use std::io::Read;

use anyhow::Context;
use clap::{Args, Subcommand};
use numberpool_domain::AccountId;

use super::{parse_id, service_err};
use crate::service::{Actor, Role, Service};

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a portal user (password hashed with argon2).
    Create(NewUser),
}

// The verb's doc comment above is its help; this struct carries only the arguments.
#[derive(Debug, Args)]
pub struct NewUser {
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
}

pub async fn run(service: &Service, cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Create(new) = cmd;
    let account: AccountId = parse_id("--account", &new.account)?;
    let role: Role = new
        .role
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
    let (password, generated) = if new.password_stdin {
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
        .create_user(&Actor::cli(account), account, &new.email, role, &password)
        .await
        .map_err(service_err)?;
    if new.json {
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
