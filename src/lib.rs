//! Numberpool: a self-hosted, multi-tenant phone-number (DID) inventory and lifecycle service.
//! This crate is the application: configuration, the service layer, the HTTP server and the CLI.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod config;
pub mod demo;
pub mod jobs;
pub mod metrics;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod startup;
pub mod telemetry;
pub mod web;

/// Every binary built on this crate (the server, the CLI, the tests and benchmarks) allocates
/// with mimalloc: see `Cargo.toml` and docs/PERFORMANCE.md ("Cost that does not grow with the
/// inventory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
