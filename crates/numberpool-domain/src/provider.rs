//! What a provider owns besides its numbers (SPEC §1): SIP trunks (several per provider, one per
//! region or more) and carriers — voice carriers and SMS carrier profiles, with one default of
//! each kind that numbers get when a capability is on and no carrier is named (SPEC §2).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::e164::ParseEnumError;
use crate::ids::{AccountId, CarrierId, TrunkId};

/// A SIP trunk of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipTrunk {
    pub id: TrunkId,
    /// The provider that owns the trunk.
    pub provider_id: AccountId,
    /// Unique within the provider.
    pub name: String,
    /// Where the trunk terminates (free text, e.g. `us-east`).
    pub region: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

/// Which capability a carrier serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CarrierKind {
    /// A voice carrier (capability `voice`).
    Voice,
    /// An SMS carrier profile (capability `sms`).
    Sms,
}

impl CarrierKind {
    pub const ALL: [CarrierKind; 2] = [CarrierKind::Voice, CarrierKind::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Sms => "sms",
        }
    }

    /// How errors name a carrier of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Voice => "voice carrier",
            Self::Sms => "SMS carrier profile",
        }
    }
}

impl FromStr for CarrierKind {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseEnumError::new("kind", s, "voice, sms"))
    }
}

/// A voice carrier or SMS carrier profile of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Carrier {
    pub id: CarrierId,
    /// The provider that owns the carrier.
    pub provider_id: AccountId,
    pub kind: CarrierKind,
    /// Unique within the provider and kind.
    pub name: String,
    /// The provider's default of this kind (exactly one per kind, R-PROV-3).
    pub is_default: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

/// Names and regions of trunks and carriers: non-empty, printable, bounded, trimmed.
pub fn check_label(field: &str, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if v.chars().count() > 100 {
        return Err(format!("{field} is longer than 100 characters"));
    }
    crate::text::check_visible(field, v, crate::text::TextKind::Name)?;
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_labels_are_checked() {
        assert_eq!("SMS".parse::<CarrierKind>().ok(), Some(CarrierKind::Sms));
        assert!("fax".parse::<CarrierKind>().is_err());
        assert!(check_label("name", " ").is_err());
        assert!(check_label("name", "a\nb").is_err());
        assert!(check_label("name", &"x".repeat(101)).is_err());
        assert_eq!(check_label("name", " us-east ").as_deref(), Ok("us-east"));
    }
}
