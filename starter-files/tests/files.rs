//! One suite, run against both backends: `local` (a temp dir) and `s3` (the moto server of
//! `scripts/with-services`; these tests fail, with a hint, when it is not there).
//!
//! Run: `scripts/with-services cargo test -p starter-files`.

use std::{
    collections::HashMap,
    path::{Path as FsPath, PathBuf},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::{StatusCode, multipart};
use sha2::{Digest, Sha256};
use starter_core::{
    App, Component,
    config::{CoreSettings, Profile},
    error::ApiError,
};
use starter_files::{
    Backend, FilesError, Storage, UploadLimits,
    download::{self, Disposition, FileMeta},
    object_store::path::Path as ObjectPath,
    testing, upload,
};

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------- fixtures

struct Fixture {
    storage: Storage,
    /// Every key of this test starts with it (the S3 bucket is shared between tests).
    prefix: String,
    /// Local backend: the temp dir holding the root (`<dir>/root`).
    dir: Option<tempfile::TempDir>,
}

impl Fixture {
    fn key(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    fn root(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("root"))
    }

    /// Keys stored under this test's prefix.
    async fn stored_keys(&self) -> Vec<String> {
        self.storage
            .object_store()
            .list(Some(&ObjectPath::from(self.prefix.as_str())))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .expect("list")
    }

    /// S3: keys of this test with a multipart upload still open (parts kept by the server
    /// but invisible to a listing). An unsigned `ListMultipartUploads`, which moto accepts.
    async fn open_uploads(&self) -> Vec<String> {
        if self.storage.backend() != Backend::S3 {
            return Vec::new();
        }
        let settings = testing::s3_settings();
        let url = format!(
            "{}/{}?uploads&prefix={}",
            settings.s3.endpoint.unwrap(),
            settings.s3.bucket,
            self.prefix
        );
        let response = reqwest::get(url).await.expect("ListMultipartUploads");
        assert_eq!(response.status(), StatusCode::OK);
        let xml = response.text().await.unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect()
    }

    /// Local: every file under the temp dir (staging files of uploads included).
    fn local_files(&self) -> Vec<PathBuf> {
        self.dir.as_ref().map_or_else(Vec::new, |d| walk(d.path()))
    }
}

fn walk(dir: &FsPath) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

async fn local() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::local(dir.path().join("root")).expect("local storage");
    storage.startup().await.expect("local start-up");
    Fixture {
        storage,
        prefix: testing::unique("t"),
        dir: Some(dir),
    }
}

async fn s3() -> Fixture {
    let settings = testing::s3_settings();
    settings.check(Profile::Dev).expect("valid test settings");
    let storage = Storage::new(&settings).expect("s3 storage");
    storage
        .startup()
        .await
        .unwrap_or_else(|e| panic!("{}\n{e:#}", testing::SERVICES_HINT));
    Fixture {
        storage,
        prefix: testing::unique("t"),
        dir: None,
    }
}

/// Deterministic bytes that `infer` sees as PNG.
fn png(len: usize) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    data.extend((0..len.saturating_sub(data.len())).map(|i| (i * 31 % 251) as u8));
    data.truncate(len);
    data
}

/// The start of a Windows executable.
fn exe() -> Vec<u8> {
    let mut data = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    data.resize(4096, 0);
    data
}

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

fn images(max: usize) -> UploadLimits {
    UploadLimits::new(max as u64, &["image/*"])
}

/// `data` as a stream of `chunk`-byte pieces.
fn chunked(
    data: Vec<u8>,
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let data = Bytes::from(data);
    let n = data.len().div_ceil(chunk);
    stream::iter((0..n).map(move |i| Ok(data.slice(i * chunk..((i + 1) * chunk).min(data.len())))))
}

async fn read_all(storage: &Storage, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let object = storage.get(key, range).await.expect("get");
    let chunks: Vec<Bytes> = object.stream.try_collect().await.expect("read");
    chunks.concat()
}

// ---------------------------------------------------------------- storage tests

