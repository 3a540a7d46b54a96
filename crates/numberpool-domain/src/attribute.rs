//! A provider's attribute keys (SPEC §1): admin-defined keys, each with the values numbers may
//! carry for it (SPEC §2, a number's `attributes`), used to tag numbers for policy.

use serde::Serialize;

use crate::ids::{AccountId, AttributeId};

/// An attribute key of a provider with its allowed values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attribute {
    pub id: AttributeId,
    /// The provider that owns the key.
    pub provider_id: AccountId,
    /// Unique within the provider; 1 to 64 characters of `a-z`, `0-9` and `_`.
    pub key: String,
    /// The values a number may have for this key, in the order given; 1 to 100, no duplicates.
    pub allowed_values: Vec<String>,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

/// An attribute key: 1 to 64 characters of `[a-z0-9_]`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 64 {
        return Err(format!("attribute key {key:?} must be 1 to 64 characters"));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "attribute key {key:?} may contain only a-z, 0-9 and _"
        ));
    }
    Ok(())
}

/// Allowed values: 1 to 100 of them, each 1 to 100 printable characters, no duplicates.
/// Values are kept exactly as given (no trimming), since numbers must match them exactly.
pub fn check_values(values: &[String]) -> Result<(), String> {
    if values.is_empty() || values.len() > 100 {
        return Err("allowed_values must list 1 to 100 values".into());
    }
    let mut seen = std::collections::HashSet::new();
    for v in values {
        let n = v.chars().count();
        if n == 0 || n > 100 {
            return Err(format!("allowed value {v:?} must be 1 to 100 characters"));
        }
        crate::text::check_visible("allowed_values", v, crate::text::TextKind::Name)?;
        if !seen.insert(v.as_str()) {
            return Err(format!("allowed value {v:?} is given twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_checked() {
        assert!(check_key("region_1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("Region").is_err());
        assert!(check_key("a-b").is_err());
        assert!(check_key(&"a".repeat(65)).is_err());
        assert!(check_values(&["a".into(), "b".into()]).is_ok());
        assert!(check_values(&[]).is_err());
        assert!(check_values(&["a".into(), "a".into()]).is_err());
        assert!(check_values(&["".into()]).is_err());
        assert!(check_values(&["a\nb".into()]).is_err());
        assert!(check_values(&vec!["x".into(); 1]).is_ok());
        let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        assert!(check_values(&many).is_err());
    }
}
