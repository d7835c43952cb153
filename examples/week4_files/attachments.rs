//! `/api/notes/{id}/attachments`: files on a note.
//!
//! - Upload: `multipart/form-data` with a `file` part, streamed to storage (local disk or
//!   S3) in parts, never whole in memory, under a key the server makes up; the client's
//!   file name is kept only as metadata, sanitized. The type is sniffed from the first
//!   bytes and checked against [`ALLOWED_TYPES`] (415 otherwise); over
//!   `attachments.max_size` is 413. The SHA-256 and size are stored with the metadata.
//! - An image gets a thumbnail from the job queue ([`crate::thumbnails`]); the answer
//!   carries the job's id, for `GET /api/jobs/{id}`.
//! - Download: streamed, with a strong `ETag` (the SHA-256), `If-None-Match` → 304,
//!   `Range` → 206, and a `Content-Disposition` with the sanitized name.
//! - With S3, `…/url` gives a presigned URL: the browser downloads from S3 directly.
//! - Deleting answers at once; the stored files are removed by an in-process background
//!   task ([`starter_jobs::Tasks`]): losing that task in a crash leaves an orphan file, not
//!   a broken note, so it does not need the durable queue.

use axum::{
    extract::{Multipart, Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidQuery},
    mongo::{
        MongoDocument, Sort,
        bson::{DateTime, doc, oid::ObjectId},
        oid,
    },
};
use starter_files::{
    UploadLimits,
    download::{self, Disposition, FileMeta},
    upload,
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    app::AppState,
    notes::{self, rfc3339},
    thumbnails::MakeThumbnail,
};

/// What may be attached, by the type sniffed from the content: images, PDF, and content
/// that no magic number identifies (text, CSV, …), which is stored and always served as
/// `application/octet-stream` with `nosniff`, so a browser never runs it. Executables,
/// archives and everything else recognisable is refused.
pub const ALLOWED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/octet-stream",
];

/// Attachments per note: lists stay one bounded query.
pub const MAX_PER_NOTE: i64 = 100;

/// Types the thumbnail job can decode.
const THUMBNAIL_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// A stored file's metadata; the bytes are in storage under `key`.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "attachments")]
pub struct Attachment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The note's id as hex, like `owner_id`: the dev stand-in database matches ObjectIds
    /// outside `_id` only through `$in` (see `starter_auth::mongo`).
    #[mongo(index)]
    pub note_id: String,
    pub owner_id: String,
    /// Sanitized; for display and `Content-Disposition` only.
    pub filename: String,
    /// Sniffed from the content, not the client's claim.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub key: String,
    pub thumbnail: Option<Thumbnail>,
    /// The thumbnail job, for images.
    pub thumbnail_job: Option<String>,
    pub created_at: DateTime,
}

/// A thumbnail made by [`crate::thumbnails`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thumbnail {
    pub key: String,
    pub size: i64,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c4", "note_id": "665f1c2ab4d4c3a1e0a1b2c3",
    "filename": "x-ray.png", "content_type": "image/png", "size": 482133,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "thumbnail": false, "thumbnail_job": "01JDQ6Z8Y1V4N6W4K3K2J5Q8RA",
    "created_at": "2026-12-01T09:00:00Z"}))]
pub struct AttachmentOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    #[schema(pattern = "^[0-9a-f]{24}$")]
    pub note_id: String,
    pub filename: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, lowercase hex (also the download's `ETag`).
    pub sha256: String,
    /// Whether `…/thumbnail` is ready.
    pub thumbnail: bool,
    /// The job making the thumbnail (`GET /api/jobs/{id}`); images only.
    pub thumbnail_job: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Attachment> for AttachmentOut {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id,
            note_id: a.note_id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            thumbnail: a.thumbnail.is_some(),
            thumbnail_job: a.thumbnail_job,
            created_at: rfc3339(a.created_at),
        }
    }
}

/// The multipart body of an upload (for the OpenAPI document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file. Its name is kept (sanitized) for display; its type is sniffed.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// `true`: show images in the browser (`Content-Disposition: inline`); anything
    /// else is always downloaded.
    #[serde(default)]
    pub inline: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"url": "https://bucket.s3.amazonaws.com/attachments/…?X-Amz-Signature=…", "expires_in": 300}))]
pub struct PresignedUrl {
    /// A direct `GET` on the object, valid for `expires_in` seconds.
    pub url: String,
    pub expires_in: u64,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(download, remove))
        .routes(routes!(thumbnail))
        .routes(routes!(presigned_url))
}

type Ids = Path<(String, String)>;

fn parse_ids(Path((note, attachment)): Ids) -> Result<(ObjectId, ObjectId), ApiError> {
    let parse = |name: &str, value: &str| {
        ObjectId::parse_str(value).map_err(|_| {
            ApiError::invalid_field(name, "object_id", "not an ObjectId (24 hex digits)")
        })
    };
    Ok((parse("id", &note)?, parse("attachment_id", &attachment)?))
}

fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("attachment {id} does not exist"))
}

/// 404 unless the note exists and is the caller's.
async fn own_note(s: &AppState, note_id: ObjectId, user: &AuthUser) -> Result<(), ApiError> {
    match s.notes.find_one(notes::owned(note_id, user)).await? {
        Some(_) => Ok(()),
        None => Err(notes::not_found(note_id)),
    }
}

/// The caller's attachment `id` on their note `note_id`.
async fn own_attachment(
    s: &AppState,
    note_id: ObjectId,
    id: ObjectId,
    user: &AuthUser,
) -> Result<Attachment, ApiError> {
    s.attachments
        .find_one(doc! { "_id": id, "note_id": note_id.to_hex(), "owner_id": &user.id })
        .await?
        .ok_or_else(|| not_found(id))
}

/// Uploads a file to one of the caller's notes.
#[utoipa::path(post, path = "/notes/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = AttachmentOut),
        (status = 400, description = "Not a multipart body (no boundary, a malformed part)"),
        (status = 404, description = "No such note of yours"),
        (status = 413, description = "Over `attachments.max_size`"),
        (status = 415, description = "A type that is not allowed (the detail names the sniffed type)"),
    ))]
async fn upload(
    State(s): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<AttachmentOut>), ApiError> {
    let note_id = ObjectId::parse_str(&id).map_err(|_| {
        ApiError::invalid_field("id", "object_id", "not an ObjectId (24 hex digits)")
    })?;
    own_note(&s, note_id, &user).await?;
    let count = s
        .attachments
        .count(doc! { "note_id": note_id.to_hex() })
        .await?;
    if count >= u64::try_from(MAX_PER_NOTE).unwrap_or_default() {
        return Err(
            ApiError::conflict(format!("a note has at most {MAX_PER_NOTE} attachments"))
                .with_code("too_many_attachments"),
        );
    }
    let limits = UploadLimits::new(s.max_upload, ALLOWED_TYPES);
    let stored = upload::receive(&s.storage, multipart, "file", "attachments", &limits).await?;

    let mut attachment = Attachment {
        id: ObjectId::new(),
        note_id: note_id.to_hex(),
        owner_id: user.id.clone(),
        filename: stored.filename,
        content_type: stored.object.content_type,
        size: i64::try_from(stored.object.size).unwrap_or(i64::MAX),
        sha256: stored.object.sha256,
        key: stored.object.key,
        thumbnail: None,
        thumbnail_job: None,
        created_at: DateTime::now(),
    };
    if let Err(err) = s.attachments.insert(&attachment).await {
        // Without its metadata the file is unreachable: do not keep it.
        let _ = s.storage.delete(&attachment.key).await;
        return Err(err.into());
    }
    if THUMBNAIL_TYPES.contains(&attachment.content_type.as_str()) {
        let job = MakeThumbnail {
            attachment_id: attachment.id.to_hex(),
        };
        // The file is stored either way; without Redis it just gets no thumbnail.
        match s.thumbnails.push(job).await {
            Ok(job_id) => {
                let job_id = job_id.to_string();
                s.attachments
                    .set(
                        doc! { "_id": attachment.id },
                        doc! { "thumbnail_job": &job_id },
                    )
                    .await?;
                attachment.thumbnail_job = Some(job_id);
            }
            Err(err) => tracing::warn!(error = %err, "thumbnail job not queued"),
        }
    }
    s.notify(
        &user.id,
        "attachment.added",
        json!({"note_id": note_id.to_hex(), "attachment_id": attachment.id.to_hex()}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(attachment.into())))
}

/// The attachments of one of the caller's notes, oldest first.
#[utoipa::path(get, path = "/notes/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 200, body = Vec<AttachmentOut>), (status = 404, description = "No such note of yours")))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<AttachmentOut>>, ApiError> {
    let note_id = ObjectId::parse_str(&id).map_err(|_| {
        ApiError::invalid_field("id", "object_id", "not an ObjectId (24 hex digits)")
    })?;
    own_note(&s, note_id, &user).await?;
    let found = s
        .attachments
        .list(
            doc! { "note_id": note_id.to_hex(), "owner_id": &user.id },
            Sort::asc("created_at"),
            MAX_PER_NOTE,
        )
        .await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

/// Downloads the file: streamed; `ETag`/`If-None-Match`, `Range`/`If-Range`.
#[utoipa::path(get, path = "/notes/{id}/attachments/{attachment_id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId"),
        ("attachment_id" = String, Path, description = "The attachment's ObjectId"), DownloadQuery,
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=100-199`"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` you have")),
    responses(
        (status = 200, description = "The file, as its sniffed type (see `ALLOWED_TYPES`)",
            content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"),
                (Vec<u8> = "image/webp")),
            headers(("ETag" = String), ("Content-Disposition" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested range",
            content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"),
                (Vec<u8> = "image/webp")),
            headers(("Content-Range" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 404, description = "No such attachment of yours"),
        (status = 416, description = "The range is outside the file"),
    ))]
