//! # starter-files
//!
//! File storage for apps built on `starter-core`: a local directory or an S3 bucket (AWS or
//! any S3-compatible server) behind one interface, built on the `object_store` crate.
//!
//! - [`Storage`]: from `[storage]` settings ([`StorageSettings`]); a lifespan
//!   [`Component`](starter_core::Component) (start-up creates the local root or checks the
//!   bucket) with a `storage` probe in `/health`. [`Storage::put_stream`] streams content
//!   in with a multipart upload, computing its SHA-256, enforcing a size limit while
//!   streaming and checking the type sniffed from the first bytes against an allow-list;
//!   [`Storage::get`] streams it out, whole or a byte range; [`Storage::presigned_get_url`]
//!   signs a direct S3 download URL.
//! - [`upload`]: an axum multipart field into storage under a server-generated key
//!   (413/415/422 problems), and [`upload::sanitize_filename`].
//! - [`download`]: a streamed response with a strong `ETag`, `If-None-Match` (304), single
//!   byte ranges (206/416), `If-Range` and a safe `Content-Disposition`.
//! - [`testing`]: storage for tests (a temp dir, or the S3 server of
//!   `scripts/with-services`).
//!
//! Metadata (file name, size, hash, type, owner) belongs in the app's database: the store
//! keeps only bytes, under keys like `uploads/<uuid>`.

pub mod download;
pub mod settings;
pub mod storage;
pub mod testing;
pub mod upload;

pub use settings::{Backend, S3Settings, StorageSettings};
pub use storage::{
    FilesError, ObjectInfo, ObjectStream, Storage, StorageProbe, StoredObject, UploadLimits,
};

/// The `object_store` crate, so apps use the same version as the kit.
pub use object_store;
