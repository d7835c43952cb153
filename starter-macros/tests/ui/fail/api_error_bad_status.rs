use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("ok")]
    #[api_error(status = 200)]
    Fine,
    #[error("moved")]
    #[api_error(status = 302)]
    Moved,
    #[error("odd")]
    #[api_error(status = 419)]
    Odd,
    #[error("too many")]
    #[api_error(status = 429)]
    TooMany,
    #[error("huge")]
    #[api_error(status = 600)]
    Huge,
    #[error("overflow")]
    #[api_error(status = 70000)]
    Overflow,
    #[error("text")]
    #[api_error(status = "404")]
    Text,
}

fn main() {}
