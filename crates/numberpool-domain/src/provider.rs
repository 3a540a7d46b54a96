//! What a provider owns besides its numbers (SPEC §1): SIP trunks (several per provider, one per
//! region or more) and carriers — voice carriers and SMS carrier profiles, with one default of
//! each kind that numbers get when a capability is on and no carrier is named (SPEC §2).

use serde::Serialize;

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
    /// The provider's default trunk (exactly one while it has any, R-PROV-3): a provisioned
    /// number goes out on it when no trunk is named.
    pub is_default: bool,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

string_enum!(
    /// Which capability a carrier serves.
    CarrierKind, "kind", "voice, sms", loose, {
    /// A voice carrier (capability `voice`).
    Voice => "voice",
    /// An SMS carrier profile (capability `sms`).
    Sms => "sms",
});

impl CarrierKind {
    /// How errors name a carrier of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Voice => "voice carrier",
            Self::Sms => "SMS carrier profile",
        }
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
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
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
