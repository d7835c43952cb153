use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
enum AppError {
    #[error("bad cursor")]
    #[api_error(field = "cursor", status = 400)]
    BadCursor,
}

fn main() {}
