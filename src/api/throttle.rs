//! The throttle on failed `/oauth/token` attempts (issue 11): each client id, and each source
//! address, may fail `limit` times in a window; after that every attempt under that key (even
//! with the right secret) is refused with 429 until the window ends, without checking the
//! secret, so a flood of guesses costs neither argon2 time nor memory. Counts live in this
//! process: with several `serve` processes each enforces its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys tracked per kind. Past this, expired windows are dropped; if none has expired,
/// a new key is not tracked (so an attacker inventing client ids cannot grow memory, and the
/// per-address count still applies to them).
const MAX_KEYS: usize = 50_000;

/// A key's failures in its current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Failure counts per client id and per source address.
#[derive(Debug)]
pub struct FailureThrottle {
    limit: u32,
    window: Duration,
    clients: Mutex<HashMap<String, Window>>,
    addrs: Mutex<HashMap<IpAddr, Window>>,
}

impl FailureThrottle {
    /// `None` when `limit` is 0 (the throttle is off).
    pub fn new(limit: u32, window: Duration) -> Option<Self> {
        (limit > 0).then(|| Self {
            limit,
            window,
            clients: Mutex::new(HashMap::new()),
            addrs: Mutex::new(HashMap::new()),
        })
    }

    /// How long the caller must wait, when the client id or the address is over its limit.
    pub fn blocked(&self, client_id: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let by_client = wait(&self.clients, client_id, now, self.limit, self.window);
        let by_addr = addr.and_then(|a| wait(&self.addrs, &a, now, self.limit, self.window));
        by_client.max(by_addr)
    }

    /// Counts a failed attempt against the client id and the address.
    pub fn failed(&self, client_id: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        count(&self.clients, client_id.to_string(), now, self.window);
        if let Some(a) = addr {
            count(&self.addrs, a, now, self.window);
        }
    }

    /// A successful attempt clears the client's count (not the address's: one valid client
    /// must not reset the count of an address guessing at others).
    pub fn succeeded(&self, client_id: &str) {
        if let Ok(mut m) = self.clients.lock() {
            m.remove(client_id);
        }
    }
}

fn wait<K, Q>(
    map: &Mutex<HashMap<K, Window>>,
    key: &Q,
    now: Instant,
    limit: u32,
    window: Duration,
) -> Option<Duration>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    let m = map.lock().ok()?;
    let w = m.get(key)?;
    let ends = w.started + window;
    (w.failures >= limit && ends > now).then(|| ends - now)
}

fn count<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Window>>,
    key: K,
    now: Instant,
    window: Duration,
) {
    // A poisoned lock only means another request panicked mid-update; counting is best effort.
    let Ok(mut m) = map.lock() else { return };
    if m.len() >= MAX_KEYS && !m.contains_key(&key) {
        m.retain(|_, w| w.started + window > now);
        if m.len() >= MAX_KEYS {
            return;
        }
    }
    let w = m.entry(key).or_insert(Window {
        started: now,
        failures: 0,
    });
    if w.started + window <= now {
        *w = Window {
            started: now,
            failures: 0,
        };
    }
    w.failures = w.failures.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_client_and_per_address() {
        let t = FailureThrottle::new(3, Duration::from_secs(60))
            .unwrap_or_else(|| unreachable!("limit 3 is on"));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert_eq!(t.blocked("np_x", Some(a)), None);
            t.failed("np_x", Some(a));
        }
        assert!(
            t.blocked("np_x", Some(b)).is_some(),
            "the client id is over"
        );
        assert!(t.blocked("np_y", Some(a)).is_some(), "the address is over");
        assert_eq!(t.blocked("np_y", Some(b)), None);
        assert!(FailureThrottle::new(0, Duration::from_secs(1)).is_none());
    }
}
