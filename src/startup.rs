//! The server seam: `Application::build` opens and migrates the store and binds the listener
//! before returning (port 0 is fine), so tests start servers in parallel without sleeps.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use numberpool_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::{Config, redact_url};
use crate::service::Service;

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    service: Service,
    api: crate::api::ApiConfig,
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
            service: Service::new(store),
            api: config.api(),
            limits: config.server_limits(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests and closes the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let store = self.service.store().clone();
        let app = router(self.service, &self.api);
        crate::server::serve(self.listener, app, &self.limits, shutdown_signal()).await?;
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Health checks beside the API (no authentication).
pub fn router(service: Service, api: &crate::api::ApiConfig) -> Router {
    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(service.clone());
    crate::api::router(service, api, health)
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