async fn roundtrip_and_sha256(f: Fixture) {
    let data = png(300_000);
    let key = f.key("a");
    let stored = f
        .storage
        .put_stream(&key, chunked(data.clone(), 7_000), &images(MIB))
        .await
        .expect("put");
    assert_eq!(stored.key, key);
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.sha256, sha256_hex(&data));
    assert_eq!(stored.content_type, "image/png");
    assert_eq!(read_all(&f.storage, &key, None).await, data);
    assert_eq!(
        f.storage.head(&key).await.expect("head").size,
        data.len() as u64
    );

    f.storage.delete(&key).await.expect("delete");
    assert!(matches!(
        f.storage.head(&key).await,
        Err(FilesError::NotFound)
    ));
    assert!(matches!(
        f.storage.get(&key, None).await,
        Err(FilesError::NotFound)
    ));
    f.storage
        .delete(&key)
        .await
        .expect("deleting again is fine");
    assert!(matches!(
        f.storage.head("../etc/passwd").await,
        Err(FilesError::InvalidKey(_))
    ));
}

async fn streamed_put_of_64_mib(f: Fixture) {
    const TOTAL: usize = 64 * MIB;
    const CHUNK: usize = 64 * 1024;
    let piece = |i: usize| Bytes::from(vec![(i % 251) as u8; CHUNK]);
    let body = stream::iter((0..TOTAL / CHUNK).map(move |i| Ok::<_, std::io::Error>(piece(i))));
    let key = f.key("big");
    let stored = f
        .storage
        .put_stream(&key, body, &UploadLimits::new(TOTAL as u64, &[]))
        .await
        .expect("put 64 MiB");
    let mut hasher = Sha256::new();
    for i in 0..TOTAL / CHUNK {
        hasher.update(piece(i));
    }
    assert_eq!(stored.size, TOTAL as u64);
    assert_eq!(stored.sha256, format!("{:x}", hasher.finalize()));
    assert_eq!(stored.content_type, "application/octet-stream");
    assert_eq!(f.storage.head(&key).await.expect("head").size, TOTAL as u64);
    // A slice across the 5 MiB part boundary reads back exactly.
    let start = (5 * MIB - 10) as u64;
    let slice = read_all(&f.storage, &key, Some(start..start + 20)).await;
    let expected: Vec<u8> = (start..start + 20)
        .map(|pos| ((pos as usize / CHUNK) % 251) as u8)
        .collect();
    assert_eq!(slice, expected);
    f.storage.delete(&key).await.expect("delete");
}

async fn over_the_limit_is_too_large_and_leaves_nothing(f: Fixture) {
    // Over one 5 MiB part is uploaded before the limit is crossed: the abort must remove it.
    let data = png(8 * MIB);
    let err = f
        .storage
        .put_stream(&f.key("big"), chunked(data, 256 * 1024), &images(6 * MIB))
        .await
        .expect_err("over the limit");
    assert!(
        matches!(err, FilesError::TooLarge { limit } if limit == 6 * MIB as u64),
        "{err:?}"
    );
    assert_eq!(f.stored_keys().await, Vec::<String>::new());
    assert_eq!(f.open_uploads().await, Vec::<String>::new());
    assert_eq!(f.local_files(), Vec::<PathBuf>::new());

    // Exactly at the limit is fine.
    let stored = f
        .storage
        .put_stream(&f.key("exact"), chunked(png(MIB), 100_000), &images(MIB))
        .await
        .expect("at the limit");
    assert_eq!(stored.size, MIB as u64);
}

