//! The service's clock: where "now" comes from for every time the service decides with
//! (token expiry today; reservation expiry later). The system clock in production; a manual one
//! in tests, moved forward by hand so that expiry is tested without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time in Unix milliseconds. Clones share the time: advancing a
/// manual clock moves it for every service holding a clone.
#[derive(Debug, Clone, Default)]
pub struct Clock(Source);

#[derive(Debug, Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The wall clock ([`numberpool_domain::now_ms`]).
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands at `at_ms` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(at_ms: i64) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicI64::new(at_ms))))
    }

    /// A manual clock's shared time (the store stamps audit events with it); `None` for the
    /// system clock.
    pub fn manual_time(&self) -> Option<Arc<AtomicI64>> {
        match &self.0 {
            Source::System => None,
            Source::Manual(t) => Some(t.clone()),
        }
    }

    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Source::System => numberpool_domain::now_ms(),
            Source::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward by `ms`; the system clock cannot be moved, so this does
    /// nothing to it.
    pub fn advance(&self, ms: i64) {
        if let Source::Manual(t) = &self.0 {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock to `at_ms`; nothing for the system clock.
    pub fn set(&self, at_ms: i64) {
        if let Source::Manual(t) = &self.0 {
            t.store(at_ms, Ordering::SeqCst);
        }
    }
}
