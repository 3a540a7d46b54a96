//! Black-box tests of the `numberpool` binary: the scripting verbs with `--json`, their errors,
//! configuration errors, `serve` (health, readiness, graceful shutdown) and `demo`, on SQLite
//! and on PostgreSQL. One file per command; each case starts from its own `World` on its own
//! database (`backend_tests!` makes `case::sqlite` and `case::postgres`).

#[path = "../common/mod.rs"]
mod common;
mod world;

mod accounts;
mod attributes;
mod backup;
mod check;
mod clients;
mod exchange;
mod imports;
mod numbers;
mod rates;
mod serve;
mod webhooks;
