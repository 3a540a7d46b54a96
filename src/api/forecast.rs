//! `/v2/pool_thresholds` and `/v2/pool_forecast` (issue 15): a provider's or reseller's
//! pool-exhaustion thresholds per segment (an E.164 prefix and a type), and each segment's
//! free numbers, pace over the last 30 days and days to exhaustion.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use numberpool_domain::{NumberType, ThresholdId};
use numberpool_store::PoolThreshold;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::audit::rfc3339;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Auth, NumberRead, NumberWrite};
use super::responses::{CommonErrors, JsonErrors, NotFound, Scoped};
use crate::service::forecast::{SegmentForecast, ThresholdInput};

/// A threshold of the caller's pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdBody {
    pub id: ThresholdId,
    /// E.164 digits the segment's numbers start with, country code first; empty: the pool.
    pub prefix: String,
    /// Only numbers of this type; absent for any.
    pub number_type: Option<NumberType>,
    /// Alert when fewer free numbers are left.
    pub min_free: Option<i64>,
    /// Alert when the segment runs out within this many days at the last 30 days' pace.
    pub horizon_days: i64,
    /// When the daily job last alerted for it.
    #[schema(format = DateTime)]
    pub alerted_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl Scoped for ThresholdBody {
    const NOUN: &'static str = "threshold";
}

impl From<PoolThreshold> for ThresholdBody {
    fn from(t: PoolThreshold) -> Self {
        ThresholdBody {
            id: t.id,
            prefix: t.prefix,
            number_type: t.number_type,
            min_free: t.min_free,
            horizon_days: t.horizon_days,
            alerted_at: t.alerted_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A new threshold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThreshold {
    /// E.164 digits, country code first (`1415` for +1 415); empty or absent for the pool.
    #[serde(default)]
    pub prefix: String,
    pub number_type: Option<NumberType>,
    /// Alert below this many free numbers (1 to 100,000,000).
    pub min_free: Option<i64>,
    /// Alert when out within this many days (1 to 3650, default 30).
    pub horizon_days: Option<i64>,
}

/// One segment's forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentBody {
    pub threshold: ThresholdBody,
    /// The segment in words.
    pub segment: String,
    /// Free numbers in the segment now.
    pub free: i64,
    /// Numbers allocated out of it in the 30 days before `pace_as_of`.
    pub taken_last_30_days: i64,
    /// When that pace was measured: by the daily forecast, or when the threshold was added.
    #[schema(format = DateTime)]
    pub pace_as_of: Option<String>,
    /// The pace: numbers a day.
    pub per_day: f64,
    /// Whole days until none is left at that pace; absent when none was taken.
    pub days_to_exhaustion: Option<i64>,
    /// Why it alerts now, if it does.
    pub alert: Option<String>,
}

impl From<SegmentForecast> for SegmentBody {
    fn from(f: SegmentForecast) -> Self {
        SegmentBody {
            segment: f.segment(),
            free: f.free,
            taken_last_30_days: f.taken,
            pace_as_of: f.threshold.pace_at.map(rfc3339),
            per_day: f.per_day,
            days_to_exhaustion: f.days_left.map(|d| d.floor() as i64),
            alert: f.alert,
            threshold: f.threshold.into(),
        }
    }
}

/// The caller's pool's forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastBody {
    pub segments: Vec<SegmentBody>,
}

/// Forecast the pool
///
/// Each threshold's segment: free numbers, the last 30 days' pace and the days until none is
/// left. The daily job raises an alert (a notification and a `pool_threshold.alert` event) when
/// a segment is below its floor or runs out within its horizon.
#[utoipa::path(get, path = "/v2/pool_forecast", tag = "Events",
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The segments with their forecasts", body = ForecastBody),
        CommonErrors,
    ))]
pub async fn pool_forecast(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
) -> ApiResult<Json<ForecastBody>> {
    let segments = st.service.pool_forecast(&auth.actor).await?;
    Ok(Json(ForecastBody {
        segments: segments.into_iter().map(SegmentBody::from).collect(),
    }))
}

/// Add a pool threshold
#[utoipa::path(post, path = "/v2/pool_thresholds", tag = "Events",
    request_body = CreateThreshold,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The threshold", body = ThresholdBody),
        CommonErrors,
        JsonErrors,
        (status = 422, description = "The caller keeps no pool: a customer or unit (`rule_violation`, R-PROV-1)", body = ErrorBody),
    ))]
pub async fn create_threshold(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<CreateThreshold>,
) -> ApiResult<(StatusCode, Json<ThresholdBody>)> {
    let t = st
        .service
        .add_pool_threshold(
            &auth.actor,
            ThresholdInput {
                prefix: body.prefix,
                number_type: body.number_type,
                min_free: body.min_free,
                horizon_days: body.horizon_days,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ThresholdPath {
    /// The threshold's id.
    #[serde(rename = "thresholdId")]
    #[param(rename = "thresholdId")]
    pub threshold_id: String,
}

/// Delete a pool threshold
#[utoipa::path(delete, path = "/v2/pool_thresholds/{thresholdId}", tag = "Events",
    params(ThresholdPath),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 204, description = "Deleted"),
        CommonErrors,
        NotFound<ThresholdBody>,
    ))]
pub async fn delete_threshold(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<ThresholdPath>,
) -> ApiResult<StatusCode> {
    let id: ThresholdId = p
        .threshold_id
        .parse()
        .map_err(|_| ApiError::not_found("threshold"))?;
    st.service.delete_pool_threshold(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
