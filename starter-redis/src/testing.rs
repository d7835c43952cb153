//! Redis for tests: the server comes from `APP_REDIS__URL`. Without it (or when it does
//! not answer) the test fails and says how to start one: `scripts/with-services cargo test`.

use crate::{Redis, RedisSettings};

/// The command that runs tests with Redis (and the dev database).
pub const SERVICES_HINT: &str = "no Redis for tests: set APP_REDIS__URL, or run the tests through `scripts/with-services cargo test` (it starts a local redis-server)";

/// The Redis URL for tests, or a panic naming the command that provides one.
pub fn redis_url() -> String {
    match std::env::var("APP_REDIS__URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("{SERVICES_HINT}"),
    }
}

/// A connected client on the test server (a panic naming the hint when it does not answer).
/// Use a unique cache namespace or channel per test: the server is shared.
pub async fn test_redis() -> Redis {
    let settings = RedisSettings {
        url: redis_url(),
        ..RedisSettings::default()
    };
    let redis = Redis::new(&settings).expect("valid APP_REDIS__URL");
    if let Err(e) = redis.connect_with_retry().await {
        panic!("{SERVICES_HINT}\n{e:#}");
    }
    redis
}

/// A namespace or channel name unique to this call (`{prefix}-{uuid}`).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
