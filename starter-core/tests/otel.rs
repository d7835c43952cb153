//! The request spans as OpenTelemetry sees them (the `otel` feature), exported to
//! opentelemetry_sdk's in-memory exporter: `traceparent` continuation, route and status
//! attributes, the error status of 5xx, child spans, and JSON log lines that are the same
//! with and without traces.
//!
//! Each test installs its subscriber for its own thread (`set_default`, with tokio's
//! current-thread test runtime); the simple span processor exports each span as it ends.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
    routing::get,
};
use http_body_util::BodyExt;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::Value;
use starter_core::{ApiError, App, config::CoreSettings, config::LogFormat};
use tower::ServiceExt;
use tracing_subscriber::{EnvFilter, Layer, fmt::MakeWriter, prelude::*};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// A handler with a child span, as starter-mongo's repository opens one per operation.
async fn get_note() -> &'static str {
    let span = tracing::info_span!(
        "mongodb.find",
        db.system = "mongodb",
        db.collection.name = "notes",
        db.operation.name = "find",
        otel.kind = "client",
    );
    let _entered = span.enter();
    "note"
}

async fn fail() -> Result<(), ApiError> {
    Err(ApiError::internal(anyhow::anyhow!("the database is gone")))
}

fn router() -> Router {
    let app = App::new(&CoreSettings::default()).merge(
        Router::new()
            .route("/notes/{id}", get(get_note))
            .route("/fail", get(fail)),
    );
    let (router, health, _lifespan) = app.into_router();
    health.set_started(true);
    router
}

/// Sends `GET path` with `headers`, bounded; returns the status.
async fn send(router: &Router, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(20),
        router.clone().oneshot(request.body(Body::empty()).unwrap()),
    )
    .await
    .expect("an answer within 20 s")
    .unwrap();
    let status = response.status();
    // The request span ends with the body.
    response.into_body().collect().await.unwrap();
    status
}

/// Everything the JSON log layer writes, shared with the test.
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
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect()
    }
}

/// The kit's JSON log layer at `info`, plus the OpenTelemetry layer when `traces`.
struct Traced {
    logs: Captured,
    spans: InMemorySpanExporter,
    _provider: SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

fn subscribe(traces: bool) -> Traced {
    let logs = Captured::default();
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let otel = traces.then(|| starter_core::otel::layer(&provider));
    let subscriber = tracing_subscriber::registry()
        .with(
            starter_core::logging::layer(LogFormat::Json, logs.clone(), false)
                .with_filter(EnvFilter::new("info")),
        )
        .with(otel);
    let guard = tracing::subscriber::set_default(subscriber);
    // Whether a span's callsite is enabled is cached process-wide; a callsite first hit by
    // another test thread while this subscriber was being set up could keep a stale
    // "never". Recompute it now that this subscriber exists.
    tracing::callsite::rebuild_interest_cache();
    Traced {
        logs,
        spans,
        _provider: provider,
        _guard: guard,
    }
}

impl Traced {
    fn finished(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().unwrap()
    }

