//! `numberpool attribute …`: a provider's attribute keys and the values numbers may carry
//! (R-PROV-1, R-ATTR-1), acting as the account given with `--account`.

use clap::Subcommand;
use numberpool_domain::AttributeId;
use numberpool_domain::attribute::{check_key, check_values};

use super::{AsAccount, ById, acting, delete, emit, emit_list, service_err};
use crate::service::Service;

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
    List(AsAccount),
    /// Delete an attribute key no number carries (R-ATTR-1).
    #[command(mut_arg("id", |a| a.help("The attribute key's id")))]
    Delete(ById),
}

pub async fn run(service: &Service, cmd: AttributeCmd) -> anyhow::Result<()> {
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
            emit(&a, json, |a| {
                outln!(
                    "attribute {} created: id {} values {}",
                    a.key,
                    a.id,
                    a.allowed_values.join(", ")
                );
                Ok(())
            })
        }
        AttributeCmd::List(AsAccount { account, json }) => {
            let actor = acting(service, &account).await?;
            let list = service.list_attributes(&actor).await.map_err(service_err)?;
            emit_list(&list, json, "attribute key", |a| {
                outln!("{}  {}  {}", a.id, a.key, a.allowed_values.join(", "));
                Ok(())
            })
        }
        AttributeCmd::Delete(args) => {
            delete::<AttributeId>(service, "attribute", args, async |a, id| {
                service.delete_attribute(a, id, None).await
            })
            .await
        }
    }
}
