//! Structured logging with `tracing`: pretty text in dev, JSON lines in stage/prod.
//!
//! Each request runs in one `request` span carrying `request_id`, `method`, `route` (the
//! matched pattern, e.g. `/api/notes/{id}`, never the raw path with ids or query), `status`
//! and `latency_ms`. Header values are never logged: Authorization and Cookie are also marked
//! sensitive (see [`crate::layers`]), so even a `Debug` print of the headers shows
//! `Sensitive`. Wrap secrets in `secrecy::SecretString`, whose `Debug` is redacted.

use std::{io::IsTerminal, time::Instant};

use axum::http::{Method, Response};
use tracing::{Span, field::Empty};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{CoreSettings, LogFormat};

/// Installs the global subscriber. Safe to call twice: the second call does nothing.
///
/// `RUST_LOG`, when set, wins over `log.level`.
pub fn init(settings: &CoreSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.log.format_for(settings.profile) {
        // Colours only on a terminal, so piped or redirected logs stay plain text.
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .pretty()
                    .with_ansi(std::io::stdout().is_terminal()),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    // Already installed (tests, or an app that set its own): keep that one.
    let _ = result;
}

/// The `request` span of one request, as the stack opens it (see [`crate::layers`]).
///
/// `route` is filled in by the router once it has matched one; a request no route matched
/// keeps `<unmatched>`. (The span is opened outside the router, where the matched path is
/// not known yet.)
pub fn request_span(method: &Method, request_id: &str) -> Span {
    tracing::info_span!(
        "request",
        request_id,
        method = %method,
        route = "<unmatched>",
        status = Empty,
        latency_ms = Empty,
    )
}

/// Whether the `request` span is on under the current subscriber (it is an `info` span).
pub fn request_span_enabled() -> bool {
    !request_span(&Method::GET, "").is_disabled()
}

/// Records status and latency on the span and logs one line per request: `info`, or `warn`
/// for a server error. With the span off (a level above `info`) that warning carries the
/// method, request id, status and latency itself.
pub fn on_response<B>(
    response: &Response<B>,
    start: Instant,
    span: &Span,
    method: &Method,
    request_id: &str,
) {
    let status = response.status();
    if span.is_disabled() {
        if status.is_server_error() {
            tracing::warn!(
                %method,
                request_id,
                status = status.as_u16(),
                latency_ms = start.elapsed().as_secs_f64() * 1000.0,
                "request finished"
            );
        }
        return;
    }
    // In one call: tracing-subscriber's JSON format re-parses and re-writes a span's
    // stored fields on every record, which costs more than formatting the line itself.
    tracing::record_all!(
        span,
        status = status.as_u16(),
        latency_ms = start.elapsed().as_secs_f64() * 1000.0
    );
    if status.is_server_error() {
        tracing::warn!("request finished");
    } else {
        tracing::info!("request finished");
    }
}