    fn server_span(&self) -> SpanData {
        let mut servers: Vec<_> = self
            .finished()
            .into_iter()
            .filter(|span| span.span_kind == SpanKind::Server)
            .collect();
        assert_eq!(servers.len(), 1, "one server span: {servers:#?}");
        servers.remove(0)
    }
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    value(span, key).map(|value| value.to_string())
}

fn value(span: &SpanData, key: &str) -> Option<opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

#[tokio::test]
async fn a_traceparent_continues_the_callers_trace() {
    let traced = subscribe(true);
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let status = send(&router(), "/notes/7", &[("traceparent", &traceparent)]).await;
    assert_eq!(status, StatusCode::OK);

    let server = traced.server_span();
    assert_eq!(
        server.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(server.parent_span_id, SpanId::from_hex(PARENT_ID).unwrap());
    assert!(server.parent_span_is_remote);
}

#[tokio::test]
async fn without_a_traceparent_a_new_trace_starts() {
    let traced = subscribe(true);
    send(&router(), "/notes/7", &[]).await;
    let server = traced.server_span();
    assert!(server.span_context.is_valid());
    assert_ne!(
        server.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(server.parent_span_id, SpanId::INVALID);
}

#[tokio::test]
async fn the_server_span_carries_the_route_and_status() {
    let traced = subscribe(true);
    send(&router(), "/notes/7", &[]).await;
    let server = traced.server_span();
    assert_eq!(server.name, "GET /notes/{id}");
    assert_eq!(
        attribute(&server, "http.route").as_deref(),
        Some("/notes/{id}")
    );
    assert_eq!(
        attribute(&server, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        value(&server, "http.response.status_code"),
        Some(opentelemetry::Value::I64(200)),
        "an integer, as the semantic conventions say"
    );
    assert_eq!(server.status, Status::Unset);
    // The request id, to find the request's log lines.
    assert!(attribute(&server, "request_id").is_some());
    assert_eq!(attribute(&server, "busy_ns"), None);
    // The log fields are not attributes twice over.
    assert_eq!(attribute(&server, "otel.name"), None);
}

#[tokio::test]
async fn an_unmatched_path_is_named_by_its_method_only() {
    let traced = subscribe(true);
    let status = send(&router(), "/no/such/route", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let server = traced.server_span();
    assert_eq!(server.name, "GET");
    assert_eq!(attribute(&server, "http.route"), None);
    assert_eq!(
        attribute(&server, "http.response.status_code").as_deref(),
        Some("404")
    );
    assert_eq!(server.status, Status::Unset, "a 4xx is the client's error");
}

#[tokio::test]
async fn a_server_error_is_the_spans_error_status() {
    let traced = subscribe(true);
    let status = send(&router(), "/fail", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let server = traced.server_span();
    assert_eq!(server.name, "GET /fail");
    assert_eq!(
        attribute(&server, "http.response.status_code").as_deref(),
        Some("500")
    );
    assert!(
        matches!(server.status, Status::Error { .. }),
        "{:?}",
        server.status
    );
}

#[tokio::test]
async fn spans_opened_in_a_handler_are_children_of_the_request() {
    let traced = subscribe(true);
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    send(&router(), "/notes/7", &[("traceparent", &traceparent)]).await;
    let server = traced.server_span();
    let finished = traced.finished();
    let child = finished
        .iter()
        .find(|span| span.name == "mongodb.find")
        .expect("the handler's span is exported");
    assert_eq!(child.span_kind, SpanKind::Client);
    assert_eq!(
        child.span_context.trace_id(),
        server.span_context.trace_id()
    );
    assert_eq!(child.parent_span_id, server.span_context.span_id());
    assert_eq!(attribute(child, "db.system").as_deref(), Some("mongodb"));
    assert_eq!(
        attribute(child, "db.collection.name").as_deref(),
        Some("notes")
    );
}

/// The request's log lines with what differs between two runs (time, latency) removed.
fn comparable(lines: Vec<Value>) -> Vec<Value> {
    lines
        .into_iter()
        .map(|mut line| {
            let object = line.as_object_mut().unwrap();
            object.remove("timestamp");
            object.remove("latency_ms");
            line
        })
        .collect()
}

#[tokio::test]
async fn log_lines_are_the_same_with_and_without_traces() {
    let headers = [
        ("x-request-id", "req-1"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ];
    let mut runs = Vec::new();
    for traces in [false, true] {
        let traced = subscribe(traces);
        send(&router(), "/notes/7", &headers).await;
        send(&router(), "/fail", &headers).await;
        runs.push(comparable(traced.logs.lines()));
        if !traces {
            assert!(traced.finished().is_empty(), "no spans without the layer");
        }
    }
    assert_eq!(runs[0], runs[1]);
    let finished: Vec<_> = runs[0]
        .iter()
        .filter(|line| line["message"] == "request finished")
        .collect();
    assert_eq!(finished.len(), 2, "{:#?}", runs[0]);
    assert_eq!(
        finished[0]["span"],
        serde_json::json!({
            "request_id": "req-1",
            "method": "GET",
            "route": "/notes/{id}",
            "name": "request",
        })
    );
}

#[tokio::test]
async fn without_the_layer_the_request_span_has_no_trace_fields() {
    let _traced = subscribe(false);
    assert!(!starter_core::otel::enabled());
    let span = starter_core::logging::RequestSpan;
    let request = Request::get("/notes/7").body(()).unwrap();
    let span = tower_http::trace::MakeSpan::make_span(&mut { span }, &request);
    assert!(span.field("route").is_some());
    assert!(span.field("http.route").is_none());
    assert!(span.field("otel.kind").is_none());
}
