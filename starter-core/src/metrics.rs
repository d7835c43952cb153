//! Prometheus metrics: the `metrics` facade, recorded by `metrics-exporter-prometheus` and
//! served in the text format at `metrics.path` (`/metrics`), on the main port or on
//! `metrics.port`.
//!
//! What the kit records:
//! - `http_requests_total{method, route, status}`, `http_request_duration_seconds{method,
//!   route, status}` (a histogram, `metrics.buckets`) and `http_requests_in_flight`, by
//!   [`MetricsLayer`] in [`crate::layers::stack`]; `route` is the matched pattern
//!   (`/notes/{id}`), `<unmatched>` for the fallback, never the raw path;
//! - `health_check_up{check}`, 1 or 0, each time `/health` or `/health/ready` runs a probe;
//! - `build_info{version, profile}`, always 1.
//!
//! Other crates record their own through the `metrics` macros (`metrics::counter!` …): once
//! an [`App`](crate::App) has installed the recorder, they show up here too.
//!
//! The recorder is global to the process: the first [`install`] builds it, later calls
//! (a second `App` in the same test binary) get the same [`PrometheusHandle`].

use std::{
    cell::Cell,
    collections::HashMap,
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock, RwLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use pin_project_lite::pin_project;
use serde::{Deserialize, Serialize};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::config::ConfigError;

/// `[metrics]`: whether and where the service serves Prometheus metrics.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Record and serve metrics (default `true`).
    pub enabled: bool,
    /// Where the text format is served (default `/metrics`).
    pub path: String,
    /// `None`: served on the main port. A port: served only there, on `server.host`, so a
    /// proxy that exposes the main port does not expose the metrics.
    pub port: Option<u16>,
    /// Upper bounds, in seconds, of the `http_request_duration_seconds` buckets. The first
    /// app of the process sets them (the recorder is global).
    pub buckets: Vec<f64>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/metrics".into(),
            port: None,
            // The Prometheus clients' defaults: 5 ms to 10 s.
            buckets: vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        }
    }
}

impl MetricsSettings {
    /// Refuses a path that is not absolute, empty or unordered buckets, and a metrics port
    /// equal to the main port.
    pub fn check(&self, server_port: u16) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: key.into(),
            reason: reason.into(),
        };
        if !self.path.starts_with('/') || self.path.len() < 2 {
            return Err(invalid("metrics.path", "must be a path such as /metrics"));
        }
        if self.buckets.is_empty()
            || self.buckets.iter().any(|b| !b.is_finite() || *b <= 0.0)
            || self.buckets.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(invalid(
                "metrics.buckets",
                "must be positive numbers of seconds in increasing order",
            ));
        }
        if self.port.is_some_and(|p| p != 0 && p == server_port) {
            return Err(invalid(
                "metrics.port",
                "must differ from server.port (leave it unset to serve on the main port)",
            ));
        }
        Ok(())
    }
}

/// The handle of the process's recorder; `None` when another recorder was installed first.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder for the whole process (once; later calls return the
/// same handle and ignore their buckets) and describes the kit's metrics. `None` when the
/// process already has a recorder of its own: the kit then records into that one and
/// serves no `/metrics`.
pub fn install(settings: &MetricsSettings) -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let Ok(builder) = PrometheusBuilder::new().set_buckets(&settings.buckets) else {
                tracing::warn!("metrics.buckets is empty; no /metrics");
                return None;
            };
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "a metrics recorder is installed already; no /metrics");
                    None
                }
            }
        })
        .clone()
}

/// Help text of the kit's own metrics.
fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "HTTP requests answered, by method, matched route and status."
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time from a request's arrival to its response headers, by method, matched route and status."
    );
    metrics::describe_gauge!(IN_FLIGHT, "HTTP requests being handled now.");
    metrics::describe_gauge!(
        HEALTH_UP,
        "Whether a health probe passed (1) or failed (0) the last time /health or /health/ready ran it."
    );
    metrics::describe_gauge!(
        BUILD_INFO,
        "Always 1; its labels name the service version and the build profile."
    );
}

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const IN_FLIGHT: &str = "http_requests_in_flight";
const HEALTH_UP: &str = "health_check_up";
const BUILD_INFO: &str = "build_info";

/// The `route` label of requests that matched no route.
pub const UNMATCHED: &str = "<unmatched>";

/// Sets `build_info{version, profile} 1`; `profile` is the build profile (`debug` or
/// `release`).
pub fn record_build_info(version: &str) {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    metrics::gauge!(BUILD_INFO, "version" => version.to_owned(), "profile" => profile).set(1.0);
}

/// Records a health probe's result as `health_check_up{check}`.
pub fn record_probe(check: &str, up: bool) {
    metrics::gauge!(HEALTH_UP, "check" => check.to_owned()).set(if up { 1.0 } else { 0.0 });
}

