//! What the auth service needs from a database, as two small traits. `starter-auth`'s
//! feature `mongo` implements them on MongoDB ([`crate::mongo`]); another backend only has
//! to implement these.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use starter_core::ApiError;

/// A user account as the auth service sees it.
#[derive(Debug, Clone)]
pub struct User {
    /// Stable id (for Mongo: ObjectId hex). Becomes the token's `sub`.
    pub id: String,
    /// Trimmed and lowercased.
    pub email: String,
    /// argon2id PHC string. Never leaves the server.
    pub password_hash: String,
    pub roles: Vec<String>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<String>,
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
