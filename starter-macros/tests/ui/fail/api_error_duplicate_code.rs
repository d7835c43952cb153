use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("not found")]
    #[api_error(status = 404)]
    NotFound,
    #[error("missing")]
    #[api_error(status = 404, code = "not_found")]
    Missing,
    #[error("gone")]
    #[api_error(status = 410, code = "gone_away")]
    Gone,
    #[error("also gone")]
    #[api_error(field = "id", code = "gone_away")]
    AlsoGone,
}

fn main() {}
