//! Reservations (SPEC §5): free numbers of a pool held for one account until a time. This
//! module owns the reservation's own states (`active` until released, run out, or fully
//! provisioned), the transition function that moves them and names the rule it enforces, and
//! the bounds of how long one lasts. The numbers' side (the `reserved` state) is in
//! [`crate::lifecycle`].

use serde::Serialize;

use crate::ids::{AccountId, ReservationId};
use crate::rules::{Rule, RuleViolation};

/// How long a reservation lasts when neither the request nor the provider says: one day.
pub const DEFAULT_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The shortest a reservation may be asked to last: one minute.
pub const MIN_TTL_MS: i64 = 60 * 1000;
/// The longest: thirty days.
pub const MAX_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

string_enum!(
    /// Where a reservation is. Only `active` holds numbers; the others are final.
    ReservationStatus, "status", "active, released, expired, provisioned", exact, {
    Active => "active", Released => "released", Expired => "expired",
    Provisioned => "provisioned" });

/// What happens to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationEvent {
    /// Its time moves (later or sooner, from now).
    Extend,
    /// Released early by the pool or the account it holds numbers for.
    Release,
    /// Its time has come (the expiry job).
    Expire,
    /// Its last number was provisioned to the account.
    Fulfil,
}

/// A reservation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    pub id: ReservationId,
    /// The pool whose free numbers are held (the account that reserved them).
    pub pool_id: AccountId,
    /// The account they are held for.
    pub for_account_id: AccountId,
    pub status: ReservationStatus,
    /// How many numbers it held when made.
    pub size: u32,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl Reservation {
    /// Whether it holds its numbers at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.status == ReservationStatus::Active && self.expires_at > now
    }
}

/// The reservation's state table: `active` moves to each final state once; a final state
/// moves nowhere (R-RES-2: what a reservation held is free, or provisioned, once it ends).
pub fn reservation_transition(
    from: ReservationStatus,
    event: ReservationEvent,
) -> Result<ReservationStatus, RuleViolation> {
    use ReservationEvent as E;
    use ReservationStatus as S;
    match (from, event) {
        (S::Active, E::Extend) => Ok(S::Active),
        (S::Active, E::Release) => Ok(S::Released),
        (S::Active, E::Expire) => Ok(S::Expired),
        (S::Active, E::Fulfil) => Ok(S::Provisioned),
        (S::Released | S::Expired | S::Provisioned, _) => Err(RuleViolation::new(
            Rule::Res2,
            format!(
                "the reservation is {} already: it holds no numbers any more",
                from.as_str()
            ),
        )),
    }
}

/// A reservation time in milliseconds, within [`MIN_TTL_MS`]..=[`MAX_TTL_MS`]; the message
/// names the field as `ttl_seconds`.
pub fn check_ttl(ms: i64) -> Result<i64, String> {
    if (MIN_TTL_MS..=MAX_TTL_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "ttl_seconds: give {} to {} seconds (one minute to thirty days)",
            MIN_TTL_MS / 1000,
            MAX_TTL_MS / 1000
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReservationEvent as E;
    use ReservationStatus as S;

    #[test]
    fn every_status_event_pair() {
        let events = [E::Extend, E::Release, E::Expire, E::Fulfil];
        let from_active = [S::Active, S::Released, S::Expired, S::Provisioned];
        for (e, to) in events.iter().zip(from_active) {
            assert_eq!(reservation_transition(S::Active, *e), Ok(to), "{e:?}");
        }
        for s in [S::Released, S::Expired, S::Provisioned] {
            for e in events {
                let err = reservation_transition(s, e).err();
                assert_eq!(err.map(|v| v.rule), Some(Rule::Res2), "{s:?} {e:?}");
            }
        }
    }

    #[test]
    fn ttl_bounds() {
        assert!(check_ttl(MIN_TTL_MS).is_ok());
        assert!(check_ttl(MAX_TTL_MS).is_ok());
        assert!(check_ttl(MIN_TTL_MS - 1).is_err());
        assert!(check_ttl(MAX_TTL_MS + 1).is_err());
        assert!(check_ttl(DEFAULT_TTL_MS).is_ok());
    }
}