/// The route `/metrics` (or `metrics.path`): the recorder's text format.
pub fn router(path: &str, handle: PrometheusHandle) -> Router {
    Router::new().route(
        path,
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Drains the recorder's histogram samples into their buckets every few seconds, as the
/// exporter's own listener would (without it, samples pile up between scrapes).
pub(crate) async fn upkeep(handle: PrometheusHandle) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

// -------------------------------------------------------------------------- the layer

tokio::task_local! {
    /// The matched route of the request being handled, set inside the router
    /// ([`record_route`]) and read by [`MetricsLayer`] once the response is there.
    static ROUTE: Cell<Option<MatchedPath>>;
}

/// Called inside the router: makes the matched route known to [`MetricsLayer`].
pub(crate) fn record_route(route: Option<&MatchedPath>) {
    // Outside a `MetricsLayer` (metrics off) there is no slot, and nothing to do.
    let _ = ROUTE.try_with(|slot| slot.set(route.cloned()));
}

/// Records `http_requests_total`, `http_request_duration_seconds` and
/// `http_requests_in_flight` for every request. Outermost in the stack, so that timeouts,
/// panics and body-limit answers count with their real status and time.
///
/// Overhead: the handles of each (method, route, status) are registered once and kept, so a
/// request costs a read lock and a few atomic adds, no allocation.
///
/// Written here rather than taken from `axum-prometheus` (0.10): that one pulls a second
/// tower-http (0.7) and reads the route from the request's `MatchedPath`, which only a
/// layer inside the router sees, so it would miss what the stack answers outside it
/// (timeouts, panics, body limits).
#[derive(Clone)]
pub struct MetricsLayer {
    shared: Arc<Shared>,
}

struct Shared {
    in_flight: Gauge,
    /// route → (method, status) → handles.
    handles: RwLock<HashMap<Arc<str>, ByMethodStatus>>,
}

/// The request counter and latency histogram of each (method, status) of one route.
type ByMethodStatus = HashMap<(&'static str, u16), (Counter, Histogram)>;

impl MetricsLayer {
    /// A layer recording into the global recorder (install it first: [`install`]).
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                in_flight: metrics::gauge!(IN_FLIGHT),
                handles: RwLock::default(),
            }),
        }
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl Shared {
    fn record(&self, method: &'static str, route: &str, status: StatusCode, seconds: f64) {
        let status = status.as_u16();
        let cached = self
            .handles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .and_then(|by| by.get(&(method, status)).cloned());
        let (counter, histogram) = cached.unwrap_or_else(|| {
            let labels = [
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ];
            let handles = (
                metrics::counter!(REQUESTS, &labels),
                metrics::histogram!(DURATION, &labels),
            );
            self.handles
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(Arc::from(route))
                .or_default()
                .insert((method, status), handles.clone());
            handles
        });
        counter.increment(1);
        histogram.record(seconds);
    }
}

/// The `method` label: the standard methods by name, any other as `OTHER`, so that a client
/// cannot make up label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, B> Service<Request> for MetricsService<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = method_label(request.method());
        self.shared.in_flight.increment(1.0);
        MetricsFuture {
            // The router runs the route when polled, so inside this scope.
            inner: ROUTE.scope(Cell::new(None), self.inner.call(request)),
            guard: InFlight {
                shared: self.shared.clone(),
                method,
                started: Instant::now(),
            },
        }
    }
}

/// Counts the request out of `http_requests_in_flight` however it ends (answered, or
/// dropped when the client went away).
struct InFlight {
    shared: Arc<Shared>,
    method: &'static str,
    started: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.in_flight.decrement(1.0);
    }
}

pin_project! {
    /// The future of [`MetricsService`].
    pub struct MetricsFuture<F: Future> {
        #[pin]
        inner: TaskLocalFuture<Cell<Option<MatchedPath>>, F>,
        guard: InFlight,
    }
}

impl<F, B> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Ok(response) = std::task::ready!(this.inner.as_mut().poll(cx));
        let route = this.inner.take_value().and_then(Cell::into_inner);
        let guard = &this.guard;
        guard.shared.record(
            guard.method,
            route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
            response.status(),
            guard.started.elapsed().as_secs_f64(),
        );
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(settings: &MetricsSettings, server_port: u16) -> String {
        settings
            .check(server_port)
            .expect_err("a refusal")
            .to_string()
    }

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        MetricsSettings::default().check(8080).unwrap();
        let with = |change: fn(&mut MetricsSettings)| {
            let mut settings = MetricsSettings::default();
            change(&mut settings);
            settings
        };
        for (settings, key) in [
            (with(|s| s.path = "metrics".into()), "metrics.path"),
            (with(|s| s.path = "/".into()), "metrics.path"),
            (with(|s| s.buckets = Vec::new()), "metrics.buckets"),
            (with(|s| s.buckets = vec![0.1, 0.05]), "metrics.buckets"),
            (with(|s| s.buckets = vec![0.1, 0.1]), "metrics.buckets"),
            (with(|s| s.buckets = vec![-1.0, 1.0]), "metrics.buckets"),
            (with(|s| s.buckets = vec![f64::NAN]), "metrics.buckets"),
            (with(|s| s.port = Some(8080)), "metrics.port"),
        ] {
            assert!(refusal(&settings, 8080).contains(key), "{settings:?}");
        }
        // Two OS-assigned ports do not clash.
        with(|s| s.port = Some(0)).check(0).unwrap();
        with(|s| s.port = Some(9100)).check(8080).unwrap();
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
