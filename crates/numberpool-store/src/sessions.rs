//! Portal sign-in sessions: stored by the hash of their id only, found only while unexpired,
//! their user exists and its account is active. Generating and hashing ids happens in the
//! application.

use numberpool_domain::{AccountId, UserId};

use crate::rows::parse;
use crate::{Reader, Result, Tx, on_conn};

/// A session to store. `id_hash` is a hash of the cookie's value, never the value itself.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live session and who it signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: i64,
    /// Whether the account has a parent: only then can an account above it be deactivated.
    pub has_parent: bool,
}

impl Reader {
    /// The session with this id hash, if unexpired at `now` and its user's account is active.
    /// One query, once per portal request.
    pub async fn get_session(&mut self, id_hash: &str, now: i64) -> Result<Option<SessionUser>> {
        type Row = (String, String, String, String, String, i64, Option<String>);
        let row: Option<Row> = on_conn!(self, c => {
            sqlx::query_as("SELECT u.id, u.account_id, u.email, u.role, s.csrf_token, s.expires_at, a.parent_id \
                FROM portal_sessions s JOIN users u ON u.id = s.user_id \
                JOIN accounts a ON a.id = u.account_id AND a.status = 'active' \
                WHERE s.id_hash = $1 AND s.expires_at > $2")
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(
            |(user, account, email, role, csrf_token, expires_at, parent)| {
                Ok(SessionUser {
                    user_id: parse("session user id", &user)?,
                    account_id: parse("session account id", &account)?,
                    email,
                    role,
                    csrf_token,
                    expires_at,
                    has_parent: parent.is_some(),
                })
            },
        )
        .transpose()
    }
}

impl Tx {
    pub async fn insert_session(&mut self, s: &NewSession) -> Result<()> {
        on_conn!(self, c => {
            sqlx::query("INSERT INTO portal_sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.id_hash)
                .bind(s.user_id.to_string())
                .bind(&s.csrf_token)
                .bind(s.created_at)
                .bind(s.expires_at)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Ends one session; whether it existed.
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<bool> {
        let n = on_conn!(self, c => {
            sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends every session of a user but `keep` (the one that changed the password); how many.
    pub async fn delete_other_sessions(&mut self, user: UserId, keep: &str) -> Result<u64> {
        Ok(on_conn!(self, c => {
            sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1 AND id_hash <> $2")
                .bind(user.to_string())
                .bind(keep)
                .execute(&mut *c)
                .await?
                .rows_affected()
        }))
    }

    /// Deletes sessions expired at `now`; how many.
    pub async fn purge_expired_sessions(&mut self, now: i64) -> Result<u64> {
        Ok(on_conn!(self, c => {
            sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        }))
    }

    /// Sets the password hash of a user by id; whether the user exists.
    pub async fn set_user_password_by_id(
        &mut self,
        user: UserId,
        password_hash: &str,
    ) -> Result<bool> {
        let n = on_conn!(self, c => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user.to_string())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
