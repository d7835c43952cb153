//! Sentry over real sockets: `App::serve` on `127.0.0.1:0` with `sentry.dsn` pointing at
//! scripts/sentry-capture (a child process), requests sent with credentials, a cookie, a
//! body and an email address in the query, and the events read back from the capture file.
//! The Sentry client is global to this test binary (created by the first app), so the tests
//! share one capture server and tell their events apart by request id.

mod capture;
mod common;

use std::sync::OnceLock;

use axum::{
    Router,
    extract::Query,
    http::StatusCode,
    routing::{get, post},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use starter_core::{ApiError, App, config::CoreSettings};

use crate::{capture::Capture, common::Running};

/// The one capture server of this binary (it stops when the binary exits).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(Capture::start)
}

const EMAIL: &str = "alice@example.com";

#[derive(Deserialize)]
struct Who {
    email: String,
}

/// Panics with the caller's email address in the message, as careless code does.
async fn lookup(Query(who): Query<Who>, _body: String) -> &'static str {
    panic!("no account for {}", who.email)
}

async fn broken() -> Result<(), ApiError> {
    Err(ApiError::internal(anyhow::anyhow!("the disk is full")))
}

async fn missing() -> Result<(), ApiError> {
    Err(ApiError::not_found("no such thing"))
}

async fn busy() -> Result<(), ApiError> {
    Err(ApiError::unavailable("try again later"))
}

async fn app() -> Running {
    let mut settings = CoreSettings::default();
    settings.sentry.dsn = Some(SecretString::from(capture().dsn()));
    let info = utoipa::openapi::InfoBuilder::new()
        .title("Sentry Test")
        .version("1.2.3")
        .build();
    let app = App::new(&settings)
        .openapi(utoipa::openapi::OpenApiBuilder::new().info(info).build())
        .merge(
            Router::new()
                .route("/s/lookup", post(lookup))
                .route("/s/broken/{id}", get(broken))
                .route("/s/missing", get(missing))
                .route("/s/busy", get(busy)),
        );
    Running::start(app).await
}

/// Sends `method path` with a bearer token, a refresh cookie, a JSON body and the email
/// address in the query; returns the status and the response's request id.
async fn send(app: &Running, method: reqwest::Method, path: &str) -> (StatusCode, String) {
    let url = format!("{}?email={EMAIL}", app.url(path));
    let response = common::bounded(
        &url,
        reqwest::Client::new()
            .request(method, &url)
            .header("authorization", "Bearer secret-token")
            .header("cookie", "refresh=secret-cookie")
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"email":"{EMAIL}","password":"secret-password"}}"#
            ))
            .send(),
    )
    .await
    .unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, id)
}

/// The event text holds none of what the request sent that is secret or personal. (The
/// stack trace names the test functions: they avoid these words.)
fn assert_clean(raw: &str) {
    let lower = raw.to_ascii_lowercase();
    for needle in [
        "secret",
        "bearer",
        EMAIL,
        "cookie",
        "authorization",
        "password",
    ] {
        assert!(!lower.contains(needle), "{needle:?} in the event: {raw}");
    }
}

fn assert_common(event: &Value, id: &str, route: &str) {
    assert_eq!(event["tags"]["request_id"], id, "{event}");
    assert_eq!(event["tags"]["route"], route, "{event}");
    assert_eq!(event["transaction"], route, "{event}");
    assert_eq!(event["release"], "sentry-test@1.2.3", "{event}");
    assert_eq!(event["environment"], "dev", "{event}");
    let url = event["request"]["url"].as_str().expect("request.url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.contains('?'), "{url}");
}

/// The must-show: a panicking route's event arrives with the request id the response
/// echoed, the release and the environment, and without the token, the cookie, the body or
/// the email address (masked in the panic message). One event: its 500 is not reported
/// again.
#[tokio::test]
async fn a_panic_is_reported_with_its_request_id_and_scrubbed() {
    let app = app().await;
    let (status, id) = send(&app, reqwest::Method::POST, "/s/lookup").await;
    assert_eq!(status, 500);
    let (raw, event) = capture().wait_for(&id).await;
    assert_clean(&raw);
    assert_common(&event, &id, "/s/lookup");
    assert_eq!(event["request"]["method"], "POST", "{event}");
    assert!(event["request"].get("data").is_none(), "{event}");
    let exception = &event["exception"]["values"][0];
    assert_eq!(exception["type"], "panic", "{event}");
    assert_eq!(
        exception["value"], "no account for a***@example.com",
        "{event}"
    );

    // Events go out in order: once a later request's event is in, a second event of the
    // panicking request would be too.
    let (status, later) = send(&app, reqwest::Method::GET, "/s/broken/1").await;
    assert_eq!(status, 500);
    capture().wait_for(&later).await;
    assert_eq!(
        capture().events_of(&id).len(),
        1,
        "the panic's 500 is not reported again"
    );
    app.stop().await.unwrap();
}

/// A 500 that is not a panic is one event with its status, route and request id; 4xx and
/// 503 are not reported.
#[tokio::test]
async fn a_500_is_reported_and_4xx_and_503_are_not() {
    let app = app().await;
    let (status, not_found) = send(&app, reqwest::Method::GET, "/s/missing").await;
    assert_eq!(status, 404);
    let (status, unavailable) = send(&app, reqwest::Method::GET, "/s/busy").await;
    assert_eq!(status, 503);
    let (status, unmatched) = send(&app, reqwest::Method::GET, "/s/nowhere").await;
    assert_eq!(status, 404);
    let (status, id) = send(&app, reqwest::Method::GET, "/s/broken/7").await;
    assert_eq!(status, 500);

    let (raw, event) = capture().wait_for(&id).await;
    assert_clean(&raw);
    assert_common(&event, &id, "/s/broken/{id}");
    assert_eq!(event["tags"]["status"], "500", "{event}");
    // `error` is the protocol's default level, left out of the JSON.
    assert!(event.get("level").is_none_or(|l| l == "error"), "{event}");
    assert_eq!(
        event["message"], "GET /s/broken/{id} answered 500 Internal Server Error",
        "{event}"
    );
    // Sent before the 500's event, had they been captured.
    for quiet in [not_found, unavailable, unmatched] {
        assert!(
            capture().events_of(&quiet).is_empty(),
            "{quiet} was reported"
        );
    }
    assert_eq!(capture().events_of(&id).len(), 1);
    app.stop().await.unwrap();
}
