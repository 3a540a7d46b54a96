//! Port-in orders (SPEC §5): an order moves `submitted` → `pending` → `scheduled` (with a firm
//! date) → `completed`, or to `rejected` (with a reason) or `cancelled` from any open state
//! (R-PORT-1); the portability check of its numbers (R-PORT-2). This module owns the order's
//! states, the total transition function, and the checks that need no database; the service
//! asks the store whether a number is on the platform or in another open order.

use serde::Serialize;

use crate::e164::E164;
use crate::rules::{Rule, RuleViolation};

/// The most numbers one order carries.
pub const MAX_PORT_NUMBERS: usize = 1_000;

string_enum!(
    /// Where a porting order is (seed 002's porting statuses). `submitted`, `pending` and
    /// `scheduled` are open: its numbers are on the platform as `pending`; the other three are
    /// final.
    PortStatus, "status", "submitted, pending, scheduled, completed, rejected, cancelled", exact, {
    Submitted => "submitted", Pending => "pending", Scheduled => "scheduled",
    Completed => "completed", Rejected => "rejected", Cancelled => "cancelled" });

impl PortStatus {
    /// Whether the order is still under way.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Pending | Self::Scheduled)
    }
}

/// What happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortEvent {
    /// The losing carrier has the request: awaiting its answer.
    Accept,
    /// The carrier gave a firm date (again, when it moves).
    Schedule,
    /// The port happened: the numbers are active in the ordering pool.
    Complete,
    /// The carrier refused it, with a reason.
    Reject,
    /// The ordering account withdrew it.
    Cancel,
}

impl PortEvent {
    pub const ALL: [PortEvent; 5] = [
        Self::Accept,
        Self::Schedule,
        Self::Complete,
        Self::Reject,
        Self::Cancel,
    ];

    /// The status an order is moved to by this event, as the API names it.
    pub fn target(self) -> PortStatus {
        match self {
            Self::Accept => PortStatus::Pending,
            Self::Schedule => PortStatus::Scheduled,
            Self::Complete => PortStatus::Completed,
            Self::Reject => PortStatus::Rejected,
            Self::Cancel => PortStatus::Cancelled,
        }
    }

    /// The event that moves an order to `status` (`submitted` is where orders start: none).
    pub fn to(status: PortStatus) -> Option<PortEvent> {
        Self::ALL.into_iter().find(|e| e.target() == status)
    }
}

/// The order's transition table. Total, without a wildcard arm: a new status or event does not
/// compile until its row is written. A refusal names R-PORT-1 and says what the order allows.
pub fn port_transition(from: PortStatus, event: PortEvent) -> Result<PortStatus, RuleViolation> {
    use PortEvent as E;
    use PortStatus as S;
    let refuse = |why: &str| {
        Err(RuleViolation::new(
            Rule::Port1,
            format!("a {} order cannot be {why}", from.as_str()),
        ))
    };
    match (from, event) {
        (S::Submitted, E::Accept) => Ok(S::Pending),
        (S::Pending | S::Scheduled, E::Accept) => refuse("accepted again"),
        (S::Pending | S::Scheduled, E::Schedule) => Ok(S::Scheduled),
        (S::Submitted, E::Schedule) => refuse("scheduled before the carrier has accepted it"),
        (S::Scheduled, E::Complete) => Ok(S::Completed),
        (S::Submitted | S::Pending, E::Complete) => {
            refuse("completed before it is scheduled with a firm date")
        }
        (S::Submitted | S::Pending | S::Scheduled, E::Reject) => Ok(S::Rejected),
        (S::Submitted | S::Pending | S::Scheduled, E::Cancel) => Ok(S::Cancelled),
        (
            S::Completed | S::Rejected | S::Cancelled,
            E::Accept | E::Schedule | E::Complete | E::Reject | E::Cancel,
        ) => refuse("changed: it is closed"),
    }
}

