//! API clients and portal users. Only hashes of secrets and passwords are stored; hashing
//! happens in the application, never here.

use numberpool_domain::{AccountId, ClientRowId, UserId, now_ms};

use crate::rows::parse;
use crate::{Result, Tx, on_conn, unique_as};

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub id: ClientRowId,
    pub client_id: String,
    pub account_id: AccountId,
    pub secret_hash: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub password_hash: String,
    pub role: String,
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
        on_conn!(self, c => {
            sqlx::query("INSERT INTO api_clients (id, client_id, account_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(client_id)
                .bind(account.to_string())
                .bind(secret_hash)
                .bind(scopes.join(" "))
                .bind(now_ms())
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
        })
    }

    pub async fn get_client(&mut self, client_id: &str) -> Result<Option<ApiClient>> {
        let row: Option<(String, String, String, String, String)> = on_conn!(self, c => {
            sqlx::query_as("SELECT id, client_id, account_id, secret_hash, scopes FROM api_clients WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|(id, client_id, account, hash, scopes)| {
            Ok(ApiClient {
                id: parse("client id", &id)?,
                client_id,
                account_id: parse("account id", &account)?,
                secret_hash: hash,
                scopes: scopes.split_whitespace().map(str::to_string).collect(),
            })
        })
        .transpose()
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
    /// Replaces a user's password hash; `false` when no such user.
    pub async fn set_user_password(&mut self, email: &str, password_hash: &str) -> Result<bool> {
        let n = on_conn!(self, c => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
                .bind(password_hash)
                .bind(email)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
