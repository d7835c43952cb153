//! The real exporter end to end: `logging::init` with `otel.endpoint` set posts OTLP/HTTP
//! protobuf to a receiver in the test, and `logging::flush` exports the spans that ended
//! during shutdown. One test: `init` installs the process's global subscriber.

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use common::{Running, bounded};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value,
};
use prost::Message;
use starter_core::{App, config::CoreSettings};
use tokio::net::TcpListener;

/// What the receiver got: one entry per span, with its resource's `service.name`.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

type Spans = Arc<Mutex<Vec<Received>>>;

async fn collect(State(spans): State<Spans>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut spans = spans.lock().unwrap();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
            spans.push(Received {
                service: service.clone(),
                name: span.name,
                trace_id: span.trace_id,
                parent_span_id: span.parent_span_id,
            });
        }
    }
    // An empty protobuf message: a full success.
    StatusCode::OK
}

/// A minimal OTLP/HTTP receiver on a free port: its base URL and what it received.
async fn receiver() -> (String, Spans) {
    let spans = Spans::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/v1/traces", post(collect))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, spans)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// The test body blocks in `flush` (as `App::run` does); the receiver runs on the workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_ended_during_shutdown_are_exported_by_flush() {
    // An hour between scheduled exports: whatever arrives was sent by `flush`.
    // SAFETY: the binary's only test, before anything else reads the environment.
    unsafe { std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "3600000") };
    let (url, spans) = receiver().await;
    let mut settings = CoreSettings::default();
    settings.otel.endpoint = Some(url);
    settings.otel.service_name = Some("otel-export-test".into());
    starter_core::logging::init(&settings);
    assert!(
        starter_core::otel::enabled(),
        "init installed the trace layer"
    );

    let app = App::new(&settings)
        .merge(Router::new().route("/work", get(|| async { "done" })))
        .on_shutdown("closing", || async {
            tracing::info_span!("closing").in_scope(|| {});
        });
    let running = Running::start(app).await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let parent_id = "b7ad6b7169203331";
    let response = bounded(
        "GET /work",
        reqwest::Client::new()
            .get(running.url("/work"))
            .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    running.stop().await.unwrap();
    assert!(
        spans.lock().unwrap().is_empty(),
        "nothing is exported before flush"
    );

    starter_core::logging::flush();
    let spans = spans.lock().unwrap().clone();
    let request = spans
        .iter()
        .find(|span| span.name == "GET /work")
        .unwrap_or_else(|| panic!("the request's span: {spans:#?}"));
    assert_eq!(request.trace_id, hex(trace_id));
    assert_eq!(request.parent_span_id, hex(parent_id));
    assert_eq!(request.service, "otel-export-test");
    assert!(
        spans.iter().any(|span| span.name == "closing"),
        "the span of the shutdown hook: {spans:#?}"
    );
}
