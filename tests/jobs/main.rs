//! The jobs area: the runner in process (purges as periodic jobs, retries with backoff,
//! timeouts, separate queues) and the real binary (two `worker` processes share a queue, a
//! killed worker's job is claimed again after its lease, SIGTERM stops `serve` after its
//! in-flight request; `kill -9` of serve mid import apply leaves none or all of the file; 32
//! clients provisioning overlapping sets through two `serve` processes).
//! `kill -9` of serve with webhook deliveries pending loses no event.
//! Every case runs on SQLite and on PostgreSQL.

mod crash;
mod processes;
mod provision_race;
mod runner;
mod support;
mod webhooks;

#[path = "../common/receiver.rs"]
mod receiver;
