//! The service area's integration tests: every case runs on SQLite and on PostgreSQL, each on
//! its own database, against a fixture world built through the service itself.

#[path = "../common/mod.rs"]
mod common;

mod attributes;
mod available;
mod boundaries;
mod clients;
mod events;
mod exports;
mod fixture;
mod forecast;
mod imports;
mod input;
mod isolation;
mod lifecycle;
mod permissions;
mod planner;
mod providers;
mod races;
mod rate_card;
mod reservations;
mod rules;
mod tenancy;
