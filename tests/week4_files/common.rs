//! Helpers of the week 4 tests: the app on a fresh database and the test Redis, with a
//! known JWT secret; users with a note; multipart uploads; polling.

use std::{future::Future, time::Duration};

pub use reqwest::{Response, StatusCode, header};
pub use serde_json::{Value, json};
use starter::config;
pub use starter_test::{TestApp, TestClient, TestDb, assert_problem, one_header, unique_email};

use crate::app;
pub use crate::app::Settings;

pub const SECRET: &str = "week4-tests-hs256-secret-0123456789-abcdefghijkl";
pub const PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

/// The example's settings as `main` loads them (config/ and `APP_*`: `scripts/with-services`
/// sets the Redis URL), on `db`, then `change`, and the checks `config::load` runs.
pub fn settings(db: &TestDb, change: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings: Settings = config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings.auth.jwt_secret = SECRET.into();
    settings.redis.url = starter_redis::testing::redis_url();
    change(&mut settings);
    let profile = settings.core.profile;
    config::Settings::check(&settings, profile).expect("the changed settings are valid");
    settings
}

/// The app on a fresh database; keep the `TestDb` for the test (it drops the database).
pub async fn start() -> (TestApp, TestDb) {
    start_with(|_| {}).await
}

/// [`start`] after `change` has adjusted the settings.
pub async fn start_with(change: impl FnOnce(&mut Settings)) -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let server = start_on(&db, change).await;
    (server, db)
}

/// Another instance on the same database as `db` (and the same Redis).
pub async fn start_on(db: &TestDb, change: impl FnOnce(&mut Settings)) -> TestApp {
    let app = app::build(&settings(db, change))
        .await
        .expect("the app builds");
    TestApp::serve(app).await
}

/// Where the app under test stores files.
pub enum Store {
    /// A directory of its own, removed on drop.
    Local(tempfile::TempDir),
    /// The test S3 server's bucket (`scripts/with-services`).
    S3,
}

impl Store {
    pub fn local() -> Self {
        Self::Local(tempfile::tempdir().expect("a temp dir"))
    }

    /// The storage root inside the temp dir (the temp dir itself holds nothing else, so
    /// a walk of it shows anything written outside the root).
    pub fn root(&self) -> Option<std::path::PathBuf> {
        match self {
            Self::Local(dir) => Some(dir.path().join("root")),
            Self::S3 => None,
        }
    }

    pub fn apply(&self, settings: &mut Settings) {
        match self {
            Self::Local(_) => {
                settings.storage.backend = starter_files::Backend::Local;
                settings.storage.root = self.root().unwrap();
            }
            Self::S3 => settings.storage = starter_files::testing::s3_settings(),
        }
    }
}

/// The app storing files in `store`, after `change`.
pub async fn start_storing(store: &Store, change: impl FnOnce(&mut Settings)) -> (TestApp, TestDb) {
    start_with(|s| {
        store.apply(s);
        change(s);
    })
    .await
}

/// `POST /api/notes/{note}/attachments` with one `file` part.
pub async fn upload(
    client: &TestClient,
    note: &str,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .expect("a valid MIME type");
    client
        .post(&format!("/api/notes/{note}/attachments"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("the upload request")
}

/// A PNG image of `width` x `height` (a gradient, so it does not compress to nothing).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("PNG encoding");
    bytes
}

/// `n` bytes of a repeating, non-trivial pattern (no magic number at the start).
pub fn text_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz\n"[i % 27])
        .collect()
}

/// A registered, logged-in client of `server`.
pub async fn user(server: &TestApp) -> TestClient {
    let mut client = server.client();
    client.register_and_login(&unique_email(), PASSWORD).await;
    client
}

/// Creates a note; returns its id.
pub async fn note(client: &TestClient, title: &str) -> String {
    let resp = client
        .post_json("/api/notes", &json!({ "title": title, "content": "text" }))
        .await;
    json_ok(resp, StatusCode::CREATED).await["id"]
        .as_str()
        .expect("the note's id")
        .to_owned()
}

/// Status and JSON body of a successful response (panics with the body otherwise).
pub async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Polls `check` every 50 ms until it gives `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
