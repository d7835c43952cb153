//! Uploads through axum: a multipart field streamed into [`Storage`].
//!
//! ```no_run
//! use axum::{Json, Router, extract::{DefaultBodyLimit, Multipart, State}, routing::post};
//! use starter_core::error::ApiError;
//! use starter_files::{Storage, UploadLimits, upload};
//!
//! const MAX: u64 = 10 * 1024 * 1024;
//!
//! async fn create(State(storage): State<Storage>, multipart: Multipart)
//!     -> Result<Json<serde_json::Value>, ApiError> {
//!     let limits = UploadLimits::new(MAX, &["image/png", "image/jpeg", "application/pdf"]);
//!     let up = upload::receive(&storage, multipart, "file", "uploads", &limits).await?;
//!     // Keep `up.object` (key, size, sha256, type) and `up.filename` in the database.
//!     Ok(Json(serde_json::json!({"key": up.object.key, "name": up.filename})))
//! }
//!
//! # fn router(storage: Storage) -> Router {
//! Router::new()
//!     // The body limit of this route: the file plus some room for the multipart framing.
//!     // It replaces `server.body_limit` (the app's `DefaultBodyLimit`) for this route only.
//!     .route("/files", post(create).layer(DefaultBodyLimit::max(MAX as usize + 64 * 1024)))
//!     .with_state(storage)
//! # }
//! ```
//!
//! The limit is enforced twice: `DefaultBodyLimit` stops reading the request body (413),
//! and [`Storage::put_stream`] stops at `limits.max_size` of *file* bytes (413 too), so a
//! route without the layer, or a layer set too high, still never stores more. A large
//! upload must also finish within `server.request_timeout`.

use axum::extract::{Multipart, multipart::MultipartError};
use http::StatusCode;
use starter_core::error::ApiError;

use crate::storage::{FilesError, Storage, StoredObject, UploadLimits};

/// Longest sanitized file name, in bytes.
pub const MAX_FILENAME_LEN: usize = 200;

/// A stored upload: the object plus what the client said about it (metadata only).
#[derive(Debug, Clone)]
pub struct Upload {
    /// Where and what was stored; its key is server-generated.
    pub object: StoredObject,
    /// The client's file name, sanitized with [`sanitize_filename`] (`file` when absent).
    pub filename: String,
    /// The `Content-Type` the client declared for the part (not trusted: `object.content_type`
    /// is the sniffed type).
    pub declared_type: Option<String>,
}

/// Reads `multipart` up to the part named `field`, and streams that part into `storage`
/// under `{prefix}/{uuid v4}`. Other parts before it are skipped.
///
/// Errors, as problem+json: 413 over `limits.max_size` (or the route's body limit), 415 for
/// a type outside the allow-list (the detail names the detected type), 422 when the field is
/// missing or the file is empty, 400 for a malformed multipart body, 500 (logged) when the
/// storage fails.
pub async fn receive(
    storage: &Storage,
    mut multipart: Multipart,
    field: &str,
    prefix: &str,
    limits: &UploadLimits,
) -> Result<Upload, ApiError> {
    loop {
        let Some(part) = multipart.next_field().await.map_err(multipart_error)? else {
            return Err(ApiError::invalid_field(
                field,
                "required",
                format!("the multipart field `{field}` is missing"),
            ));
        };
        if part.name() != Some(field) {
            continue;
        }
        let filename = sanitize_filename(part.file_name().unwrap_or_default());
        let declared_type = part.content_type().map(str::to_owned);
        let prefix = prefix.trim_matches('/');
        let id = uuid::Uuid::new_v4();
        let key = if prefix.is_empty() {
            id.to_string()
        } else {
            format!("{prefix}/{id}")
        };
        let object = storage
            .put_stream(&key, part, limits)
            .await
            .map_err(|e| upload_error(e, field))?;
        return Ok(Upload {
            object,
            filename,
            declared_type,
        });
    }
}

/// Maps an upload failure to its problem: 413, 415, 422, 400 or 500.
pub fn upload_error(err: FilesError, field: &str) -> ApiError {
    match err {
        FilesError::TooLarge { limit } => ApiError::payload_too_large(usize::try_from(limit).ok()),
        FilesError::UnsupportedType { detected } => {
            ApiError::unsupported_media_type(format!("file type {detected} is not allowed"))
        }
        FilesError::Empty => ApiError::invalid_field(field, "empty", "the file is empty"),
        FilesError::Body(source) => match source.downcast::<MultipartError>() {
            Ok(multipart) => multipart_error(*multipart),
            Err(other) => ApiError::bad_request("the upload could not be read")
                .with_source(anyhow::Error::from_boxed(other)),
        },
        other => ApiError::internal(other),
    }
}

/// A body over the route's limit is 413; anything else malformed is 400.
fn multipart_error(err: MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(None)
    } else {
        ApiError::bad_request(format!("invalid multipart body: {}", err.body_text()))
    }
}

/// A file name safe to show and to put in `Content-Disposition`: the last path component
/// (after `/` or `\`), without control and bidi-override characters, characters reserved on common file
/// systems (`<>:"/\|?*`), leading dots and `..`; at most [`MAX_FILENAME_LEN`] bytes with the
/// extension kept; `file` when nothing is left.
///
/// It is for display only: storage keys are always server-generated.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
                // Bidirectional overrides make `gnp.exe` display as `exe.png`.
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.replace("..", "");
    let cleaned = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' ']);
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    truncate_keeping_extension(cleaned, MAX_FILENAME_LEN)
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    // An extension is kept when it is short enough to be one (`.tar.gz` keeps `.gz`).
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => name.split_at(dot),
        _ => (name, ""),
    };
    let mut end = max - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_component_only() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\x"), "x");
        assert_eq!(sanitize_filename("C:\\Users\\me\\photo.png"), "photo.png");
        assert_eq!(sanitize_filename("dir/"), "file");
        assert_eq!(sanitize_filename(".."), "file");
        assert_eq!(sanitize_filename(""), "file");
    }

    #[test]
    fn drops_control_reserved_and_leading_dots() {
        assert_eq!(sanitize_filename("a\0b\r\n.txt"), "ab.txt");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(sanitize_filename("re<po>rt:?*|\".pdf"), "report.pdf");
        assert_eq!(sanitize_filename("a..b.txt"), "ab.txt");
        assert_eq!(sanitize_filename("photo\u{202e}gnp.exe"), "photognp.exe");
    }

    #[test]
    fn keeps_unicode_and_limits_length_with_extension() {
        assert_eq!(sanitize_filename("résumé 2024.pdf"), "résumé 2024.pdf");
        assert_eq!(sanitize_filename("日本語.png"), "日本語.png");
        let long = format!("{}.jpeg", "é".repeat(300));
        let out = sanitize_filename(&long);
        assert!(out.len() <= MAX_FILENAME_LEN, "{}", out.len());
        assert!(out.ends_with(".jpeg"), "{out}");
        assert!(out.starts_with('é'));
    }
}
