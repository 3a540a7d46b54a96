//! Typed ids: one newtype per entity so that passing an account id where a number id belongs
//! does not compile. Ids are UUIDv7 (time-ordered, so keyset pagination by id follows creation).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An id string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not a valid {kind} id")]
pub struct BadId {
    pub kind: &'static str,
    pub given: String,
}

macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident, $kind:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            pub const KIND: &'static str = $kind;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| BadId {
                    kind: $kind,
                    given: s.chars().take(40).collect(),
                })
            }
        }
    };
}

typed_id!(/// An account (provider, reseller, customer or unit).
    AccountId, "account");
typed_id!(/// A phone number's opaque id.
    NumberId, "number");
typed_id!(/// A portal user.
    UserId, "user");
typed_id!(/// An audit event.
    AuditId, "audit event");
typed_id!(/// A SIP trunk.
    TrunkId, "SIP trunk");
typed_id!(/// A voice carrier or SMS carrier profile.
    CarrierId, "carrier");
typed_id!(/// An API client (OAuth client credentials).
    ClientRowId, "client");
typed_id!(/// A background job (a row of the jobs table).
    JobId, "job");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = AccountId::new();
        let back: AccountId = id.to_string().parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, back);
        let err = "nope".parse::<NumberId>().err();
        assert_eq!(err.map(|e| e.kind), Some("number"));
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = NumberId::new();
        let b = NumberId::new();
        assert!(a < b);
    }
}
typed_id!(/// An attribute key of a provider.
    AttributeId, "attribute");
typed_id!(/// A rate card entry of a provider.
    RateId, "rate");
typed_id!(/// An uploaded import file with its plan.
    ImportId, "import");
typed_id!(/// An export: a file of numbers made by a job.
    ExportId, "export");
typed_id!(/// A daily or weekly export an account asked for.
    ScheduleId, "export schedule");
typed_id!(/// An in-app notification to an account's users.
    NotificationId, "notification");
typed_id!(/// A number block: a contiguous range added to a pool as one unit.
    BlockId, "number block");
typed_id!(/// A reservation: numbers of a pool held for an account until a time.
    ReservationId, "reservation");
typed_id!(/// A port-in order.
    PortOrderId, "porting order");
typed_id!(/// A file attached to a porting order.
    AttachmentId, "attachment");
typed_id!(/// A webhook subscription: an account's URL for the events it names.
    WebhookId, "webhook");
typed_id!(/// One event sent (or to send) to one webhook subscription.
    DeliveryId, "delivery");
typed_id!(/// A pool-exhaustion threshold: a segment of a pool and when to hear that it runs low.
    ThresholdId, "threshold");
