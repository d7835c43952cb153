//! # starter
//!
//! The facade of the Rust backend starter kit (axum + MongoDB + JWT). It re-exports:
//!
//! - everything of `starter-core` at the top level (`starter::App`, `starter::config`,
//!   `starter::ApiError`, `starter::extract`, …);
//! - `starter-mongo` as [`mongo`] (feature `mongo`, on by default);
//! - `starter-auth` as [`auth`] (feature `auth`, on by default);
//! - `starter-redis` as `redis` (feature `redis`, off by default).
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