/// Where the losing carrier bills the numbers (seed 002's `billing_address`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingAddress {
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// A porting order as stored. The PIN is kept sealed (`pin_sealed`, opened only by the
/// service with the installation's key) and is never serialized: snapshots in the audit log
/// carry its hint (`***4`) only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortOrder {
    pub id: crate::ids::PortOrderId,
    /// The provider or reseller whose pool the numbers come into.
    pub pool_id: crate::ids::AccountId,
    pub status: PortStatus,
    /// ISO 3166 alpha-2 of its numbers (one country per order).
    pub country: String,
    /// The numbers, in the order given.
    pub phone_numbers: Vec<String>,
    /// The losing carrier.
    pub carrier_name: String,
    /// The account number with the losing carrier.
    pub account_number: String,
    #[serde(skip)]
    pub pin_sealed: String,
    /// The PIN as it may be shown: its last digit only.
    pub pin_hint: String,
    pub authorized_person: String,
    pub billing_address: BillingAddress,
    /// `YYYY-MM-DD`, as asked.
    pub requested_port_date: String,
    /// `YYYY-MM-DD`, the carrier's firm date once scheduled.
    pub scheduled_date: Option<String>,
    /// Why the carrier refused it, once rejected.
    pub reject_reason: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A calendar date as the API takes it, `YYYY-MM-DD`, checked to be a real day.
pub fn check_date(field: &str, s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = t.len() == 10
        && time::Date::parse(t, time::macros::format_description!("[year]-[month]-[day]")).is_ok();
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "{field}: give a date as YYYY-MM-DD, e.g. 2024-02-01"
        ))
    }
}

/// The largest attachment an order takes: 5 MiB.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

string_enum!(
    /// What a porting order's attachment is: the letter of authorization, or a copy of the
    /// losing carrier's bill.
    AttachmentKind, "kind", { Loa => "loa", Bill => "bill" });

/// An attachment's type, told from its first bytes (never from what the uploader says): PDF,
/// PNG or JPEG, the forms a signed letter or a bill copy comes in. Anything else is refused.
pub fn attachment_type(bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err("file: the file is empty".into());
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(format!(
            "file: {} bytes is more than the {} bytes (5 MiB) an attachment may have",
            bytes.len(),
            MAX_ATTACHMENT_BYTES
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else {
        Err(
            "file: give a PDF, PNG or JPEG file (a signed letter of authorization or a bill copy)"
                .into(),
        )
    }
}

/// Why one number of an order cannot be ported, as the portability check says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotPortable {
    /// Not a valid E.164 number (R-NUM-2).
    InvalidNumber,
    /// Already on the platform (R-NUM-1).
    OnPlatform,
    /// In another open porting order.
    InOpenOrder,
    /// Of another country than the order's first number.
    OtherCountry,
    /// Listed twice in the order.
    Duplicate,
}

impl NotPortable {
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidNumber => "not a valid E.164 number",
            Self::OnPlatform => "already on the platform",
            Self::InOpenOrder => "in another open porting order",
            Self::OtherCountry => {
                "of another country than the order's first number: one country per order"
            }
            Self::Duplicate => "listed twice",
        }
    }
}

/// The checks of R-PORT-2 that need no database, for each of `given` in order: it parses, is
/// listed once, and has the country of the first number that parses. The service adds "on
/// the platform" and "in another open order" for those that pass.
pub fn portable_shape(given: &[String]) -> Vec<Result<E164, NotPortable>> {
    let mut country = None;
    let mut seen = std::collections::HashSet::new();
    given
        .iter()
        .map(|raw| {
            let e = E164::parse(raw).map_err(|_| NotPortable::InvalidNumber)?;
            if !seen.insert(e.as_str().to_string()) {
                return Err(NotPortable::Duplicate);
            }
            let c = *country.get_or_insert(e.country());
            if e.country() != c {
                return Err(NotPortable::OtherCountry);
            }
            Ok(e)
        })
        .collect()
}

