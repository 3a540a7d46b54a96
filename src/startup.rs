//! The server seam and the HTTP composition. `Application::build` opens and migrates the store
//! and binds the listener before returning (port 0 is fine), so tests start servers in parallel
//! without sleeps. [`router`] puts the parts of the HTTP surface side by side (the API, the
//! health checks, `/metrics`, and the portal to come) under the layers they all share; each part
//! keeps only its own layers (the API's authentication, rate limit and idempotency). `serve`
//! runs the job worker beside the server; one [`Shutdown`] stops both.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use numberpool_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::api::error::ApiError;
use crate::config::{Config, redact_url};
use crate::jobs::{Worker, WorkerOptions};
use crate::metrics::{self, MetricsState};
use crate::service::Service;
use crate::shutdown::{self, Shutdown};

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    service: Service,
    api: crate::api::ApiConfig,
    web: crate::web::WebConfig,
    worker: Option<WorkerOptions>,
    limits: crate::server::ServerLimits,
}

/// Opens the configured store and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    config.prepare_data_dir()?;
    let url = config.database_url();
    let opts = StoreOptions {
        max_connections: config.db_max_connections,
        ..Default::default()
    };
    let store = Store::connect(&url, &opts)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact_url(&url)))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate database {}: {e}", redact_url(&url)))?;
    Ok(store)
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Application> {
        let store = open_store(config).await?;
        Self::build_with_store(config, store).await
    }

    pub async fn build_with_store(config: &Config, store: Store) -> anyhow::Result<Application> {
        store
            .optimize()
            .await
            .map_err(|e| anyhow::anyhow!("cannot gather query statistics: {e}"))?;
        let addr = config.listen_addr()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        Ok(Application {
            listener,
            service: Service::new(store)
                .with_import_limits(config.import_limits())
                .with_export_retention(config.export_retention_ms())
                .with_seal_key(config.seal_key()?)
                .with_webhook_options(config.webhook_options()),
            api: config.api(),
            web: config.web(),
            worker: Some(WorkerOptions::default()),
            limits: config.server_limits(),
        })
    }

    /// Runs the job worker beside the server with these options, or (`None`) serves without
    /// one (workers then run as `numberpool worker` elsewhere).
    pub fn with_worker(mut self, worker: Option<WorkerOptions>) -> Application {
        self.worker = worker;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until SIGTERM or Ctrl-C; see [`Application::run_until`].
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(Shutdown::on_signal()).await
    }

    /// Serves, with the job worker beside the server, until `stop` fires; then the server
    /// finishes its in-flight requests and the worker its running jobs, and the pool closes.
    pub async fn run_until(self, stop: Shutdown) -> anyhow::Result<()> {
        let store = self.service.store().clone();
        // The worker stops when asked to, and also when the server ends on its own.
        let (stop_worker, worker_stop) = shutdown::channel();
        let worker = self.worker.map(|options| {
            let worker = Worker::new(self.service.clone(), options);
            tokio::spawn(worker.run_until_stopped(worker_stop))
        });
        let forward = {
            let stop = stop.clone();
            tokio::spawn(async move {
                stop.wait().await;
                stop_worker.fire();
            })
        };
        let app = router(self.service, &self.api, &self.web);
        let served = crate::server::serve(self.listener, app, &self.limits, async move {
            stop.wait().await
        })
        .await
        .map_err(anyhow::Error::from);
        forward.abort();
        if let Some(worker) = worker
            && let Err(e) = worker.await
        {
            tracing::error!(error = %e, "the job worker ended abnormally");
        }
        store.close().await;
        tracing::info!("stopped");
        served
    }
}

/// The whole HTTP surface: the API, `/healthz`, `/readyz` and `/metrics` side by side, with
/// the JSON fallbacks, under the layers every route shares (outermost first: request id,
/// trace, metrics, panic guard, body limit).
pub fn router(
    service: Service,
    api: &crate::api::ApiConfig,
    web: &crate::web::WebConfig,
) -> Router {
    // Installing the recorder before the first request means `/metrics` has every series.
    let _ = metrics::handle();
    let ops = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(service.clone())
        .merge(
            Router::new()
                .route("/metrics", get(metrics::render))
                .with_state(MetricsState {
                    service: service.clone(),
                    db_max_connections: api.db_max_connections,
                }),
        );
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(crate::api::router(service.clone(), api))
        .merge(ops)
        .merge(crate::web::router(service, web))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; /openapi.json lists the ones it does",
            )
        })
        .layer(DefaultBodyLimit::max(crate::api::BODY_LIMIT))
        .layer(middleware::from_fn(crate::api::extract::refuse_control_chars))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
        .layer(middleware::from_fn(metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // Set by the layers below, which keep a caller's id only when it is safe.
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings and headers (Authorization) stay out of logs.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(
                    |res: &Response, latency: std::time::Duration, _: &tracing::Span| {
                        tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
                    },
                ),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::map_request(crate::telemetry::screen_request_id))
}

async fn readyz(State(service): State<Service>) -> impl IntoResponse {
    match service.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
