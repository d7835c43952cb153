//! What the auth service needs from a database, as two small traits. `starter-auth`'s
//! feature `mongo` implements them on MongoDB ([`crate::mongo`]); another backend only has
//! to implement these.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use starter_core::ApiError;

/// A user account as the auth service sees it. `Debug` shows no password hash.
#[derive(Clone)]
pub struct User {
    /// Stable id (for Mongo: ObjectId hex). Becomes the token's `sub`.
    pub id: String,
    /// Trimmed and lowercased.
    pub email: String,
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

/// A user to create. `Debug` shows no password hash.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
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

/// The result of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// The token was active; it is now marked rotated and must never work again.
    Rotated(RefreshRecord),
    /// The token had already been rotated or revoked: someone replays it.
    Reused(RefreshRecord),
    /// No such token (never issued, or expired and removed).
    Unknown,
}

/// Refresh tokens, with rotation state.
pub trait RefreshStore: Send + Sync + 'static {
    fn insert(&self, record: RefreshRecord) -> BoxFuture<'_, StoreResult<()>>;
    /// Atomically turns an active token into a rotated one (compare-and-set, so two
    /// concurrent refreshes with one token cannot both win).
    fn rotate<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<Rotation>>;
    /// Revokes every token of a family (logout, or reuse detected).
    fn revoke_family<'a>(&'a self, family_id: &'a str) -> BoxFuture<'a, StoreResult<()>>;
    /// Revokes every token of a user ("log out everywhere").
    fn revoke_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, StoreResult<()>>;
    /// The family of an active token, for logout (`None` if unknown or not active).
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
            assert!(shown.contains("ann@example.com"), "{shown}");
        }
    }
}