async fn download(
    State(s): State<AppState>,
    user: AuthUser,
    ids: Ids,
    ValidQuery(query): ValidQuery<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (note_id, id) = parse_ids(ids)?;
    let a = own_attachment(&s, note_id, id, &user).await?;
    let meta = FileMeta {
        key: a.key,
        size: u64::try_from(a.size).unwrap_or_default(),
        sha256: a.sha256,
        content_type: a.content_type,
        filename: a.filename,
    };
    let disposition = if query.inline {
        Disposition::InlineImages
    } else {
        Disposition::Attachment
    };
    download::respond(&s.storage, &meta, &headers, disposition).await
}

/// The thumbnail (PNG) of an image attachment, once its job is done.
#[utoipa::path(get, path = "/notes/{id}/attachments/{attachment_id}/thumbnail", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId"),
        ("attachment_id" = String, Path, description = "The attachment's ObjectId")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/png", headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 404, description = "No such attachment of yours, or no thumbnail (yet)"),
    ))]
async fn thumbnail(
    State(s): State<AppState>,
    user: AuthUser,
    ids: Ids,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (note_id, id) = parse_ids(ids)?;
    let a = own_attachment(&s, note_id, id, &user).await?;
    let Some(thumb) = a.thumbnail else {
        return Err(ApiError::not_found(format!(
            "attachment {id} has no thumbnail (yet)"
        )));
    };
    let meta = FileMeta {
        key: thumb.key,
        size: u64::try_from(thumb.size).unwrap_or_default(),
        sha256: thumb.sha256,
        content_type: "image/png".into(),
        filename: format!("thumbnail-{}.png", a.filename),
    };
    download::respond(&s.storage, &meta, &headers, Disposition::InlineImages).await
}

/// A presigned URL for downloading straight from S3 (S3 storage only).
#[utoipa::path(get, path = "/notes/{id}/attachments/{attachment_id}/url", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId"),
        ("attachment_id" = String, Path, description = "The attachment's ObjectId")),
    responses(
        (status = 200, body = PresignedUrl),
        (status = 404, description = "No such attachment of yours"),
        (status = 409, description = "The storage is local disk: download through the API"),
    ))]
async fn presigned_url(
    State(s): State<AppState>,
    user: AuthUser,
    ids: Ids,
) -> Result<Json<PresignedUrl>, ApiError> {
    let (note_id, id) = parse_ids(ids)?;
    let a = own_attachment(&s, note_id, id, &user).await?;
    let ttl = s.presign_ttl;
    match s
        .storage
        .presigned_get_url(&a.key, Some(ttl))
        .await
        .map_err(ApiError::internal)?
    {
        Some(url) => Ok(Json(PresignedUrl {
            url: url.to_string(),
            expires_in: ttl.as_secs(),
        })),
        None => Err(ApiError::conflict(
            "presigned URLs need the S3 storage; download through the API",
        )
        .with_code("presign_unavailable")),
    }
}

/// Deletes the attachment; its files are removed in the background.
#[utoipa::path(delete, path = "/notes/{id}/attachments/{attachment_id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's ObjectId"),
        ("attachment_id" = String, Path, description = "The attachment's ObjectId")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such attachment of yours")))]
async fn remove(
    State(s): State<AppState>,
    user: AuthUser,
    ids: Ids,
) -> Result<StatusCode, ApiError> {
    let (note_id, id) = parse_ids(ids)?;
    let a = own_attachment(&s, note_id, id, &user).await?;
    s.attachments.delete_one(doc! { "_id": a.id }).await?;
    let storage = s.storage.clone();
    s.tasks.spawn("delete attachment files", async move {
        delete_files(&storage, &a).await;
    });
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the files of every attachment of a deleted note, then their metadata, in an
/// in-process background task.
pub fn remove_all_in_background(s: &AppState, note_id: ObjectId) {
    let attachments = s.attachments.clone();
    let storage = s.storage.clone();
    s.tasks.spawn("delete note attachments", async move {
        let filter = doc! { "note_id": note_id.to_hex() };
        let found = match attachments
            .list(filter.clone(), Sort::asc("created_at"), MAX_PER_NOTE)
            .await
        {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, "attachments of a deleted note not listed");
                return;
            }
        };
        for a in &found {
            delete_files(&storage, a).await;
        }
        if let Err(err) = attachments.collection().delete_many(filter).await {
            tracing::warn!(error = %err, "attachments of a deleted note not removed");
        }
    });
}

async fn delete_files(storage: &starter_files::Storage, a: &Attachment) {
    let keys = std::iter::once(a.key.as_str()).chain(a.thumbnail.as_ref().map(|t| t.key.as_str()));
    for key in keys {
        if let Err(err) = storage.delete(key).await {
            tracing::warn!(error = %err, key, "stored file not deleted");
        }
    }
}
