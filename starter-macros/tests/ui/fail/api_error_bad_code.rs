use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("a")]
    #[api_error(status = 404, code = "NotFound")]
    NotFound,
    #[error("b")]
    #[api_error(status = 409, code = "duplicate-title")]
    Duplicate,
    #[error("c")]
    #[api_error(status = 400, code = "")]
    Empty,
}

fn main() {}
