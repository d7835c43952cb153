//! The thumbnail job: after an image upload, the durable queue ([`starter_jobs`]) runs
//! [`make_thumbnail`] in some instance of the service.
//!
//! - At least once: a worker that dies mid-job has its job run again elsewhere, so the job
//!   is idempotent: it does nothing when the thumbnail exists, and writes it under a key
//!   derived from the attachment, so a second run overwrites the same file.
//! - Decoding and resizing are CPU work: they run on the blocking pool
//!   (`spawn_blocking`), not on the async workers that serve requests.
//! - Decode limits refuse decompression bombs (a small file declaring a huge image) before
//!   the pixels are allocated. Such a job fails on every attempt and ends `dead`.

use std::io::Cursor;

use anyhow::Context;
use bytes::Bytes;
use futures_util::TryStreamExt;
use image::{ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use serde_json::json;
use starter::mongo::{
    Repository,
    bson::{self, doc, oid::ObjectId},
};
use starter_files::{Storage, UploadLimits};
use starter_jobs::JobContext;
use starter_realtime::{Audience, EventBus};

use crate::attachments::{Attachment, Thumbnail};

/// The queue's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MakeThumbnail {
    /// Hex ObjectId of the attachment.
    pub attachment_id: String,
}

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 256;
/// Images larger than this are not read into memory for a thumbnail.
pub const MAX_SOURCE_BYTES: u64 = 50 * 1024 * 1024;
/// Largest width or height decoded.
pub const MAX_DIMENSION: u32 = 12_000;
/// Most memory one decode may allocate.
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// What the job needs; cloned into the worker's handler.
#[derive(Clone)]
pub struct ThumbnailDeps {
    pub attachments: Repository<Attachment>,
    pub storage: Storage,
    pub events: EventBus,
}

/// Makes the thumbnail of one attachment, stores it, records it, and tells the owner.
pub async fn make_thumbnail(
    deps: ThumbnailDeps,
    job: MakeThumbnail,
    ctx: JobContext,
) -> anyhow::Result<()> {
    let id = ObjectId::parse_str(&job.attachment_id).context("attachment id")?;
    let Some(attachment) = deps.attachments.get(id).await? else {
        // Deleted since the upload: nothing left to do, and nothing to retry.
        tracing::info!(job = %ctx.id, "attachment gone; no thumbnail");
        return Ok(());
    };
    if attachment.thumbnail.is_some() {
        return Ok(());
    }
    anyhow::ensure!(
        u64::try_from(attachment.size).unwrap_or(u64::MAX) <= MAX_SOURCE_BYTES,
        "image too large for a thumbnail ({} bytes)",
        attachment.size
    );
    let source = deps.storage.get(&attachment.key, None).await?;
    let bytes: Vec<u8> = source
        .stream
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await?;

    let (png, width, height) = tokio::task::spawn_blocking(move || render(&bytes))
        .await
        .context("the thumbnail task panicked")??;

    let key = format!("thumbnails/{}.png", attachment.id.to_hex());
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(png)) });
    let stored = deps
        .storage
        .put_stream(
            &key,
            body,
            &UploadLimits::new(MAX_SOURCE_BYTES, &["image/png"]),
        )
        .await?;
    let thumbnail = Thumbnail {
        key: stored.key,
        size: i64::try_from(stored.size)?,
        sha256: stored.sha256,
        width,
        height,
    };
    deps.attachments
        .set(
            doc! { "_id": id },
            doc! { "thumbnail": bson::to_bson(&thumbnail)? },
        )
        .await?;
    let event = json!({
        "note_id": attachment.note_id,
        "attachment_id": attachment.id.to_hex(),
        "width": width,
        "height": height,
    });
    // The thumbnail is there either way; a client that misses the event sees it on reload.
    if let Err(err) = deps
        .events
        .publish(
            "thumbnail.ready",
            Audience::user(&attachment.owner_id),
            event,
        )
        .await
    {
        tracing::warn!(error = %err, "thumbnail.ready not published");
    }
    Ok(())
}

/// Decodes (within the limits), resizes to fit [`THUMBNAIL_SIZE`], encodes PNG.
fn render(bytes: &[u8]) -> anyhow::Result<(Vec<u8>, u32, u32)> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    reader.limits(limits);
    let image = reader.decode().context("decoding the image")?;
    let thumb = image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE);
    let mut png = Vec::new();
    thumb.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok((png, thumb.width(), thumb.height()))
}

/// `GET /api/jobs/{id}`, for logged-in users (job ids are ULIDs with 80 random bits).
pub fn router() -> starter::docs::OpenApiRouter<crate::app::AppState> {
    starter::docs::OpenApiRouter::new().routes(starter::docs::routes!(job_status))
}

/// A job's status: `queued`, `running`, `retrying`, `done` or `dead` (after
/// `jobs.max_attempts` failed runs). starter-jobs' own handler, behind a login.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "The job's id (a ULID)")),
    responses((status = 200, body = starter_jobs::JobStatus), (status = 404, description = "No such job")))]
async fn job_status(
    axum::extract::State(s): axum::extract::State<crate::app::AppState>,
    _user: starter::auth::AuthUser,
    id: axum::extract::Path<String>,
) -> Result<axum::Json<starter_jobs::JobStatus>, starter::ApiError> {
    starter_jobs::http::job_status(axum::extract::State(s.jobs), id).await
}
