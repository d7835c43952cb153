//! Database errors and how they become HTTP problems.
//!
//! Repositories return `Result<T, DbError>`; handlers return `Result<T, ApiError>`, and `?`
//! converts: a duplicate key is 409, an unreachable server 503, a bad cursor 422, anything
//! else 500 (logged, never shown).

use axum::http::{HeaderValue, header::RETRY_AFTER};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure};
use starter_core::ApiError;

/// MongoDB's duplicate-key error codes.
const DUPLICATE_KEY_CODES: [i32; 3] = [11000, 11001, 12582];

/// An error from the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Mongo(#[from] MongoError),
    /// A pagination cursor that was not issued by us, was altered, or belongs to another query.
    #[error("invalid cursor: {0}")]
    InvalidCursor(&'static str),
    /// A stored document that does not match its Rust type.
    #[error("stored document could not be read: {0}")]
    Decode(#[from] mongodb::bson::de::Error),
    #[error("document could not be written: {0}")]
    Encode(#[from] mongodb::bson::ser::Error),
}

impl DbError {
    /// A unique index refused the write.
    pub fn is_duplicate_key(&self) -> bool {
        let DbError::Mongo(e) = self else {
            return false;
        };
        match e.kind.as_ref() {
            ErrorKind::Write(WriteFailure::WriteError(w)) => DUPLICATE_KEY_CODES.contains(&w.code),
            ErrorKind::InsertMany(m) => m
                .write_errors
                .iter()
                .flatten()
                .any(|w| DUPLICATE_KEY_CODES.contains(&w.code)),
            ErrorKind::Command(c) => DUPLICATE_KEY_CODES.contains(&c.code),
            _ => false,
        }
    }

    /// The server cannot be reached right now; retrying later may work.
    pub fn is_unavailable(&self) -> bool {
        let DbError::Mongo(e) = self else {
            return false;
        };
        matches!(
            e.kind.as_ref(),
            ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
        )
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        if err.is_duplicate_key() {
            return ApiError::conflict("a record with the same unique value already exists")
                .with_code("duplicate_key");
        }
        if err.is_unavailable() {
            return ApiError::unavailable("the database is unavailable; try again shortly")
                .with_code("database_unavailable")
                .with_header(RETRY_AFTER, HeaderValue::from_static("5"))
                .with_source(err);
        }
        match err {
            DbError::InvalidCursor(why) => ApiError::invalid_field("cursor", "invalid_cursor", why),
            other => ApiError::internal(other),
        }
    }
}
