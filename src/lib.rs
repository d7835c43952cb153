//! # starter
//!
//! The facade of the Rust backend starter kit (axum + MongoDB + JWT). It re-exports:
//!
//! - everything of `starter-core` at the top level (`starter::App`, `starter::config`,
//!   `starter::ApiError`, `starter::extract`, …);
//! - `starter-mongo` as [`mongo`] (feature `mongo`, on by default);
//! - `starter-auth` as [`auth`] (feature `auth`, on by default);
//! - `starter-redis` as `redis` (feature `redis`, off by default);
//! - `starter-files` as `files` (feature `files`, off by default): local disk or S3,
//!   streamed uploads and downloads;
//! - `starter-jobs` as `jobs` (feature `jobs`, off by default; enables `redis`): in-process
//!   tasks and a durable Redis job queue;
//! - `starter-realtime` as `realtime` (feature `realtime`, off by default; enables
//!   `redis`): WebSocket and SSE events across instances;
//! - feature `sentry` (off by default): panics and 5xx reported to Sentry when
//!   `sentry.dsn` is set ([`sentry`]).
//!
//! (The week 4 example uses those four crates by their own names, as dev-dependencies,
//! so that it runs without feature flags.)
//!
//! The curriculum lives in this package's `examples/`, one per week:
//! `cargo run --example week2_notes`.
//!
//! ```no_run
//! use starter::{App, config::{self, CoreSettings}};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings: CoreSettings = config::load()?;
//! starter::logging::init(&settings);
//! App::new(&settings).run().await
//! # }
//! ```

pub use starter_core::*;

#[cfg(feature = "mongo")]
pub use starter_mongo as mongo;

#[cfg(feature = "auth")]
pub use starter_auth as auth;

#[cfg(feature = "redis")]
pub use starter_redis as redis;

#[cfg(feature = "files")]
pub use starter_files as files;

#[cfg(feature = "jobs")]
pub use starter_jobs as jobs;

#[cfg(feature = "realtime")]
pub use starter_realtime as realtime;
