//! Helpers shared by the test binaries (api, service, cli), which include this folder with
//! `#[path = "../common/mod.rs"] mod common;`: `Must`, the fixture builders that go through the
//! service or the store (`fixture`), and the `numberpool` binary as a child process
//! (`process`). The backends loop is the store's `backend_tests!` (its `testing` feature).

// Each binary uses a part of these helpers; what one leaves unused is not dead for another.
#![allow(dead_code)]

pub mod fixture;
pub mod process;
pub mod receiver;

use std::fmt::Display;

/// `Result`/`Option` to value, panicking with the context and the error.
pub trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T, E: Display> Must<T> for Result<T, E> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

impl<T> Must<T> for Option<T> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|| panic!("{what}: nothing"))
    }
}
