//! Statuses, codes (explicit and default), field errors, 500s, 401 and the `crate` path.

use starter_core::{ApiError, IntoApiError, reexports::axum::response::IntoResponse};

#[derive(Debug, thiserror::Error, IntoApiError)]
enum MemoError {
    #[error("memo {0} not found")]
    #[api_error(status = 404, code = "memo_not_found")]
    NotFound(u64),
    #[error("a memo titled `{title}` already exists")]
    #[api_error(status = 409)]
    DuplicateTitle { title: String },
    #[error("the cursor is not one this server issued")]
    #[api_error(field = "cursor", code = "invalid_cursor")]
    InvalidCursor,
    #[error("the page size must be at most 100")]
    #[api_error(field = "limit", status = 422)]
    LimitTooLarge,
    #[error("log in first")]
    #[api_error(status = 401)]
    NotLoggedIn,
    #[error("disk full at /var/lib/memos")]
    #[api_error(status = 500, code = "storage_failed")]
    Storage(#[source] std::io::Error),
    #[error("the search service is down")]
    #[api_error(status = 503)]
    #[api_error(code = "search_unavailable")]
    SearchDown,
}

/// Generic enums work too, and `crate` names the path explicitly.
#[derive(Debug, thiserror::Error, IntoApiError)]
#[api_error(crate = "::starter_core")]
enum Lookup<K: std::fmt::Debug + std::fmt::Display> {
    #[error("no entry for {0}")]
    #[api_error(status = 404)]
    Missing(K),
}

fn check(err: ApiError, status: u16, code: &str) -> ApiError {
    assert_eq!((err.status().as_u16(), err.code()), (status, code), "{err}");
    err
}

#[test]
fn api_error() {
    check(MemoError::NotFound(7).into(), 404, "memo_not_found");
    check(
        MemoError::DuplicateTitle { title: "a".into() }.into(),
        409,
        "duplicate_title",
    );
    let err = check(MemoError::InvalidCursor.into(), 422, "validation_failed");
    assert_eq!(err.errors()[0].field, "cursor");
    assert_eq!(err.errors()[0].code, "invalid_cursor");
    assert_eq!(
        err.errors()[0].message,
        "the cursor is not one this server issued"
    );
    let err = check(MemoError::LimitTooLarge.into(), 422, "validation_failed");
    assert_eq!(err.errors()[0].code, "limit_too_large");
    check(MemoError::NotLoggedIn.into(), 401, "not_logged_in");
    let err = check(
        MemoError::Storage(std::io::Error::other("ENOSPC")).into(),
        500,
        "storage_failed",
    );
    // The error itself is kept as the source, for the logs.
    let source = std::error::Error::source(&err).expect("a source");
    assert_eq!(source.to_string(), "disk full at /var/lib/memos");
    check(MemoError::SearchDown.into(), 503, "search_unavailable");
    check(Lookup::Missing("k").into(), 404, "missing");

    // A handler can return the enum itself.
    let resp = MemoError::NotLoggedIn.into_response();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
}
