//! Accounts, Provider Exchange connections, SIP trunks and carriers.

use std::str::FromStr;

use numberpool_domain::{
    Account, AccountId, AccountKind, AccountStatus, CarrierId, Relation, TrunkId, now_ms,
};

use crate::rows::{AccountRow, parse};
use crate::{Result, StoreError, Tx, on_conn, unique_as};

const ACCOUNT_COLUMNS: &str = "id, name, account_number, kind, status, parent_id, allow_external_numbers, created_at, version";

/// What creating an account asks for (already checked against the tree rule by the service).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub kind: AccountKind,
    pub parent_id: Option<AccountId>,
    pub allow_external_numbers: bool,
}

/// State of a Provider Exchange connection (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeStatus {
    Connected,
    DisconnectRequested,
    Deactivated,
}

impl ExchangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::DisconnectRequested => "disconnect_requested",
            Self::Deactivated => "deactivated",
        }
    }
}

impl FromStr for ExchangeStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "connected" => Ok(Self::Connected),
            "disconnect_requested" => Ok(Self::DisconnectRequested),
            "deactivated" => Ok(Self::Deactivated),
            _ => Err(format!("unknown exchange status {s}")),
        }
    }
}

/// A Provider Exchange connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub provider_id: AccountId,
    pub customer_id: AccountId,
    pub status: ExchangeStatus,
}

/// Human account numbers: 8 digits, random so they reveal nothing about volume; unique by
/// constraint, retried on the rare collision.
fn new_account_number() -> String {
    let n = uuid::Uuid::now_v7().as_u128();
    // The low bits of a v7 UUID are random.
    format!("{:08}", (n % 90_000_000) + 10_000_000)
}

