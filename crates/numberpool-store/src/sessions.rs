//! Portal sign-in sessions: stored by the hash of their id only, found only while unexpired,
//! their user exists and its account is active. Generating and hashing ids happens in the
//! application.

use numberpool_domain::{AccountId, UserId};

use crate::rows::{Arg, parse};
use crate::{Reader, Result, Tx};

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
    /// The account's name and kind, read in the same query: the portal's layout shows them on
    /// every page, and a second read of the account would cost a round trip per request.
    pub account_name: String,
    pub account_kind: String,
    /// The `scope_generation` counter as this query read it: whatever was derived from a scope
    /// at this value still holds (see the migration `0011_scope_generation`).
    pub scope_generation: i64,
}

impl Reader {
    /// The session with this id hash, if unexpired at `now` and its user's account is active.
    /// One query, once per portal request.
    pub async fn get_session(&mut self, id_hash: &str, now: i64) -> Result<Option<SessionUser>> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            String,
            String,
            i64,
        );
        let sql = "SELECT u.id, u.account_id, u.email, u.role, s.csrf_token, s.expires_at, a.parent_id, \
            a.name, a.kind, (SELECT g.n FROM scope_generation g WHERE g.id = 1) \
            FROM portal_sessions s JOIN users u ON u.id = s.user_id \
            JOIN accounts a ON a.id = u.account_id AND a.status = 'active' \
            WHERE s.id_hash = $1 AND s.expires_at > $2";
        self.live_by_hash(sql, id_hash, now, |r: Row| {
            let (
                user,
                account,
                email,
                role,
                csrf_token,
                expires_at,
                parent,
                name,
                kind,
                generation,
            ) = r;
            Ok(SessionUser {
                user_id: parse("session user id", &user)?,
                account_id: parse("session account id", &account)?,
                email,
                role,
                csrf_token,
                expires_at,
                has_parent: parent.is_some(),
                account_name: name,
                account_kind: kind,
                scope_generation: generation,
            })
        })
        .await
    }
}

impl Tx {
    pub async fn insert_session(&mut self, s: &NewSession) -> Result<()> {
        let sql = "INSERT INTO portal_sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
            VALUES ($1, $2, $3, $4, $5)";
        let user = s.user_id.to_string();
        let args = [
            Arg::Text(&s.id_hash),
            Arg::Text(&user),
            Arg::Text(&s.csrf_token),
            Arg::Int(s.created_at),
            Arg::Int(s.expires_at),
        ];
        self.execute(sql, &args).await?;
        Ok(())
    }

    /// Ends one session; whether it existed.
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<bool> {
        let sql = "DELETE FROM portal_sessions WHERE id_hash = $1";
        self.execute_on_one(sql, &[Arg::Text(id_hash)]).await
    }

    /// Ends every session of a user but `keep` (the one that changed the password); how many.
    pub async fn delete_other_sessions(&mut self, user: UserId, keep: &str) -> Result<u64> {
        let sql = "DELETE FROM portal_sessions WHERE user_id = $1 AND id_hash <> $2";
        let user = user.to_string();
        self.execute(sql, &[Arg::Text(&user), Arg::Text(keep)])
            .await
    }

    /// Deletes sessions expired at `now`; how many.
    pub async fn purge_expired_sessions(&mut self, now: i64) -> Result<u64> {
        let sql = "DELETE FROM portal_sessions WHERE expires_at <= $1";
        self.execute(sql, &[Arg::Int(now)]).await
    }

    /// Sets the password hash of a user by id; whether the user exists.
    pub async fn set_user_password_by_id(&mut self, user: UserId, hash: &str) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
        let user = user.to_string();
        self.execute_on_one(sql, &[Arg::Text(hash), Arg::Text(&user)])
            .await
    }
}
