//! API clients and portal users: generating secrets, hashing them with argon2, creating the
//! records. Secrets are returned once, at creation, and never stored in clear.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use numberpool_domain::{AccountId, Action};
use numberpool_store::Tx;
use rand::RngCore;
use serde::Serialize;

use super::{Actor, Permission, Result, Service, ServiceError};

/// The API scopes of SPEC §7.
pub const SCOPES: [&str; 4] = [
    "phone:read:admin",
    "phone:write:admin",
    "phone_number:read:admin",
    "phone_number:write:admin",
];

/// A portal role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Viewer,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "viewer" => Ok(Self::Viewer),
            _ => Err(format!("role '{s}' is not one of owner, admin, viewer")),
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Viewer => "viewer",
        }
    }
}

/// A client as created: the secret is here and nowhere else.
#[derive(Clone, Serialize)]
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: String,
    pub account_id: AccountId,
    pub scopes: Vec<String>,
}

/// The secret is never printed, so an errant `{:?}` cannot put it in a log line.
impl std::fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedUser {
    pub id: String,
    pub email: String,
    pub account_id: AccountId,
    pub role: Role,
}

/// A random token of `bytes` bytes, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex(&buf)
}

/// Lowercase hex, two digits a byte: how secrets and token hashes are written.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records a change to a credential (no rule governs one) in `tx`, then commits.
pub(crate) async fn commit_change(
    mut tx: Tx,
    actor: &Actor,
    action: Action,
    id: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    tx.record(&actor.event(action, id.to_string(), None, before, after))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Argon2id hash (PHC string) of a secret or password, with a fresh salt.
pub fn hash_secret(secret: &str) -> Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| ServiceError::Invalid("the secret could not be hashed".into()))
}

/// Runs argon2 work (about 19 MiB and tens of milliseconds each) off the async workers, at most
/// as many at once as there are cores. Without the bound, a flood of token requests with bad
/// credentials (which cost the same: see `tokens::decoy_hash`) would take memory without limit
/// and starve every other request; with it, a caller that waits too long is told to come back.
pub(crate) async fn argon2_off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let busy = || ServiceError::Busy("too many credential checks at once; retry shortly");
    let _permit = tokio::time::timeout(std::time::Duration::from_secs(5), permits.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(work).await.map_err(|_| busy())
}

/// [`hash_secret`] through [`argon2_off_runtime`].
pub(crate) async fn hash_secret_async(secret: &str) -> Result<String> {
    let secret = secret.to_string();
    argon2_off_runtime(move || hash_secret(&secret)).await?
}

/// Largest argon2 memory a stored hash may ask a check for: 64 MiB in 1 KiB blocks (ours use
/// the default 19 MiB).
const MAX_BLOCKS: usize = 64 * 1024;

/// Argon2 working memory kept between checks: a few buffers of `m_cost` KiB each, as many as
/// checks run at once. Allocating ~19 MiB per check and freeing it left the allocator holding
/// hundreds of MiB after a flood of wrong secrets (issue 11: 20 MiB to ~490 MiB, measured with
/// benches/token_flood.rs); reused, the memory stays at one buffer per concurrent check.
static BLOCK_POOL: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());

/// Constant-time check of a secret against its stored hash (a PHC string), in reused memory.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        argon2::Params::try_from(&h),
        argon2::Algorithm::try_from(h.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match h.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    let mut memory = BLOCK_POOL
        .lock()
        .ok()
        .and_then(|mut p| p.pop())
        .unwrap_or_default();
    memory.resize(blocks, argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    let ok = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            secret.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..blocks],
        )
        .is_ok()
        && argon2::password_hash::phc::Output::new(&out).is_ok_and(|o| o == *expected);
    if let Ok(mut p) = BLOCK_POOL.lock()
        && p.len() < std::thread::available_parallelism().map_or(2, |n| n.get())
    {
        p.push(memory);
    }
    ok
}

/// Passwords: at least 12 characters (length is what matters; no composition rules).
pub(crate) fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 12 {
        return Err(ServiceError::Invalid(
            "password: at least 12 characters".into(),
        ));
    }
    Ok(())
}

