//! Conditional GET for JSON: an entity tag on the answer, and `304 Not Modified` when the
//! client's `If-None-Match` already names it (RFC 9110 §13.1.2).
//!
//! The tag is computed from the body, so it is right for any source, and a cached body
//! can keep its tag with it (`TaggedJson` is serde, for `starter_redis::Cache`).
//!
//! ```
//! use axum::{http::HeaderMap, response::Response};
//! use starter_core::{ApiError, conditional::TaggedJson};
//!
//! async fn handler(headers: HeaderMap) -> Result<Response, ApiError> {
//!     let tagged = TaggedJson::new(&serde_json::json!({"hello": "world"}))?;
//!     Ok(tagged.respond(&headers))
//! }
//! ```

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use headers::{ETag, HeaderMapExt, IfNoneMatch};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// `Cache-Control` of [`TaggedJson::respond`]: any cache may keep the answer only for this
/// user (`private`), and must ask again before each use (`no-cache`), which with the tag
/// costs a `304` without a body when nothing changed.
pub const REVALIDATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// A serialized JSON body and its entity tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedJson {
    etag: String,
    body: String,
}

impl TaggedJson {
    /// Serializes `value`; the tag is weak (`W/"…"`): the same JSON is sent gzip- or
    /// brotli-encoded or not, so the bytes on the wire differ while the content does not.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_string(value).map_err(ApiError::internal)?;
        let digest = Sha256::digest(body.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            etag: format!("W/\"{hex}\""),
            body,
        })
    }

    /// The tag, as sent in `ETag`.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The JSON text.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether a request with these headers already has this representation: its
    /// `If-None-Match` names the tag (weak comparison) or is `*`.
    pub fn is_fresh_for(&self, request: &HeaderMap) -> bool {
        let Some(if_none_match) = request.typed_get::<IfNoneMatch>() else {
            return false;
        };
        self.etag
            .parse::<ETag>()
            .is_ok_and(|etag| !if_none_match.precondition_passes(&etag))
    }

    /// `304` with the tag when the request has it already, else `200` with the JSON; both
    /// with `ETag` and `Cache-Control: private, no-cache`.
    pub fn respond(self, request: &HeaderMap) -> Response {
        let etag = HeaderValue::from_str(&self.etag).expect("the tag is hex in quotes");
        if self.is_fresh_for(request) {
            return (
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, etag), (header::CACHE_CONTROL, REVALIDATE)],
            )
                .into_response();
        }
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::ETAG, etag),
                (header::CACHE_CONTROL, REVALIDATE),
            ],
            Bytes::from(self.body),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_if_none_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_tag_follows_the_content() {
        let a = TaggedJson::new(&json!({"n": 1})).unwrap();
        assert_eq!(a, TaggedJson::new(&json!({"n": 1})).unwrap());
        assert_ne!(a.etag(), TaggedJson::new(&json!({"n": 2})).unwrap().etag());
        assert!(a.etag().starts_with("W/\"") && a.etag().len() == 2 + 32 + 2);
    }

    #[test]
    fn if_none_match_with_the_tag_is_304_without_a_body() {
        let tagged = TaggedJson::new(&json!({"n": 1})).unwrap();
        let etag = tagged.etag().to_owned();
        let fresh = tagged.clone().respond(&with_if_none_match(&etag));
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(fresh.headers()[header::ETAG], etag.as_str());
        // Weak comparison: the strong form of the same tag matches too, and so does `*`
        // and a list holding it.
        let strong = etag.trim_start_matches("W/");
        for value in [strong, "*", &format!("\"other\", {etag}")] {
            let r = tagged.clone().respond(&with_if_none_match(value));
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{value}");
        }
    }

    #[tokio::test]
    async fn another_tag_or_none_gets_the_body() {
        let tagged = TaggedJson::new(&json!({"n": 1})).unwrap();
        for headers in [HeaderMap::new(), with_if_none_match("W/\"stale\"")] {
            let r = tagged.clone().respond(&headers);
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()[header::ETAG], tagged.etag());
            assert_eq!(r.headers()[header::CACHE_CONTROL], "private, no-cache");
            let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
            assert_eq!(&body[..], br#"{"n":1}"#);
        }
    }
}
