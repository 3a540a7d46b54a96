//! `numberpool block …`: number blocks (SPEC §5), a contiguous range added to a pool as one
//! unit, listed with where its numbers are, and released as one; acting as `--account`.

use clap::Subcommand;
use numberpool_domain::{BlockId, NewNumber, input};

use super::{acting, emit, emit_list, parse_id, service_err};
use crate::service::{BlockView, Service};

#[derive(Debug, Subcommand)]
pub enum BlockCmd {
    /// Add a block of numbers to the account's pool, all or none.
    Create {
        /// The provider or reseller whose pool the block goes into.
        #[arg(long)]
        account: String,
        /// The first number: E.164, or national format with --country.
        #[arg(long)]
        start: String,
        /// How many numbers, counting up from --start: 1 to 10000.
        #[arg(long)]
        size: u32,
        /// Country for a national-format --start (ISO 3166 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// phone, contact_center or unallocated [default: unallocated]
        #[arg(long)]
        product: Option<String>,
        /// SIP trunk id for every number of the block.
        #[arg(long)]
        sip_trunk: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the blocks the account added, with where their numbers are.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Release a block: delete all its numbers, refused while any is with a customer.
    Release {
        #[arg(long)]
        account: String,
        /// The block's id.
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn block_line(b: &BlockView) -> anyhow::Result<()> {
    outln!(
        "{}  {} – {}  {} numbers: {} free, {} in use, {} returned, {} removed",
        b.id,
        b.start_number,
        b.end_number,
        b.size,
        b.free,
        b.in_use,
        b.returned,
        b.removed
    );
    Ok(())
}

pub async fn run(service: &Service, cmd: BlockCmd) -> anyhow::Result<()> {
    match cmd {
        BlockCmd::Create {
            account,
            start,
            size,
            country,
            product,
            sip_trunk,
            json,
        } => {
            let start = input::phone_number(&start, country.as_deref())
                .map_err(|e| anyhow::anyhow!("--start: {}", e.message))?;
            let product = product
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--product: {e}"))?;
            let sip_trunk_id = sip_trunk
                .as_deref()
                .map(|t| parse_id("--sip-trunk", t))
                .transpose()?;
            let actor = acting(service, &account).await?;
            let fields = NewNumber {
                product,
                sip_trunk_id,
                ..NewNumber::default()
            };
            let b = service
                .create_block(&actor, start, size, fields)
                .await
                .map_err(service_err)?;
            emit(&b, json, block_line)
        }
        BlockCmd::List { account, json } => {
            let actor = acting(service, &account).await?;
            let list = service.list_blocks(&actor).await.map_err(service_err)?;
            emit_list(&list, json, "block", block_line)
        }
        BlockCmd::Release { account, id, json } => {
            let id: BlockId = parse_id("block id", &id)?;
            let actor = acting(service, &account).await?;
            let n = service
                .release_block(&actor, id)
                .await
                .map_err(service_err)?;
            let v = serde_json::json!({ "id": id, "released_numbers": n });
            emit(&v, json, |_| {
                outln!("block {id} released: {n} number(s) removed");
                Ok(())
            })
        }
    }
}
