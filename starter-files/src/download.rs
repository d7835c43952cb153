//! Downloads through axum: a streamed response with validators, ranges and a safe
//! `Content-Disposition`.
//!
//! ```no_run
//! use axum::{extract::{Path, State}, http::HeaderMap, response::Response};
//! use starter_core::error::ApiError;
//! use starter_files::{Storage, download::{self, Disposition, FileMeta}};
//!
//! async fn get_file(State(storage): State<Storage>, Path(id): Path<String>, headers: HeaderMap)
//!     -> Result<Response, ApiError> {
//!     // Load the metadata saved at upload time from your database.
//!     let meta: FileMeta = todo!("find file {id}");
//!     download::respond(&storage, &meta, &headers, Disposition::Attachment).await
//! }
//! ```
//!
//! Behaviour:
//! - `ETag` is the strong `"<sha256>"`; `If-None-Match` matching it answers 304;
//! - one `Range: bytes=a-b`, `a-` or `-n` answers 206 with `Content-Range`; a range that
//!   starts past the end answers 416 with `Content-Range: bytes */len`; several ranges are
//!   answered with the whole file (200): multipart/byteranges is not implemented; a `Range`
//!   with another unit or a syntax error is ignored (200), as RFC 9110 allows;
//! - `If-Range` with an entity tag is honoured (a different tag: the whole file); with a date
//!   (no modification time is kept) the whole file is sent;
//! - always `Accept-Ranges: bytes`, `Content-Length`, `Content-Type` from the metadata and
//!   `X-Content-Type-Options: nosniff`.

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use axum_extra::headers::{
    AcceptRanges, ContentLength, ContentRange, ETag, HeaderMapExt, IfNoneMatch, IfRange,
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use starter_core::error::ApiError;

use crate::storage::{FilesError, Storage};

/// What the download needs to know of a file; the app keeps it (e.g. in MongoDB) from the
/// [`StoredObject`](crate::StoredObject) and the [`Upload`](crate::upload::Upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub key: String,
    pub size: u64,
    /// Lowercase hex SHA-256: the strong `ETag`.
    pub sha256: String,
    pub content_type: String,
    /// The (sanitized) name offered to the user.
    pub filename: String,
}

/// How the browser should present the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Always download (`attachment`).
    Attachment,
    /// Show raster images (PNG, JPEG, GIF, WebP, AVIF, BMP) in the browser, download the
    /// rest. SVG is downloaded: it can carry scripts.
    InlineImages,
}

/// The `filename*` characters left as they are (RFC 8187 `attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Which part of the file to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ranged {
    Full,
    /// Inclusive bounds.
    Partial(u64, u64),
    Unsatisfiable,
}

/// Streams the file described by `meta` from `storage`, honouring the request's
/// `If-None-Match`, `Range` and `If-Range` (see the module docs).
///
/// Errors: 404 when the object is missing, 416 for an unsatisfiable range, 500 (logged)
/// when the storage fails.
pub async fn respond(
    storage: &Storage,
    meta: &FileMeta,
    request: &HeaderMap,
    disposition: Disposition,
) -> Result<Response, ApiError> {
    let etag: ETag = format!("\"{}\"", meta.sha256)
        .parse()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("sha256 is not a valid entity tag")))?;

    let mut headers = HeaderMap::new();
    headers.typed_insert(etag.clone());
    headers.typed_insert(AcceptRanges::bytes());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );

    if request
        .typed_get::<IfNoneMatch>()
        .is_some_and(|if_none_match| !if_none_match.precondition_passes(&etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    // An `If-Range` that does not parse cannot be shown to match: send the whole file.
    let use_range = !request.contains_key(header::IF_RANGE)
        || request
            .typed_get::<IfRange>()
            .is_some_and(|if_range| !if_range.is_modified(Some(&etag), None));
    let ranged = match request.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if use_range => parse_range(value, meta.size),
        _ => Ranged::Full,
    };

    let (status, range) = match ranged {
        Ranged::Full => (StatusCode::OK, None),
        Ranged::Partial(start, end) => (StatusCode::PARTIAL_CONTENT, Some(start..end + 1)),
        Ranged::Unsatisfiable => return Err(unsatisfiable(meta.size)),
    };
    let object = match storage.get(&meta.key, range.clone()).await {
        Ok(object) => object,
        Err(FilesError::NotFound) => return Err(ApiError::not_found("the file is gone")),
        Err(FilesError::RangeNotSatisfiable) => return Err(unsatisfiable(meta.size)),
        Err(e) => return Err(ApiError::internal(e)),
    };
    if let Some(range) = &range {
        headers.typed_insert(
            ContentRange::bytes(range.clone(), meta.size)
                .map_err(|_| ApiError::internal(anyhow::anyhow!("invalid content range")))?,
        );
    }
    headers.typed_insert(ContentLength(object.range.end - object.range.start));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let inline = disposition == Disposition::InlineImages && is_raster_image(&meta.content_type);
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(inline, &meta.filename),
    );
    Ok((status, headers, Body::from_stream(object.stream)).into_response())
}

