//! # starter-core
//!
//! The framework layer of the starter kit, for axum services:
//!
//! - [`config`]: dev/stage/prod profiles via figment (defaults → `config/default.toml` →
//!   `config/{profile}.toml` → `APP_<SECTION>__<KEY>`), strict checks in stage/prod;
//! - [`error`]: one [`ApiError`] type rendered as RFC 9457 problem+json, used for every
//!   error including axum's own rejections, unknown routes, 413 and panics; an app's error
//!   enums map to it with [`#[derive(IntoApiError)]`](macro@IntoApiError);
//! - [`logging`]: tracing, pretty in dev and JSON lines in stage/prod, one span per request;
//! - [`App`]: routers + middleware ([`layers`], tower-http's, and [`problem`]) + [`health`] +
//!   lifespan hooks + graceful shutdown;
//! - [`extract`]: validated JSON/query extractors whose errors name the field;
//! - [`pagination`]: `limit`/`skip`/`cursor` parameters and the `Page<T>` shape;
//! - [`conditional`]: JSON answers with an `ETag`, and `304` for `If-None-Match`;
//! - [`docs`]: the OpenAPI document at `/openapi.json`, Swagger UI at `/docs` and ReDoc at
//!   `/redoc`, served offline; a check that every route is documented;
//! - [`metrics`]: Prometheus metrics at `/metrics` (requests, latency, in-flight, health
//!   probes, build info), on the main port or its own;
//! - [`sentry`]: panics and 5xx reported to Sentry with the request id, never with
//!   credentials, cookies, bodies or email addresses (cargo feature `sentry`);
//! - [`otel`]: OpenTelemetry traces over OTLP/HTTP (the `otel` feature), off unless
//!   `otel.endpoint` is set;
//! - [`pii`]: [`Email`](pii::Email), [`Phone`](pii::Phone) and
//!   [`PersonName`](pii::PersonName), personal data that logs and `Debug` print masked.
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use serde::Deserialize;
//! use starter_core::{App, ApiError, config::{self, CoreSettings}, extract::ValidJson};
//! use validator::Validate;
//!
//! #[derive(Deserialize, Validate)]
//! struct Greet {
//!     #[validate(length(min = 1, max = 50))]
//!     name: String,
//! }
//!
//! async fn greet(ValidJson(body): ValidJson<Greet>) -> Result<String, ApiError> {
//!     Ok(format!("hello, {}", body.name))
//! }
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     let settings: CoreSettings = config::load()?;
//!     starter_core::logging::init(&settings);
//!     App::new(&settings)
//!         .merge(Router::new().route("/greet", post(greet)))
//!         .run()
//!         .await
//! }
//! ```

pub mod app;
pub mod conditional;
pub mod config;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod layers;
pub mod logging;
pub mod metrics;
pub mod otel;
pub mod pagination;
pub mod pii;
pub mod problem;
pub mod sentry;
pub mod timeout;

pub use app::{App, Component, exit_code};
pub use error::{ApiError, FieldError};
/// `#[derive(IntoApiError)]`: maps an error enum's variants to statuses and codes.
pub use starter_macros::IntoApiError;

// The derives name this crate `::starter_core`, also when used inside it.
extern crate self as starter_core;

/// Crates the kit builds on, re-exported so apps and the other kit crates agree on versions.
pub mod reexports {
    pub use axum;
    /// The facade the kit records its metrics through; record yours with it too.
    pub use metrics;
    /// The OpenTelemetry API, SDK and `tracing` bridge the `otel` feature builds on, for
    /// apps that add [`crate::otel::layer`] to a subscriber of their own.
    #[cfg(feature = "otel")]
    pub use opentelemetry;
    #[cfg(feature = "otel")]
    pub use opentelemetry_sdk;
    pub use secrecy;
    /// The Sentry SDK the kit reports with (feature `sentry`): capture your own events
    /// with it, into the request's Hub.
    #[cfg(feature = "sentry")]
    pub use sentry;
    #[cfg(feature = "otel")]
    pub use tracing_opentelemetry;
    pub use utoipa;
    pub use utoipa_axum;
    pub use validator;
}
