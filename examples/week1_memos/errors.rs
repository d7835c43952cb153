//! The domain errors of the memo service and how they become HTTP problems.
//!
//! FastAPI raises `HTTPException(404, …)` or registers an `exception_handler` for a custom
//! exception. Here the store returns a plain `MemoError` (it knows nothing of HTTP), and one
//! `From` impl maps each variant to a status and a stable `code`. Handlers return
//! `Result<_, ApiError>`, so `?` converts, and the response is the kit's problem+json.

use starter::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum MemoError {
    #[error("memo {0} not found")]
    NotFound(u64),
    #[error("a memo titled `{0}` already exists")]
    DuplicateTitle(String),
    #[error("no memo was created from this client yet (no `last_memo` cookie)")]
    NoLastMemo,
    #[error("the cursor is not one this server issued; start again without it")]
    InvalidCursor,
}

impl From<MemoError> for ApiError {
    fn from(err: MemoError) -> Self {
        let detail = err.to_string();
        match err {
            // `code` is what clients branch on; `detail` is for humans and may change.
            MemoError::NotFound(_) => ApiError::not_found(detail).with_code("memo_not_found"),
            MemoError::DuplicateTitle(_) => ApiError::conflict(detail).with_code("duplicate_title"),
            MemoError::NoLastMemo => ApiError::not_found(detail).with_code("no_last_memo"),
            // A bad input value: 422 naming the parameter, like any validation error.
            MemoError::InvalidCursor => ApiError::invalid_field("cursor", "invalid_cursor", detail),
        }
    }
}
