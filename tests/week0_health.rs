//! Week 0 over HTTP. The app is served in this test process, built by the example's own
//! `app::build` (what its `main` runs), against a fresh dev database per test; only the
//! process lifecycle (SIGTERM, a failed start-up) runs the real binary. Run with
//! `scripts/with-devdb cargo test --test week0_health`.

mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../examples/week0_health/app.rs"]
mod app;

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::Value;
use starter::config;
use starter_test::{TestApp, TestDb, assert_problem, header_list, no_header, one_header};
use support::{logs, process};

const EXAMPLE: &str = "week0_health";
const VUE_ORIGIN: &str = "http://localhost:5173";

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`.
fn settings(db: &TestDb) -> app::AppSettings {
    let mut settings: app::AppSettings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings
}

/// The app on a fresh database; keep the `TestDb` for the test (it drops the database).
async fn start() -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let app = app::build(&settings(&db)).await.expect("the app builds");
    (TestApp::serve(app).await, db)
}

#[tokio::test]
async fn health_reports_mongo_up() {
    let (server, _db) = start().await;
    let resp = server.client().get("/health").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["checks"]["mongo"]["status"], "up", "{body}");
    assert!(body["checks"]["mongo"]["latency_ms"].is_number(), "{body}");
}

#[tokio::test]
async fn live_and_ready_are_200_once_listening() {
    let (server, _db) = start().await;
    let live = server.client().get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "ok");

    let ready = server.client().get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["checks"]["mongo"]["status"], "up", "{body}");
}

#[tokio::test]
async fn cors_preflight_allows_the_vue_dev_server_with_credentials() {
    let (server, _db) = start().await;
    let resp = server
        .client()
        .request(Method::OPTIONS, "/api/async-demo")
        .header(header::ORIGIN, VUE_ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(
        one_header(h, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        VUE_ORIGIN
    );
    assert_eq!(
        one_header(h, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        "true"
    );
    let methods = header_list(h, header::ACCESS_CONTROL_ALLOW_METHODS);
    assert!(methods.iter().any(|m| m == "post"), "{methods:?}");
    let headers = header_list(h, header::ACCESS_CONTROL_ALLOW_HEADERS);
    assert!(headers.iter().any(|h| h == "content-type"), "{headers:?}");

    // A simple (non-preflight) request from that origin gets the headers too.
    let resp = server
        .client()
        .get("/health/live")
        .header(header::ORIGIN, VUE_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        one_header(resp.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        VUE_ORIGIN
    );
    assert_eq!(
        one_header(resp.headers(), header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        "true"
    );
}

#[tokio::test]
async fn cors_does_not_allow_other_origins() {
    let (server, _db) = start().await;
    let resp = server
        .client()
        .request(Method::OPTIONS, "/api/async-demo")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .unwrap();
    no_header(resp.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN);

    let resp = server
        .client()
        .get("/health/live")
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    no_header(resp.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN);
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    // Before the app is built, as `main` starts logging first.
    let (logs, _guard) = logs::capture();
    let (server, _db) = start().await;
    let resp = server
        .client()
        .get("/health/live")
        .header("x-request-id", "week0-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(one_header(resp.headers(), "x-request-id"), "week0-test-42");

    let resp = server.client().get("/health/live").send().await.unwrap();
    let generated = one_header(resp.headers(), "x-request-id");
    assert!(!generated.is_empty());

    // The request id ends up in the request's log line, for correlation.
    let line = logs.wait_for_line(&["week0-test-42"]).await;
    let line: Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(line["span"]["request_id"], "week0-test-42", "{line}");
    logs.wait_for_line(&[generated.as_str()]).await;
}

#[tokio::test]
async fn unknown_route_is_404_problem_json() {
    let (server, _db) = start().await;
    let resp = server
        .client()
        .get("/no/such/route")
        .header("x-request-id", "rid-404")
        .send()
        .await
        .unwrap();
    let body = assert_problem(resp, 404, "not_found").await;
    assert_eq!(body["instance"], "/no/such/route", "{body}");
    assert_eq!(body["request_id"], "rid-404", "{body}");
}

#[tokio::test]
async fn async_demo_joins_io_and_offloads_cpu() {
    let (server, _db) = start().await;
    let resp = server.client().get("/api/async-demo").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();

    let tasks = body["io_bound"]["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2, "{body}");
    let waits: u64 = tasks.iter().map(|t| t["wait_ms"].as_u64().unwrap()).sum();
    assert_eq!(body["io_bound"]["sequential_ms"], waits, "{body}");
    assert!(body["io_bound"]["elapsed_ms"].is_number(), "{body}");

    // π(200 000) = 17 984: the blocking task really ran and its result came back.
    assert_eq!(body["cpu_bound"]["result"], 17_984, "{body}");
    assert!(body["cpu_bound"]["elapsed_ms"].is_number(), "{body}");
}

// ------------------------------------------------------------------------------ process
// What only a process shows: its signals and its exit.

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_closes_mongo() {
    let (mut server, _db) = process::spawn_with_db(EXAMPLE, &[]).await;
    let resp = server.client().get("/health").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    server.signal(15); // SIGTERM
    let status = server
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", server.logs()));
    let logs = server.logs();
    assert!(status.success(), "{status}:\n{logs}");
    assert!(logs.contains("SIGTERM received"), "{logs}");
    assert!(logs.contains("MongoDB client closed"), "{logs}");
}

#[tokio::test]
async fn unreachable_database_stops_start_up_with_a_clear_error() {
    // No database needed: port 1 refuses connections.
    let mut server = process::start_example(
        EXAMPLE,
        &[
            ("APP_MONGO__URL", "mongodb://127.0.0.1:1"),
            // Short, as only the failure matters: each ping gives up after the server
            // selection timeout, and start-up after two of them.
            ("APP_MONGO__SERVER_SELECTION_TIMEOUT", "0.5"),
            ("APP_MONGO__STARTUP_TIMEOUT", "1"),
            // Even with backtraces asked for, start-up errors are one clear line.
            ("RUST_BACKTRACE", "1"),
        ],
    );
    let status = server
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("still running after 30 s:\n{}", server.logs()));
    let logs = server.logs();
    assert!(!status.success(), "exit status {status}:\n{logs}");
    assert!(logs.contains("mongodb://127.0.0.1:1"), "{logs}");
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(!logs.to_lowercase().contains("stack backtrace"), "{logs}");
    assert!(!logs.contains("listening on"), "{logs}");
}
