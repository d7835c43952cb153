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
    // The tests share one Redis: each database gets its own queues and event stream, so
    // one test's worker never takes another's jobs. (Two instances on one database share
    // them, as two instances of a service do.)
    settings.jobs.namespace = format!("{}-jobs", db.name());
    settings.realtime.key_prefix = format!("{}-events", db.name());
    settings.auth.rate_limit.key_prefix = format!("{}-rate-limit", db.name());
    // Tests that look at the files choose their own directory (`Store`).
    settings.storage.root =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-files", db.name()));
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

/// `GET /api/notes/{note}/attachments`, which must answer 200.
pub async fn listed(client: &TestClient, note: &str) -> Value {
    let resp = client
        .get(&format!("/api/notes/{note}/attachments"))
        .send()
        .await
        .expect("the list request");
    json_ok(resp, StatusCode::OK).await
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

/// Settings for fast job tests: short heartbeats, quick retries.
pub fn fast_jobs(settings: &mut Settings) {
    settings.jobs.heartbeat_interval = Duration::from_secs(1);
    settings.jobs.orphan_timeout = Duration::from_secs(3);
    settings.jobs.poll_interval = Duration::from_millis(50);
    settings.jobs.backoff_base = Duration::from_millis(100);
    settings.jobs.backoff_max = Duration::from_millis(400);
}

/// Polls `GET /api/jobs/{id}` until its state is `state`, for at most `within`.
pub async fn job_reaches(client: &TestClient, id: &str, state: &str, within: Duration) -> Value {
    eventually(&format!("job {id} is {state}"), within, || async {
        let resp = client.get(&format!("/api/jobs/{id}")).send().await.unwrap();
        let status = json_ok(resp, StatusCode::OK).await;
        (status["state"] == state).then_some(status)
    })
    .await
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// A minimal SSE client: the response's body, parsed into events (comments skipped).
pub struct SseClient {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseClient {
    /// `GET url` with an optional `Last-Event-ID`; panics unless it is an event stream.
    pub async fn connect(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(url)
            .header(header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let resp = request.send().await.expect("the SSE request");
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        assert_eq!(
            one_header(resp.headers(), header::CONTENT_TYPE),
            "text/event-stream"
        );
        Self {
            body: Box::pin(resp.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event, waiting at most 10 s.
    pub async fn next(&mut self) -> SseEvent {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                let mut has_data = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.trim_start());
                        has_data = true;
                    }
                }
                if has_data {
                    return event;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream goes on")
                .expect("the stream reads");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event of `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> SseEvent {
        loop {
            let event = self.next().await;
            if event.event.as_deref() == Some(kind) {
                return event;
            }
        }
    }
}

/// A ticket for the realtime routes, from `POST /api/realtime/ticket`.
pub async fn ticket(client: &TestClient) -> String {
    let resp = client.post("/api/realtime/ticket").send().await.unwrap();
    json_ok(resp, StatusCode::OK).await["ticket"]
        .as_str()
        .expect("a ticket")
        .to_owned()
}
