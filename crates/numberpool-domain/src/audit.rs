//! What an audit event says happened: every change the service records, as one closed set of
//! actions, each with the kind of entity it is about. The strings are the stored and shown form
//! (the `action` column, the audit API, the outbox), so they never change once released.

use std::fmt;
use std::str::FromStr;

/// Defines [`Action`] once from its (variant, stored string, entity type) triples, so the enum,
/// its strings, its entity types and [`Action::ALL`] cannot drift apart.
macro_rules! actions {
    ($($(#[$m:meta])* $variant:ident = $s:literal on $entity:literal,)+) => {
        /// A recorded change. `as_str` is the stored form; [`Action::entity_type`] the kind of
        /// record the event's `entity_id` names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$m])* $variant,)+
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $s,)+
                }
            }

            /// The `entity_type` of the event: what `entity_id` is the id of.
            pub fn entity_type(self) -> &'static str {
                match self {
                    $(Action::$variant => $entity,)+
                }
            }
        }

        impl FromStr for Action {
            type Err = UnknownAction;
            fn from_str(s: &str) -> Result<Self, UnknownAction> {
                match s {
                    $($s => Ok(Action::$variant),)+
                    _ => Err(UnknownAction(s.chars().take(60).collect())),
                }
            }
        }
    };
}

actions! {
    /// A batch of numbers added (one event per batch, not per number: its id is the batch's).
    NumberAdd = "number.add" on "number_batch",
    NumberUpdate = "number.update" on "number",
    NumberAllocate = "number.allocate" on "number",
    NumberAssign = "number.assign" on "number",
    NumberUnassign = "number.unassign" on "number",
    NumberMoveToUnit = "number.move_to_unit" on "number",
    NumberRelease = "number.release" on "number",
    NumberUnbind = "number.unbind" on "number",
    NumberDelete = "number.delete" on "number",
    /// A number block added (SPEC §5); its numbers' add is the batch event beside it.
    BlockCreate = "number_block.create" on "number_block",
    /// A number block released as a unit: its numbers are deleted, each with its own event.
    BlockRelease = "number_block.release" on "number_block",
    /// A free number held for an account (one event per number; the reservation has its own).
    NumberReserve = "number.reserve" on "number",
    /// A number's reservation ended: released early or run out.
    NumberUnreserve = "number.unreserve" on "number",
    ReservationCreate = "reservation.create" on "reservation",
    ReservationExtend = "reservation.extend" on "reservation",
    ReservationRelease = "reservation.release" on "reservation",
    ReservationExpire = "reservation.expire" on "reservation",
    /// Its last number was provisioned to the account it held them for.
    ReservationFulfil = "reservation.fulfil" on "reservation",
    /// A port-in order placed: its numbers are added as `pending` in the same transaction.
    PortOrderCreate = "porting_order.create" on "porting_order",
    /// Its details changed while submitted (the PIN only as its hint).
    PortOrderUpdate = "porting_order.update" on "porting_order",
    /// Its status moved (R-PORT-1): accepted, scheduled, completed, rejected or cancelled.
    PortOrderStatus = "porting_order.status" on "porting_order",
    AccountCreate = "account.create" on "account",
    AccountUpdate = "account.update" on "account",
    AccountDeactivate = "account.deactivate" on "account",
    AccountReactivate = "account.reactivate" on "account",
    /// A customer connected to a provider (Provider Exchange); the entity is the connection.
    ExchangeConnect = "exchange.connect" on "connection",
    ExchangeDisconnectRequest = "exchange.disconnect_request" on "connection",
    ExchangeDeactivate = "exchange.deactivate" on "connection",
    SipTrunkCreate = "sip_trunk.create" on "sip_trunk",
    SipTrunkUpdate = "sip_trunk.update" on "sip_trunk",
    SipTrunkDelete = "sip_trunk.delete" on "sip_trunk",
    CarrierCreate = "carrier.create" on "carrier",
    CarrierUpdate = "carrier.update" on "carrier",
    CarrierDelete = "carrier.delete" on "carrier",
    AttributeCreate = "attribute.create" on "attribute",
    AttributeUpdate = "attribute.update" on "attribute",
    AttributeDelete = "attribute.delete" on "attribute",
    RateCreate = "rate.create" on "rate",
    RateUpdate = "rate.update" on "rate",
    RateDelete = "rate.delete" on "rate",
    ClientCreate = "client.create" on "api_client",
    ClientRotateSecret = "client.rotate_secret" on "api_client",
    ClientDelete = "client.delete" on "api_client",
    UserCreate = "user.create" on "user",
    UserPasswordReset = "user.password_reset" on "user",
    /// A webhook subscription (issue 15); its secret never appears in an event.
    WebhookCreate = "webhook.create" on "webhook",
    WebhookUpdate = "webhook.update" on "webhook",
    WebhookRotateSecret = "webhook.rotate_secret" on "webhook",
    WebhookDelete = "webhook.delete" on "webhook",
    /// Disabled by the delivery job: its deliveries kept failing past the retry window.
    WebhookDisable = "webhook.disable" on "webhook",
    /// A pool-exhaustion threshold set or removed (issue 15).
    PoolThresholdCreate = "pool_threshold.create" on "pool_threshold",
    PoolThresholdDelete = "pool_threshold.delete" on "pool_threshold",
    /// The daily forecast found a segment running low (at most one a day per threshold).
    PoolAlert = "pool_threshold.alert" on "pool_threshold",
    /// A bulk job (an import's apply, an export) finished, or failed for good.
    JobDone = "job.done" on "job",
    JobFailed = "job.failed" on "job",
}

/// A string that names no [`Action`] (a stored row written by something else, or a typo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an audit action")]
pub struct UnknownAction(pub String);

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_string() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(*a));
        }
        let mut strings: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        strings.sort_unstable();
        strings.dedup();
        assert_eq!(
            strings.len(),
            Action::ALL.len(),
            "two actions share a string"
        );
        assert_eq!(Action::ALL.len(), 55);
    }

    #[test]
    fn an_unknown_string_is_no_action() {
        assert!("number.steal".parse::<Action>().is_err());
        assert!("Number.Add".parse::<Action>().is_err());
        assert!("".parse::<Action>().is_err());
    }

    #[test]
    fn each_action_is_about_the_entity_its_prefix_names() {
        assert_eq!(Action::NumberAdd.entity_type(), "number_batch");
        assert_eq!(Action::ClientDelete.entity_type(), "api_client");
        assert_eq!(Action::ExchangeConnect.entity_type(), "connection");
        for a in Action::ALL {
            let prefix = a.as_str().split('.').next().unwrap_or_default();
            let want = match prefix {
                "number" if *a == Action::NumberAdd => "number_batch",
                "client" => "api_client",
                "exchange" => "connection",
                p => p,
            };
            assert_eq!(a.entity_type(), want, "{a}");
        }
    }
}
