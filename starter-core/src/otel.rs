//! OpenTelemetry traces: the `tracing` spans of each request, exported over OTLP/HTTP
//! (protobuf) when `otel.endpoint` is set, and only with the crate's `otel` feature.
//!
//! What is traced:
//! - each request is one `server` span ([`crate::logging::RequestSpan`]) named
//!   `GET /api/notes/{id}` once the route is matched, with `http.request.method`,
//!   `http.route`, `http.response.status_code`, and an `ERROR` status on 5xx;
//! - an incoming W3C `traceparent` (and `tracestate`) continues the caller's trace;
//! - every `tracing` span opened inside the request at `info` or above is its child:
//!   starter-mongo's `mongodb.*` and starter-redis's `redis.*` spans, and your own.
//!
//! Spans are filtered by `log.level` like log lines (one filter for both): at `warn` no
//! request span exists, so nothing is traced.
//!
//! Spans are sent in batches by a thread of their own; [`crate::logging::flush`] (called
//! by [`crate::App::run`] and [`crate::exit_code`]) sends what is queued, so spans that end
//! during shutdown are exported too. The span fields meant for OpenTelemetry (`otel.*`,
//! `http.*`) are left out of the JSON log lines, which stay as they are without traces.
//!
//! Try it with the receiver in the repository (`scripts/otlp-receiver`), which writes one
//! JSON line per span it receives:
//!
//! ```text
//! scripts/otlp-receiver target/spans.jsonl &       # prints its endpoint
//! APP_OTEL__ENDPOINT=http://127.0.0.1:<port> scripts/with-devdb cargo run --example week2_notes
//! curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
//!      localhost:8080/api/notes
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// `[otel]`: where to send traces. Present without the `otel` feature too, so that a
/// configured endpoint is refused rather than silently ignored.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtelSettings {
    /// The OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; spans go to
    /// `{endpoint}/v1/traces`. `None` (the default): no traces.
    pub endpoint: Option<String>,
    /// `service.name` of the spans; `None`: the executable's name.
    pub service_name: Option<String>,
    /// The share of new traces recorded, 0.0 to 1.0 (default 1.0). A request that continues
    /// a trace follows its caller's decision (the `traceparent` sampled flag).
    pub sample_ratio: f64,
    /// How long one export request may take (default 10 s).
    #[serde(with = "crate::config::secs_f64")]
    pub export_timeout: Duration,
}

impl Default for OtelSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            service_name: None,
            sample_ratio: 1.0,
            export_timeout: Duration::from_secs(10),
        }
    }
}

impl OtelSettings {
    /// Refuses an endpoint that is not an `http://` or `https://` URL, an endpoint in a
    /// build without the `otel` feature, a ratio outside 0..=1 and a zero timeout.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: key.into(),
            reason: reason.into(),
        };
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(invalid("otel.sample_ratio", "must be between 0.0 and 1.0"));
        }
        if self.export_timeout.is_zero() {
            return Err(invalid("otel.export_timeout", "must be greater than 0"));
        }
        let Some(endpoint) = &self.endpoint else {
            return Ok(());
        };
        if !cfg!(feature = "otel") {
            return Err(invalid(
                "otel.endpoint",
                "is set, but this build has no OpenTelemetry support: enable the `otel` \
                 feature of starter-kit (or starter-core), or unset otel.endpoint",
            ));
        }
        let scheme_ok = endpoint.starts_with("http://") || endpoint.starts_with("https://");
        if !scheme_ok || endpoint.parse::<http::Uri>().is_err() {
            return Err(invalid(
                "otel.endpoint",
                "must be a URL such as http://127.0.0.1:4318",
            ));
        }
        if self
            .service_name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return Err(invalid("otel.service_name", "must not be empty"));
        }
        Ok(())
    }

    /// The URL spans are posted to: the endpoint with `/v1/traces`.
    pub fn traces_url(&self) -> Option<String> {
        let endpoint = self.endpoint.as_deref()?.trim_end_matches('/');
        Some(format!("{endpoint}/v1/traces"))
    }
}

#[cfg(feature = "otel")]
pub use enabled::*;

#[cfg(feature = "otel")]
mod enabled {
    use std::sync::{
        Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    };

    use opentelemetry::{
        propagation::TextMapPropagator,
        trace::{TraceContextExt, TracerProvider as _},
    };
    use opentelemetry_http::{Bytes, HeaderExtractor, HttpClient, HttpError, Request, Response};
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    use opentelemetry_sdk::{
        Resource,
        propagation::TraceContextPropagator,
        trace::{Sampler, SdkTracerProvider},
    };
    use tracing::{Span, Subscriber, field::Empty};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::{Layer, registry::LookupSpan};