async fn an_interrupted_upload_leaves_nothing(f: Fixture) {
    // 6 MiB (one part is sent), then the client stalls and the request future is dropped.
    let sent = chunked(png(6 * MIB), 256 * 1024);
    let body = sent.chain(stream::pending());
    let (key, limits) = (f.key("cut"), images(10 * MIB));
    let put = f.storage.put_stream(&key, body, &limits);
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(2), put).await;
    assert!(
        outcome.is_err(),
        "the upload must still be waiting for data"
    );
    // The abort runs in a spawned task.
    let mut left = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..50 {
        left = (
            f.stored_keys().await,
            f.open_uploads().await,
            f.local_files(),
        );
        if left == (Vec::new(), Vec::new(), Vec::new()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("left behind after 5 s: {left:?}");
}

async fn exe_named_png_is_an_unsupported_type(f: Fixture) {
    let err = f
        .storage
        .put_stream(&f.key("photo.png"), chunked(exe(), 1000), &images(MIB))
        .await
        .expect_err("an executable is not an image");
    match err {
        FilesError::UnsupportedType { detected } => {
            assert_eq!(detected, "application/vnd.microsoft.portable-executable")
        }
        other => panic!("{other:?}"),
    }
    let err = f
        .storage
        .put_stream(&f.key("empty"), chunked(Vec::new(), 10), &images(MIB))
        .await
        .expect_err("empty");
    assert!(matches!(err, FilesError::Empty), "{err:?}");
    assert_eq!(f.stored_keys().await, Vec::<String>::new());
    assert_eq!(f.open_uploads().await, Vec::<String>::new());
    assert_eq!(f.local_files(), Vec::<PathBuf>::new());
}

async fn range_reads(f: Fixture) {
    let data = png(1000);
    let key = f.key("r");
    f.storage
        .put_stream(&key, chunked(data.clone(), 1000), &images(MIB))
        .await
        .expect("put");
    assert_eq!(
        read_all(&f.storage, &key, Some(100..200)).await,
        &data[100..200]
    );
    // An end past the object is clipped.
    assert_eq!(
        read_all(&f.storage, &key, Some(900..5000)).await,
        &data[900..]
    );
    let object = f.storage.get(&key, Some(10..20)).await.expect("get");
    assert_eq!((object.size, object.range), (1000, 10..20));
    assert!(matches!(
        f.storage.get(&key, Some(1000..1100)).await,
        Err(FilesError::RangeNotSatisfiable)
    ));
}

async fn health_probe_and_startup_check(f: Fixture) {
    let probe = f.storage.probe().expect("a storage probe");
    assert_eq!(probe.name(), "storage");
    assert_eq!(probe.check().await, Ok(()));
    match f.storage.backend() {
        Backend::Local => {
            std::fs::remove_dir_all(f.root().unwrap()).unwrap();
            assert!(probe.check().await.is_err(), "a missing root is down");
            f.storage
                .startup()
                .await
                .expect("start-up recreates the root");
            assert_eq!(probe.check().await, Ok(()));
        }
        Backend::S3 => {
            let mut settings = testing::s3_settings();
            settings.s3.bucket = testing::unique("missing");
            settings.s3.startup_timeout = std::time::Duration::from_secs(1);
            let missing = Storage::new(&settings).unwrap();
            let err = missing.check().await.expect_err("a missing bucket is down");
            assert!(format!("{err:#}").contains(&settings.s3.bucket), "{err:#}");
            let started = std::time::Instant::now();
            let err = missing.startup().await.expect_err("start-up fails");
            assert!(format!("{err:#}").contains(&settings.s3.bucket), "{err:#}");
            assert!(started.elapsed() < std::time::Duration::from_secs(5));

            // The variables of scripts/with-services are the `[storage]` config keys.
            let loaded: starter_files::StorageSettings =
                starter_core::config::figment(Profile::Dev)
                    .extract_inner("storage")
                    .expect("[storage] from APP_STORAGE__*");
            let expected = testing::s3_settings();
            assert_eq!(loaded.s3.endpoint, expected.s3.endpoint);
            assert_eq!(loaded.s3.bucket, expected.s3.bucket);
            assert!(loaded.s3.allow_http);
            assert!(loaded.s3.access_key_id.is_some());
            loaded.check(Profile::Dev).expect("valid");
        }
    }
}

async fn presigned_url(f: Fixture) {
    let data = png(5000);
    let key = f.key("p");
    f.storage
        .put_stream(&key, chunked(data.clone(), 5000), &images(MIB))
        .await
        .expect("put");
    let url = f.storage.presigned_get_url(&key, None).await.expect("sign");
    match f.storage.backend() {
        Backend::Local => assert_eq!(url, None),
        Backend::S3 => {
            let url = url.expect("S3 signs URLs");
            assert!(
                url.query().unwrap_or_default().contains("X-Amz-Signature"),
                "{url}"
            );
            let response = reqwest::get(url).await.expect("GET presigned");
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.bytes().await.unwrap(), data);
        }
    }
}

