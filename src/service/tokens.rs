//! OAuth access tokens (SPEC §7, client credentials grant) and the management of API clients
//! after creation: listing, rotating the secret, deleting. A token is 256 random bits shown once;
//! only its SHA-256 is stored, which is enough for high-entropy input (no salt, no argon2: a
//! token cannot be guessed from a dictionary, and the lookup must be one indexed equality).

use std::sync::OnceLock;

use numberpool_domain::{AccountId, AccountStatus, Action};
use numberpool_store::{ApiClient, NewToken};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::credentials::{
    SCOPES, argon2_off_runtime, commit_change, hash_secret, hash_secret_async, hex, random_token,
    verify_secret,
};
use super::{Actor, CreatedClient, Permission, Result, Role, Service, ServiceError};

/// The answer to a token request (RFC 6749 §5.1).
#[derive(Clone, Serialize)]
pub struct IssuedToken {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// The token is never printed, so an errant `{:?}` cannot put it in a log line.
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// An API client as listed: never its secret or the secret's hash.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub account_id: AccountId,
    pub scopes: Vec<String>,
    /// Unix ms; written as RFC 3339.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    pub created_at: i64,
}

impl From<ApiClient> for ClientView {
    fn from(c: ApiClient) -> Self {
        Self {
            client_id: c.client_id,
            account_id: c.account_id,
            scopes: c.scopes,
            created_at: c.created_at,
        }
    }
}

/// The stored form of a bearer token: SHA-256, hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// At most 64 characters of caller input, for an error message.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// The scopes a token gets: all the client's when none are asked for (or the request is
/// blank, as OAuth treats an empty `scope`), else the asked-for ones, space- or
/// comma-separated, each known and the client's. In the client's order, so that equal
/// requests give equal answers.
fn granted_scopes(client: &[String], requested: Option<&str>) -> Result<Vec<String>> {
    let Some(req) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(client.to_vec());
    };
    let mut wanted: Vec<&str> = Vec::new();
    for scope in req
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        if !SCOPES.contains(&scope) {
            return Err(ServiceError::InvalidScope(format!(
                "unknown scope '{}'; scopes are {}",
                shown(scope),
                SCOPES.join(" ")
            )));
        }
        if !client.iter().any(|c| c == scope) {
            return Err(ServiceError::InvalidScope(format!(
                "scope '{scope}' is not granted to this client"
            )));
        }
        wanted.push(scope);
    }
    Ok(client
        .iter()
        .filter(|c| wanted.contains(&c.as_str()))
        .cloned()
        .collect())
}

/// Checks a secret against a hash (the decoy when `None`) off the async runtime: argon2 is
/// deliberately slow, and the token endpoint must not stall every other request on the worker
/// while it runs. A failed task (it cannot panic on any input) counts as a wrong secret: fail
/// closed.
pub(crate) async fn verify_off_runtime(secret: &str, hash: Option<&str>) -> Result<bool> {
    let (secret, hash) = (secret.to_string(), hash.map(str::to_string));
    argon2_off_runtime(move || {
        verify_secret(&secret, hash.as_deref().unwrap_or_else(|| decoy_hash()))
    })
    .await
}

/// A hash that no secret matches, checked when the client id is unknown so that an unknown
/// client and a wrong secret take the same time (the client ids are not enumerable). Made once,
/// on first use, on a blocking thread (see `verify_off_runtime`).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_secret(&random_token(32)).unwrap_or_default())
}

