//! The dashboard: the signed-in account's numbers counted by pool position, status, product
//! and type (the inventory figures), each drawn as a bar chart whose bars lead to the list;
//! and for a pool (issue 15), days to exhaustion per segment with the thresholds that alert,
//! added and removed here.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use numberpool_domain::{Action, NumberType, ThresholdId};
use numberpool_store::NumberFilter;
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::WebError;
use super::forms::{Done, Empty, redirect_done, refusal};
use crate::service::ServiceError;
use crate::service::forecast::ThresholdInput;

use super::chart::BarChart;
use super::errors::WebResult;
use super::signin::render;
use super::{Chrome, SignedIn, WebState};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    total: i64,
    charts: Vec<BarChart>,
    /// A pool's segments with their forecasts (none for a customer).
    segments: Vec<SegmentRow>,
    notice: Option<String>,
    error: Option<String>,
}

/// One segment's forecast as the dashboard shows it.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub id: String,
    pub segment: String,
    pub free: i64,
    pub per_day: String,
    pub days_left: String,
    pub alert: Option<String>,
    pub rule: String,
}

/// `GET /portal`.
pub async fn page(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    dashboard(&st, &user, done.notice(), None).await
}

async fn dashboard(
    st: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let counts = st
        .service
        .inventory(user.actor(), &NumberFilter::default())
        .await?;
    let charts = vec![
        BarChart::new("position", "Pool position", "position", &counts.by_position),
        BarChart::new("status", "Status", "status", &counts.by_status),
        BarChart::new("product", "Product", "product", &counts.by_product),
        BarChart::new("type", "Type", "type", &counts.by_type),
    ];
    let chrome = user.chrome("dashboard");
    let segments = if chrome.is_pool() {
        st.service
            .pool_forecast(user.actor())
            .await?
            .into_iter()
            .map(|f| SegmentRow {
                id: f.threshold.id.to_string(),
                segment: f.segment(),
                free: f.free,
                per_day: format!("{:.1}", f.per_day),
                days_left: f
                    .days_left
                    .map(|d| format!("{}", d.floor() as i64))
                    .unwrap_or_else(|| "None taken in 30 days".into()),
                rule: match (f.threshold.min_free, f.threshold.horizon_days) {
                    (Some(m), h) => format!("Fewer than {m} free, or out within {h} days"),
                    (None, h) => format!("Out within {h} days"),
                },
                alert: f.alert,
            })
            .collect()
    } else {
        Vec::new()
    };
    let status = super::status_for(error.is_some());
    Ok(render(
        status,
        &Dashboard {
            chrome,
            total: counts.total,
            charts,
            segments,
            notice,
            error,
        },
    ))
}

/// The threshold form.
#[derive(Debug, Deserialize)]
pub struct ThresholdForm {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    number_type: String,
    #[serde(default)]
    min_free: String,
    #[serde(default)]
    horizon_days: String,
}

/// `POST /portal/pool-thresholds`.
pub async fn add_threshold(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<ThresholdForm>,
) -> WebResult<Response> {
    let number = |field: &str, v: &str| -> Result<Option<i64>, String> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{field}: give a whole number"))
    };
    let parsed = (|| -> Result<ThresholdInput, String> {
        Ok(ThresholdInput {
            prefix: form.prefix.clone(),
            number_type: match form.number_type.trim() {
                "" => None,
                t => Some(t.parse::<NumberType>().map_err(|e| e.to_string())?),
            },
            min_free: number("Fewer free than", &form.min_free)?,
            horizon_days: number("Horizon", &form.horizon_days)?,
        })
    })();
    let input = match parsed {
        Ok(i) => i,
        Err(m) => return dashboard(&st, &user, None, Some(m)).await,
    };
    match st.service.add_pool_threshold(user.actor(), input).await {
        Ok(t) => Ok(redirect_done(
            "/portal",
            Action::PoolThresholdCreate,
            &if t.prefix.is_empty() {
                "the whole pool".to_string()
            } else {
                format!("+{}", t.prefix)
            },
            "forecast",
        )),
        Err(e) => {
            let m = refusal(e)?;
            dashboard(&st, &user, None, Some(m)).await
        }
    }
}

/// `POST /portal/pool-thresholds/{id}/delete`.
pub async fn delete_threshold(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id: ThresholdId = id
        .parse()
        .map_err(|_| WebError::Service(ServiceError::NotFound("threshold")))?;
    st.service.delete_pool_threshold(user.actor(), id).await?;
    Ok(redirect_done(
        "/portal",
        Action::PoolThresholdDelete,
        "the segment",
        "forecast",
    ))
}
