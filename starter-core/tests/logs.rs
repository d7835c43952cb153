//! The request log line, captured from a JSON subscriber at `info` and at `warn`.
//!
//! Each test installs its subscriber for its own thread (`set_default`, with tokio's
//! current-thread test runtime).

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use serde_json::Value;
use starter_core::config::LogFormat;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, prelude::*};

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    /// The JSON lines logged so far.
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect()
    }

    /// The "request finished" lines.
    fn finished(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["message"] == "request finished")
            .collect()
    }
}

/// The same JSON format as `logging::init` in stage/prod, at `level`.
fn capture(level: &str) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new(level))
        .with(starter_core::logging::layer(
            LogFormat::Json,
            captured.clone(),
            false,
        ));
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

#[tokio::test]
async fn at_info_each_request_logs_its_route_status_and_id() {
    let (captured, _guard) = capture("info");
    let router = common::router();

    let resp = common::get_path(&router, "/notes/7").await;
    assert_eq!(resp.status, 200);
    let request_id = resp.header("x-request-id").unwrap().to_owned();
    let missing = common::get_path(&router, "/no/such/route").await;
    assert_eq!(missing.status, 404);

    let lines = captured.finished();
    assert_eq!(lines.len(), 2, "one line per request: {lines:?}");
    let span = &lines[0]["span"];
    assert_eq!(span["route"], "/notes/{id}", "the pattern, not the path");
    assert_eq!(span["method"], "GET");
    assert_eq!(span["request_id"], request_id.as_str());
    assert_eq!(span["name"], "request");
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["latency_ms"].as_f64().is_some(), "{}", lines[0]);
    assert_eq!(lines[0]["level"], "INFO");
    assert_eq!(lines[1]["span"]["route"], "<unmatched>");
    assert_eq!(lines[1]["status"], 404);
}

#[tokio::test]
async fn at_warn_only_server_errors_log_and_the_line_carries_its_own_fields() {
    let (captured, _guard) = capture("warn");
    let router = common::router();

    assert_eq!(common::get_path(&router, "/notes/7").await.status, 200);
    assert_eq!(common::get_path(&router, "/plain-400").await.status, 400);
    let failed = common::get_path(&router, "/plain-500").await;
    assert_eq!(failed.status, 500);

    let lines = captured.finished();
    assert_eq!(lines.len(), 1, "only the 500 is logged: {lines:?}");
    let line = &lines[0];
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["status"], 500);
    assert_eq!(
        line["request_id"],
        failed.header("x-request-id").unwrap(),
        "{line}"
    );
    assert!(line["latency_ms"].as_f64().is_some(), "{line}");
}

#[tokio::test]
async fn an_app_built_before_the_subscriber_still_logs_its_route() {
    let router = common::router();
    let (captured, _guard) = capture("info");
    assert_eq!(common::get_path(&router, "/notes/7").await.status, 200);
    let lines = captured.finished();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["span"]["route"], "/notes/{id}");
}

/// The id in the log line is the one the client gets back: sent by the client, generated,
/// or (replaced) set by the handler.
#[tokio::test]
async fn the_log_line_carries_the_echoed_request_id() {
    let (captured, _guard) = capture("info");
    let router = common::router();
    let sent = common::send(
        &router,
        axum::http::Request::get("/notes/1")
            .header("x-request-id", "client-chosen-id")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    let generated = common::get_path(&router, "/notes/2").await;
    let handler_set = common::get_path(&router, "/own-request-id").await;

    let lines = captured.finished();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (resp, line) in [&sent, &generated, &handler_set].into_iter().zip(&lines) {
        let echoed: Vec<_> = resp.headers.get_all("x-request-id").iter().collect();
        assert_eq!(echoed.len(), 1, "one x-request-id: {echoed:?}");
        assert_eq!(
            line["span"]["request_id"],
            echoed[0].to_str().unwrap(),
            "{line}"
        );
    }
    assert_eq!(sent.header("x-request-id"), Some("client-chosen-id"));
    assert_ne!(handler_set.header("x-request-id"), Some("from-the-handler"));
}

/// A handler that authenticated its caller records the id on the request span: the lines
/// logged after that, the request's own line among them, carry `span.user_id`. Personal
/// data logged through `pii` types shows masked.
#[tokio::test]
async fn the_request_span_carries_the_recorded_user_id() {
    use axum::{Router, routing::get};
    use starter_core::{App, config::CoreSettings, pii::Email};

    let (captured, _guard) = capture("info");
    let (router, health, _lifespan) = App::new(&CoreSettings::default())
        .merge(
            Router::new()
                .route(
                    "/whoami",
                    get(|| async {
                        let email = Email::from("alice@example.com");
                        tracing::info!(%email, "before authentication");
                        starter_core::logging::record_user_id("64b7f0c2a1");
                        tracing::info!(%email, debug = ?email, "after authentication");
                        "ok"
                    }),
                )
                .route("/public", get(|| async { "ok" })),
        )
        .into_router();
    health.set_started(true);
    assert_eq!(common::get_path(&router, "/whoami").await.status, 200);
    // An anonymous request has no `user_id`.
    assert_eq!(common::get_path(&router, "/public").await.status, 200);

    let lines = captured.lines();
    let by_message = |message: &str| {
        lines
            .iter()
            .filter(|line| line["message"] == message)
            .collect::<Vec<_>>()
    };
    let before = by_message("before authentication");
    let after = by_message("after authentication");
    let finished = by_message("request finished");
    assert_eq!(
        (before.len(), after.len(), finished.len()),
        (1, 1, 2),
        "{lines:?}"
    );
    assert!(before[0]["span"].get("user_id").is_none(), "{}", before[0]);
    assert_eq!(after[0]["span"]["user_id"], "64b7f0c2a1", "{}", after[0]);
    assert_eq!(after[0]["email"], "a***@example.com");
    assert_eq!(after[0]["debug"], "Email(\"a***@example.com\")");
    assert_eq!(
        finished[0]["span"]["user_id"], "64b7f0c2a1",
        "{}",
        finished[0]
    );
    assert!(
        finished[1]["span"].get("user_id").is_none(),
        "{}",
        finished[1]
    );
    let text = format!("{lines:?}");
    assert!(!text.contains("alice@"), "{text}");
}
