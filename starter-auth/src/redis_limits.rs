//! Rate-limit quotas counted in Redis, so that every instance of the app enforces one
//! quota per client and per account.
//!
//! Each check is one Lua script run atomically by Redis (GCRA, the algorithm governor
//! uses in process): a key holds the *theoretical arrival time* of the next request, in
//! Redis' own clock (`TIME`), so the instances' clocks never matter. A key expires when
//! its bucket is full again, so idle clients cost no memory. Written here because
//! governor counts in process only and no maintained crate runs GCRA in plain Redis
//! (redis-cell is a Redis module, which a managed Redis rarely allows).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn wire(auth: starter_auth::AuthService, redis: starter_redis::Redis) -> starter_auth::AuthService {
//! use starter_auth::redis_limits::RedisLimits;
//! auth.with_shared_limits(Arc::new(RedisLimits::new(redis)))
//! # }
//! ```

use std::{sync::LazyLock, time::Duration};

use futures_util::future::BoxFuture;
use starter_redis::{Redis, redis::Script};

use crate::{
    rate_limit::{SharedLimits, Spend},
    settings::Quota,
};

/// GCRA over one key. KEYS[1]: the key. ARGV: the interval between requests (ms), the
/// burst, and the spend (`take`, `peek`, `drain`). Returns 0 when allowed, else the wait
/// in ms before one more request is.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local spend = ARGV[3]
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if spend == 'drain' then
  local drained = math.min(tat + interval, now + burst * interval)
  redis.call('SET', KEYS[1], drained, 'PX', drained - now)
  return 0
end
local wait = tat + interval - burst * interval - now
if wait > 0 then return wait end
if spend == 'take' then
  redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
end
return 0
";

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA));

/// [`SharedLimits`] in Redis. Keys are `{prefix}:{limit}:{client}`; the default prefix is
/// `rate_limit`.
#[derive(Clone)]
pub struct RedisLimits {
    redis: Redis,
    prefix: String,
}

impl RedisLimits {
    pub fn new(redis: Redis) -> Self {
        Self {
            redis,
            prefix: "rate_limit".to_owned(),
        }
    }

    /// Another key prefix, e.g. to keep two apps on one Redis apart.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }
}

impl SharedLimits for RedisLimits {
    fn spend<'a>(
        &'a self,
        key: &'a str,
        quota: Quota,
        spend: Spend,
    ) -> BoxFuture<'a, anyhow::Result<Option<Duration>>> {
        Box::pin(async move {
            let interval_ms = u64::try_from(quota.replenish_secs.as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            let spend = match spend {
                Spend::Take => "take",
                Spend::Peek => "peek",
                Spend::Drain => "drain",
            };
            let mut invocation = SCRIPT.prepare_invoke();
            invocation
                .key(format!("{}:{key}", self.prefix))
                .arg(interval_ms)
                .arg(quota.burst.max(1))
                .arg(spend);
            let wait_ms: u64 = self.redis.invoke(&invocation).await?;
            Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
        })
    }
}