fn unsatisfiable(size: u64) -> ApiError {
    let mut headers = HeaderMap::new();
    headers.typed_insert(ContentRange::unsatisfied_bytes(size));
    let value = headers
        .remove(header::CONTENT_RANGE)
        .expect("typed_insert sets the header");
    ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
        .with_detail(format!("the range is outside the file of {size} bytes"))
        .with_header(header::CONTENT_RANGE, value)
}

fn is_raster_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    )
}

/// Parses one `Range` value against a file of `len` bytes. Hand-written: `headers::Range`
/// neither clips an end past the file nor handles a suffix longer than it (RFC 9110 §14.1.2).
fn parse_range(value: &str, len: u64) -> Ranged {
    let Some(set) = value.trim().strip_prefix("bytes=") else {
        return Ranged::Full;
    };
    let specs: Vec<&str> = set.split(',').map(str::trim).collect();
    let [spec] = specs.as_slice() else {
        return Ranged::Full;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Full;
    };
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (first.is_empty(), last.is_empty()) {
        // `-n`: the last n bytes (all of them when n is larger than the file).
        (true, false) => match number(last) {
            Some(0) => Ranged::Unsatisfiable,
            Some(_) if len == 0 => Ranged::Unsatisfiable,
            Some(n) => Ranged::Partial(len.saturating_sub(n), len - 1),
            None => Ranged::Full,
        },
        // `a-`: from a to the end.
        (false, true) => match number(first) {
            Some(a) if a >= len => Ranged::Unsatisfiable,
            Some(a) => Ranged::Partial(a, len - 1),
            None => Ranged::Full,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a > b => Ranged::Full,
            (Some(a), Some(_)) if a >= len => Ranged::Unsatisfiable,
            (Some(a), Some(b)) => Ranged::Partial(a, b.min(len - 1)),
            _ => Ranged::Full,
        },
        (true, true) => Ranged::Full,
    }
}

/// `attachment`/`inline` with an ASCII `filename` (other characters become `_`) and the
/// exact name in `filename*` (RFC 6266 / 8187). Hand-written: `headers::ContentDisposition`
/// cannot build a value with a file name.
pub fn content_disposition(inline: bool, filename: &str) -> HeaderValue {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '_',
        })
        .collect();
    let encoded = utf8_percent_encode(filename, ATTR_CHAR);
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("bytes=100-199", 1000),
            Ranged::Partial(100, 199)
        );
        assert_eq!(parse_range("bytes=100-", 1000), Ranged::Partial(100, 999));
        assert_eq!(parse_range("bytes=-10", 1000), Ranged::Partial(990, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), Ranged::Partial(0, 999));
        assert_eq!(
            parse_range("bytes=900-5000", 1000),
            Ranged::Partial(900, 999)
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Ranged::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Ranged::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Ranged::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ranged::Full);
        assert_eq!(parse_range("bytes=5-1", 1000), Ranged::Full);
        assert_eq!(parse_range("items=0-1", 1000), Ranged::Full);
        assert_eq!(parse_range("bytes=x-1", 1000), Ranged::Full);
        assert_eq!(parse_range("bytes=+1-2", 1000), Ranged::Full);
    }

    #[test]
    fn disposition_has_ascii_fallback_and_utf8_name() {
        let v = content_disposition(false, "résumé \"final\".pdf");
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        let v = content_disposition(true, "a.png");
        assert_eq!(
            v.to_str().unwrap(),
            "inline; filename=\"a.png\"; filename*=UTF-8''a.png"
        );
    }
}
