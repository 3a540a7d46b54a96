//! `numberpool numbers …`: scripting the number moves, acting as one account.

use clap::{Args, Subcommand};
use numberpool_domain::{Assignee, AssigneeType, Number, NumberSort, Position, TrunkId, input};
use numberpool_store::{NumberCursor, NumberFilter, NumberLookup};

use super::{acting_on, parse_id, service_err};
use crate::service::{
    AccountRef, Actor, AddNumber, AllocateOptions, AssignmentsView, AvailableParams, NumberView,
    Service, ServiceError,
};

/// The available search's filters, as the API's query takes them.
#[derive(Debug, Args)]
pub struct AvailableArgs {
    /// ISO 3166 alpha-2 country code, e.g. US
    #[arg(long)]
    country: Option<String>,
    /// State or province code, e.g. CA
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    city: Option<String>,
    /// The digits after the country's calling code, e.g. 415 (needs --country)
    #[arg(long)]
    area_code: Option<String>,
    /// local, mobile, toll_free or national
    #[arg(long = "type")]
    number_type: Option<String>,
    /// Required capabilities, comma-separated, e.g. voice,sms
    #[arg(long)]
    capabilities: Option<String>,
    /// Digits anywhere in the number: * is any digit, letters as on a keypad (*FLOWERS)
    #[arg(long)]
    contains: Option<String>,
    /// At most this many, 1 to 100
    #[arg(long, default_value_t = crate::service::DEFAULT_QUANTITY)]
    quantity: u32,
}

