//! The names of the accounts in a scope, kept between requests for as long as the database's
//! `scope_generation` counter has not moved (issue 12: the numbers page names every customer
//! and unit of the scope on every request, and the recursive scope query was most of what the
//! page cost beyond the API list it is built on).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use numberpool_domain::{AccountId, AccountKind};
use numberpool_store::AccountName;

/// More accounts than this viewing pages at once and the cache starts over: it holds one scope's
/// names per viewing account, and a bound keeps a long-lived server's memory flat.
const MAX_SCOPES: usize = 4096;

type Key = (AccountId, Vec<AccountKind>);
/// Names and the counter value they were read at.
type Kept = (i64, Arc<Vec<AccountName>>);

/// Names per (scope, kinds), each with the counter value it is valid at.
#[derive(Debug, Default)]
pub(super) struct ScopeNames {
    entries: Mutex<HashMap<Key, Kept>>,
}

impl ScopeNames {
    /// The names kept for `scope` and `kinds` if they were kept at `generation`.
    pub(super) fn get(
        &self,
        scope: AccountId,
        kinds: &[AccountKind],
        generation: i64,
    ) -> Option<Arc<Vec<AccountName>>> {
        // A poisoned lock only means another request panicked mid-insert: skip the cache.
        let entries = self.entries.lock().ok()?;
        match entries.get(&(scope, kinds.to_vec())) {
            Some((g, names)) if *g == generation => Some(Arc::clone(names)),
            _ => None,
        }
    }

    /// Keeps `names`, read after the counter was seen at `generation` (so at least as new as
    /// it). An entry kept at a later value is not replaced by an older one.
    pub(super) fn put(
        &self,
        scope: AccountId,
        kinds: &[AccountKind],
        generation: i64,
        names: Arc<Vec<AccountName>>,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_SCOPES {
            entries.clear();
        }
        let slot = entries
            .entry((scope, kinds.to_vec()))
            .or_insert((generation, Arc::clone(&names)));
        if slot.0 <= generation {
            *slot = (generation, names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &str) -> Arc<Vec<AccountName>> {
        Arc::new(vec![AccountName {
            id: AccountId::new(),
            name: n.to_string(),
            kind: AccountKind::Customer,
        }])
    }

    #[test]
    fn kept_only_at_the_generation_they_were_read() {
        let cache = ScopeNames::default();
        let scope = AccountId::new();
        let kinds = [AccountKind::Customer];
        assert!(cache.get(scope, &kinds, 1).is_none());
        cache.put(scope, &kinds, 1, names("a"));
        assert_eq!(cache.get(scope, &kinds, 1).expect("hit")[0].name, "a");
        assert!(cache.get(scope, &kinds, 2).is_none(), "the counter moved");
        assert!(cache.get(scope, &[AccountKind::Unit], 1).is_none());
        assert!(cache.get(AccountId::new(), &kinds, 1).is_none());
        cache.put(scope, &kinds, 3, names("c"));
        cache.put(scope, &kinds, 2, names("b"));
        assert_eq!(
            cache.get(scope, &kinds, 3).expect("newest kept")[0].name,
            "c"
        );
        assert!(cache.get(scope, &kinds, 2).is_none());
    }

    #[test]
    fn bounded() {
        let cache = ScopeNames::default();
        let first = AccountId::new();
        cache.put(first, &[], 0, names("first"));
        for _ in 0..MAX_SCOPES {
            cache.put(AccountId::new(), &[], 0, names("x"));
        }
        assert!(
            cache.get(first, &[], 0).is_none(),
            "started over at the bound"
        );
        assert!(cache.entries.lock().expect("lock").len() <= MAX_SCOPES);
    }
}
