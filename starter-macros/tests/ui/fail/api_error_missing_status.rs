use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("not found")]
    NotFound,
    #[error("conflict")]
    #[api_error(code = "conflict")]
    Conflict,
    #[error("fine")]
    #[api_error(status = 404)]
    Fine,
}

fn main() {}
