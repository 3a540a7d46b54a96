//! The jobs area: the runner in process (purges as periodic jobs, retries with backoff,
//! timeouts, separate queues) and the real binary (two `worker` processes share a queue, a
//! killed worker's job is claimed again after its lease, SIGTERM stops `serve` after its
//! in-flight request). Every case runs on SQLite and on PostgreSQL.

mod processes;
mod runner;
mod support;
