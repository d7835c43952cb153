//! [`Storage`]: one interface over a local directory or an S3 bucket.

use std::{
    fmt,
    ops::Range,
    path::{Path as FsPath, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt, future::BoxFuture, stream::BoxStream};
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, aws::AmazonS3Builder,
    chunked::ChunkedStore, local::LocalFileSystem, path::Path, signer::Signer,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use starter_core::{Component, health::Probe};
use url::Url;

use crate::settings::{Backend, StorageSettings};

/// Size of the parts of a multipart upload: S3's minimum part size, so that at most a few
/// parts are in memory at once.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// How much of a local file one read of a download takes (memory per download in flight).
const LOCAL_READ_CHUNK: usize = 256 * 1024;
/// Parts uploaded concurrently; the producer waits beyond that (bounded memory).
const PART_CONCURRENCY: usize = 2;
/// Bytes given to `infer` to recognise the type; covers every signature it knows.
const SNIFF_LEN: usize = 8192;
/// How long start-up keeps retrying the check of a local root.
const LOCAL_STARTUP_TIMEOUT: Duration = Duration::from_secs(1);
/// A prefix under which nothing is stored: listing it is a cheap round trip to the bucket.
const PROBE_PREFIX: &str = ".starter-files-probe";

/// The failures of [`Storage`] operations.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The content went over [`UploadLimits::max_size`]; nothing was kept.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The content's type (sniffed from its first bytes) is not in the allow-list.
    #[error("file type {detected} is not allowed")]
    UnsupportedType { detected: String },
    /// The content was empty.
    #[error("the file is empty")]
    Empty,
    /// The key is not a valid object path (`..`, empty segments, control characters).
    #[error("invalid storage key: {0}")]
    InvalidKey(String),
    /// No object under this key.
    #[error("no stored object under this key")]
    NotFound,
    /// The range starts at or after the end of the object.
    #[error("the range is outside the object")]
    RangeNotSatisfiable,
    /// The input stream failed (e.g. the client went away or sent a malformed body).
    #[error("reading the upload failed: {0}")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The storage backend failed.
    #[error("storage error: {0}")]
    Storage(#[source] object_store::Error),
}

impl From<object_store::Error> for FilesError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            object_store::Error::InvalidPath { source } => Self::InvalidKey(source.to_string()),
            other => Self::Storage(other),
        }
    }
}

/// What [`Storage::put_stream`] accepts.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Maximum size in bytes, enforced while streaming.
    pub max_size: u64,
    /// Allowed MIME types as sniffed from the content (`image/png`, or `image/*`). Content
    /// that `infer` does not recognise counts as `application/octet-stream`. Empty: any.
    pub allowed_types: Vec<String>,
}