impl Tx {
    pub async fn insert_account(&mut self, new: &NewAccount) -> Result<Account> {
        for _ in 0..5 {
            let account = Account {
                id: AccountId::new(),
                name: new.name.clone(),
                account_number: new_account_number(),
                kind: new.kind,
                status: AccountStatus::Active,
                parent_id: new.parent_id,
                allow_external_numbers: new.allow_external_numbers,
                created_at: now_ms(),
                // The column's default.
                version: 1,
            };
            let res = on_conn!(self, c => {
                sqlx::query(
                    "INSERT INTO accounts (id, name, account_number, kind, status, parent_id, \
                     allow_external_numbers, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(account.id.to_string())
                .bind(&account.name)
                .bind(&account.account_number)
                .bind(account.kind.as_str())
                .bind(account.status.as_str())
                .bind(account.parent_id.map(|p| p.to_string()))
                .bind(account.allow_external_numbers)
                .bind(account.created_at)
                .execute(&mut *c)
                .await
                .map(|_| ())
            });
            match res {
                Ok(_) => return Ok(account),
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Duplicate("account number"))
    }

    pub async fn get_account(&mut self, id: AccountId) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(&mut *c).await?
        });
        row.map(AccountRow::into_domain).transpose()
    }

    pub async fn find_account_by_name(&mut self, name: &str) -> Result<Option<Account>> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1 ORDER BY id LIMIT 1");
        let row: Option<AccountRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(name).fetch_optional(&mut *c).await?
        });
        row.map(AccountRow::into_domain).transpose()
    }

    /// Accounts within `scope`'s scope (R-SEC-1), in creation order.
    pub async fn list_accounts_in_scope(&mut self, scope: AccountId) -> Result<Vec<Account>> {
        let sql = format!(
            "{} SELECT {} FROM accounts a WHERE a.id IN (SELECT id FROM scope) ORDER BY a.id",
            crate::numbers::SCOPE_CTE,
            ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<AccountRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(scope.to_string()).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(AccountRow::into_domain).collect()
    }

    /// The account's ancestors, nearest first (parent, grandparent, …).
    pub async fn ancestors(&mut self, id: AccountId) -> Result<Vec<AccountId>> {
        let sql = "WITH RECURSIVE up(id, parent_id, depth) AS ( \
            SELECT id, parent_id, 0 FROM accounts WHERE id = $1 \
            UNION ALL SELECT a.id, a.parent_id, up.depth + 1 FROM accounts a JOIN up ON a.id = up.parent_id ) \
            SELECT id FROM up WHERE depth > 0 ORDER BY depth";
        let rows: Vec<(String,)> = on_conn!(self, c => {
            sqlx::query_as(sql).bind(id.to_string()).fetch_all(&mut *c).await?
        });
        rows.iter().map(|(s,)| parse("account id", s)).collect()
    }

    /// How `target` relates to `actor` for an allocation (R-MOVE-1).
    pub async fn relation(&mut self, actor: &Account, target: &Account) -> Result<Relation> {
        if target.parent_id == Some(actor.id) {
            return Ok(Relation::DirectChild);
        }
        if target.parent_id.is_none()
            && let Some(c) = self.get_connection(actor.id, target.id).await?
            && c.status == ExchangeStatus::Connected
        {
            return Ok(Relation::Connected);
        }
        Ok(Relation::Other)
    }

    /// Compare-and-set on an account's status; `false` when it was not `from`.
    /// Takes the account's row lock until the transaction ends, so writes that decide from the
    /// account's other rows (its carriers' default, R-PROV-3) run one at a time. PostgreSQL reads
    /// at read committed without locks, so two such writes could each miss the other; SQLite's
    /// write transactions (`BEGIN IMMEDIATE`) are one at a time already.
    pub async fn lock_account(&mut self, id: AccountId) -> Result<()> {
        crate::per_backend!(self, c =>
            sqlite: { let _ = c; },
            postgres: {
                sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
                    .bind(id.to_string())
                    .fetch_optional(&mut *c)
                    .await?;
            },
        );
        Ok(())
    }

    /// Writes the editable fields of `next` (name, R-ACC-2 permission) only if the account is
    /// still at `next.version`; bumps the version. Losing the race is `Conflict`.
    pub async fn update_account_cas(&mut self, next: &Account) -> Result<Account> {
        let n = on_conn!(self, c => {
            sqlx::query(
                "UPDATE accounts SET name = $1, allow_external_numbers = $2, version = version + 1 \
                 WHERE id = $3 AND version = $4",
            )
            .bind(&next.name)
            .bind(next.allow_external_numbers)
            .bind(next.id.to_string())
            .bind(next.version)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        let mut stored = next.clone();
        stored.version = next.version + 1;
        Ok(stored)
    }

    /// Moves an account from one status to another; false when it was not in `from`.
    pub async fn set_account_status(
        &mut self,
        id: AccountId,
        from: AccountStatus,
        to: AccountStatus,
    ) -> Result<bool> {
        let n = on_conn!(self, c => {
            sqlx::query("UPDATE accounts SET status = $1, version = version + 1 WHERE id = $2 AND status = $3")
                .bind(to.as_str())
                .bind(id.to_string())
                .bind(from.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn insert_connection(
        &mut self,
        provider: AccountId,
        customer: AccountId,
    ) -> Result<Connection> {
        let now = now_ms();
        on_conn!(self, c => {
            sqlx::query(
                "INSERT INTO exchange_connections (provider_id, customer_id, status, created_at, updated_at) \
                 VALUES ($1, $2, 'connected', $3, $3)",
            )
            .bind(provider.to_string())
            .bind(customer.to_string())
            .bind(now)
            .execute(&mut *c)
            .await
            .map_err(|e| unique_as(e, "connection"))?;
        });
        Ok(Connection {
            provider_id: provider,
            customer_id: customer,
            status: ExchangeStatus::Connected,
        })
    }

    pub async fn get_connection(
        &mut self,
        provider: AccountId,
        customer: AccountId,
    ) -> Result<Option<Connection>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT status FROM exchange_connections WHERE provider_id = $1 AND customer_id = $2")
                .bind(provider.to_string())
                .bind(customer.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(s,)| {
            Ok(Connection {
                provider_id: provider,
                customer_id: customer,
                status: parse("exchange status", &s)?,
            })
        })
        .transpose()
    }

    pub async fn insert_trunk(
        &mut self,
        provider: AccountId,
        name: &str,
        region: &str,
    ) -> Result<TrunkId> {
        let id = TrunkId::new();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO sip_trunks (id, provider_id, name, region, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.to_string())
                .bind(provider.to_string())
                .bind(name)
                .bind(region)
                .bind(now_ms())
                .execute(&mut *c)
                .await
                .map_err(|e| unique_as(e, "SIP trunk"))?;
        });
        Ok(id)
    }

    /// The provider that owns a trunk.
    pub async fn trunk_provider(&mut self, id: TrunkId) -> Result<Option<AccountId>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id FROM sip_trunks WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(s,)| parse("account id", &s)).transpose()
    }

    pub async fn find_trunk_by_name(
        &mut self,
        provider: AccountId,
        name: &str,
    ) -> Result<Option<TrunkId>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id FROM sip_trunks WHERE provider_id = $1 AND name = $2")
                .bind(provider.to_string())
                .bind(name)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(s,)| parse("trunk id", &s)).transpose()
    }

    /// Adds a voice carrier or SMS carrier profile (`kind` is `voice` or `sms`).
    pub async fn insert_carrier(
        &mut self,
        provider: AccountId,
        kind: &str,
        name: &str,
        is_default: bool,
    ) -> Result<CarrierId> {
        let id = CarrierId::new();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO carriers (id, provider_id, kind, name, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(provider.to_string())
                .bind(kind)
                .bind(name)
                .bind(is_default)
                .bind(now_ms())
                .execute(&mut *c)
                .await
                // The one-default index is a lost race (conflict), a taken name a duplicate.
                .map_err(crate::providers::carrier_unique)?;
        });
        Ok(id)
    }

    /// A carrier's provider and kind (`voice` or `sms`).
    pub async fn carrier_owner(&mut self, id: CarrierId) -> Result<Option<(AccountId, String)>> {
        let row: Option<(String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id, kind FROM carriers WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(p, k)| Ok((parse("account id", &p)?, k)))
            .transpose()
    }

    /// The provider's default carrier of a kind, with its name.
    pub async fn default_carrier(
        &mut self,
        provider: AccountId,
        kind: &str,
    ) -> Result<Option<(CarrierId, String)>> {
        let row: Option<(String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id, name FROM carriers WHERE provider_id = $1 AND kind = $2 AND is_default ORDER BY id LIMIT 1")
                .bind(provider.to_string())
                .bind(kind)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(id, name)| Ok((parse("carrier id", &id)?, name)))
            .transpose()
    }
}
