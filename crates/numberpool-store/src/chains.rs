//! Each account's chain (itself, its parent, and up to the root), read from the database once
//! per store and kept: the scope checks of a lookup, an account read and a customer filter ask
//! "is the scope on this chain?", which then costs no query.
//!
//! Keeping a chain is exact, not a cache that can go stale: an account never moves (no write
//! touches `accounts.parent_id` after its insert) and is never deleted (offboarding
//! deactivates), so a chain read once holds for good, in every process. Only what is committed
//! is kept: a chain read inside a write transaction is used but not kept, since the
//! transaction that inserted the account may still roll back. Statuses and Provider Exchange
//! connections change, so they are never kept here; the checks that need them query.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use numberpool_domain::AccountId;

use crate::rows::parse;
use crate::{Conn, Reader, Result, on_conn};

/// How many chains a store keeps before it starts over: far more accounts than a deployment
/// has (each chain is a few dozen bytes a level), and a bound if one ever had more.
const KEPT: usize = 200_000;

/// The chains a store has read; shared by its clones and the readers it hands out.
#[derive(Debug, Default)]
pub(crate) struct Chains {
    kept: RwLock<HashMap<AccountId, Arc<[AccountId]>>>,
}

impl Chains {
    fn get(&self, account: AccountId) -> Option<Arc<[AccountId]>> {
        self.kept.read().ok().and_then(|m| m.get(&account).cloned())
    }

    fn keep(&self, account: AccountId, chain: Arc<[AccountId]>) {
        if let Ok(mut m) = self.kept.write() {
            if m.len() >= KEPT {
                m.clear();
            }
            m.insert(account, chain);
        }
    }
}

impl Reader {
    /// `account` and every account above it, nearest first; empty when there is no such
    /// account. Read once per store (see the module's note).
    pub(crate) async fn chain(&mut self, account: AccountId) -> Result<Arc<[AccountId]>> {
        if let Some(c) = self.chains.get(account) {
            return Ok(c);
        }
        let sql = "WITH RECURSIVE up(id, parent_id, depth) AS ( \
            SELECT id, parent_id, 0 FROM accounts WHERE id = $1 \
            UNION ALL SELECT a.id, a.parent_id, up.depth + 1 FROM accounts a \
            JOIN up ON a.id = up.parent_id ) SELECT id FROM up ORDER BY depth";
        let rows: Vec<(String,)> = on_conn!(self, c => {
            sqlx::query_as(sql).bind(account.to_string()).fetch_all(&mut *c).await?
        });
        let chain: Arc<[AccountId]> = rows
            .iter()
            .map(|(s,)| parse("account id", s))
            .collect::<Result<Vec<_>>>()?
            .into();
        let committed = matches!(self.conn, Conn::SqliteRead(_) | Conn::PostgresRead(_));
        if committed && !chain.is_empty() {
            self.chains.keep(account, chain.clone());
        }
        Ok(chain)
    }

    /// Whether a Provider Exchange connection of `provider` that is not deactivated reaches
    /// one of `accounts` (a connected customer, at or above them).
    pub(crate) async fn connected_to_any(
        &mut self,
        provider: AccountId,
        accounts: &[AccountId],
    ) -> Result<bool> {
        if accounts.is_empty() {
            return Ok(false);
        }
        let marks = (2..accounts.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT COUNT(*) FROM exchange_connections x WHERE x.provider_id = $1 \
             AND x.status <> 'deactivated' AND x.customer_id IN ({marks})"
        );
        let ids: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
        let (n,): (i64,) = on_conn!(self, c => {
            let mut q = sqlx::query_as(&sql).bind(provider.to_string());
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_one(&mut *c).await?
        });
        Ok(n > 0)
    }
}
