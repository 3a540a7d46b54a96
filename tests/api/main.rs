//! The REST API's integration tests, black-box over HTTP: a real server on 127.0.0.1:0 per
//! case, on its own database, every case on SQLite and on PostgreSQL (`backend_tests!`), and
//! the binary itself for what only the process shows (its log).

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod http;
mod synth;

mod accounts;
mod attributes;
mod available;
mod blocks;
mod edge;
mod errors;
mod etag;
mod exports;
mod idempotency;
mod imports;
mod isolation;
mod lists;
mod logs;
mod moves;
mod oauth;
mod openapi;
mod ops;
mod porting;
mod rate_card;
mod rate_limit;
mod reservations;
mod scopes;
mod seeds;
mod trunks;