#[derive(Debug, Args)]
pub struct Acting {
    /// The account to act as (its scope bounds what you see and move).
    #[arg(long)]
    pub account: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum NumbersCmd {
    /// Add numbers to the account's pool, all or none.
    Add {
        #[command(flatten)]
        acting: Acting,
        /// Numbers in E.164 (or national format with --country).
        #[arg(required = true)]
        numbers: Vec<String>,
        /// Country for national-format input (ISO 3166 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// phone, contact_center or unallocated [default: unallocated]
        #[arg(long)]
        product: Option<String>,
        /// local, mobile, toll_free or national [default: derived from the number]
        #[arg(long = "type")]
        number_type: Option<String>,
    },
    /// List the numbers the account sees.
    List {
        #[command(flatten)]
        acting: Acting,
        /// free, returned or held
        #[arg(long)]
        position: Option<String>,
        /// E.164 prefix, e.g. +1415
        #[arg(long)]
        prefix: Option<String>,
        /// added (the default), added_desc, phone_number or phone_number_desc
        #[arg(long)]
        sort: Option<String>,
        /// At most this many [default: 100]
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this number (the `more: --after` of the previous page, with the
        /// same --sort).
        #[arg(long)]
        after: Option<String>,
    },
    /// Search the free numbers the account may take (seed 002's available search).
    Available {
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        filters: AvailableArgs,
        /// Toll-free numbers only (the toll-free search).
        #[arg(long)]
        toll_free: bool,
    },
    /// Show whether the account's customers (children and connected customers) may search
    /// its pool and provision numbers for themselves; --on or --off changes it.
    SelfService {
        #[arg(long)]
        account: String,
        #[arg(long, conflicts_with = "off")]
        on: bool,
        #[arg(long)]
        off: bool,
        #[arg(long)]
        json: bool,
    },
    /// Take free numbers of the account's pool into a reseller or customer, all or none
    /// (seed 002's provision); a customer takes them from its self-service providers' pools
    /// into itself.
    Provision {
        #[command(flatten)]
        acting: Acting,
        /// E.164 numbers, as the available search found them.
        #[arg(required = true)]
        numbers: Vec<String>,
        /// The receiving account id.
        #[arg(long)]
        site: String,
        /// SIP trunk id [default: the provider's default trunk]
        #[arg(long)]
        sip_trunk: Option<String>,
        /// Toll-free numbers only (refuses any other, naming it).
        #[arg(long)]
        toll_free: bool,
    },
    /// Show one number (by id or E.164) and its history.
    Show {
        #[command(flatten)]
        acting: Acting,
        number: String,
    },
    /// Allocate a free number to a direct child or connected customer.
    Allocate {
        #[command(flatten)]
        acting: Acting,
        number: String,
        /// The receiving account id.
        #[arg(long)]
        to: String,
        /// SIP trunk id (required when the number goes to a customer).
        #[arg(long)]
        sip_trunk: Option<String>,
        #[arg(long)]
        billing_reference: Option<String>,
        #[arg(long)]
        service_info: Option<String>,
    },
    /// Move a number the customer holds into one of its units, or back to the customer
    /// (R-MOVE-5).
    Move {
        #[command(flatten)]
        acting: Acting,
        number: String,
        /// The unit (or the customer itself) id.
        #[arg(long)]
        to: String,
    },
    /// Assign a number to a user, call queue, auto receptionist, common area or Zoom Room
    /// (R-ASG-1).
    Assign {
        #[command(flatten)]
        acting: Acting,
        number: String,
        /// user, call_queue, auto_receptionist, common_area or zoom_room
        #[arg(long = "type")]
        assignee_type: String,
        /// The assignee's id.
        #[arg(long = "id")]
        assignee_id: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Remove an assignee from a number (--id is needed when it has several).
    Unassign {
        #[command(flatten)]
        acting: Acting,
        number: String,
        /// The assignee's id.
        #[arg(long = "id")]
        assignee_id: Option<String>,
    },
    /// Where a number sits in the business (its units) and who uses it.
    Assignments {
        #[command(flatten)]
        acting: Acting,
        number: String,
    },
    /// Release a number back to the pool that allocated it.
    Release {
        #[command(flatten)]
        acting: Acting,
        number: String,
    },
    /// Make a returned number free again.
    Unbind {
        #[command(flatten)]
        acting: Acting,
        number: String,
    },
    /// Remove a free or returned number from the platform (uploader only); for a customer or
    /// unit, a number it did not upload goes back to its pool instead (the release).
    Delete {
        #[command(flatten)]
        acting: Acting,
        number: String,
    },
}

fn lookup(s: &str) -> anyhow::Result<NumberLookup> {
    NumberLookup::parse(s)
        .ok_or_else(|| anyhow::anyhow!("'{s}' is neither a number id nor a valid E.164 number"))
}

/// The operator acting as `--account`, which must exist (a mistyped id is `not_found`, not an
/// empty list).
async fn actor(service: &Service, a: &Acting) -> anyhow::Result<Actor> {
    super::acting(service, &a.account).await
}

fn print_number(view: &NumberView, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string(view)?);
    } else {
        outln!(
            "{}  {}  {:<10} {:<9} {:<12} {}",
            view.id,
            view.phone_number,
            view.position.as_str(),
            view.number_type.as_str(),
            view.product.as_str(),
            view.status.api_str()
        );
    }
    Ok(())
}

/// One move on the number named on the command line, printed as the actor sees it after.
async fn apply(
    actor: &Actor,
    number: &str,
    json: bool,
    step: impl AsyncFnOnce(&NumberLookup) -> Result<Number, ServiceError>,
) -> anyhow::Result<()> {
    let n = step(&lookup(number)?).await.map_err(service_err)?;
    print_number(&NumberView::of(&n, actor.account), json)
}

fn print_assignments(v: &AssignmentsView, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string(v)?);
        return Ok(());
    }
    let named = |a: &AccountRef| format!("{} ({})", a.name, a.id);
    outln!("{}  {}", v.id, v.phone_number);
    outln!(
        "  business:         {}",
        v.business.as_ref().map_or_else(|| "-".into(), named)
    );
    for u in &v.units {
        outln!("  unit:             {}", named(u));
    }
    let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".into());
    outln!("  display_name:     {}", text(&v.display_name));
    outln!("  call_purpose:     {}", text(&v.call_purpose));
    outln!("  program_duration: {}", text(&v.program_duration));
    if v.assignees.is_empty() {
        outln!("  assignees:        -");
    }
    for a in &v.assignees {
        outln!(
            "  assignee:         {} {}{}",
            a.kind.as_str(),
            a.id,
            a.display_name
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn run(service: &Service, cmd: NumbersCmd) -> anyhow::Result<()> {
    match cmd {
        NumbersCmd::Add {
            acting,
            numbers,
            country,
            product,
            number_type,
        } => {
            let actor = actor(service, &acting).await?;
            let mut adds = Vec::with_capacity(numbers.len());
            for raw in numbers {
                // The same parser as the API's JSON and an import's rows.
                let row = input::TextRow {
                    phone_number: raw,
                    country: country.clone(),
                    product: product.clone(),
                    number_type: number_type.clone(),
                    ..Default::default()
                };
                let (phone_number, fields) = input::text_row(&row).map_err(|e| match e.rule {
                    Some(rule) => anyhow::anyhow!("{}: {} [{}]", e.code, e.message, rule.id()),
                    None => anyhow::anyhow!("--{}: {}", e.field, e.message),
                })?;
                adds.push(AddNumber {
                    phone_number,
                    fields,
                });
            }
            let added = service
                .add_numbers(&actor, adds)
                .await
                .map_err(service_err)?;
            for n in &added {
                print_number(&NumberView::of(n, actor.account), acting.json)?;
            }
            if !acting.json {
                outln!("{} number(s) added", added.len());
            }
            Ok(())
        }
        NumbersCmd::List {
            acting,
            position,
            prefix,
            sort,
            limit,
            after,
        } => {
            let actor = actor(service, &acting).await?;
            let position: Option<Position> = position
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--position: {e}"))?;
            let sort: NumberSort = sort
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--sort: {e}"))?
                .unwrap_or_default();
            let after: Option<NumberCursor> = after
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--after: {e}"))?;
            if limit == 0 || limit > 1000 {
                anyhow::bail!("--limit: give 1 to 1000");
            }
            let filter = NumberFilter {
                position,
                e164_prefix: prefix,
                sort,
                ..Default::default()
            };
            let page = service
                .list_numbers(&actor, &filter, after, limit)
                .await
                .map_err(service_err)?;
            for n in &page.items {
                print_number(&NumberView::of(n, actor.account), acting.json)?;
            }
            if !acting.json {
                outln!("{} of {} number(s)", page.items.len(), page.total);
                if let Some(next) = page.next_after {
                    outln!("more: --after {next}");
                }
            }
            Ok(())
        }
        NumbersCmd::Available {
            acting,
            filters: f,
            toll_free,
        } => {
            let actor = actor(service, &acting).await?;
            let number_type = f
                .number_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--type: {e}"))?;
            let params = AvailableParams {
                country: f.country,
                state: f.state,
                city: f.city,
                area_code: f.area_code,
                number_type,
                capabilities: f.capabilities,
                contains: f.contains,
                quantity: Some(f.quantity),
            };
            let only = toll_free.then_some(numberpool_domain::NumberType::TollFree);
            let query = params.parse(only).map_err(service_err)?;
            let found = service
                .search_available(&actor, &query)
                .await
                .map_err(service_err)?;
            super::emit_list(&found, acting.json, "number", |n| {
                let place = [n.state.as_deref(), n.city.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let caps = n.capabilities.names().collect::<Vec<_>>().join(",");
                let cost = match (n.monthly_cost, &n.currency) {
                    (Some(c), Some(cur)) => format!("{c:.2} {cur}/month"),
                    _ => "no rate".to_string(),
                };
                outln!(
                    "{}  {} {}  {}  {}  {}",
                    n.phone_number,
                    n.country,
                    place,
                    n.number_type.as_str(),
                    caps,
                    cost
                );
                Ok(())
            })
        }
        NumbersCmd::SelfService {
            account,
            on,
            off,
            json,
        } => {
            let actor = super::acting(service, &account).await?;
            let enabled = if on || off {
                service
                    .set_self_service(&actor, on)
                    .await
                    .map_err(service_err)?
            } else {
                service
                    .self_service_setting(&actor)
                    .await
                    .map_err(service_err)?
            };
            let v = serde_json::json!({ "enabled": enabled });
            if json {
                outln!("{}", serde_json::to_string(&v)?);
            } else if enabled {
                outln!("self-service is on: customers find this pool's free numbers and take them");
            } else {
                outln!("self-service is off: customers do not see this pool");
            }
            Ok(())
        }
        NumbersCmd::Provision {
            acting,
            numbers,
            site,
            sip_trunk,
            toll_free,
        } => {
            let actor = actor(service, &acting).await?;
            let site = parse_id("--site", &site)?;
            let trunk: Option<TrunkId> = sip_trunk
                .as_deref()
                .map(|t| parse_id("--sip-trunk", t))
                .transpose()?;
            let numbers = numbers
                .iter()
                .map(|n| numberpool_domain::E164::parse(n).map_err(|e| anyhow::anyhow!("{n}: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let done = service
                .provision_of_type(
                    &actor,
                    &numbers,
                    site,
                    trunk,
                    toll_free.then_some(numberpool_domain::NumberType::TollFree),
                )
                .await
                .map_err(service_err)?;
            for n in &done {
                print_number(&NumberView::of(n, actor.account), acting.json)?;
            }
            if !acting.json {
                outln!("{} number(s) provisioned", done.len());
            }
            Ok(())
        }
        NumbersCmd::Show { acting, number } => {
            let actor = actor(service, &acting).await?;
            let l = lookup(&number)?;
            let n = service.get_number(&actor, &l).await.map_err(service_err)?;
            let history = service
                .number_history(&actor, &l)
                .await
                .map_err(service_err)?;
            let view = NumberView::of(&n, actor.account);
            if acting.json {
                let mut v = serde_json::to_value(&view)?;
                v["history"] = serde_json::to_value(&history)?;
                outln!("{v}");
            } else {
                print_number(&view, false)?;
                for h in history {
                    outln!(
                        "  {}  {:<22} {} via {}",
                        numberpool_domain::timestamp::rfc3339(h.at),
                        h.action,
                        h.actor_type,
                        h.channel.as_str()
                    );
                }
            }
            Ok(())
        }
        NumbersCmd::Allocate {
            acting,
            number,
            to,
            sip_trunk,
            billing_reference,
            service_info,
        } => {
            let (actor, to) = acting_on(service, &acting.account, "--to", &to).await?;
            let sip_trunk_id = sip_trunk
                .as_deref()
                .map(|t| parse_id::<TrunkId>("--sip-trunk", t))
                .transpose()?;
            let opts = AllocateOptions {
                sip_trunk_id,
                billing_reference,
                service_info,
            };
            apply(&actor, &number, acting.json, async |l| {
                service.allocate(&actor, l, to, opts).await
            })
            .await
        }
        NumbersCmd::Move { acting, number, to } => {
            let (actor, to) = acting_on(service, &acting.account, "--to", &to).await?;
            apply(&actor, &number, acting.json, async |l| {
                service.move_to_unit(&actor, l, to).await
            })
            .await
        }
        NumbersCmd::Assign {
            acting,
            number,
            assignee_type,
            assignee_id,
            display_name,
        } => {
            let actor = actor(service, &acting).await?;
            let kind: AssigneeType = assignee_type
                .parse()
                .map_err(|e| anyhow::anyhow!("--type: {e}"))?;
            let assignee = Assignee {
                kind,
                id: assignee_id,
                display_name,
            };
            apply(&actor, &number, acting.json, async |l| {
                service.assign(&actor, l, assignee).await
            })
            .await
        }
        NumbersCmd::Unassign {
            acting,
            number,
            assignee_id,
        } => {
            let actor = actor(service, &acting).await?;
            apply(&actor, &number, acting.json, async |l| {
                service.unassign(&actor, l, assignee_id.as_deref()).await
            })
            .await
        }
        NumbersCmd::Assignments { acting, number } => {
            let actor = actor(service, &acting).await?;
            let v = service
                .number_assignments(&actor, &lookup(&number)?)
                .await
                .map_err(service_err)?;
            print_assignments(&v, acting.json)
        }
        NumbersCmd::Release { acting, number } => {
            let actor = actor(service, &acting).await?;
            apply(&actor, &number, acting.json, async |l| {
                service.release(&actor, l).await
            })
            .await
        }
        NumbersCmd::Unbind { acting, number } => {
            let actor = actor(service, &acting).await?;
            apply(&actor, &number, acting.json, async |l| {
                service.unbind(&actor, l).await
            })
            .await
        }
        NumbersCmd::Delete { acting, number } => {
            let actor = actor(service, &acting).await?;
            let n = service
                .delete_number(&actor, &lookup(&number)?, None)
                .await
                .map_err(service_err)?;
            // A customer's delete is the release: the number went back to its pool.
            let released = n.position == Position::Returned && n.holder_id != actor.account;
            let what = if released { "released" } else { "deleted" };
            if acting.json {
                outln!(
                    "{}",
                    serde_json::json!({what: n.id, "phone_number": n.phone_number})
                );
            } else if released {
                outln!("{} released to its pool", n.phone_number);
            } else {
                outln!("{} deleted", n.phone_number);
            }
            Ok(())
        }
    }
}
