//! Pool-exhaustion alerts (issue 15): a provider's or reseller's thresholds per segment of its
//! pool, the forecast of each (free numbers, the last 30 days' pace, days to exhaustion), and the
//! daily job that raises an alert (a notification and a `pool_threshold.alert` event, which
//! webhooks deliver) when a segment will run out within its horizon or is below its floor.

use numberpool_domain::forecast::{alert_reason, forecast};
use numberpool_domain::{Action, NumberType, Rule, RuleViolation, ThresholdId};
use numberpool_store::PoolThreshold;

use super::{Actor, Permission, Result, Service, ServiceError};

/// The window the pace is measured over.
pub const WINDOW_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A new threshold.
#[derive(Debug, Clone, Default)]
pub struct ThresholdInput {
    /// E.164 digits the segment's numbers start with, country code first (`1415`); empty for
    /// the whole pool.
    pub prefix: String,
    pub number_type: Option<NumberType>,
    pub min_free: Option<i64>,
    /// Default 30.
    pub horizon_days: Option<i64>,
}

/// One threshold with its forecast.
#[derive(Debug, Clone)]
pub struct SegmentForecast {
    pub threshold: PoolThreshold,
    pub free: i64,
    /// Numbers allocated out of the segment in the last [`WINDOW_DAYS`] days.
    pub taken: i64,
    pub per_day: f64,
    pub days_left: Option<f64>,
    /// Why it alerts, when it does.
    pub alert: Option<String>,
}

impl SegmentForecast {
    /// The segment in words: "+1 415, local numbers".
    pub fn segment(&self) -> String {
        let t = &self.threshold;
        let prefix = if t.prefix.is_empty() {
            "every number".to_string()
        } else {
            format!("+{}", t.prefix)
        };
        match t.number_type {
            Some(n) => format!("{prefix}, {} numbers", n.as_str().replace('_', " ")),
            None => prefix,
        }
    }
}

fn snapshot(t: &PoolThreshold) -> serde_json::Value {
    serde_json::json!({
        "pool_id": t.pool_id,
        "prefix": t.prefix,
        "number_type": t.number_type.map(|n| n.as_str()),
        "min_free": t.min_free,
        "horizon_days": t.horizon_days,
    })
}

