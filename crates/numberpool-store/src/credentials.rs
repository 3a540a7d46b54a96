//! API clients and portal users. Only hashes of secrets and passwords are stored; hashing
//! happens in the application, never here.

use numberpool_domain::{AccountId, ClientRowId, UserId, now_ms};

use crate::rows::Arg::Text;
use crate::rows::parse;
use crate::{Reader, Result, Tx, on_conn, unique_as};

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub id: ClientRowId,
    pub client_id: String,
    pub account_id: AccountId,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub password_hash: String,
    pub role: String,
}

const CLIENT_COLUMNS: &str = "id, client_id, account_id, secret_hash, scopes, created_at";
type ClientRow = (String, String, String, String, String, i64);

fn client_from_row(r: ClientRow) -> Result<ApiClient> {
    let (id, client_id, account, secret_hash, scopes, created_at) = r;
    Ok(ApiClient {
        id: parse("client id", &id)?,
        client_id,
        account_id: parse("account id", &account)?,
        secret_hash,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        created_at,
    })
}

impl Reader {
    pub async fn get_client(&mut self, client_id: &str) -> Result<Option<ApiClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM api_clients WHERE client_id = $1");
        let row: Option<ClientRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(client_id)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(client_from_row).transpose()
    }

    /// The API clients of one account (not of its subtree), oldest first.
    pub async fn list_clients(&mut self, account: AccountId) -> Result<Vec<ApiClient>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients WHERE account_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<ClientRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(account.to_string())
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter().map(client_from_row).collect()
    }

    pub async fn get_user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let row: Option<(String, String, String, String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id, account_id, email, password_hash, role FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(id, account, email, hash, role)| {
            Ok(User {
                id: parse("user id", &id)?,
                account_id: parse("account id", &account)?,
                email,
                password_hash: hash,
                role,
            })
        })
        .transpose()
    }
}

impl Tx {
    pub async fn insert_client(
        &mut self,
        client_id: &str,
        account: AccountId,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ApiClient> {
        let id = ClientRowId::new();
        let created_at = now_ms();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO api_clients (id, client_id, account_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(client_id)
                .bind(account.to_string())
                .bind(secret_hash)
                .bind(scopes.join(" "))
                .bind(created_at)
                .execute(&mut *c)
                .await
                .map_err(|e| unique_as(e, "client"))?;
        });
        Ok(ApiClient {
            id,
            client_id: client_id.to_string(),
            account_id: account,
            secret_hash: secret_hash.to_string(),
            scopes: scopes.to_vec(),
            created_at,
        })
    }

    /// Deletes a client; `false` when there is none. Its tokens are the caller's to end (in the
    /// same transaction, after this, so that a grant racing with it is serialised on the row).
    pub async fn delete_client(&mut self, client_id: &str) -> Result<bool> {
        let sql = "DELETE FROM api_clients WHERE client_id = $1";
        self.execute_on_one(sql, &[Text(client_id)]).await
    }

    /// Replaces a client's secret hash; `false` when there is no such client.
    pub async fn set_client_secret(&mut self, client_id: &str, secret_hash: &str) -> Result<bool> {
        let sql = "UPDATE api_clients SET secret_hash = $1 WHERE client_id = $2";
        self.execute_on_one(sql, &[Text(secret_hash), Text(client_id)])
            .await
    }

    /// Whether the client still exists with this secret hash, locking its row until the
    /// transaction ends (a no-op `UPDATE`; SQLite's `BEGIN IMMEDIATE` serialises writers
    /// anyway). A token grant calls this before storing its token: a rotation or deletion
    /// that committed first makes it `false`, and one that comes later waits for the grant
    /// and then ends its token too, so no token survives the secret it was issued for.
    pub async fn hold_client_secret(&mut self, client_id: &str, secret_hash: &str) -> Result<bool> {
        let sql = "UPDATE api_clients SET secret_hash = secret_hash \
            WHERE client_id = $1 AND secret_hash = $2";
        self.execute_on_one(sql, &[Text(client_id), Text(secret_hash)])
            .await
    }

    pub async fn insert_user(
        &mut self,
        account: AccountId,
        email: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<User> {
        let id = UserId::new();
        on_conn!(self, c => {
            sqlx::query("INSERT INTO users (id, account_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(account.to_string())
                .bind(email)
                .bind(password_hash)
                .bind(role)
                .bind(now_ms())
                .execute(&mut *c)
                .await
                .map_err(|e| unique_as(e, "user email"))?;
        });
        Ok(User {
            id,
            account_id: account,
            email: email.to_string(),
            password_hash: password_hash.to_string(),
            role: role.to_string(),
        })
    }
}

impl Tx {
    /// Replaces a user's password hash; `false` when no such user.
    pub async fn set_user_password(&mut self, email: &str, password_hash: &str) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $1 WHERE email = $2";
        self.execute_on_one(sql, &[Text(password_hash), Text(email)])
            .await
    }
}
