//! Numberpool's domain: the types and rules of the product, with no I/O, so they compile and
//! test in seconds and every other crate parses into them at its edges.
#![forbid(unsafe_code)]

#[macro_use]
mod string_enum;

pub mod account;
pub mod attribute;
pub mod audit;
pub mod block;
pub mod e164;
pub mod exchange;
pub mod forecast;
pub mod geo;
pub mod ids;
pub mod import;
pub mod input;
pub mod job;
pub mod lifecycle;
pub mod moves;
pub mod number;
pub mod porting;
pub mod provider;
pub mod rate;
pub mod reservation;
pub mod rules;
pub mod search;
pub mod text;
pub mod timestamp;
pub mod webhook;

#[cfg(test)]
mod moves_tests;
#[cfg(test)]
mod tests;

pub use account::{Account, AccountKind, AccountStatus, EntitlementUse, Entitlements};
pub use attribute::Attribute;
pub use audit::{Action, UnknownAction};
pub use block::{BlockCounts, BlockRangeError, MAX_BLOCK_SIZE, NumberBlock, block_numbers};
pub use e164::{Country, E164, E164Error, FineType, NumberType, ParseEnumError};
pub use exchange::{
    ExchangeEvent, ExchangeStatus, StatusEvent, exchange_transition, status_transition,
};
pub use ids::*;
pub use job::{JobState, job_retry_delay_ms};
pub use lifecycle::{Dest, Event, NumberState, Relation, TransitionError, transition};
pub use number::*;
pub use provider::{Carrier, CarrierKind, SipTrunk};
pub use rate::Rate;
pub use reservation::{Reservation, ReservationEvent, ReservationStatus, reservation_transition};
pub use rules::{Rule, RuleViolation};
pub use webhook::{
    AttemptResult, DeliveryState, WebhookState, delivery_after, delivery_retry_delay_ms,
};

/// Current time as Unix milliseconds: the one clock format the stores keep, identical on both
/// backends.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
