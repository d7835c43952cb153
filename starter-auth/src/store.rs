//! What the auth service needs from a database, as two small traits. `starter-auth`'s
//! feature `mongo` implements them on MongoDB ([`crate::mongo`]); another backend only has
//! to implement these.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use starter_core::{ApiError, pii::Email};

/// A user account as the auth service sees it. `Debug` shows no password hash, and the
/// email masked.
#[derive(Clone)]
pub struct User {
    /// Stable id (for Mongo: ObjectId hex). Becomes the token's `sub`.
    pub id: String,
    /// Normalised ([`crate::service::normalize_email`]).
    pub email: Email,
    /// argon2id PHC string. Never leaves the server.
    pub password_hash: String,
    pub roles: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &REDACTED)
            .field("roles", &self.roles)
            .finish()
    }
}

/// A user to create. `Debug` shows no password hash, and the email masked.
#[derive(Clone)]
pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub roles: Vec<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password_hash", &REDACTED)
            .field("roles", &self.roles)
            .finish()
    }
}

/// What `Debug` shows instead of a password hash.
pub(crate) struct Redacted;

pub(crate) const REDACTED: Redacted = Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A store failure: the one case the service handles itself, or a ready HTTP error
/// (503 when the database is down, 500 otherwise).
#[derive(Debug)]
pub enum StoreError {
    /// A unique constraint refused the write (an email already registered).
    Duplicate,
    Other(ApiError),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate => {
                ApiError::conflict("a unique value is already taken").with_code("duplicate_key")
            }
            StoreError::Other(api) => api,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// User accounts.
pub trait UserStore: Send + Sync + 'static {
    /// Inserts a user; `StoreError::Duplicate` when the email is taken.
    fn create(&self, user: NewUser) -> BoxFuture<'_, StoreResult<User>>;
    fn by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, StoreResult<Option<User>>>;
    fn by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<Option<User>>>;
    /// Replaces the password hash (re-hash with new parameters at login).
    fn set_password_hash<'a>(&'a self, id: &'a str, hash: String)
    -> BoxFuture<'a, StoreResult<()>>;
    /// Adds a role unless the user has it.
    fn add_role<'a>(&'a self, id: &'a str, role: &'a str) -> BoxFuture<'a, StoreResult<()>>;
}

/// A stored refresh token: only its hash, and where it stands.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// Lowercase hex SHA-256 of the token.
    pub token_hash: String,
    pub user_id: String,
    /// Every token descending from one login shares this id.
    pub family_id: String,
    pub expires_at: SystemTime,
    /// When the family's login happened (copied to every rotation): a family older than
    /// `auth.session_max_age` cannot be refreshed.
    pub family_started_at: SystemTime,
}

/// One login's refresh-token family. Its `revoked` flag is the authority: a token works
/// only while its own state is active *and* its family is not revoked, and nothing ever
/// turns a revoked family back (see [`RefreshStore`] on why revocation is final).
#[derive(Clone)]
pub struct Family {
    pub family_id: String,
    pub user_id: String,
    pub revoked: bool,
    /// A random key of the family (base64url, 32 bytes): a token's successor is
    /// HMAC-SHA256(chain_key, token) ([`crate::tokens::successor_token`]), so a token
    /// presented again within `auth.refresh_reuse_grace` yields the same successor.
    pub chain_key: String,
    /// When the family can no longer be refreshed (its login + `auth.session_max_age`);
    /// the store may drop it after.
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("family_id", &self.family_id)
            .field("user_id", &self.user_id)
            .field("revoked", &self.revoked)
            .field("chain_key", &REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where a stored token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    Active,
    /// Rotated at `at_ms` (ms since the epoch, the app's clock) into the token whose hash
    /// is `successor_hash`. Both are `None` on tokens rotated before they were recorded.
    Rotated {
        at_ms: Option<i64>,
        successor_hash: Option<String>,
    },
    Revoked,
}

/// A stored token and its state.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub record: RefreshRecord,
    pub state: TokenState,
}

/// The result of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// The token was active; it is now marked rotated and must never work again.
    Rotated(RefreshRecord),
    /// The token had already been rotated or revoked: a replay, a retry or a second tab.
    Reused(StoredToken),
    /// No such token (never issued, or expired and removed).
    Unknown,
}

/// Refresh tokens, with rotation state, and their families.
///
/// **Revocation is final.** Revoking first marks the family (or every family of the user)
/// revoked, then marks its tokens revoked. A refresh checks the family before rotating,
/// and again *after* inserting the successor; if a revocation landed in between, it
/// revokes the successor it just inserted and answers 401. Either the revoker's family
/// mark comes before that second check (the refresher sees it and revokes its own new
/// token), or after it, and then the revoker's token update starts after the successor
/// exists and revokes it. So no token of a family revoked at time T is active after the
/// revocation returns, without a multi-document transaction (the stores only need atomic
/// single-document updates). Every refresh also refuses a token of a revoked family, so
/// even a token some other path left active could not be used.
pub trait RefreshStore: Send + Sync + 'static {
    /// Inserts an active token; `StoreError::Duplicate` when that hash is stored already
    /// (two refreshes issuing the same successor within the grace).
    fn insert(&self, record: RefreshRecord) -> BoxFuture<'_, StoreResult<()>>;
    /// The stored token with this hash, whatever its state.
    fn find<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<Option<StoredToken>>>;
    /// The family `new.family_id`, created from `new` when it does not exist (a login, or
    /// a token stored before families were). An existing family is returned as stored:
    /// its key and revocation are never replaced.
    fn family(&self, new: Family) -> BoxFuture<'_, StoreResult<Family>>;
    /// Whether the family is revoked (or gone: past its session end).
    fn family_revoked<'a>(&'a self, family_id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;
    /// Atomically turns an active token into a rotated one whose successor has
    /// `successor_hash`, rotated at `now_ms` (compare-and-set, so of two concurrent
    /// refreshes with one token exactly one wins).
    fn rotate<'a>(
        &'a self,
        token_hash: &'a str,
        successor_hash: &'a str,
        now_ms: i64,
    ) -> BoxFuture<'a, StoreResult<Rotation>>;
    /// Revokes one token (a successor inserted while its family was being revoked).
    fn revoke_token<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<()>>;
    /// Revokes a family for good, then every token of it (logout, or reuse detected). A
    /// family not stored yet is stored revoked.
    fn revoke_family<'a>(&'a self, family_id: &'a str) -> BoxFuture<'a, StoreResult<()>>;
    /// Revokes every family and token of a user ("log out everywhere"): tokens, then
    /// families, then tokens again (the first pass covers tokens stored before families
    /// were, whose family a concurrent refresh may be creating).
    fn revoke_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, StoreResult<()>>;
    /// The family of a token in any state, for logout (`None` if unknown).
    fn family_of<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<Option<String>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";

    #[test]
    fn debug_output_shows_no_password_hash() {
        let user = User {
            id: "64b7".into(),
            email: "ann@example.com".into(),
            password_hash: HASH.into(),
            roles: vec!["user".into()],
        };
        let new = NewUser {
            email: user.email.clone(),
            password_hash: HASH.into(),
            roles: user.roles.clone(),
        };
        for shown in [
            format!("{user:?}"),
            format!("{user:#?}"),
            format!("{new:?}"),
            format!("{:?}", Some(&user)),
        ] {
            assert!(!shown.contains("argon2"), "{shown}");
            assert!(!shown.contains("c2FsdHNhbHRzYWx0"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
            assert!(!shown.contains("ann@"), "{shown}");
            assert!(shown.contains("a***@example.com"), "{shown}");
        }
    }
}
