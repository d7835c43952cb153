//! # Week 4 — files, background work, realtime, caching
//!
//! The week 3 notes, now with file attachments, a thumbnail job, live events and a cache.
//!
//! Concepts:
//! - storage behind one interface, local disk or S3 (`[storage] backend`), with
//!   `object_store` (`starter-files`);
//! - a streamed multipart upload: never whole in memory, a per-route size limit (413), the
//!   type sniffed from the first bytes against an allow-list (415 for an `.exe` named
//!   `photo.png`), the client's file name sanitized and kept only as metadata, the SHA-256
//!   stored in MongoDB;
//! - a streamed download: `ETag` and `If-None-Match` (304), `Range` (206), a safe
//!   `Content-Disposition`; with S3, a presigned URL instead;
//! - background work two ways (FastAPI's `BackgroundTasks` against ARQ/Celery):
//!   - in-process tasks (`starter_jobs::Tasks`) for follow-ups whose loss is harmless,
//!     here deleting the files of a deleted attachment: tracked, so shutdown waits for
//!     them, and a panic is logged;
//!   - a durable queue in Redis (`starter_jobs::JobQueue`, on apalis) for work that must
//!     happen: the thumbnail of an uploaded image, with retries and backoff, `dead` after
//!     `jobs.max_attempts`, a concurrency limit, `GET /api/jobs/{id}`, and the job of a
//!     worker killed mid-run picked up again after its heartbeat lapses (at least once, so
//!     the job is idempotent);
//! - CPU work (decoding, resizing) on the blocking pool, with decode limits against
//!   decompression bombs;
//! - live events over WebSocket and SSE (`starter-realtime`), through a Redis Stream so
//!   that every instance delivers every event; a short-lived single-use ticket instead of
//!   a token in the URL; heartbeats; `Last-Event-ID`; slow clients dropped;
//! - cache-aside in Redis for the notes list and reads, invalidated on write, with `ETag`
//!   and 304 (`starter_core::conditional`); with Redis down the notes come from MongoDB and
//!   `/health` says `degraded`; JSON is compressed, files are not;
//! - rate limits counted in Redis (`AuthService::with_shared_limits`), so that a client's
//!   login quota holds across instances behind a load balancer; with Redis down, each
//!   instance counts on its own, with a warning.
//!
//! Run it (starts redis-server, a local S3 server and the dev database when their
//! `APP_*` URLs are unset):
//!
//! ```text
//! scripts/with-services cargo run --example week4_files
//! # files on the local S3 server instead of data/files:
//! APP_STORAGE__BACKEND=s3 scripts/with-services cargo run --example week4_files
//! ```
//!
//! Try it:
//!
//! ```text
//! curl -s localhost:8080/auth/register -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'
//! TOKEN=$(curl -s localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}' | jq -r .access_token)
//! NOTE=$(curl -s localhost:8080/api/notes -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"title":"x-rays"}' | jq -r .id)
//! curl -i localhost:8080/api/notes -H "authorization: Bearer $TOKEN"   # ETag; the log says cache=miss, then hit
//! curl -i localhost:8080/api/notes -H "authorization: Bearer $TOKEN" -H 'if-none-match: W/"…"'  # 304
//! curl -s localhost:8080/api/notes/$NOTE/attachments -H "authorization: Bearer $TOKEN" \
//!      -F 'file=@tooth.png'                                            # → id, thumbnail_job
//! curl -s localhost:8080/api/jobs/<thumbnail_job> -H "authorization: Bearer $TOKEN"   # done
//! curl -o tooth.png localhost:8080/api/notes/$NOTE/attachments/<id> -H "authorization: Bearer $TOKEN"
//! curl -i localhost:8080/api/notes/$NOTE/attachments/<id> -H "authorization: Bearer $TOKEN" \
//!      -H 'range: bytes=100-199'                                       # 206
//! curl localhost:8080/api/notes/$NOTE/attachments/<id>/thumbnail -H "authorization: Bearer $TOKEN" -o thumb.png
//! TICKET=$(curl -s -X POST localhost:8080/api/realtime/ticket -H "authorization: Bearer $TOKEN" | jq -r .ticket)
//! curl -N "localhost:8080/api/realtime/events?ticket=$TICKET"            # live events (SSE)
//! ```
//!
//! `/docs` lists every route. Files outside the allow-list (`attachments::ALLOWED_TYPES`)
//! are refused; text and other content without a magic number is stored and served as
//! `application/octet-stream`.

mod app;
mod attachments;
mod notes;
mod realtime;
mod thumbnails;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
