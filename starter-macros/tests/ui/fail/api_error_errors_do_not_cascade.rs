// A broken attribute is one error, not also one per `?` that needs the conversion.
use starter_core::{ApiError, IntoApiError};

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("not found")]
    #[api_error(status = 40)]
    NotFound,
}

fn find() -> Result<(), AppError> {
    Err(AppError::NotFound)
}

fn handler() -> Result<(), ApiError> {
    find()?;
    Ok(())
}

fn main() {
    let _ = handler();
}
