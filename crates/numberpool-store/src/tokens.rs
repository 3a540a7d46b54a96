//! OAuth access tokens (SPEC §7): stored by hash only, looked up only while unexpired and while
//! their client still exists. Hashing and generating tokens happen in the application.

use numberpool_domain::AccountId;

use crate::rows::{Arg, parse};
use crate::{Reader, Result, Tx};

/// A token to store. `token_hash` is a hash of the bearer token, never the token itself.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token_hash: String,
    pub client_id: String,
    pub account_id: AccountId,
    /// Space-separated granted scopes.
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What a live token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub client_id: String,
    pub account_id: AccountId,
    /// Space-separated granted scopes.
    pub scopes: String,
    pub expires_at: i64,
    /// Whether the account has a parent: only then can an account above it be deactivated.
    pub has_parent: bool,
}

impl Reader {
    /// Only a token that is unexpired at `now`, whose client row still exists and whose account
    /// is active: the joins make a deleted client's tokens worthless even if a row was left
    /// behind, and a deactivated account's tokens stop at once. One query, once per request.
    pub async fn get_token(&mut self, token_hash: &str, now: i64) -> Result<Option<TokenGrant>> {
        type Row = (String, String, String, i64, Option<String>);
        let sql = "SELECT t.client_id, t.account_id, t.scopes, t.expires_at, a.parent_id \
            FROM oauth_tokens t JOIN api_clients c ON c.client_id = t.client_id \
            JOIN accounts a ON a.id = t.account_id AND a.status = 'active' \
            WHERE t.token_hash = $1 AND t.expires_at > $2";
        self.live_by_hash(sql, token_hash, now, |r: Row| {
            let (client_id, account, scopes, expires_at, parent) = r;
            Ok(TokenGrant {
                client_id,
                account_id: parse("token account id", &account)?,
                scopes,
                expires_at,
                has_parent: parent.is_some(),
            })
        })
        .await
    }
}

impl Tx {
    pub async fn insert_token(&mut self, t: &NewToken) -> Result<()> {
        let sql = "INSERT INTO oauth_tokens (token_hash, client_id, account_id, scopes, created_at, \
            expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let account = t.account_id.to_string();
        let args = [
            Arg::Text(&t.token_hash),
            Arg::Text(&t.client_id),
            Arg::Text(&account),
            Arg::Text(&t.scopes),
            Arg::Int(t.created_at),
            Arg::Int(t.expires_at),
        ];
        self.execute(sql, &args).await?;
        Ok(())
    }

    /// Ends every token of a client; how many there were.
    pub async fn delete_tokens_of_client(&mut self, client_id: &str) -> Result<u64> {
        let sql = "DELETE FROM oauth_tokens WHERE client_id = $1";
        self.execute(sql, &[Arg::Text(client_id)]).await
    }

    /// Deletes the tokens that have expired at `now`; how many.
    pub async fn purge_expired_tokens(&mut self, now: i64) -> Result<u64> {
        let sql = "DELETE FROM oauth_tokens WHERE expires_at <= $1";
        self.execute(sql, &[Arg::Int(now)]).await
    }
}
