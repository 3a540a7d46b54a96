//! Accounts and the tree they form (SPEC §1): kinds, statuses and which kind may sit under which.

use serde::{Deserialize, Serialize};

use crate::ids::AccountId;
use crate::rules::{Rule, RuleViolation, ensure};

string_enum!(AccountKind, "kind", "provider, reseller, customer, unit", loose, {
    Provider => "provider", Reseller => "reseller", Customer => "customer", Unit => "unit" });

impl AccountKind {
    /// Providers and resellers hold a pool of free numbers; customers and units do not.
    pub fn holds_pool(self) -> bool {
        match self {
            Self::Provider | Self::Reseller => true,
            Self::Customer | Self::Unit => false,
        }
    }

    /// R-TREE-1: the SPEC §1 table. `parent` is `None` for a root account.
    pub fn check_parent(self, parent: Option<AccountKind>) -> Result<(), RuleViolation> {
        let ok = match (self, parent) {
            (Self::Provider, None) => true,
            (Self::Provider, Some(_)) => false,
            (Self::Reseller, Some(Self::Provider | Self::Reseller)) => true,
            (Self::Reseller, _) => false,
            (Self::Customer, None | Some(Self::Provider | Self::Reseller)) => true,
            (Self::Customer, Some(Self::Customer | Self::Unit)) => false,
            (Self::Unit, Some(Self::Customer | Self::Unit)) => true,
            (Self::Unit, _) => false,
        };
        ensure(ok, Rule::Tree1, || match parent {
            None => format!("a {} account needs a parent", self.as_str()),
            Some(p) => format!(
                "a {} account cannot be a child of a {} account",
                self.as_str(),
                p.as_str()
            ),
        })
    }
}

string_enum!(AccountStatus, "status", "active, deactivated", exact, {
    Active => "active", Deactivated => "deactivated" });

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub account_number: String,
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub parent_id: Option<AccountId>,
    /// R-ACC-2: a customer that may add numbers of its own.
    pub allow_external_numbers: bool,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
    /// R-ACC-3: licence counts for a customer; `null` is no limit.
    pub entitlements: Entitlements,
}

/// R-ACC-3: how many toll-free and contact-center numbers a customer may hold at once. A number
/// consumes a licence while it is with the customer (toll-free by type, contact center by
/// product; a toll-free contact-center number takes one of each) and frees it when it leaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlements {
    /// Toll-free number licences; `null` is no limit.
    pub toll_free: Option<i64>,
    /// Contact-center number licences; `null` is no limit.
    pub contact_center: Option<i64>,
}

/// Licences in use, counted from the numbers with the customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntitlementUse {
    pub toll_free: i64,
    pub contact_center: i64,
}

impl Entitlements {
    /// R-ACC-3: may the customer, using `used`, take `more` licences on top?
    pub fn check_room(
        &self,
        used: EntitlementUse,
        more: EntitlementUse,
    ) -> Result<(), RuleViolation> {
        for (what, limit, used, more) in [
            ("toll-free", self.toll_free, used.toll_free, more.toll_free),
            (
                "contact-center",
                self.contact_center,
                used.contact_center,
                more.contact_center,
            ),
        ] {
            if let Some(limit) = limit
                && more > 0
            {
                // The message names no counts: a connected provider allocating here must not
                // learn how many numbers other providers gave the customer (R-SEC-1).
                ensure(used + more <= limit, Rule::Acc3, || {
                    format!("the customer has no {what} licence left for this number")
                })?;
            }
        }
        Ok(())
    }

    /// R-ACC-3: a new limit may not be below what is in use.
    pub fn check_limits(&self, used: EntitlementUse) -> Result<(), RuleViolation> {
        for (what, limit, used) in [
            ("toll_free", self.toll_free, used.toll_free),
            ("contact_center", self.contact_center, used.contact_center),
        ] {
            if let Some(limit) = limit {
                ensure(limit >= used, Rule::Acc3, || {
                    format!(
                        "entitlements.{what}: {limit} is below the {used} licences in use; \
                         remove numbers first"
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Account names are what admins search by: non-empty, printable, bounded.
pub fn check_account_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("account name is empty".into());
    }
    if n.chars().count() > 200 {
        return Err("account name is longer than 200 characters".into());
    }
    crate::text::check_visible("name", n, crate::text::TextKind::Name)?;
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::AccountKind::*;
    use super::*;

    #[test]
    fn tree_table_matches_spec() {
        let parents = [
            None,
            Some(Provider),
            Some(Reseller),
            Some(Customer),
            Some(Unit),
        ];
        let allowed = |k: AccountKind, p: Option<AccountKind>| -> bool {
            match k {
                Provider => p.is_none(),
                Reseller => matches!(p, Some(Provider | Reseller)),
                Customer => matches!(p, None | Some(Provider | Reseller)),
                Unit => matches!(p, Some(Customer | Unit)),
            }
        };
        for k in AccountKind::ALL {
            for p in parents {
                let got = k.check_parent(p);
                assert_eq!(got.is_ok(), allowed(k, p), "{k:?} under {p:?}");
                if let Err(v) = got {
                    assert_eq!(v.rule, Rule::Tree1);
                }
            }
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_account_name("  ").is_err());
        assert!(check_account_name("a\u{7}").is_err());
        assert_eq!(check_account_name(" Acme ").as_deref(), Ok("Acme"));
    }
}
