//! Helpers of the board tests: the app on a fresh database with a seeded admin, members
//! logged in as `TestClient`s, and posts and comments written through the API.

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
pub const ADMIN_EMAIL: &str = "moderator@example.com";
pub const ADMIN_PASSWORD: &str = "Moderator-Password-For-Tests-7";

/// A well-formed id that nothing has.
pub const UNKNOWN_ID: &str = "65a1f0c2e4b0a1b2c3d4e5f6";

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`, with an
/// admin seeded and rate limits no test here reaches.
pub fn settings(db: &TestDb) -> app::Settings {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
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
    let db = TestDb::new().await;
    let app = app::build(&settings(&db)).await.expect("the app builds");
    (TestApp::serve(app).await, db)
}

/// A new member, logged in; returns the client (it sends the token) and the user's id.
pub async fn member(server: &TestApp) -> (TestClient, String) {
    let mut client = server.client();
    let session = client.register_and_login(&unique_email(), PASSWORD).await;
    let id = session.user_id().to_owned();
    (client, id)
}

/// The seeded admin, logged in.
pub async fn admin(server: &TestApp) -> TestClient {
    let mut client = server.client();
    client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    client
}

/// A client with no token: the public.
pub fn anonymous(server: &TestApp) -> TestClient {
    server.client()
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

/// Writes a post as `client` (201) and returns its JSON.
pub async fn new_post(client: &TestClient, title: &str, body: &str) -> Value {
    let resp = client
        .post_json("/api/posts", &json!({ "title": title, "body": body }))
        .await;
    json_ok(resp, StatusCode::CREATED).await
}

/// Comments on `post` as `client` (201) and returns the comment's JSON.
pub async fn new_comment(client: &TestClient, post: &str, body: &str) -> Value {
    let resp = client
        .post_json(
            &format!("/api/posts/{post}/comments"),
            &json!({ "body": body }),
        )
        .await;
    json_ok(resp, StatusCode::CREATED).await
}

pub fn id_of(item: &Value) -> String {
    item["id"].as_str().expect("a string id").to_owned()
}

/// The `field` of each item of a page, in order.
pub fn column(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|item| item[field].as_str().expect("a string").to_owned())
        .collect()
}