impl Service {
    /// Adds a threshold to the actor's pool (a provider or reseller, R-PROV-1).
    pub async fn add_pool_threshold(
        &self,
        actor: &Actor,
        input: ThresholdInput,
    ) -> Result<PoolThreshold> {
        actor.require(Permission::NumberWrite)?;
        let prefix = input.prefix.trim().trim_start_matches('+').to_string();
        if prefix.len() > 15 || !prefix.chars().all(|c| c.is_ascii_digit()) {
            return Err(ServiceError::Invalid(
                "prefix: give up to 15 digits, country code first (1415 for +1 415)".into(),
            ));
        }
        let horizon_days = input.horizon_days.unwrap_or(30);
        if !(1..=3650).contains(&horizon_days) {
            return Err(ServiceError::Invalid(
                "horizon_days: give 1 to 3650 days".into(),
            ));
        }
        if input
            .min_free
            .is_some_and(|m| !(1..=100_000_000).contains(&m))
        {
            return Err(ServiceError::Invalid(
                "min_free: give 1 to 100,000,000 numbers".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        if !me.kind.holds_pool() {
            return Err(RuleViolation::new(
                Rule::Prov1,
                "only a provider or a reseller keeps a pool to forecast",
            )
            .into());
        }
        if tx.pool_thresholds(me.id).await?.len() >= 200 {
            return Err(ServiceError::Invalid(
                "a pool has at most 200 thresholds; delete one first".into(),
            ));
        }
        let t = PoolThreshold {
            id: ThresholdId::new(),
            pool_id: me.id,
            prefix,
            number_type: input.number_type,
            min_free: input.min_free,
            horizon_days,
            alerted_at: None,
            created_at: now,
            taken_30d: None,
            pace_at: None,
        };
        tx.insert_pool_threshold(&t).await?;
        // Its pace now, so the dashboard shows it before the next daily run.
        let taken = tx
            .taken_from_segment(
                t.pool_id,
                &t.prefix,
                t.number_type,
                now.saturating_sub(WINDOW_DAYS * DAY_MS),
            )
            .await?;
        tx.set_threshold_pace(t.id, taken, now).await?;
        let t = PoolThreshold {
            taken_30d: Some(taken),
            pace_at: Some(now),
            ..t
        };
        tx.record(&actor.event(
            Action::PoolThresholdCreate,
            t.id.to_string(),
            None,
            None,
            Some(snapshot(&t)),
        ))
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Removes one of the actor's pool's thresholds.
    pub async fn delete_pool_threshold(&self, actor: &Actor, id: ThresholdId) -> Result<()> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let t = tx
            .pool_thresholds(actor.account)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(ServiceError::NotFound("threshold"))?;
        tx.delete_pool_threshold(actor.account, id).await?;
        tx.record(&actor.event(
            Action::PoolThresholdDelete,
            id.to_string(),
            None,
            Some(snapshot(&t)),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The actor's pool's thresholds, each with its free numbers now and the pace the daily
    /// forecast (or the threshold's creation) last measured: a view reads no audit log.
    pub async fn pool_forecast(&self, actor: &Actor) -> Result<Vec<SegmentForecast>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        let thresholds = r.pool_thresholds(actor.account).await?;
        let mut out = Vec::with_capacity(thresholds.len());
        for t in thresholds {
            out.push(self.forecast_one(&mut r, t, false).await?);
        }
        Ok(out)
    }

    /// The forecast of `t`; its pace measured now when `measure`, else as last kept.
    async fn forecast_one(
        &self,
        r: &mut numberpool_store::Reader,
        t: PoolThreshold,
        measure: bool,
    ) -> Result<SegmentForecast> {
        let now = self.now();
        let free = r
            .free_in_segment(t.pool_id, &t.prefix, t.number_type)
            .await?;
        let taken = match (measure, t.taken_30d) {
            (false, Some(kept)) => kept,
            _ => {
                r.taken_from_segment(
                    t.pool_id,
                    &t.prefix,
                    t.number_type,
                    now.saturating_sub(WINDOW_DAYS * DAY_MS),
                )
                .await?
            }
        };
        let f = forecast(free, taken, WINDOW_DAYS);
        let alert = alert_reason(&f, t.min_free, t.horizon_days);
        Ok(SegmentForecast {
            threshold: t,
            free,
            taken,
            per_day: f.per_day,
            days_left: f.days_left,
            alert,
        })
    }

    /// The daily job: forecasts every threshold and, for each that alerts and has not alerted
    /// in the last day, raises a notification to its pool and a `pool_threshold.alert` event.
    /// How many alerts it raised.
    pub async fn run_pool_forecasts(&self) -> Result<usize> {
        let thresholds = {
            let mut r = self.store.read().await?;
            r.all_pool_thresholds().await?
        };
        let mut raised = 0;
        for t in thresholds {
            let f = {
                let mut r = self.store.read().await?;
                self.forecast_one(&mut r, t, true).await?
            };
            let now = self.now();
            let mut tx = self.store.begin().await?;
            tx.set_threshold_pace(f.threshold.id, f.taken, now).await?;
            let Some(why) = f.alert.clone() else {
                tx.commit().await?;
                continue;
            };
            // Once a day at most, whichever worker runs the job.
            if !tx
                .mark_alerted(f.threshold.id, now, now.saturating_sub(DAY_MS - 60_000))
                .await?
            {
                continue;
            }
            let segment = f.segment();
            let actor = Actor::periodic_job(f.threshold.pool_id);
            let mut after = snapshot(&f.threshold);
            if let Some(o) = after.as_object_mut() {
                o.insert("free".into(), f.free.into());
                o.insert("taken_last_30_days".into(), f.taken.into());
                o.insert(
                    "days_to_exhaustion".into(),
                    f.days_left.map(|d| d.floor() as i64).into(),
                );
                o.insert("reason".into(), why.clone().into());
            }
            tx.record(&actor.event(
                Action::PoolAlert,
                f.threshold.id.to_string(),
                None,
                None,
                Some(after),
            ))
            .await?;
            tx.insert_notification(
                f.threshold.pool_id,
                "pool_alert",
                &f.threshold.id.to_string(),
                &format!("Your pool runs low in {segment}: {why}."),
                now,
            )
            .await?;
            tx.commit().await?;
            raised += 1;
        }
        Ok(raised)
    }
}
