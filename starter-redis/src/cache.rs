//! Cache-aside: read a JSON value from Redis, or load it and store it with a TTL.
//!
//! Redis is optional here: when it errors (down, slow, closed), the helper logs a
//! rate-limited warning and calls the loader, so a request never fails because of the cache.
//!
//! Invalidation by prefix uses `SCAN MATCH prefix*` + `UNLINK` rather than a version-key
//! scheme: it works for any prefix without declaring groups up front, reads stay one round
//! trip (a version scheme reads the version key on every lookup), and memory is freed at once
//! instead of waiting for stale generations to expire. Its cost is a walk over the keyspace
//! (in batches; fine for a cache of moderate size) and it is not atomic: a value stored
//! concurrently with the walk may survive it, bounded by its TTL.

use std::{fmt, future::Future, time::Duration};

use serde::{Serialize, de::DeserializeOwned};

use crate::Redis;

/// Where [`Cache::get_or_load`] found the value; logged as the `cache` field, and recorded
/// on the request span (`starter_core::logging::record_cache`), so the request's log line
/// says it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from Redis.
    Hit,
    /// Not in Redis: loaded, then stored.
    Miss,
    /// Redis failed: loaded without the cache.
    Bypass,
}

impl CacheOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Bypass => "bypass",
        }
    }
}

impl fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A namespaced cache-aside helper; get one with [`Redis::cache`]. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    redis: Redis,
    namespace: String,
}

impl Cache {
    pub fn new(redis: Redis, namespace: &str) -> Self {
        Self {
            redis,
            namespace: namespace.to_owned(),
        }
    }

    /// The Redis key of `key`: `{namespace}:{key}`.
    pub fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// The cached value of `key`, or the loader's, stored for `ttl` (at least one second).
    /// A loader error is returned as is and nothing is stored.
    ///
    /// ```no_run
    /// # async fn f(redis: starter_redis::Redis) -> anyhow::Result<()> {
    /// use std::time::Duration;
    /// let cache = redis.cache("notes");
    /// let count: u64 = cache
    ///     .get_or_load("count", Duration::from_secs(60), || async { Ok::<_, anyhow::Error>(42) })
    ///     .await?;
    /// # let _ = count; Ok(()) }
    /// ```
    pub async fn get_or_load<T, E, F, Fut>(&self, key: &str, ttl: Duration, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.get_or_load_with_outcome(key, ttl, load)
            .await
            .map(|(value, _)| value)
    }

    /// [`Cache::get_or_load`], also saying whether it was a hit, a miss or a bypass.
    pub async fn get_or_load_with_outcome<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        load: F,
    ) -> Result<(T, CacheOutcome), E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let full_key = self.key(key);
        let outcome = match self
            .redis
            .query::<Option<Vec<u8>>>(redis::cmd("GET").arg(&full_key))
            .await
        {
            Ok(Some(bytes)) => match serde_json::from_slice::<T>(&bytes) {
                Ok(value) => {
                    tracing::debug!(key = %full_key, cache = "hit", "cache lookup");
                    starter_core::logging::record_cache("hit");
                    return Ok((value, CacheOutcome::Hit));
                }
                Err(err) => {
                    // A value of an older shape: reload and overwrite it.
                    tracing::debug!(key = %full_key, error = %err, "cached value does not decode; reloading");
                    CacheOutcome::Miss
                }
            },
            Ok(None) => CacheOutcome::Miss,
            Err(err) => {
                self.redis.warn_unavailable("GET", &err);
                CacheOutcome::Bypass
            }
        };
        tracing::debug!(key = %full_key, cache = outcome.as_str(), "cache lookup");
        starter_core::logging::record_cache(outcome.as_str());
        let value = load().await?;
        if outcome == CacheOutcome::Miss {
            match serde_json::to_vec(&value) {
                Ok(bytes) => {
                    let secs = ttl.as_secs().max(1);
                    let stored = self
                        .redis
                        .query::<()>(
                            redis::cmd("SET")
                                .arg(&full_key)
                                .arg(bytes)
                                .arg("EX")
                                .arg(secs),
                        )
                        .await;
                    if let Err(err) = stored {
                        self.redis.warn_unavailable("SET", &err);
                    }
                }
                Err(err) => {
                    tracing::warn!(key = %full_key, error = %err, "value not cached: it does not serialize")
                }
            }
        }
        Ok((value, outcome))
    }

    /// Removes `key`. Errors are returned (a stale entry would outlive the change), so the
    /// caller can decide; the entry expires with its TTL anyway.
    pub async fn invalidate(&self, key: &str) -> anyhow::Result<()> {
        self.redis
            .query::<usize>(redis::cmd("UNLINK").arg(self.key(key)))
            .await?;
        Ok(())
    }

    /// Removes every key of this namespace that starts with `prefix` (`""`: the whole
    /// namespace); returns how many were removed. See the module docs for the trade-offs.
    pub async fn invalidate_prefix(&self, prefix: &str) -> anyhow::Result<usize> {
        let pattern = format!("{}*", glob_escape(&self.key(prefix)));
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .redis
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500),
                )
                .await?;
            if !keys.is_empty() {
                removed += self
                    .redis
                    .query::<usize>(redis::cmd("UNLINK").arg(&keys))
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// Escapes the glob characters of a Redis `MATCH` pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(super::glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
