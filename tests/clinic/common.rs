//! Helpers of the clinic tests: the app on a fresh database (and Redis stream) with a
//! seeded admin, staff of each role logged in as `TestClient`s, patients, procedures and
//! appointments made through the API, and a small SSE reader.

pub use reqwest::{Response, StatusCode, header};
pub use serde_json::{Value, json};
use starter::{
    auth::settings::{Quota, RateLimits},
    config,
};
pub use starter_test::{TestApp, TestClient, TestDb, assert_problem, header_values, unique_email};

use crate::app;

/// A password made of characters JSON never escapes.
pub const PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

/// The admin seeded at start-up.
pub const ADMIN_EMAIL: &str = "clinic-admin@example.com";
pub const ADMIN_PASSWORD: &str = "Clinic-Admin-Password-For-Tests-7";

/// A well-formed id that nothing has.
pub const UNKNOWN_ID: &str = "65a1f0c2e4b0a1b2c3d4e5f6";

/// A Monday 10:00 in Seoul (01:00 UTC), far in the future of any test run.
pub const MONDAY_10: &str = "2030-03-04T01:00:00Z";

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`, with an
/// admin seeded and rate limits no test here reaches.
pub fn settings(db: &TestDb) -> app::Settings {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings.redis.url = starter_redis::testing::redis_url();
    // The tests share one Redis: each database gets its own event stream.
    settings.realtime.key_prefix = format!("{}-events", db.name());
    settings.jobs.namespace = format!("{}-jobs", db.name());
    settings.auth.seed_admin.email = Some(ADMIN_EMAIL.into());
    settings.auth.seed_admin.password = Some(ADMIN_PASSWORD.into());
    settings.auth.rate_limit = RateLimits {
        login: Quota::new(1000, 1),
        register: Quota::new(1000, 1),
        refresh: Quota::new(1000, 1),
        login_account: Quota::new(1000, 1),
        ..RateLimits::default()
    };
    settings
}

/// The app on a fresh database; keep the `TestDb` for the test (it drops the database).
pub async fn start() -> (TestApp, TestDb) {
    start_with(|_| {}).await
}

/// [`start`], with `change` applied to the settings first.
pub async fn start_with(change: impl FnOnce(&mut app::Settings)) -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let mut settings = settings(&db);
    change(&mut settings);
    let app = app::build(&settings).await.expect("the app builds");
    (TestApp::serve(app).await, db)
}

/// The seeded admin, logged in.
pub async fn admin(server: &TestApp) -> TestClient {
    let mut client = server.client();
    client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    client
}

/// A new staff member with `role`, created by `admin` and logged in; returns the client
/// and the staff id.
pub async fn staff(
    server: &TestApp,
    admin: &TestClient,
    role: &str,
    name: &str,
) -> (TestClient, String) {
    let email = unique_email();
    let created = json_ok(
        admin
            .post_json(
                "/api/staff",
                &json!({ "email": email, "name": name, "role": role, "password": PASSWORD }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut client = server.client();
    client.login(&email, PASSWORD).await;
    (client, id_of(&created))
}

/// An admin, a dentist and a receptionist, logged in.
pub struct Team {
    pub admin: TestClient,
    pub dentist: TestClient,
    pub dentist_id: String,
    pub receptionist: TestClient,
}

pub async fn team(server: &TestApp) -> Team {
    let admin = admin(server).await;
    let (dentist, dentist_id) = staff(server, &admin, "dentist", "김지현").await;
    let (receptionist, _) = staff(server, &admin, "receptionist", "이수진").await;
    Team {
        admin,
        dentist,
        dentist_id,
        receptionist,
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Response {
    req.send().await.expect("a response")
}

/// Status and JSON body of a successful response (panics with the body otherwise).
pub async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let content_type = header_values(resp.headers(), header::CONTENT_TYPE);
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    assert_eq!(content_type, ["application/json"], "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn id_of(item: &Value) -> String {
    item["id"].as_str().expect("a string id").to_owned()
}

/// Registers a patient as `client` (201) and returns its id.
pub async fn new_patient(client: &TestClient, name: &str, phone: &str) -> String {
    let resp = client
        .post_json(
            "/api/patients",
            &json!({ "name": name, "phone": phone, "birth_date": "1985-03-14" }),
        )
        .await;
    id_of(&json_ok(resp, StatusCode::CREATED).await)
}

/// Adds a procedure as `admin` (201) and returns its id.
pub async fn new_procedure(admin: &TestClient, code: &str, fee_krw: i64, minutes: i64) -> String {
    let resp = admin
        .post_json(
            "/api/procedures",
            &json!({ "code": code, "name": format!("시술 {code}"), "fee_krw": fee_krw,
                "duration_min": minutes }),
        )
        .await;
    id_of(&json_ok(resp, StatusCode::CREATED).await)
}

/// The body of a booking.
pub fn booking(
    patient: &str,
    dentist: &str,
    chair: u32,
    start: &str,
    procedures: &[&str],
) -> Value {
    json!({ "patient_id": patient, "dentist_id": dentist, "chair": chair, "start": start,
        "procedure_ids": procedures })
}

/// The names of a patient list's `data`, in order.
pub fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {page}"))
        .iter()
        .map(|p| p["name"].as_str().expect("a name").to_owned())
        .collect()
}

/// One Server-Sent Event: its `event:` and its `data:` as JSON.
#[derive(Debug)]
pub struct SseEvent {
    pub kind: String,
    pub data: Value,
}

/// A minimal SSE reader of a response body (comments, such as keep-alives, skipped).
pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    /// `GET /api/events?ticket=` with a fresh ticket of `client`.
    pub async fn open(server: &TestApp, client: &TestClient) -> Self {
        let ticket = json_ok(
            send(client.post("/api/realtime/ticket")).await,
            StatusCode::OK,
        )
        .await["ticket"]
            .as_str()
            .expect("a ticket")
            .to_owned();
        let resp = send(
            server
                .client()
                .get("/api/events")
                .query(&[("ticket", &ticket)])
                .header(header::ACCEPT, "text/event-stream"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            header_values(resp.headers(), header::CONTENT_TYPE),
            ["text/event-stream"]
        );
        Self {
            body: Box::pin(resp.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event, waiting at most 10 s.
    pub async fn next(&mut self) -> SseEvent {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut kind, mut data) = (None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(kind) = kind {
                    let data = serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
                    return SseEvent { kind, data };
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
}