impl UploadLimits {
    /// `max_size` bytes of the given types.
    pub fn new(max_size: u64, allowed_types: &[&str]) -> Self {
        Self {
            max_size,
            allowed_types: allowed_types.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Whether a sniffed MIME type is allowed.
    pub fn allows(&self, mime: &str) -> bool {
        self.allowed_types.is_empty()
            || self
                .allowed_types
                .iter()
                .any(|allowed| match allowed.strip_suffix("/*") {
                    Some(major) => mime
                        .split_once('/')
                        .is_some_and(|(m, _)| m.eq_ignore_ascii_case(major)),
                    None => allowed.eq_ignore_ascii_case(mime),
                })
    }
}

/// The result of a successful [`Storage::put_stream`]; keep it (with the client's file name)
/// in your database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// The MIME type sniffed from the content.
    pub content_type: String,
}

/// What [`Storage::head`] knows of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// A streamed read: the bytes of `range` of an object of `size` bytes.
pub struct ObjectStream {
    /// Size of the whole object.
    pub size: u64,
    /// The byte range being streamed (end exclusive).
    pub range: Range<u64>,
    pub stream: BoxStream<'static, Result<Bytes, FilesError>>,
}

impl fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStream")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Files on the local disk or in S3, behind one interface. Cheap to clone.
///
/// Register it with `App::component(storage.clone())`: start-up creates the local root or
/// checks that the bucket answers, and `/health` gets a `storage` probe.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    backend: Backend,
    /// The local root (for the `local` backend).
    root: PathBuf,
    presign_ttl: Duration,
    startup_timeout: Duration,
    /// `local:<root>` or `s3://<bucket>`, for logs.
    label: String,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.inner.label)
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Builds the store. For `local`, the root directory is created here already, because
    /// `object_store` resolves it to an absolute path when the store is built. For `s3`,
    /// nothing is contacted yet (the [`Component`] start-up checks the bucket).
    pub fn new(settings: &StorageSettings) -> anyhow::Result<Self> {
        match settings.backend {
            Backend::Local => Self::local(&settings.root),
            Backend::S3 => {
                let s3 = &settings.s3;
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id.expose_secret())
                        .with_secret_access_key(secret.expose_secret());
                }
                let s3_store =
                    Arc::new(builder.build().with_context(|| {
                        format!("invalid [storage.s3] for bucket `{}`", s3.bucket)
                    })?);
                Ok(Self {
                    inner: Arc::new(Inner {
                        store: s3_store.clone(),
                        signer: Some(s3_store),
                        backend: Backend::S3,
                        root: PathBuf::new(),
                        presign_ttl: s3.presign_ttl,
                        startup_timeout: s3.startup_timeout,
                        label: format!("s3://{}", s3.bucket),
                    }),
                })
            }
        }
    }

    /// A `local` store rooted at `root` (created if missing).
    pub fn local(root: impl AsRef<FsPath>) -> anyhow::Result<Self> {
        let root = root.as_ref();
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create storage.root `{}`", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(root)
            .with_context(|| format!("cannot use storage.root `{}`", root.display()))?
            // Removes the empty directories a delete leaves behind.
            .with_automatic_cleanup(true);
        // `LocalFileSystem` streams a file in 8 KiB reads, each a trip to the blocking
        // pool; object_store's `ChunkedStore` reads LOCAL_READ_CHUNK at a time instead
        // (see BENCHMARKS.md, file downloads).
        let store = ChunkedStore::new(Arc::new(store), LOCAL_READ_CHUNK);
        Ok(Self {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                signer: None,
                backend: Backend::Local,
                root: root.to_owned(),
                presign_ttl: Duration::from_secs(300),
                startup_timeout: LOCAL_STARTUP_TIMEOUT,
                label: format!("local:{}", root.display()),
            }),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The underlying `object_store`, for operations this type does not wrap (listing, …).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.inner.store.clone()
    }

    /// Streams `body` into a new object under `key`, with a multipart upload in
    /// 5 MiB parts (at most a few in memory at once, never the whole file), hashing it on
    /// the way.
    ///
    /// The first bytes are sniffed before anything is written: a type outside
    /// `limits.allowed_types` fails with [`FilesError::UnsupportedType`], empty content with
    /// [`FilesError::Empty`]. Going over `limits.max_size` fails with
    /// [`FilesError::TooLarge`] as soon as the limit is crossed. On any error the multipart
    /// upload is aborted, so no partial object is left behind.
    pub async fn put_stream<S, E>(
        &self,
        key: &str,
        body: S,
        limits: &UploadLimits,
    ) -> Result<StoredObject, FilesError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = parse_key(key)?;
        let mut body = std::pin::pin!(body.map_err(|e| FilesError::Body(e.into())));

        // Collect the head for sniffing (a few KiB at most, plus the rest of its chunk).
        let mut head: Vec<Bytes> = Vec::new();
        let mut head_len = 0usize;
        let mut ended = false;
        while head_len < SNIFF_LEN {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk?;
                    head_len += chunk.len();
                    check_size(head_len as u64, limits)?;
                    head.push(chunk);
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if head_len == 0 {
            return Err(FilesError::Empty);
        }
        let mut sniff = Vec::with_capacity(head_len.min(SNIFF_LEN));
        for chunk in &head {
            let take = (SNIFF_LEN - sniff.len()).min(chunk.len());
            sniff.extend_from_slice(&chunk[..take]);
        }
        let content_type = infer::get(&sniff)
            .map_or("application/octet-stream", |t| t.mime_type())
            .to_owned();
        if !limits.allows(&content_type) {
            return Err(FilesError::UnsupportedType {
                detected: content_type,
            });
        }

        let upload = self.inner.store.put_multipart(&path).await?;
        let mut writer = AbortOnDrop(Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE)));
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let result: Result<(), FilesError> = async {
            for chunk in head {
                hasher.update(&chunk);
                size += chunk.len() as u64;
                writer.get().put(chunk);
            }
            if !ended {
                while let Some(chunk) = body.next().await {
                    let chunk = chunk?;
                    size += chunk.len() as u64;
                    check_size(size, limits)?;
                    hasher.update(&chunk);
                    writer.get().wait_for_capacity(PART_CONCURRENCY).await?;
                    writer.get().put(chunk);
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            if let Err(abort) = writer.take().abort().await {
                tracing::warn!(error = %abort, "aborting a failed upload failed");
            }
            return Err(e);
        }
        // `finish` aborts the upload itself when completing it fails.
        writer.take().finish().await?;
        Ok(StoredObject {
            key: key.to_owned(),
            size,
            sha256: format!("{:x}", hasher.finalize()),
            content_type,
        })
    }

    /// Streams an object, or the byte `range` of it (end exclusive, clipped to the size).
    /// A range that starts at or after the end fails with
    /// [`FilesError::RangeNotSatisfiable`].
    pub async fn get(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<ObjectStream, FilesError> {
        let path = parse_key(key)?;
        if range.as_ref().is_some_and(|r| r.start >= r.end) {
            return Err(FilesError::RangeNotSatisfiable);
        }
        let options = GetOptions::new().with_range(range.clone().map(GetRange::Bounded));
        let result = match self.inner.store.get_opts(&path, options).await {
            Ok(result) => result,
            // The backends report an out-of-bounds range in backend-specific ways; a `head`
            // on this (rare) error path tells it apart from a real failure.
            Err(e) if range.is_some() && !matches!(e, object_store::Error::NotFound { .. }) => {
                let start = range.as_ref().map_or(0, |r| r.start);
                return match self.inner.store.head(&path).await {
                    Ok(meta) if start >= meta.size => Err(FilesError::RangeNotSatisfiable),
                    _ => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let size = result.meta.size;
        let range = result.range.clone();
        let stream = result.into_stream().map_err(FilesError::from).boxed();
        Ok(ObjectStream {
            size,
            range,
            stream,
        })
    }

    /// Size of an object ([`FilesError::NotFound`] when absent).
    pub async fn head(&self, key: &str) -> Result<ObjectInfo, FilesError> {
        let meta = self.inner.store.head(&parse_key(key)?).await?;
        Ok(ObjectInfo {
            key: key.to_owned(),
            size: meta.size,
        })
    }

    /// Deletes an object. Deleting a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FilesError> {
        match self.inner.store.delete(&parse_key(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A URL that lets anyone `GET` the object for `ttl` (default `storage.s3.presign_ttl`),
    /// for S3; `None` for the local backend, which serves files through the app instead.
    pub async fn presigned_get_url(
        &self,
        key: &str,
        ttl: Option<Duration>,
    ) -> Result<Option<Url>, FilesError> {
        let Some(signer) = &self.inner.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(
                http::Method::GET,
                &parse_key(key)?,
                ttl.unwrap_or(self.inner.presign_ttl),
            )
            .await?;
        Ok(Some(url))
    }

    /// Local: the root is a directory. S3: the bucket exists and answers.
    pub async fn check(&self) -> anyhow::Result<()> {
        match self.inner.backend {
            Backend::Local => {
                let meta = tokio::fs::metadata(&self.inner.root)
                    .await
                    .with_context(|| {
                        format!("storage root `{}` is missing", self.inner.root.display())
                    })?;
                anyhow::ensure!(
                    meta.is_dir(),
                    "storage root `{}` is not a directory",
                    self.inner.root.display()
                );
                Ok(())
            }
            // A listing under a prefix that holds nothing: one small page. Unlike a `head`,
            // it tells a missing bucket (an error) from a missing key.
            Backend::S3 => match self
                .inner
                .store
                .list_with_delimiter(Some(&Path::from(PROBE_PREFIX)))
                .await
            {
                Ok(_) => Ok(()),
                Err(e) => Err(anyhow::Error::new(e)
                    .context(format!("bucket `{}` does not answer", self.inner.label))),
            },
        }
    }
}

/// Aborts the multipart upload when dropped unfinished: axum drops a handler's future when
/// its client goes away mid-upload, and the parts sent so far must not stay behind.
struct AbortOnDrop(Option<WriteMultipart>);

impl AbortOnDrop {
    fn get(&mut self) -> &mut WriteMultipart {
        self.0
            .as_mut()
            .expect("the writer is only taken at the end")
    }

    fn take(&mut self) -> WriteMultipart {
        self.0.take().expect("the writer is taken once")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(writer) = self.0.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = writer.abort().await {
                        tracing::warn!(error = %e, "aborting an interrupted upload failed");
                    }
                });
            }
            Err(_) => tracing::warn!("an interrupted upload could not be aborted (no runtime)"),
        }
    }
}

fn check_size(size: u64, limits: &UploadLimits) -> Result<(), FilesError> {
    if size > limits.max_size {
        return Err(FilesError::TooLarge {
            limit: limits.max_size,
        });
    }
    Ok(())
}

/// Parses a key as an object path, refusing `..`, empty segments and the like rather than
/// silently normalising them (a normalised key could name another object).
fn parse_key(key: &str) -> Result<Path, FilesError> {
    if key.is_empty() {
        return Err(FilesError::InvalidKey("empty key".into()));
    }
    Path::parse(key).map_err(|e| FilesError::InvalidKey(e.to_string()))
}

impl Component for Storage {
    fn name(&self) -> &str {
        "storage"
    }

    /// Local: (re)creates the root. S3: checks the bucket, retrying for
    /// `storage.s3.startup_timeout`.
    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if self.inner.backend == Backend::Local {
                tokio::fs::create_dir_all(&self.inner.root)
                    .await
                    .with_context(|| {
                        format!("cannot create storage root `{}`", self.inner.root.display())
                    })?;
            }
            let timeout = self.inner.startup_timeout;
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let attempt = tokio::time::timeout_at(deadline, self.check()).await;
                match attempt {
                    Ok(Ok(())) => {
                        tracing::info!(storage = %self.inner.label, "storage ready");
                        return Ok(());
                    }
                    Ok(Err(e))
                        if tokio::time::Instant::now() + Duration::from_millis(500) < deadline =>
                    {
                        tracing::debug!(error = format!("{e:#}"), "storage not ready yet");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(_) => anyhow::bail!(
                        "storage `{}` did not answer within {timeout:?}",
                        self.inner.label
                    ),
                }
            }
        })
    }

    fn probe(&self) -> Option<Arc<dyn Probe>> {
        Some(Arc::new(StorageProbe(self.clone())))
    }
}

/// The `storage` check of `/health` (required: uploads and downloads need it).
pub struct StorageProbe(Storage);

impl Probe for StorageProbe {
    fn name(&self) -> &str {
        "storage"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            // The outermost context only: the backend's own message can be long.
            self.0.check().await.map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_exact_and_wildcard() {
        let limits = UploadLimits::new(10, &["image/*", "application/pdf"]);
        assert!(limits.allows("image/png"));
        assert!(limits.allows("application/pdf"));
        assert!(!limits.allows("application/x-msdownload"));
        assert!(!limits.allows("imagex/png"));
        assert!(UploadLimits::new(10, &[]).allows("anything/else"));
    }

    #[test]
    fn keys_with_dot_dot_are_refused() {
        assert!(parse_key("uploads/a").is_ok());
        assert!(matches!(parse_key("../x"), Err(FilesError::InvalidKey(_))));
        assert!(matches!(parse_key(""), Err(FilesError::InvalidKey(_))));
    }
}
