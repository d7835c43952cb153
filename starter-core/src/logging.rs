//! Structured logging with `tracing`: pretty text in dev, JSON lines in stage/prod.
//!
//! Each request runs in one `request` span carrying `request_id`, `method`, `route` (the
//! matched pattern, e.g. `/api/notes/{id}`, never the raw path with ids or query) and, once
//! the caller is authenticated, `user_id` (an id, never an email: see [`crate::pii`]), and
//! logs one line, `request finished` with its `status` and `latency_ms`, when its response
//! is ready. Header values are never
//! logged: Authorization and Cookie are also marked sensitive (see [`crate::layers`]), so
//! even a `Debug` print of the headers shows `Sensitive`. Wrap secrets in
//! `secrecy::SecretString`, whose `Debug` is redacted.
//!
//! Lines are written to stdout by a background thread (tracing-appender's non-blocking
//! writer): a slow or blocked stdout never stalls a request. When the writer falls more
//! than [`BUFFERED_LINES`] behind, new lines are dropped and counted; [`flush`] (called by
//! [`crate::App::run`] and [`crate::exit_code`]) writes what is queued and reports the
//! count.

use std::{
    io::IsTerminal,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use axum::http::{Request, Response};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::TraceLayer,
};
use tracing::{Span, field::Empty};
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter, Layer, fmt, fmt::MakeWriter, prelude::*, registry::LookupSpan,
};

use crate::{
    config::{CoreSettings, LogFormat},
    layers::REQUEST_ID_HEADER,
};

pub mod json;

/// How many lines may wait for stdout before new ones are dropped (and counted).
pub const BUFFERED_LINES: usize = 64 * 1024;

/// The background writer's guard (flushes when dropped) and its dropped-lines counter.
static WRITER: OnceLock<Mutex<Option<(WorkerGuard, ErrorCounter)>>> = OnceLock::new();

/// Installs the global subscriber, writing to stdout through a background thread. Safe to
/// call twice: the second call does nothing.
///
/// `RUST_LOG`, when set, wins over `log.level`.
pub fn init(settings: &CoreSettings) {
    if WRITER.get().is_some() {
        return;
    }
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let format = settings.log.format_for(settings.profile);
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .thread_name("log-writer")
        .finish(std::io::stdout());
    let dropped = writer.error_counter();
    let subscriber = tracing_subscriber::registry().with(filter).with(layer(
        format,
        writer,
        std::io::stdout().is_terminal(),
    ));
    #[cfg(feature = "otel")]
    let traces = crate::otel::provider(&settings.otel);
    #[cfg(feature = "otel")]
    let subscriber = subscriber.with(
        traces
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(crate::otel::layer),
    );
    let installed = subscriber.try_init();
    if installed.is_ok() {
        let _ = WRITER.set(Mutex::new(Some((guard, dropped))));
        #[cfg(feature = "otel")]
        match traces {
            Ok(Some(provider)) => crate::otel::install(provider),
            Ok(None) => {}
            // The app runs on without traces; said once the logs work.
            Err(error) => tracing::error!(
                error = format!("{error:#}"),
                "traces are off: the exporter could not start"
            ),
        }
    }
    // Otherwise a subscriber was already installed (tests, or an app that set its own):
    // keep that one.
}

/// The kit's log format writing to `writer`: JSON lines ([`json`]: the request span's
/// fields on every line of the request) or pretty text, in colour when `ansi`. For apps that build
/// their own subscriber, and for tests that capture the logs.
pub fn layer<S, W>(
    format: LogFormat,
    writer: W,
    ansi: bool,
) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Pretty => fmt::layer()
            .pretty()
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .fmt_fields(json::JsonFragment)
            .event_format(json::JsonLines)
            .with_writer(writer)
            .boxed(),
    }
}

/// Exports the queued spans (with the `otel` feature, see [`crate::otel`]) and sends the
/// queued Sentry events ([`crate::sentry::flush`]), then writes out the queued log lines and
/// stops the background writer; logs (to stderr too) how many lines were dropped because
/// stdout could not keep up. Lines logged after this are lost, so call it last, as
/// `App::run` and `exit_code` do.
pub fn flush() {
    // First, so that what the exporter and Sentry's transport log is written out too.
    #[cfg(feature = "otel")]
    crate::otel::shutdown();
    crate::sentry::flush();
    let Some((guard, dropped)) = WRITER.get().and_then(|writer| writer.lock().ok()?.take()) else {
        return;
    };
    let dropped = dropped.dropped_lines();
    if dropped > 0 {
        tracing::warn!(dropped, "log lines were dropped: stdout could not keep up");
        eprintln!("{dropped} log lines were dropped: stdout could not keep up");
    }
    drop(guard);
}

/// tower-http's `TraceLayer` as the stack uses it: one [`RequestSpan`] per request and one
/// [`RequestLog`] line when its response is ready, nothing else.
pub fn trace_layer()
-> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), RequestLog, (), (), ()> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(RequestLog)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Opens the `request` span of each request (tower-http's `MakeSpan`).
///
/// `route` is filled in by the router: the matched pattern, or `<unmatched>`. `user_id` is
/// filled in by whatever authenticates the caller (starter-auth's extractors record the
/// token's `sub`), so every line logged after that names the account; an id, never an email
/// or a name (see [`crate::pii`]). Apps with their own authentication record it with
/// [`record_user_id`]. `cache` is filled in by cache lookups ([`record_cache`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|id| id.to_str().ok())
            .unwrap_or_default();
        // The same span plus OpenTelemetry fields, only under the trace layer: without it
        // the span is exactly as before, with no fields to skip.
        #[cfg(feature = "otel")]
        if crate::otel::enabled() {
            return crate::otel::request_span(request, request_id);
        }
        tracing::info_span!(
            "request",
            request_id,
            method = %request.method(),
            route = Empty,
            user_id = Empty,
            cache = Empty,
        )
    }
}

/// Records the authenticated caller's id as `user_id` on the current request span (see
/// [`RequestSpan`]). Call it from inside the request (an extractor, a handler, a
/// middleware behind the trace layer); in a span of your own inside the request it finds
/// no `user_id` field and does nothing, as it does outside any request.
pub fn record_user_id(user_id: &str) {
    Span::current().record("user_id", user_id);
}

/// Records how a cache answered this request (`hit`, `miss`, `bypass`) as `cache` on the
/// request span, so the request's log line shows it; `starter_redis::Cache` calls it.
/// With several lookups in one request, the last one is shown.
pub fn record_cache(outcome: &str) {
    Span::current().record("cache", outcome);
}

/// Logs one line per request when its response is ready (tower-http's `OnResponse`):
/// `info`, or `warn` for a server error. With the span off (a level above `info`) that
/// warning carries the request id, status and latency itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLog;

impl<B> tower_http::trace::OnResponse<B> for RequestLog {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let status = response.status();
        let latency_ms = latency.as_secs_f64() * 1000.0;
        #[cfg(feature = "otel")]
        crate::otel::record_status(span, status);
        if span.is_disabled() {
            if status.is_server_error() {
                let request_id = response
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|id| id.to_str().ok())
                    .unwrap_or_default();
                tracing::warn!(
                    request_id,
                    status = status.as_u16(),
                    latency_ms,
                    "request finished"
                );
            }
            return;
        }
        // On the event, not recorded on the span: the line is the request's last.
        let status = status.as_u16();
        if response.status().is_server_error() {
            tracing::warn!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    }
}