fn parse_scopes(scopes: Option<&str>) -> Result<Vec<String>> {
    let Some(s) = scopes else {
        return Ok(SCOPES.iter().map(|s| s.to_string()).collect());
    };
    let mut out = Vec::new();
    for scope in s.split([' ', ',']).filter(|x| !x.is_empty()) {
        if !SCOPES.contains(&scope) {
            return Err(ServiceError::Invalid(format!(
                "scope '{scope}' is not one of {}",
                SCOPES.join(", ")
            )));
        }
        if !out.iter().any(|x| x == scope) {
            out.push(scope.to_string());
        }
    }
    if out.is_empty() {
        return Err(ServiceError::Invalid(
            "scopes: give at least one scope".into(),
        ));
    }
    Ok(out)
}

impl Service {
    /// Creates an API client for the actor's account (or an account in its scope).
    pub async fn create_client(
        &self,
        actor: &Actor,
        account: AccountId,
        scopes: Option<&str>,
    ) -> Result<CreatedClient> {
        actor.require(Permission::PhoneWrite)?;
        let scopes = parse_scopes(scopes)?;
        let client_id = format!("np_{}", random_token(12));
        let client_secret = random_token(32);
        let hash = hash_secret_async(&client_secret).await?;
        let mut tx = self.store.begin().await?;
        self.account_in_own_subtree(&mut tx, actor, account).await?;
        let client = tx
            .insert_client(&client_id, account, &hash, &scopes)
            .await?;
        let after = serde_json::json!({"client_id": client.client_id, "account_id": account, "scopes": scopes});
        commit_change(
            tx,
            actor,
            Action::ClientCreate,
            client.id,
            None,
            Some(after),
        )
        .await?;
        Ok(CreatedClient {
            client_id,
            client_secret,
            account_id: account,
            scopes,
        })
    }

    /// Creates a portal user; the password is hashed before it reaches the store.
    pub async fn create_user(
        &self,
        actor: &Actor,
        account: AccountId,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<CreatedUser> {
        actor.require(Permission::PhoneWrite)?;
        let email = email.trim().to_ascii_lowercase();
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(ServiceError::Invalid(format!(
                "email '{email}' is not a valid address"
            )));
        }
        check_password(password)?;
        let hash = hash_secret_async(password).await?;
        let mut tx = self.store.begin().await?;
        self.account_in_own_subtree(&mut tx, actor, account).await?;
        let user = tx
            .insert_user(account, &email, &hash, role.as_str())
            .await?;
        let after = serde_json::json!({"email": email, "account_id": account, "role": role});
        commit_change(tx, actor, Action::UserCreate, user.id, None, Some(after)).await?;
        Ok(CreatedUser {
            id: user.id.to_string(),
            email,
            account_id: account,
            role,
        })
    }

    /// Sets a new password for an existing user (the demo uses it to print a fresh login on
    /// every run). `NotFound` when there is no such user.
    pub async fn reset_password(&self, actor: &Actor, email: &str, password: &str) -> Result<()> {
        actor.require(Permission::PhoneWrite)?;
        check_password(password)?;
        let email = email.trim().to_ascii_lowercase();
        let hash = hash_secret_async(password).await?;
        let mut tx = self.store.begin().await?;
        // Unknown and out-of-scope users answer alike (R-SEC-1).
        let user = match tx.get_user_by_email(&email).await? {
            Some(u) if tx.in_own_subtree(actor.account, u.account_id).await? => u,
            _ => return Err(ServiceError::NotFound("user")),
        };
        tx.set_user_password(&email, &hash).await?;
        commit_change(tx, actor, Action::UserPasswordReset, user.id, None, None).await?;
        Ok(())
    }

    /// Checks an API client's credentials; unknown client, wrong secret and a deactivated account
    /// (or one above it) look the same.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<(AccountId, Vec<String>)> {
        let mut r = self.store.read().await?;
        let client = r
            .get_client(client_id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if verify_secret(secret, &client.secret_hash)
            && !r.deactivated_in_chain(client.account_id).await?
        {
            Ok((client.account_id, client.scopes))
        } else {
            Err(ServiceError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_secret("correct horse battery").unwrap_or_default();
        let b = hash_secret("correct horse battery").unwrap_or_default();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_secret("correct horse battery", &a));
        assert!(!verify_secret("wrong", &a));
        assert!(!verify_secret("x", "not a hash"));
    }

    #[test]
    fn scopes_are_checked() {
        assert_eq!(parse_scopes(None).map(|s| s.len()).ok(), Some(4));
        assert!(parse_scopes(Some("phone:read:admin nope")).is_err());
        assert!(parse_scopes(Some(" ")).is_err());
        assert_eq!(
            parse_scopes(Some("phone:read:admin,phone:read:admin")).ok(),
            Some(vec!["phone:read:admin".to_string()])
        );
    }
}
