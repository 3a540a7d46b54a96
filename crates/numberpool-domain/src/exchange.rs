//! Provider Exchange connections and account status (SPEC §1, R-ACC-1): the states, and the
//! one transition function each that says which rule a refused change breaks.

use crate::account::AccountStatus;
use crate::rules::{Rule, RuleViolation, ensure};

string_enum!(
    /// State of a Provider Exchange connection: `connected` → `disconnect_requested` →
    /// `deactivated`. A deactivated connection may be granted again (a new `connect`).
    ExchangeStatus, "status", "connected, disconnect_requested, deactivated", exact, {
    Connected => "connected",
    DisconnectRequested => "disconnect_requested",
    Deactivated => "deactivated",
});

/// What happens to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeEvent {
    /// The customer grants the provider access (again, after a deactivation).
    Connect,
    /// The customer asks to leave; `assigned` is how many of the provider's numbers it still
    /// has on its users.
    RequestDisconnect { assigned: u64 },
    /// The provider ends the connection; `remaining` is how many of its numbers are still with
    /// the customer (or below it).
    Deactivate { remaining: u64 },
}

/// R-ACC-1: the next state of a connection, or the refusal.
pub fn exchange_transition(
    from: Option<ExchangeStatus>,
    event: ExchangeEvent,
) -> Result<ExchangeStatus, RuleViolation> {
    use ExchangeStatus::*;
    match (from, event) {
        (None | Some(Deactivated), ExchangeEvent::Connect) => Ok(Connected),
        (Some(Connected | DisconnectRequested), ExchangeEvent::Connect) => Err(RuleViolation::new(
            Rule::Acc1,
            "the customer is already connected to this provider",
        )),
        (Some(Connected), ExchangeEvent::RequestDisconnect { assigned }) => {
            ensure(assigned == 0, Rule::Acc1, || {
                format!(
                    "{assigned} of the provider's numbers are still assigned to your users; \
                     unassign them before requesting disconnection"
                )
            })?;
            Ok(DisconnectRequested)
        }
        (Some(DisconnectRequested), ExchangeEvent::RequestDisconnect { .. }) => Err(
            RuleViolation::new(Rule::Acc1, "disconnection has already been requested"),
        ),
        (Some(DisconnectRequested), ExchangeEvent::Deactivate { remaining }) => {
            ensure(remaining == 0, Rule::Acc1, || {
                format!(
                    "{remaining} of your numbers are still with the customer; delete or take \
                     them back before deactivating"
                )
            })?;
            Ok(Deactivated)
        }
        (Some(Connected), ExchangeEvent::Deactivate { .. }) => Err(RuleViolation::new(
            Rule::Acc1,
            "the customer has not requested disconnection; a provider deactivates only after \
             the customer asks to leave",
        )),
        (None | Some(Deactivated), _) => Err(RuleViolation::new(
            Rule::Acc1,
            "there is no active connection between this customer and provider",
        )),
    }
}

/// What happens to an account's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    /// `held` is how many numbers the account or any account below it still holds.
    Deactivate {
        held: u64,
    },
    Reactivate,
}

/// R-OFF-1: an account is deactivated only when no number is held in its subtree, so no number
/// is ever left with a deactivated account; reactivation restores it as it was.
pub fn status_transition(
    from: AccountStatus,
    event: StatusEvent,
) -> Result<AccountStatus, RuleViolation> {
    match (from, event) {
        (AccountStatus::Active, StatusEvent::Deactivate { held }) => {
            ensure(held == 0, Rule::Off1, || {
                format!(
                    "{held} numbers are still held by the account or below it; release or \
                     move them first (the offboarding check lists them)"
                )
            })?;
            Ok(AccountStatus::Deactivated)
        }
        (AccountStatus::Deactivated, StatusEvent::Reactivate) => Ok(AccountStatus::Active),
        (AccountStatus::Deactivated, StatusEvent::Deactivate { .. }) => Err(RuleViolation::new(
            Rule::Off1,
            "the account is already deactivated",
        )),
        (AccountStatus::Active, StatusEvent::Reactivate) => Err(RuleViolation::new(
            Rule::Off1,
            "the account is already active",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::ExchangeStatus::*;
    use super::*;

    #[test]
    fn exchange_walks_connect_request_deactivate() {
        let t = exchange_transition;
        assert_eq!(t(None, ExchangeEvent::Connect), Ok(Connected));
        assert_eq!(
            t(
                Some(Connected),
                ExchangeEvent::RequestDisconnect { assigned: 0 }
            ),
            Ok(DisconnectRequested)
        );
        assert_eq!(
            t(
                Some(DisconnectRequested),
                ExchangeEvent::Deactivate { remaining: 0 }
            ),
            Ok(Deactivated)
        );
        assert_eq!(t(Some(Deactivated), ExchangeEvent::Connect), Ok(Connected));
    }

    #[test]
    fn exchange_refusals_cite_acc1() {
        let t = exchange_transition;
        let refused = [
            t(
                Some(Connected),
                ExchangeEvent::RequestDisconnect { assigned: 2 },
            ),
            t(
                Some(DisconnectRequested),
                ExchangeEvent::Deactivate { remaining: 1 },
            ),
            t(Some(Connected), ExchangeEvent::Deactivate { remaining: 0 }),
            t(Some(Connected), ExchangeEvent::Connect),
            t(None, ExchangeEvent::RequestDisconnect { assigned: 0 }),
            t(
                Some(Deactivated),
                ExchangeEvent::Deactivate { remaining: 0 },
            ),
            t(
                Some(DisconnectRequested),
                ExchangeEvent::RequestDisconnect { assigned: 0 },
            ),
        ];
        for r in refused {
            assert_eq!(r.map_err(|v| v.rule), Err(Rule::Acc1));
        }
    }

    #[test]
    fn status_needs_an_empty_subtree() {
        use AccountStatus::*;
        assert_eq!(
            status_transition(Active, StatusEvent::Deactivate { held: 0 }),
            Ok(Deactivated)
        );
        assert_eq!(
            status_transition(Active, StatusEvent::Deactivate { held: 3 }).map_err(|v| v.rule),
            Err(Rule::Off1)
        );
        assert_eq!(
            status_transition(Deactivated, StatusEvent::Reactivate),
            Ok(Active)
        );
        assert!(status_transition(Active, StatusEvent::Reactivate).is_err());
    }
}
