//! Provider Exchange connections (R-ACC-1): a root customer connected to a provider by the
//! provider's account number, the disconnect request, and the provider's deactivation.

use numberpool_domain::{Account, AccountId, ExchangeStatus, now_ms};

use crate::accounts::{ACCOUNT_COLUMNS, Lock};
use crate::rows::{AccountRow, parse};
use crate::{Reader, Result, StoreError, Tx, on_conn, unique_as};

/// A Provider Exchange connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub provider_id: AccountId,
    pub customer_id: AccountId,
    pub status: ExchangeStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A connection with the account on its other side (the provider for a customer's list, the
/// customer for a provider's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionWith {
    pub connection: Connection,
    pub other: Account,
}

type ConnRow = (String, String, String, i64, i64);

fn connection_of(r: &ConnRow) -> Result<Connection> {
    Ok(Connection {
        provider_id: parse("account id", &r.0)?,
        customer_id: parse("account id", &r.1)?,
        status: parse("exchange status", &r.2)?,
        created_at: r.3,
        updated_at: r.4,
    })
}

impl Reader {
    pub async fn get_connection(
        &mut self,
        provider: AccountId,
        customer: AccountId,
    ) -> Result<Option<Connection>> {
        let row: Option<ConnRow> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id, customer_id, status, created_at, updated_at \
                FROM exchange_connections WHERE provider_id = $1 AND customer_id = $2")
                .bind(provider.to_string())
                .bind(customer.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.as_ref().map(connection_of).transpose()
    }

    /// A customer's connections (any status), each with its provider, in creation order.
    pub async fn connections_of_customer(
        &mut self,
        customer: AccountId,
    ) -> Result<Vec<ConnectionWith>> {
        let rows: Vec<ConnRow> = on_conn!(self, c => {
            sqlx::query_as("SELECT provider_id, customer_id, status, created_at, updated_at \
                FROM exchange_connections WHERE customer_id = $1 ORDER BY created_at, provider_id")
                .bind(customer.to_string())
                .fetch_all(&mut *c)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let connection = connection_of(r)?;
            let other = self
                .get_account(connection.provider_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            out.push(ConnectionWith { connection, other });
        }
        Ok(out)
    }

    /// The provider with this account number, if any.
    pub async fn find_provider_by_number(
        &mut self,
        account_number: &str,
    ) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_number = $1 AND kind = 'provider'"
        );
        self.row_by(&sql, account_number, AccountRow::into_domain)
            .await
    }
}

impl Tx {
    /// A new connection (`connected`), or a deactivated one granted again.
    pub async fn upsert_connection(
        &mut self,
        provider: AccountId,
        customer: AccountId,
    ) -> Result<Connection> {
        let now = now_ms();
        let n = on_conn!(self, c => {
            sqlx::query(
                "UPDATE exchange_connections SET status = 'connected', updated_at = $3 \
                 WHERE provider_id = $1 AND customer_id = $2 AND status = 'deactivated'",
            )
            .bind(provider.to_string())
            .bind(customer.to_string())
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return self.insert_connection(provider, customer).await;
        }
        self.get_connection(provider, customer)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A new `connected` connection; a pair that has one already is `Duplicate`.
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
            created_at: now,
            updated_at: now,
        })
    }

    /// The connection, read under a row lock held to the end of the transaction (PostgreSQL).
    pub async fn get_connection_locked(
        &mut self,
        provider: AccountId,
        customer: AccountId,
        lock: Lock,
    ) -> Result<Option<Connection>> {
        crate::per_backend!(self, c =>
            sqlite: { let _ = (c, lock); },
            postgres: {
                let sql = format!(
                    "SELECT status FROM exchange_connections WHERE provider_id = $1 AND customer_id = $2{}",
                    lock.suffix()
                );
                sqlx::query(&sql)
                    .bind(provider.to_string())
                    .bind(customer.to_string())
                    .fetch_optional(&mut *c)
                    .await?;
            },
        );
        self.get_connection(provider, customer).await
    }

    /// Compare-and-set on a connection's status. The row's write lock makes an assignment or
    /// allocation holding a share lock finish first, so the R-ACC-1 count after this sees it.
    pub async fn set_connection_status_cas(
        &mut self,
        provider: AccountId,
        customer: AccountId,
        from: ExchangeStatus,
        to: ExchangeStatus,
    ) -> Result<()> {
        let n = on_conn!(self, c => {
            sqlx::query(
                "UPDATE exchange_connections SET status = $1, updated_at = $2 \
                 WHERE provider_id = $3 AND customer_id = $4 AND status = $5",
            )
            .bind(to.as_str())
            .bind(now_ms())
            .bind(provider.to_string())
            .bind(customer.to_string())
            .bind(from.as_str())
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        crate::one_row(n)
    }
}
