//! Test harness, on the kit's test kit (`starter-test`): each test starts the real service
//! (same routes, middleware and start-up as `main`) in-process on a free 127.0.0.1 port,
//! against its own fresh database that is dropped afterwards, so tests run in parallel
//! without seeing each other's data.
//!
//! The database server comes from `APP_MONGO__URL`. Without it a test fails and names the
//! command that provides one (with the kit checked out: `scripts/with-devdb cargo test`;
//! or `docker compose up -d mongo` and
//! `APP_MONGO__URL='mongodb://127.0.0.1:27017/?directConnection=true' cargo test`).

#![allow(dead_code)] // each test file uses a different part of the harness

use reqwest::RequestBuilder;
use serde_json::Value;
{%- if auth %}
use starter_test::{TestApp, TestClient, TestDb};
{%- else %}
use starter_test::{TestApp, TestDb};
{%- endif %}

use {{crate_name}}::{app::bootstrap, core::config::Settings};

/// Starts the service with the settings of `config/` and `APP_*` (the dev profile unless
/// `APP_PROFILE` says otherwise), pointed at a fresh database. Dropping the app stops the
/// service, then drops the database.
pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// Like [`spawn`], after `change` has adjusted the settings.
pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = Settings::load().expect("config/ and APP_* variables are valid");
    db.configure(&mut settings.mongo);
    change(&mut settings);
    let app = bootstrap::build(&settings).await.expect("the app builds");
    TestApp::serve(app).await.with_db(db)
}
{%- if auth %}

/// The password of the users tests register (8 to 128 characters are accepted).
pub const PASSWORD: &str = "correct horse battery";

/// A client of `app` that registered `email` (with [`PASSWORD`]) and logged in: it sends
/// that user's access token.
pub async fn user(app: &TestApp, email: &str) -> TestClient {
    let mut client = app.client();
    client.register_and_login(email, PASSWORD).await;
    client
}

/// A client of `app` logged in as `email`: it sends that user's access token.
pub async fn login(app: &TestApp, email: &str, password: &str) -> TestClient {
    let mut client = app.client();
    client.login(email, password).await;
    client
}
{%- endif %}

/// Sends a request and returns its status and JSON body (`Null` if empty).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let resp = request.send().await.expect("the service answers");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("a body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, value)
}