// ---------------------------------------------------------------- HTTP tests

const HTTP_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
struct AppState {
    storage: Storage,
    prefix: String,
    /// Stands in for the app's database.
    files: Arc<Mutex<HashMap<String, FileMeta>>>,
}

async fn upload_handler(
    State(state): State<AppState>,
    multipart: Multipart,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limits = images(HTTP_LIMIT);
    let up = upload::receive(&state.storage, multipart, "file", &state.prefix, &limits).await?;
    let id = up.object.key.rsplit('/').next().unwrap().to_owned();
    let meta = FileMeta {
        key: up.object.key.clone(),
        size: up.object.size,
        sha256: up.object.sha256.clone(),
        content_type: up.object.content_type.clone(),
        filename: up.filename.clone(),
    };
    state.files.lock().unwrap().insert(id.clone(), meta);
    Ok(Json(
        serde_json::json!({"id": id, "key": up.object.key, "filename": up.filename}),
    ))
}

async fn download_handler(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let meta = state
        .files
        .lock()
        .unwrap()
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("no such file"))?;
    download::respond(&state.storage, &meta, &headers, Disposition::InlineImages).await
}

/// A running app (the kit's full stack, with the storage as a component) on 127.0.0.1.
struct Server {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(std::time::Duration::from_secs(15), self.task)
            .await
            .expect("the server stops")
            .expect("join")
            .expect("serve");
    }
}

