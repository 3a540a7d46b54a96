//! Portal sessions: signing in with email and password, finding the signed-in user of a
//! session cookie, signing out, and changing one's own password. The session id is random,
//! new at every sign-in (no fixation), handed to the browser once and stored only as a hash.

use numberpool_domain::Action;
use numberpool_store::NewSession;

use super::credentials::{check_password, commit_change, hash_secret_async, random_token};
use super::tokens::{token_hash, verify_off_runtime};
use super::{Actor, Result, Role, Service, ServiceError};

/// How long a session lasts from sign-in: a working day; a session is never extended.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

/// A session just made: `id` goes into the cookie and is not kept anywhere else. It has no
/// `Debug`, so no `{:?}` can put the id in a log line.
pub struct NewPortalSession {
    pub id: String,
    pub expires_at: i64,
}

/// The signed-in user behind a session cookie.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub actor: Actor,
    pub email: String,
    pub role: Role,
    /// The anti-forgery token every form of this session carries.
    pub csrf_token: String,
    pub expires_at: i64,
    /// The signed-in account's name and kind (as the API spells it) and whether it has no
    /// parent: what every portal page's layout shows, read with the session.
    pub account_name: String,
    pub account_kind: String,
    pub account_root: bool,
    /// The store's `scope_generation` as the session query read it, for
    /// [`Service::account_names`].
    pub scope_generation: i64,
    id_hash: String,
}

impl Service {
    /// Signs a portal user in: checks the password (as [`Service::authenticate_user`], so
    /// unknown email, wrong password and a deactivated account are alike) and stores a new
    /// session.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<NewPortalSession> {
        let actor = self.authenticate_user(email, password).await?;
        let user_id = match &actor.principal {
            super::Principal::User(id) => id.parse().map_err(|_| ServiceError::Unauthorized)?,
            _ => return Err(ServiceError::Unauthorized),
        };
        let id = random_token(32);
        let now = self.now();
        let session = NewSession {
            id_hash: token_hash(&id),
            user_id,
            csrf_token: random_token(32),
            created_at: now,
            expires_at: now + SESSION_TTL_MS,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_session(&session).await?;
        tx.commit().await?;
        Ok(NewPortalSession {
            id,
            expires_at: session.expires_at,
        })
    }

    /// The session a cookie names, while it lasts and its account is active (and none above
    /// it is deactivated). Anything else is `Unauthorized`, all alike.
    pub async fn portal_session(&self, id: &str) -> Result<PortalSession> {
        // Anything longer than an id we issue is not one: no need to hash it.
        if id.is_empty() || id.len() > 128 {
            return Err(ServiceError::Unauthorized);
        }
        let id_hash = token_hash(id);
        let mut r = self.store.read().await?;
        let s = r
            .get_session(&id_hash, self.now())
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if s.has_parent && r.deactivated_in_chain(s.account_id).await? {
            return Err(ServiceError::Unauthorized);
        }
        let role: Role = s.role.parse().map_err(|_| ServiceError::Unauthorized)?;
        Ok(PortalSession {
            actor: Actor::user(s.account_id, s.user_id.to_string(), role),
            email: s.email,
            role,
            csrf_token: s.csrf_token,
            expires_at: s.expires_at,
            account_name: s.account_name,
            account_kind: s.account_kind,
            account_root: !s.has_parent,
            scope_generation: s.scope_generation,
            id_hash,
        })
    }

    /// Ends the session (sign-out). Ending one that is already gone is no error.
    pub async fn sign_out(&self, session: &PortalSession) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.delete_session(&session.id_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the signed-in user's own password, given the current one; every other session
    /// of the user ends (this one stays). A wrong current password is `Unauthorized`.
    pub async fn change_own_password(
        &self,
        session: &PortalSession,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let user = self
            .store
            .read()
            .await?
            .get_user_by_email(&session.email)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if !verify_off_runtime(current, Some(&user.password_hash)).await? {
            return Err(ServiceError::Unauthorized);
        }
        check_password(new)?;
        if new == current {
            return Err(ServiceError::Invalid(
                "new password: must differ from the current one".into(),
            ));
        }
        let hash = hash_secret_async(new).await?;
        let mut tx = self.store.begin().await?;
        tx.set_user_password_by_id(user.id, &hash).await?;
        tx.delete_other_sessions(user.id, &session.id_hash).await?;
        commit_change(
            tx,
            &session.actor,
            Action::UserPasswordReset,
            user.id,
            None,
            None,
        )
        .await
    }

    /// Deletes expired sessions; how many (a periodic job).
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.purge_expired_sessions(self.now()).await?;
        tx.commit().await?;
        Ok(n)
    }
}
