//! The kit against a small app of its own (no database): what `TestApp` serves, what
//! `TestClient` remembers and sends, and what `assert_problem` accepts and refuses.

use axum::{
    Router,
    http::HeaderMap,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use starter_core::{App, config::CoreSettings, extract::ValidJson};
use starter_test::{TestApp, TestClient, assert_problem};
use validator::Validate;

#[derive(Deserialize, Validate)]
struct NewNote {
    #[validate(length(min = 1, max = 100))]
    title: String,
    #[validate(length(max = 3))]
    #[serde(default)]
    tags: Vec<String>,
}

/// `POST /notes` validates its body; `/echo` answers the headers the kit sends; `/login`
/// sets a cookie scoped to `/auth`, `/auth/whoami` shows the cookies it gets.
fn app() -> App {
    let header = |headers: &HeaderMap, name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let router = Router::new()
        .route(
            "/notes",
            post(|ValidJson(note): ValidJson<NewNote>| async move {
                axum::Json(json!({ "title": note.title, "tags": note.tags }))
            }),
        )
        .route(
            "/echo",
            get(move |headers: HeaderMap| async move {
                axum::Json(json!({
                    "authorization": header(&headers, "authorization"),
                    "csrf": header(&headers, "x-csrf-token"),
                    "cookie": header(&headers, "cookie"),
                }))
            }),
        )
        .route(
            "/login",
            post(|| async { ([("set-cookie", "sid=abc123; Path=/auth; HttpOnly")], "ok") }),
        )
        .route(
            "/auth/whoami",
            get(move |headers: HeaderMap| async move {
                axum::Json(json!({ "cookie": header(&headers, "cookie") }))
            }),
        );
    App::new(&CoreSettings::default()).merge(router)
}

async fn json_of(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("a JSON body")
}

#[tokio::test]
async fn serves_on_a_free_port_until_stopped() {
    let app = TestApp::serve(app()).await;
    assert!(app.addr().ip().is_loopback());
    assert_ne!(app.addr().port(), 0);
    assert_eq!(app.url("/x"), format!("http://{}/x", app.addr()));
    let resp = app.client().get("/health/live").send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let base = app.base().to_owned();
    app.stop().await.expect("a clean stop");
    let after = TestClient::new(&base).get("/health/live").send().await;
    assert!(after.is_err(), "still answering after stop: {after:?}");
}

#[tokio::test]
async fn the_jar_keeps_cookies_per_client_and_path() {
    let app = TestApp::serve(app()).await;
    let browser = app.client();
    assert_eq!(browser.post("/login").send().await.unwrap().status(), 200);

    assert_eq!(
        browser.cookie("/auth/whoami", "sid").as_deref(),
        Some("abc123")
    );
    assert_eq!(browser.cookie("/echo", "sid"), None, "scoped to /auth");
    let seen = json_of(browser.get("/auth/whoami").send().await.unwrap()).await;
    assert_eq!(seen["cookie"], "sid=abc123");
    let seen = json_of(browser.get("/echo").send().await.unwrap()).await;
    assert_eq!(seen["cookie"], Value::Null);

    let other = app.client();
    let seen = json_of(other.get("/auth/whoami").send().await.unwrap()).await;
    assert_eq!(seen["cookie"], Value::Null, "another client, another jar");
}

#[tokio::test]
async fn bearer_and_csrf_go_on_every_request_once_held() {
    let app = TestApp::serve(app()).await;
    let mut client = app.client();
    let seen = json_of(client.get("/echo").send().await.unwrap()).await;
    assert_eq!(seen["authorization"], Value::Null);
    assert_eq!(seen["csrf"], Value::Null);

    client = client.with_bearer("tok-1");
    client.set_csrf("csrf-1");
    assert_eq!(client.bearer(), Some("tok-1"));
    let seen = json_of(client.get("/echo").send().await.unwrap()).await;
    assert_eq!(seen["authorization"], "Bearer tok-1");
    assert_eq!(seen["csrf"], "csrf-1");

    client.clear_bearer();
    client.clear_csrf();
    let seen = json_of(client.get("/echo").send().await.unwrap()).await;
    assert_eq!(seen["authorization"], Value::Null);
    assert_eq!(seen["csrf"], Value::Null);
}

#[tokio::test]
async fn a_validation_problem_names_its_fields() {
    let app = TestApp::serve(app()).await;
    let resp = app
        .client()
        .post_json(
            "/notes",
            &json!({ "title": "", "tags": ["a", "b", "c", "d"] }),
        )
        .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    problem
        .assert_field("title")
        .assert_field_code("title", "length")
        .assert_fields(&["tags", "title"]);
    assert_eq!(problem.code(), "validation_failed");
    assert_eq!(
        problem["instance"], "/notes",
        "reads like its body: {problem}"
    );
    assert!(problem.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn an_unknown_route_is_a_problem_too() {
    let app = TestApp::serve(app()).await;
    let resp = app.client().get("/nowhere").send().await.unwrap();
    let problem = assert_problem(resp, 404, "not_found").await;
    assert!(problem.fields().is_empty());
}

#[tokio::test]
#[should_panic(expected = "no error for field `content`; fields present: [\"title\"]")]
async fn a_missing_field_is_named_with_those_present() {
    let app = TestApp::serve(app()).await;
    let resp = app
        .client()
        .post_json("/notes", &json!({ "title": "" }))
        .await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_field("content");
}

#[tokio::test]
#[should_panic(expected = "status; body: {\"title\":\"ok\"")]
async fn a_success_is_not_a_problem_and_the_message_shows_the_body() {
    let app = TestApp::serve(app()).await;
    let resp = app
        .client()
        .post_json("/notes", &json!({ "title": "ok" }))
        .await;
    assert_problem(resp, 422, "validation_failed").await;
}

#[tokio::test]
#[should_panic(expected = "`code`")]
async fn another_code_fails() {
    let app = TestApp::serve(app()).await;
    let resp = app.client().get("/nowhere").send().await.unwrap();
    assert_problem(resp, 404, "note_not_found").await;
}