/// A PIN as it may be shown back: three stars and its last digit (`***4`), whatever its
/// length, so the hint says nothing of how long the PIN is.
pub fn masked_pin(pin: &str) -> String {
    pin.chars()
        .last()
        .map(|last| format!("***{last}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use PortEvent as E;
    use PortStatus as S;

    #[test]
    fn every_status_event_pair() {
        #[rustfmt::skip]
        let table: &[(PortStatus, PortEvent, Option<PortStatus>)] = &[
            (S::Submitted, E::Accept, Some(S::Pending)),
            (S::Submitted, E::Schedule, None),
            (S::Submitted, E::Complete, None),
            (S::Submitted, E::Reject, Some(S::Rejected)),
            (S::Submitted, E::Cancel, Some(S::Cancelled)),
            (S::Pending, E::Accept, None),
            (S::Pending, E::Schedule, Some(S::Scheduled)),
            (S::Pending, E::Complete, None),
            (S::Pending, E::Reject, Some(S::Rejected)),
            (S::Pending, E::Cancel, Some(S::Cancelled)),
            (S::Scheduled, E::Accept, None),
            (S::Scheduled, E::Schedule, Some(S::Scheduled)),
            (S::Scheduled, E::Complete, Some(S::Completed)),
            (S::Scheduled, E::Reject, Some(S::Rejected)),
            (S::Scheduled, E::Cancel, Some(S::Cancelled)),
        ];
        for s in PortStatus::ALL {
            for e in PortEvent::ALL {
                let want = if s.is_open() {
                    table
                        .iter()
                        .find(|(ts, te, _)| *ts == s && *te == e)
                        .map(|r| r.2)
                        .unwrap_or_else(|| panic!("no row for {s:?} {e:?}"))
                } else {
                    None
                };
                let got = port_transition(s, e);
                match want {
                    Some(to) => assert_eq!(got, Ok(to), "{s:?} {e:?}"),
                    None => assert_eq!(got.map_err(|v| v.rule), Err(Rule::Port1), "{s:?} {e:?}"),
                }
            }
        }
    }

    #[test]
    fn each_event_names_its_status() {
        for e in PortEvent::ALL {
            assert_eq!(PortEvent::to(e.target()), Some(e));
        }
        assert_eq!(PortEvent::to(S::Submitted), None);
    }

    #[test]
    fn shape_checks_parse_duplicates_and_one_country() {
        let given: Vec<String> = [
            "+14155559999",
            "nope",
            "+14155559999",
            "+442071838750",
            "+14155559998",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got: Vec<_> = portable_shape(&given)
            .into_iter()
            .map(|r| r.map(|e| e.as_str().to_string()))
            .collect();
        assert_eq!(
            got,
            [
                Ok("+14155559999".to_string()),
                Err(NotPortable::InvalidNumber),
                Err(NotPortable::Duplicate),
                Err(NotPortable::OtherCountry),
                Ok("+14155559998".to_string()),
            ]
        );
    }

    #[test]
    fn attachments_are_told_by_their_bytes() {
        assert_eq!(
            attachment_type(b"%PDF-1.7 ...").ok(),
            Some("application/pdf")
        );
        assert_eq!(
            attachment_type(b"\x89PNG\r\n\x1a\n...").ok(),
            Some("image/png")
        );
        assert_eq!(
            attachment_type(&[0xFF, 0xD8, 0xFF, 0xE0]).ok(),
            Some("image/jpeg")
        );
        assert!(attachment_type(b"MZ\x90\x00").is_err());
        assert!(attachment_type(b"").is_err());
        let big = vec![b'%'; MAX_ATTACHMENT_BYTES + 1];
        assert!(attachment_type(&big).is_err_and(|e| e.contains("5 MiB")));
    }

    #[test]
    fn dates_are_real_days() {
        assert_eq!(
            check_date("d", "2024-02-01").ok().as_deref(),
            Some("2024-02-01")
        );
        assert!(check_date("d", "2024-02-30").is_err());
        assert!(check_date("d", "02/01/2024").is_err());
    }

    #[test]
    fn a_pin_shows_its_last_digit_only() {
        assert_eq!(masked_pin("1234"), "***4");
        assert_eq!(masked_pin("987654321"), "***1", "the length does not show");
        assert_eq!(masked_pin("7"), "***7");
        assert_eq!(masked_pin(""), "");
    }
}
