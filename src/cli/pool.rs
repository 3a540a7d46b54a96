//! `numberpool pool …` (issue 15): a provider's or reseller's pool-exhaustion thresholds and
//! the forecast of each segment (free numbers, the last 30 days' pace, days to exhaustion);
//! acting as `--account`. JSON output is the API's.

use clap::Subcommand;
use numberpool_domain::{NumberType, ThresholdId};

use super::{acting, emit, emit_list, parse_id, service_err};
use crate::api::forecast::{SegmentBody, ThresholdBody};
use crate::service::Service;
use crate::service::forecast::ThresholdInput;

#[derive(Debug, Subcommand)]
pub enum PoolCmd {
    /// Each threshold's segment with its free numbers, pace and days to exhaustion.
    Forecast {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Alert when a segment of the pool runs low.
    AddThreshold {
        #[arg(long)]
        account: String,
        /// E.164 digits, country code first (1415 for +1 415) [default: the whole pool]
        #[arg(long, default_value = "")]
        prefix: String,
        /// Only numbers of this type (local, mobile, toll_free, national).
        #[arg(long = "type")]
        number_type: Option<String>,
        /// Alert below this many free numbers.
        #[arg(long)]
        min_free: Option<i64>,
        /// Alert when it runs out within this many days at the last 30 days' pace [default: 30]
        #[arg(long)]
        horizon_days: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a threshold.
    DeleteThreshold {
        #[arg(long)]
        account: String,
        /// The threshold's id.
        id: String,
    },
}

fn segment_line(s: &SegmentBody) -> anyhow::Result<()> {
    let days = s
        .days_to_exhaustion
        .map(|d| format!("{d} days left"))
        .unwrap_or_else(|| "none taken in 30 days".into());
    let alert = s
        .alert
        .as_deref()
        .map(|a| format!("  ALERT: {a}"))
        .unwrap_or_default();
    outln!(
        "{}  {:<28} {:>8} free  {:>7.1}/day  {days}{alert}",
        s.threshold.id,
        s.segment,
        s.free,
        s.per_day
    );
    Ok(())
}

fn threshold_line(t: &ThresholdBody) -> anyhow::Result<()> {
    outln!(
        "{}  prefix +{}  type {}  min free {}  horizon {} days",
        t.id,
        t.prefix,
        t.number_type.map_or("any", |n| n.as_str()),
        t.min_free
            .map_or_else(|| "-".to_string(), |m| m.to_string()),
        t.horizon_days
    );
    Ok(())
}

pub async fn run(service: &Service, cmd: PoolCmd) -> anyhow::Result<()> {
    match cmd {
        PoolCmd::Forecast { account, json } => {
            let actor = acting(service, &account).await?;
            let list: Vec<SegmentBody> = service
                .pool_forecast(&actor)
                .await
                .map_err(service_err)?
                .into_iter()
                .map(SegmentBody::from)
                .collect();
            emit_list(&list, json, "segment", segment_line)
        }
        PoolCmd::AddThreshold {
            account,
            prefix,
            number_type,
            min_free,
            horizon_days,
            json,
        } => {
            let number_type = number_type
                .map(|t| {
                    t.parse::<NumberType>()
                        .map_err(|e| anyhow::anyhow!("--type: {e}"))
                })
                .transpose()?;
            let actor = acting(service, &account).await?;
            let t: ThresholdBody = service
                .add_pool_threshold(
                    &actor,
                    ThresholdInput {
                        prefix,
                        number_type,
                        min_free,
                        horizon_days,
                    },
                )
                .await
                .map_err(service_err)?
                .into();
            emit(&t, json, threshold_line)
        }
        PoolCmd::DeleteThreshold { account, id } => {
            let id: ThresholdId = parse_id("threshold id", &id)?;
            let actor = acting(service, &account).await?;
            service
                .delete_pool_threshold(&actor, id)
                .await
                .map_err(service_err)?;
            outln!("threshold {id} deleted");
            Ok(())
        }
    }
}
