//! The domain errors of the memo service and how they become HTTP problems.
//!
//! FastAPI raises `HTTPException(404, …)` or registers an `exception_handler` for a custom
//! exception. Here the store returns a plain `MemoError` (it knows nothing of HTTP), and
//! `#[derive(IntoApiError)]` writes the one `From<MemoError> for ApiError` impl that maps each
//! variant to a status and a stable `code`, with the `#[error]` text as `detail`. Handlers
//! return `Result<_, ApiError>`, so `?` converts, and the response is the kit's problem+json.

use starter::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
pub enum MemoError {
    // `code` is what clients branch on; `detail` is for humans and may change.
    #[error("memo {0} not found")]
    #[api_error(status = 404, code = "memo_not_found")]
    NotFound(u64),
    // Without `code`, the code is the variant name in snake_case: `duplicate_title`.
    #[error("a memo titled `{0}` already exists")]
    #[api_error(status = 409)]
    DuplicateTitle(String),
    #[error("no memo was created from this client yet (no `last_memo` cookie)")]
    #[api_error(status = 404)]
    NoLastMemo,
    // A bad input value: 422 naming the parameter, like any validation error.
    #[error("the cursor is not one this server issued; start again without it")]
    #[api_error(field = "cursor", code = "invalid_cursor")]
    InvalidCursor,
}
