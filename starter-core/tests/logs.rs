//! The request log line, captured from a JSON subscriber at `info` and at `warn`.
//!
//! Each test installs its subscriber for its own thread (`set_default`, with tokio's
//! current-thread test runtime) before it builds the app, as `logging::init` comes before
//! `App::run`.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use serde_json::Value;
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
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(captured.clone()),
        );
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
    assert_eq!(span["status"], 200);
    assert_eq!(span["request_id"], request_id.as_str());
    assert!(span["latency_ms"].as_f64().is_some(), "{span}");
    assert_eq!(lines[0]["level"], "INFO");
    assert_eq!(lines[1]["span"]["route"], "<unmatched>");
    assert_eq!(lines[1]["span"]["status"], 404);
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
    assert_eq!(line["method"], "GET");
    assert_eq!(line["status"], 500);
    assert_eq!(
        line["request_id"],
        failed.header("x-request-id").unwrap(),
        "{line}"
    );
    assert!(line["latency_ms"].as_f64().is_some(), "{line}");
}