async fn serve(f: &Fixture) -> Server {
    let state = AppState {
        storage: f.storage.clone(),
        prefix: f.prefix.clone(),
        files: Arc::default(),
    };
    let routes = Router::new()
        // The route's body limit is well above the file limit: the stream limit answers.
        .route(
            "/files",
            post(upload_handler).layer(DefaultBodyLimit::max(4 * HTTP_LIMIT)),
        )
        // Here the body limit is below the file limit: the body limit answers.
        .route(
            "/small",
            post(upload_handler).layer(DefaultBodyLimit::max(HTTP_LIMIT / 4)),
        )
        .route("/files/{id}", get(download_handler))
        .with_state(state);
    let app = App::new(&CoreSettings::default())
        .component(f.storage.clone())
        .merge(routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    for _ in 0..100 {
        let ready = reqwest::get(format!("{base}/health/ready")).await;
        if ready.is_ok_and(|response| response.status() == StatusCode::OK) {
            return Server { base, stop, task };
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the app did not become ready");
}

fn form(name: &str, filename: &str, data: Vec<u8>) -> multipart::Form {
    multipart::Form::new().part(
        name.to_owned(),
        multipart::Part::bytes(data).file_name(filename.to_owned()),
    )
}

async fn problem(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

async fn http_upload_and_download(f: Fixture) {
    let server = serve(&f).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let data = png(1000);

    let health: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["checks"]["storage"]["status"], "up", "{health}");

    // Upload under a hostile name: stored under a server key, the name kept sanitized.
    let response = client
        .post(format!("{base}/files"))
        .multipart(
            multipart::Form::new()
                .text("note", "fields before the file are skipped")
                .part(
                    "file",
                    multipart::Part::bytes(data.clone()).file_name("../../etc/passwd"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(body["filename"], "passwd");
    assert_eq!(body["key"], format!("{}/{id}", f.prefix));
    if let Some(root) = f.root() {
        // Nothing outside the root; the one file is named by the uuid.
        let files = f.local_files();
        assert_eq!(files, vec![root.join(&f.prefix).join(&id)]);
    }

    let url = format!("{base}/files/{id}");
    let etag = format!("\"{}\"", sha256_hex(&data));
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers().clone();
    assert_eq!(h["etag"], etag.as_str());
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["content-length"], "1000");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        "inline; filename=\"passwd\"; filename*=UTF-8''passwd"
    );
    assert_eq!(response.bytes().await.unwrap(), data);

    // 304 on a matching If-None-Match (also in a list, also weak).
    for value in [etag.clone(), format!("\"x\", W/{etag}")] {
        let response = client
            .get(&url)
            .header("if-none-match", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()["etag"], etag.as_str());
        assert!(response.bytes().await.unwrap().is_empty());
    }
    let response = client
        .get(&url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // 206 with the exact bytes 100-199.
    let response = client
        .get(&url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.headers()["content-range"], "bytes 100-199/1000");
    assert_eq!(response.headers()["content-length"], "100");
    assert_eq!(response.bytes().await.unwrap(), &data[100..200]);

    // Suffix and open-ended ranges.
    let response = client
        .get(&url)
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.headers()["content-range"], "bytes 990-999/1000");
    assert_eq!(response.bytes().await.unwrap(), &data[990..]);
    let response = client
        .get(&url)
        .header("range", "bytes=995-")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-range"], "bytes 995-999/1000");
    assert_eq!(response.bytes().await.unwrap(), &data[995..]);

    // 416 past the end.
    let response = client
        .get(&url)
        .header("range", "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(response.headers()["content-range"], "bytes */1000");
    assert_eq!(problem(response).await["code"], "range_not_satisfiable");

    // Several ranges: the whole file.
    let response = client
        .get(&url)
        .header("range", "bytes=0-1,5-6")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap(), data);

    // If-Range: the range only when the tag still matches.
    let response = client
        .get(&url)
        .header("range", "bytes=0-9")
        .header("if-range", etag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let response = client
        .get(&url)
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap(), data);

    // The object is gone: 404, not 500.
    f.storage
        .delete(&format!("{}/{id}", f.prefix))
        .await
        .unwrap();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    server.stop().await;
}

async fn http_upload_errors(f: Fixture) {
    let server = serve(&f).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let post = |path: &str, form: multipart::Form| {
        client.post(format!("{base}{path}")).multipart(form).send()
    };

    // 415, naming the detected type.
    let response = post("/files", form("file", "photo.png", exe()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body = problem(response).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("application/vnd.microsoft.portable-executable"),
        "{body}"
    );

    // 413 from the stream limit (body limit higher) and from the body limit.
    let response = post("/files", form("file", "big.png", png(HTTP_LIMIT + 1)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await["code"], "payload_too_large");
    let response = post("/small", form("file", "big.png", png(HTTP_LIMIT / 2)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await["code"], "payload_too_large");

    // 422: the field is missing, or the file is empty.
    let response = post("/files", form("other", "a.png", png(100)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(response).await["errors"][0]["field"], "file");
    let response = post("/files", form("file", "a.png", Vec::new()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(response).await["errors"][0]["code"], "empty");

    // None of them left anything behind.
    assert_eq!(f.stored_keys().await, Vec::<String>::new());
    assert_eq!(f.open_uploads().await, Vec::<String>::new());
    assert_eq!(f.local_files(), Vec::<PathBuf>::new());
    server.stop().await;
}

// ---------------------------------------------------------------- both backends

macro_rules! suite {
    ($backend:ident: $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::$backend().await).await;
                }
            )*
        }
    };
}

macro_rules! both {
    ($($test:ident),* $(,)?) => {
        suite!(local: $($test),*);
        suite!(s3: $($test),*);
    };
}

both!(
    roundtrip_and_sha256,
    streamed_put_of_64_mib,
    over_the_limit_is_too_large_and_leaves_nothing,
    an_interrupted_upload_leaves_nothing,
    exe_named_png_is_an_unsupported_type,
    range_reads,
    health_probe_and_startup_check,
    presigned_url,
    http_upload_and_download,
    http_upload_errors,
);
