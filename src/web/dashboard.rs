//! The dashboard: the signed-in account's numbers counted by pool position, status, product
//! and type (the inventory figures), each drawn as a bar chart whose bars lead to the list.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_store::NumberFilter;

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
}

/// `GET /portal`.
pub async fn page(State(st): State<WebState>, user: SignedIn) -> WebResult<Response> {
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
    Ok(render(
        StatusCode::OK,
        &Dashboard {
            chrome: user.chrome("dashboard"),
            total: counts.total,
            charts,
        },
    ))
}
