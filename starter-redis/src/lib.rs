//! # starter-redis
//!
//! Redis for apps built on `starter-core`, with the `redis` crate's auto-reconnecting
//! [`ConnectionManager`](redis::aio::ConnectionManager). Redis is treated as an *optional*
//! dependency (a cache, a fan-out bus): the app starts and serves without it.
//!
//! - [`Redis`]: a client from `[redis]` settings that is a lifespan [`Component`]: it pings
//!   with retries at start-up (and starts anyway, with a warning, when Redis is down), adds
//!   an optional `redis` probe to `/health` (down: `degraded`, but `/health/ready` stays 200)
//!   and stops using the connection at shutdown;
//! - [`Cache`]: cache-aside for serde types (JSON in Redis) with `get_or_load`, `invalidate`
//!   and `invalidate_prefix`; when Redis fails it logs a rate-limited warning and calls the
//!   loader, never failing the request;
//! - [`Redis::publish`] / [`Redis::subscribe`]: JSON pub/sub for realtime fan-out across
//!   instances;
//! - [`testing`]: the test server from `APP_REDIS__URL` (`scripts/with-services`).
//!
//! ```no_run
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use starter_redis::{Redis, RedisSettings};
//!
//! # async fn run(settings: RedisSettings) -> anyhow::Result<()> {
//! let redis = Redis::new(&settings)?;
//! // App::new(&core).component(redis.clone()) connects it at start-up.
//! let cache = redis.cache("notes");
//! let title: String = cache
//!     .get_or_load("42:title", Duration::from_secs(60), || async {
//!         Ok::<_, anyhow::Error>("loaded from the database".to_owned())
//!     })
//!     .await?;
//! cache.invalidate_prefix("42:").await?;
//!
//! let mut events = redis.subscribe::<String>("notes").await?;
//! redis.publish("notes", &title).await?;
//! assert_eq!(events.next().await.as_deref(), Some(title.as_str()));
//! # Ok(())
//! # }
//! ```
//!
//! [`Component`]: starter_core::Component

pub mod cache;
pub mod connection;
pub mod settings;
pub mod testing;

pub use cache::{Cache, CacheOutcome};
pub use connection::{Redis, RedisProbe};
pub use settings::RedisSettings;

/// The `redis` crate, so apps use the same version as the kit.
pub use redis;
