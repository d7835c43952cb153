//! `/health`, `/health/live` and `/health/ready`, with pluggable probes.
//!
//! - `/health/live`: 200 while the process is up. Never touches a dependency, so an
//!   orchestrator does not restart a healthy process because the database is down.
//! - `/health/ready`: 200 once the startup hooks have finished and every required probe
//!   passes; 503 otherwise (and again while shutting down), so a load balancer stops routing
//!   here. An optional probe ([`Probe::required`] `false`, e.g. a cache) never makes it 503.
//! - `/health`: the full report, `{"status": "ok"|"degraded", "checks": {...}}`, 200 or 503;
//!   any probe down, optional or not, makes it `degraded`.
//!
//! Both `/health` and `/health/ready` record each probe's result as the gauge
//! `health_check_up{check="mongo"}` (1 up, 0 down; see [`crate::metrics`]).

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse};
use futures_util::future::{BoxFuture, join_all};
use serde::Serialize;
use utoipa::ToSchema;

use crate::docs::{OpenApiRouter, routes};

/// How long one probe may take before it counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A dependency check, such as a database ping.
pub trait Probe: Send + Sync + 'static {
    /// Key of this check in the `/health` report (`mongo`, `redis`, …).
    fn name(&self) -> &str;
    /// `Ok` when the dependency answers; `Err` carries a short, non-secret reason.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
    /// Whether the app can serve without this dependency. `true` (the default): when it is
    /// down, `/health/ready` is 503. `false` (an optional dependency such as a cache): it
    /// is reported in `/health` (status `degraded`), but readiness ignores it.
    fn required(&self) -> bool {
        true
    }
}

/// One probe's result in the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckReport {
    /// `up` or `down`.
    pub status: &'static str,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The body of `/health` and `/health/ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "ready": true,
    "checks": {"mongo": {"status": "up", "latency_ms": 1.2}}}))]
pub struct HealthReport {
    /// `ok` or `degraded`.
    pub status: &'static str,
    pub ready: bool,
    pub checks: BTreeMap<String, CheckReport>,
}

/// Probes plus the readiness flag that the app sets once startup has finished.
#[derive(Clone, Default)]
pub struct Health {
    probes: Arc<Vec<Arc<dyn Probe>>>,
    started: Arc<AtomicBool>,
}

impl Health {
    pub fn new(probes: Vec<Arc<dyn Probe>>) -> Self {
        Self {
            probes: Arc::new(probes),
            started: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Marks startup as finished (`true`) or the app as draining (`false`).
    pub fn set_started(&self, started: bool) {
        self.started.store(started, Ordering::SeqCst);
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Runs every probe concurrently, each bounded by [`PROBE_TIMEOUT`], and records each
    /// result as the `health_check_up{check}` metric.
    pub async fn report(&self) -> HealthReport {
        let results = join_all(self.probes.iter().map(|probe| async move {
            let started = Instant::now();
            let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe.check()).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let error = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => Some(reason),
                Err(_) => Some(format!("no answer within {PROBE_TIMEOUT:?}")),
            };
            crate::metrics::record_probe(probe.name(), error.is_none());
            let report = CheckReport {
                status: if error.is_none() { "up" } else { "down" },
                latency_ms,
                error,
            };
            (probe.name().to_owned(), probe.required(), report)
        }))
        .await;
        let all_up = results.iter().all(|(_, _, r)| r.error.is_none());
        let required_up = results
            .iter()
            .all(|(_, required, r)| !required || r.error.is_none());
        let ready = required_up && self.is_started();
        HealthReport {
            status: if all_up { "ok" } else { "degraded" },
            ready,
            checks: results
                .into_iter()
                .map(|(name, _, report)| (name, report))
                .collect(),
        }
    }

    /// The three health routes.
    pub fn router(&self) -> Router {
        self.api().split_for_parts().0
    }

    /// The three health routes with their OpenAPI operations (tag `health`).
    pub fn api(&self) -> OpenApiRouter {
        OpenApiRouter::new()
            .routes(routes!(health))
            .routes(routes!(live))
            .routes(routes!(ready))
            .with_state(self.clone())
    }
}

/// The body of `/health/live`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Alive {
    /// Always `ok`.
    status: &'static str,
}

/// Liveness: 200 while the process is up; touches no dependency.
#[utoipa::path(get, path = "/health/live", tag = "health", operation_id = "health_live",
    responses((status = 200, description = "The process is up", body = Alive)))]
async fn live() -> impl IntoResponse {
    Json(Alive { status: "ok" })
}

/// Every probe's status: 200 when all are up, 503 when one is down.
#[utoipa::path(get, path = "/health", tag = "health", operation_id = "health",
    responses(
        (status = 200, description = "Every dependency answers", body = HealthReport),
        (status = 503, description = "A dependency is down", body = HealthReport),
    ))]
async fn health(State(health): State<Health>) -> impl IntoResponse {
    let report = health.report().await;
    let status = if report.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// Readiness: 200 once start-up has finished and every required probe is up; 503 before,
/// while draining, or when a required dependency is down.
#[utoipa::path(get, path = "/health/ready", tag = "health", operation_id = "health_ready",
    responses(
        (status = 200, description = "Ready for traffic", body = HealthReport),
        (status = 503, description = "Starting, draining, or a dependency is down", body = HealthReport),
    ))]
async fn ready(State(health): State<Health>) -> impl IntoResponse {
    let report = health.report().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}