impl Service {
    /// Client credentials grant. A bad client id or secret is `Unauthorized` (the same for
    /// both), as is a client whose account is deactivated. `requested` is `None` for all the
    /// client's scopes, or a space- or comma-separated subset; a scope the client lacks or an
    /// unknown one is `InvalidScope` naming it. Expired tokens are left to the periodic purge job
    /// (`crate::jobs::purge_tokens`). `account` is the account an `account_credentials` grant
    /// names (Zoom's server-to-server OAuth); anything but the client's own account is
    /// `Unauthorized` too, as a wrong secret is, so that the answer says nothing of whose
    /// client it is.
    pub async fn issue_token(
        &self,
        client_id: &str,
        client_secret: &str,
        requested: Option<&str>,
        account: Option<&str>,
        ttl_secs: i64,
    ) -> Result<IssuedToken> {
        if ttl_secs <= 0 {
            return Err(ServiceError::Invalid(
                "the token lifetime must be at least one second".into(),
            ));
        }
        let client = self.store.read().await?.get_client(client_id).await?;
        let Some(client) = client else {
            verify_off_runtime(client_secret, None).await?;
            return Err(ServiceError::Unauthorized);
        };
        if !verify_off_runtime(client_secret, Some(&client.secret_hash)).await? {
            return Err(ServiceError::Unauthorized);
        }
        if let Some(account) = account
            && account.trim().parse::<AccountId>().ok() != Some(client.account_id)
        {
            return Err(ServiceError::Unauthorized);
        }
        let scopes = granted_scopes(&client.scopes, requested)?;
        let access_token = random_token(32);
        let now = self.now();
        let mut tx = self.store.begin().await?;
        // The secret just checked must still be the client's when the token is stored: a
        // rotation or deletion committed meanwhile refuses the grant, and one that comes later
        // waits on the row and then ends this token with the others.
        if !tx
            .hold_client_secret(&client.client_id, &client.secret_hash)
            .await?
        {
            return Err(ServiceError::Unauthorized);
        }
        let active = tx
            .get_account(client.account_id)
            .await?
            .is_some_and(|a| a.status == AccountStatus::Active);
        if !active || tx.deactivated_in_chain(client.account_id).await? {
            return Err(ServiceError::Unauthorized);
        }
        tx.insert_token(&NewToken {
            token_hash: token_hash(&access_token),
            client_id: client.client_id.clone(),
            account_id: client.account_id,
            scopes: scopes.join(" "),
            created_at: now,
            expires_at: now.saturating_add(ttl_secs.saturating_mul(1000)),
        })
        .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            access_token,
            token_type: "bearer",
            expires_in: ttl_secs,
            scope: scopes.join(" "),
        })
    }

    /// Checks a portal user's email and password. Unknown email, wrong password, and a user of a
    /// deactivated account (or one below a deactivated account) are all `Unauthorized`, alike
    /// and in the same time. The portal's sign-in builds its session on this.
    pub async fn authenticate_user(&self, email: &str, password: &str) -> Result<Actor> {
        let email = email.trim().to_ascii_lowercase();
        let user = self.store.read().await?.get_user_by_email(&email).await?;
        let Some(user) = user else {
            verify_off_runtime(password, None).await?;
            return Err(ServiceError::Unauthorized);
        };
        if !verify_off_runtime(password, Some(&user.password_hash)).await? {
            return Err(ServiceError::Unauthorized);
        }
        if self
            .store
            .read()
            .await?
            .deactivated_in_chain(user.account_id)
            .await?
        {
            return Err(ServiceError::Unauthorized);
        }
        let role = user.role.parse::<Role>().map_err(|e| {
            ServiceError::Internal(numberpool_store::StoreError::Corrupt(format!(
                "user role: {e}"
            )))
        })?;
        Ok(Actor::user(user.account_id, user.id.to_string(), role))
    }

    /// Resolves a bearer token to its caller (principal `Client(client_id)`, channel `Api`)
    /// and its scopes. Unknown, expired, or of a deleted client or a deactivated account (or
    /// one below a deactivated account): `Unauthorized`, all alike.
    pub async fn authenticate_token(&self, token: &str) -> Result<(Actor, Vec<String>)> {
        let (actor, scopes, _) = self.authenticate_token_keeping(token).await?;
        Ok((actor, scopes))
    }

    /// [`Service::authenticate_token`], giving back the connection it read with, for the
    /// request's own reads to go on with ([`Service::hold_reader_for`]).
    pub async fn authenticate_token_keeping(
        &self,
        token: &str,
    ) -> Result<(Actor, Vec<String>, numberpool_store::Reader)> {
        // Anything longer than a token we issue is not one: no need to hash megabytes.
        if token.is_empty() || token.len() > 256 {
            return Err(ServiceError::Unauthorized);
        }
        let mut r = self.store.read().await?;
        let grant = r
            .get_token(&token_hash(token), self.now())
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        // The account itself is checked by the token's query; a deactivated account above it
        // shuts it out too (its data is kept, and reactivating the one above lets it back in).
        if grant.has_parent && r.deactivated_in_chain(grant.account_id).await? {
            return Err(ServiceError::Unauthorized);
        }
        let scopes: Vec<String> = grant
            .scopes
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let actor = Actor::client(grant.account_id, grant.client_id, &scopes);
        Ok((actor, scopes, r))
    }

    /// Runs `work` with `reader`'s connection kept for the first read the service makes inside
    /// it (on this task): see `Store::hold_for`.
    pub async fn hold_reader_for<F: std::future::Future>(
        &self,
        reader: numberpool_store::Reader,
        work: F,
    ) -> F::Output {
        self.store.hold_for(reader, work).await
    }

    /// The client if it is in the actor's own subtree (where credentials are managed; a
    /// Provider Exchange connection does not reach them), else `NotFound` as for no client.
    async fn own_client(
        &self,
        tx: &mut numberpool_store::Reader,
        actor: &Actor,
        client_id: &str,
    ) -> Result<ApiClient> {
        match tx.get_client(client_id).await? {
            Some(c) if tx.in_own_subtree(actor.account, c.account_id).await? => Ok(c),
            _ => Err(ServiceError::NotFound("api client")),
        }
    }

    /// The scopes of a client in the actor's own subtree (else `NotFound`): the API lets a
    /// token manage only clients that hold no scope the token lacks.
    pub async fn own_client_scopes(&self, actor: &Actor, client_id: &str) -> Result<Vec<String>> {
        actor.require(Permission::PhoneWrite)?;
        let mut r = self.store.read().await?;
        Ok(self.own_client(&mut r, actor, client_id).await?.scopes)
    }

    /// A new secret for a client in the actor's own subtree; the old secret and every token
    /// of the client stop working at once. The new secret is returned here only.
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> Result<CreatedClient> {
        actor.require(Permission::PhoneWrite)?;
        let client_secret = random_token(32);
        let hash = hash_secret_async(&client_secret).await?;
        let mut tx = self.store.begin().await?;
        let client = self.own_client(&mut tx, actor, client_id).await?;
        // Secret first: its row lock orders this against a concurrent grant (see issue_token).
        if !tx.set_client_secret(&client.client_id, &hash).await? {
            return Err(ServiceError::NotFound("api client"));
        }
        let ended = tx.delete_tokens_of_client(&client.client_id).await?;
        let after = serde_json::json!({"client_id": client.client_id, "tokens_ended": ended});
        commit_change(
            tx,
            actor,
            Action::ClientRotateSecret,
            client.id,
            None,
            Some(after),
        )
        .await?;
        Ok(CreatedClient {
            client_id: client.client_id,
            client_secret,
            account_id: client.account_id,
            scopes: client.scopes,
        })
    }

    /// Deletes a client in the actor's own subtree; its tokens end with it.
    pub async fn delete_client(&self, actor: &Actor, client_id: &str) -> Result<()> {
        actor.require(Permission::PhoneWrite)?;
        let mut tx = self.store.begin().await?;
        let client = self.own_client(&mut tx, actor, client_id).await?;
        // The client row first, then its tokens: see rotate_client_secret.
        if !tx.delete_client(&client.client_id).await? {
            return Err(ServiceError::NotFound("api client"));
        }
        let ended = tx.delete_tokens_of_client(&client.client_id).await?;
        let before = serde_json::json!({
            "client_id": client.client_id,
            "account_id": client.account_id,
            "scopes": client.scopes,
        });
        commit_change(
            tx,
            actor,
            Action::ClientDelete,
            client.id,
            Some(before),
            Some(serde_json::json!({"tokens_ended": ended})),
        )
        .await?;
        Ok(())
    }

    /// The API clients of the actor's own account (not of the accounts below it), oldest first.
    pub async fn list_clients(&self, actor: &Actor) -> Result<Vec<ClientView>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_clients(actor.account)
            .await?
            .into_iter()
            .map(ClientView::from)
            .collect())
    }

    /// A client by id, whoever's it is: for the operator at the command line only (it finds
    /// the account to act as), never for a caller that is scoped.
    pub async fn get_client_unscoped(&self, client_id: &str) -> Result<ClientView> {
        let mut r = self.store.read().await?;
        r.get_client(client_id)
            .await?
            .map(ClientView::from)
            .ok_or(ServiceError::NotFound("api client"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        SCOPES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_granted_are_a_subset_of_the_clients() {
        let client = vec![SCOPES[0].to_string(), SCOPES[2].to_string()];
        assert_eq!(granted_scopes(&client, None).ok(), Some(client.clone()));
        assert_eq!(
            granted_scopes(&client, Some("  ")).ok(),
            Some(client.clone())
        );
        // Either separator, any order, repeats: the client's order, once each.
        let asked = format!("{}, {} {}", SCOPES[2], SCOPES[0], SCOPES[2]);
        assert_eq!(
            granted_scopes(&client, Some(&asked)).ok(),
            Some(client.clone())
        );
        assert_eq!(
            granted_scopes(&all(), Some(SCOPES[3])).ok(),
            Some(vec![SCOPES[3].to_string()])
        );
        let e = granted_scopes(&client, Some(SCOPES[1])).err();
        assert!(
            matches!(&e, Some(ServiceError::InvalidScope(m)) if m.contains(SCOPES[1])),
            "{e:?}"
        );
        let long = "x".repeat(1_000);
        let e = granted_scopes(&client, Some(&long)).err();
        assert!(
            matches!(&e, Some(ServiceError::InvalidScope(m)) if m.contains("unknown scope") && m.len() < 300),
            "{e:?}"
        );
        assert_eq!(e.map(|e| e.code()), Some("invalid_scope"));
    }

    #[test]
    fn token_hash_is_hex_sha256() {
        let h = token_hash("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(token_hash("abd"), h);
    }
}
