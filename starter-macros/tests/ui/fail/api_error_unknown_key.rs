use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
#[api_error(status = 404)]
enum AppError {
    #[error("not found")]
    #[api_error(stauts = 404)]
    NotFound,
    #[error("gone")]
    #[api_error(status = 410, crate = "starter", message = "x")]
    Gone(#[api_error(field = "id")] u64),
    #[error("twice")]
    #[api_error(status = 404, status = 410)]
    Twice,
}

fn main() {}
