//! The throttle on failed `/oauth/token` attempts (issue 11): each client id, and each source
//! address, may fail `limit` times in a window (the window starts at its first failure); after
//! that every attempt under that key (even with the right secret) is refused with 429 until the
//! window ends, without checking the secret, so a flood of guesses costs neither argon2 time
//! nor memory. Counts live in this process: with several `serve` processes each enforces its
//! own.

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

    /// Admits an attempt, counting it as a failure until it is shown not to be one
    /// (`not_a_failure`); or says how long to wait when the client id or the address is at its
    /// limit. Counting before the secret is checked keeps many concurrent guesses from all
    /// getting past a count that only the finished ones would have raised.
    pub fn begin(&self, client_id: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        // Always clients, then addresses: one lock order.
        let Ok(mut clients) = self.clients.lock() else {
            return Ok(());
        };
        let Ok(mut addrs) = self.addrs.lock() else {
            return Ok(());
        };
        let wait = wait(&clients, client_id, now, self.limit, self.window)
            .max(addr.and_then(|a| wait(&addrs, &a, now, self.limit, self.window)));
        if let Some(w) = wait {
            return Err(w);
        }
        count(&mut clients, client_id.to_string(), now, self.window);
        if let Some(a) = addr {
            count(&mut addrs, a, now, self.window);
        }
        Ok(())
    }

    /// Takes back the count of an attempt that was no failure: the secret was right (which
    /// also clears the client's count: it proved it holds the secret), or the check could not
    /// run (busy). The address keeps its other failures: one valid client must not reset the
    /// count of an address guessing at others.
    pub fn not_a_failure(&self, client_id: &str, addr: Option<IpAddr>, secret_was_right: bool) {
        if let Ok(mut clients) = self.clients.lock() {
            if secret_was_right {
                clients.remove(client_id);
            } else {
                uncount(&mut clients, client_id);
            }
        }
        if let (Some(a), Ok(mut addrs)) = (addr, self.addrs.lock()) {
            uncount(&mut addrs, &a);
        }
    }
}

fn wait<K, Q>(
    map: &HashMap<K, Window>,
    key: &Q,
    now: Instant,
    limit: u32,
    window: Duration,
) -> Option<Duration>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    let w = map.get(key)?;
    let ends = w.started + window;
    (w.failures >= limit && ends > now).then(|| ends - now)
}

fn count<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Window>,
    key: K,
    now: Instant,
    window: Duration,
) {
    if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        map.retain(|_, w| w.started + window > now);
        if map.len() >= MAX_KEYS {
            return;
        }
    }
    let w = map.entry(key).or_insert(Window {
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

fn uncount<K, Q>(map: &mut HashMap<K, Window>, key: &Q)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(w) = map.get_mut(key) {
        w.failures = w.failures.saturating_sub(1);
    }
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
            assert_eq!(t.begin("np_x", Some(a)), Ok(()));
        }
        assert!(t.begin("np_x", Some(b)).is_err(), "the client id is over");
        assert!(t.begin("np_y", Some(a)).is_err(), "the address is over");
        assert_eq!(t.begin("np_y", Some(b)), Ok(()));
        // An attempt that was no failure gives its count back to the address; a right secret
        // also clears the client's count.
        t.not_a_failure("np_x", Some(a), true);
        assert_eq!(t.begin("np_x", Some(b)), Ok(()));
        assert_eq!(t.begin("np_z", Some(a)), Ok(()));
        assert!(t.begin("np_q", Some(a)).is_err());
        t.not_a_failure("np_y", Some(b), false);
        t.not_a_failure("np_x", Some(b), false);
        for _ in 0..3 {
            assert_eq!(t.begin("np_w", Some(b)), Ok(()), "b is back to no failure");
        }
        assert!(t.begin("np_v", Some(b)).is_err());
        assert!(FailureThrottle::new(0, Duration::from_secs(1)).is_none());
    }
}