    use super::OtelSettings;

    /// The provider [`crate::logging::init`] installed, shut down by [`shutdown`].
    static PROVIDER: OnceLock<Mutex<Option<SdkTracerProvider>>> = OnceLock::new();

    /// Whether [`layer`] was ever called: until then, a request spends one load on traces
    /// instead of looking up the subscriber's layers.
    static LAYER_BUILT: AtomicBool = AtomicBool::new(false);

    /// The tracer provider of `settings`: spans batched to the OTLP/HTTP endpoint, sampled
    /// parent-based at `sample_ratio`. `None` when no endpoint is configured.
    pub fn provider(settings: &OtelSettings) -> anyhow::Result<Option<SdkTracerProvider>> {
        let Some(url) = settings.traces_url() else {
            return Ok(None);
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .with_timeout(settings.export_timeout)
            .with_http_client(BlockingClient::new(settings.export_timeout)?)
            .build()?;
        let service_name = settings
            .service_name
            .clone()
            .unwrap_or_else(executable_name);
        Ok(Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                    settings.sample_ratio,
                ))))
                .with_resource(Resource::builder().with_service_name(service_name).build())
                .build(),
        ))
    }

    /// The layer that turns `tracing` spans into OpenTelemetry spans of `provider`. Add it
    /// to your own subscriber (with the kit's `init` it is added for you); the request
    /// spans get their OpenTelemetry fields only under it.
    pub fn layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        LAYER_BUILT.store(true, Ordering::Relaxed);
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("starter-core"))
            // The location, thread, target and busy/idle times of each span: noise next to
            // the route, and work on every span.
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .and_then(Marker)
    }

    /// Keeps `provider` for [`shutdown`]. `logging::init` calls it with the provider whose
    /// layer it installed.
    pub fn install(provider: SdkTracerProvider) {
        let _ = PROVIDER.set(Mutex::new(Some(provider)));
    }

    /// Sends the spans still queued and stops the exporter, waiting at most 5 s (the SDK's
    /// default). Spans that end later are lost, hence [`crate::logging::flush`], which the
    /// app calls last, calls it.
    pub fn shutdown() {
        let Some(provider) = PROVIDER
            .get()
            .and_then(|provider| provider.lock().ok()?.take())
        else {
            return;
        };
        if let Err(error) = provider.shutdown() {
            tracing::warn!(%error, "traces could not all be exported at shutdown");
        }
    }

    /// Marks a subscriber that has [`layer`]: tracing-opentelemetry's own marker type is
    /// private, and looking it up is how a request knows whether to carry trace fields.
    struct Marker;

    impl<S: Subscriber> Layer<S> for Marker {}

    /// Whether the current subscriber exports spans (it has [`layer`]).
    pub fn enabled() -> bool {
        LAYER_BUILT.load(Ordering::Relaxed)
            && tracing::dispatcher::get_default(|dispatch| dispatch.is::<Marker>())
    }

    /// The request span with its OpenTelemetry fields, its parent taken from the request's
    /// `traceparent`/`tracestate`. The log fields are those of
    /// [`crate::logging::RequestSpan`], which calls this when [`enabled`].
    pub(crate) fn request_span<B>(request: &http::Request<B>, request_id: &str) -> Span {
        let method = request.method().as_str();
        let span = tracing::info_span!(
            "request",
            request_id,
            method,
            route = Empty,
            user_id = Empty,
            cache = Empty,
            otel.name = method,
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = method,
            http.route = Empty,
            http.response.status_code = Empty,
        );
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
        if parent.span().span_context().is_valid() {
            // Fails only when the span is disabled, and then there is nothing to continue.
            let _ = span.set_parent(parent);
        }
        span
    }

    /// Names the request span after its route (`GET /api/notes/{id}`); a span without
    /// trace fields is left alone.
    pub(crate) fn record_route(span: &Span, method: &http::Method, route: &str) {
        if !LAYER_BUILT.load(Ordering::Relaxed) {
            return;
        }
        if let Some(field) = span.field("http.route") {
            span.record(&field, route);
            // Not through `otel.name`: the OpenTelemetry span started when the request span
            // was first entered, and tracing-opentelemetry renames only spans not started.
            span.context()
                .span()
                .update_name(format!("{method} {route}"));
        }
    }

    /// Records the response status on the request span; a server error is the span's
    /// `ERROR` status.
    pub(crate) fn record_status(span: &Span, status: http::StatusCode) {
        if !LAYER_BUILT.load(Ordering::Relaxed) {
            return;
        }
        if let Some(field) = span.field("http.response.status_code") {
            // An i64: tracing-opentelemetry turns other integers into strings.
            span.record(&field, i64::from(status.as_u16()));
            if status.is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
        }
    }

    /// The name of the running executable (`week5_api`), the default `service.name`.
    fn executable_name() -> String {
        std::env::current_exe()
            .ok()
            .and_then(|path| Some(path.file_stem()?.to_str()?.to_owned()))
            .unwrap_or_else(|| "starter".into())
    }

    /// The exporter's HTTP client: reqwest 0.12's blocking client, since opentelemetry-otlp
    /// 0.33's own client features link reqwest 0.13, a second copy next to the workspace's.
    /// Blocking, because the batch span processor exports from a thread of its own, not
    /// from the Tokio runtime.
    #[derive(Debug)]
    struct BlockingClient(reqwest::blocking::Client);

    /// The most of a collector's answer that is read (as opentelemetry-http's clients do).
    const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

    impl BlockingClient {
        fn new(timeout: std::time::Duration) -> anyhow::Result<Self> {
            // Built and later dropped off the async runtime: reqwest's blocking client runs
            // a runtime of its own, which may not start or stop inside another.
            let client = std::thread::spawn(move || {
                reqwest::blocking::Client::builder()
                    .timeout(timeout)
                    .build()
            })
            .join()
            .map_err(|_| anyhow::anyhow!("building the OTLP HTTP client panicked"))??;
            Ok(Self(client))
        }
    }

    #[async_trait::async_trait]
    impl HttpClient for BlockingClient {
        async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
            use std::io::Read;
            let mut response = self.0.execute(request.try_into()?)?;
            let mut builder = Response::builder().status(response.status());
            if let Some(headers) = builder.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            let mut body = Vec::new();
            response
                .take(MAX_RESPONSE_BYTES + 1)
                .read_to_end(&mut body)?;
            if body.len() as u64 > MAX_RESPONSE_BYTES {
                return Err(Box::new(opentelemetry_http::ResponseBodyTooLarge::new()));
            }
            Ok(builder.body(Bytes::from(body))?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(endpoint: &str) -> OtelSettings {
        OtelSettings {
            endpoint: Some(endpoint.into()),
            ..OtelSettings::default()
        }
    }

    fn refused_key(settings: &OtelSettings) -> Option<String> {
        match settings.check() {
            Ok(()) => None,
            Err(ConfigError::Invalid { key, .. }) => Some(key),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn off_by_default() {
        let settings = OtelSettings::default();
        assert_eq!(settings.traces_url(), None);
        assert_eq!(refused_key(&settings), None);
    }

    #[test]
    fn an_endpoint_needs_the_feature() {
        let settings = with_endpoint("http://127.0.0.1:4318");
        if cfg!(feature = "otel") {
            assert_eq!(refused_key(&settings), None);
        } else {
            let err = settings.check().unwrap_err().to_string();
            assert!(
                err.contains("otel.endpoint") && err.contains("`otel` feature"),
                "{err}"
            );
        }
    }

    #[test]
    fn spans_go_to_v1_traces() {
        for endpoint in ["http://collector:4318", "http://collector:4318/"] {
            assert_eq!(
                with_endpoint(endpoint).traces_url().as_deref(),
                Some("http://collector:4318/v1/traces")
            );
        }
    }

    #[test]
    fn bad_values_are_refused_by_key() {
        let ratio = OtelSettings {
            sample_ratio: 1.5,
            ..OtelSettings::default()
        };
        assert_eq!(refused_key(&ratio).as_deref(), Some("otel.sample_ratio"));
        let timeout = OtelSettings {
            export_timeout: Duration::ZERO,
            ..OtelSettings::default()
        };
        assert_eq!(
            refused_key(&timeout).as_deref(),
            Some("otel.export_timeout")
        );
        if cfg!(feature = "otel") {
            for endpoint in ["127.0.0.1:4318", "grpc://collector:4317", "http://bad host"] {
                assert_eq!(
                    refused_key(&with_endpoint(endpoint)).as_deref(),
                    Some("otel.endpoint"),
                    "{endpoint}"
                );
            }
            let blank_name = OtelSettings {
                service_name: Some(" ".into()),
                ..with_endpoint("http://collector:4318")
            };
            assert_eq!(
                refused_key(&blank_name).as_deref(),
                Some("otel.service_name")
            );
        }
    }
}
