//! A custom extractor: the optional `X-Client-Version` request header.
//!
//! FastAPI: `x_client_version: str | None = Header(default=None, pattern=r"^\d+(\.\d+){0,2}$")`.
//! In axum, anything that implements `FromRequestParts` can be a handler argument; it runs
//! before the handler and can reject the request. A reusable dependency, like `Depends(...)`.

use axum::{extract::FromRequestParts, http::request::Parts};
use starter::ApiError;

pub const CLIENT_VERSION_HEADER: &str = "x-client-version";

/// The client's version (`1`, `1.4`, `1.4.2`), or `None` when the header is absent.
/// A malformed value is a 422 naming the header, like any other invalid input.
#[derive(Debug, Clone)]
pub struct ClientVersion(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(CLIENT_VERSION_HEADER) else {
            return Ok(Self(None));
        };
        match value.to_str() {
            Ok(v) if is_version(v) => Ok(Self(Some(v.to_owned()))),
            _ => Err(ApiError::invalid_field(
                CLIENT_VERSION_HEADER,
                "invalid_header",
                "must be a version like 1.4.2",
            )),
        }
    }
}

/// One to three dot-separated numbers, each 1–5 digits.
fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}
