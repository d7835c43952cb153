//! The Redis connection: built from `[redis]`, started and stopped with the app.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{Stream, StreamExt, future::BoxFuture};
use redis::{
    Client, Cmd, FromRedisValue,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use serde::{Serialize, de::DeserializeOwned};
use starter_core::{Component, health::Probe};
use tracing::Instrument;

use crate::{
    cache::Cache,
    settings::{RedisSettings, mask_url},
};

/// At most one "Redis unavailable" warning per this interval; the others are counted.
const WARN_INTERVAL: Duration = Duration::from_secs(10);

/// A Redis client with an auto-reconnecting connection.
///
/// Cheap to clone. Register it with `App::component(redis.clone())` to get:
/// - at start-up: `PING` with retries (bounded by `redis.startup_timeout`); when Redis still
///   does not answer, a warning is logged and start-up goes on (the cache is optional; the
///   connection is re-established on its own once Redis is back);
/// - in `/health`: an optional `redis` probe (`PING`): down makes `/health` `degraded`, but
///   `/health/ready` stays 200;
/// - at shutdown: the client stops using the connection ([`Cache`] then only calls its
///   loaders); the socket closes when the last clone is dropped.
#[derive(Clone)]
pub struct Redis {
    client: Client,
    manager: ConnectionManager,
    inner: Arc<Inner>,
}

struct Inner {
    masked_url: String,
    command_timeout: Duration,
    startup_timeout: Duration,
    closed: AtomicBool,
    warnings: WarnLimiter,
}

impl Redis {
    /// Builds the client and its lazily connected [`ConnectionManager`]. No connection is
    /// made yet, but a malformed URL fails here. Call it inside a Tokio runtime.
    pub fn new(settings: &RedisSettings) -> anyhow::Result<Self> {
        let masked_url = mask_url(&settings.url);
        let client = Client::open(settings.url.as_str())
            .with_context(|| format!("invalid redis.url `{masked_url}`"))?;
        // Few, short reconnection attempts: while Redis is down, commands fail fast and the
        // cache falls back to its loader; the next command triggers a new attempt.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .with_context(|| format!("cannot create the Redis connection to `{masked_url}`"))?;
        Ok(Self {
            client,
            manager,
            inner: Arc::new(Inner {
                masked_url,
                command_timeout: settings.command_timeout,
                startup_timeout: settings.startup_timeout,
                closed: AtomicBool::new(false),
                warnings: WarnLimiter::default(),
            }),
        })
    }

    /// The underlying client (for connections of your own).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A handle on the shared, auto-reconnecting connection, for any Redis command:
    /// `redis::cmd("INCR").arg("hits").query_async::<i64>(&mut redis.connection())`.
    pub fn connection(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// A cache-aside helper whose keys are `{namespace}:{key}`.
    pub fn cache(&self, namespace: &str) -> Cache {
        Cache::new(self.clone(), namespace)
    }

    /// The URL with its password masked.
    pub fn masked_url(&self) -> &str {
        &self.inner.masked_url
    }

    /// Runs one command, bounded by `redis.command_timeout`. Fails once the app has shut down.
    ///
    /// The command runs in an `info` span `redis.command` with the OpenTelemetry database
    /// attributes (`db.system = "redis"`, `db.operation.name`, the command, e.g. `GET`) and
    /// `otel.kind = "client"`, exported as `redis.GET` … when traces are on (starter-core's
    /// `otel`). Keys and values are not recorded.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> anyhow::Result<T> {
        if self.inner.closed.load(Ordering::Relaxed) {
            anyhow::bail!("the Redis client is closed (the app is shutting down)");
        }
        let command = match cmd.args_iter().next() {
            Some(redis::Arg::Simple(name)) => std::str::from_utf8(name).unwrap_or("?"),
            _ => "?",
        };
        let span = tracing::info_span!(
            "redis.command",
            otel.name = %format_args!("redis.{command}"),
            otel.kind = "client",
            db.system = "redis",
            db.operation.name = command,
        );
        let mut conn = self.manager.clone();
        match tokio::time::timeout(self.inner.command_timeout, cmd.query_async::<T>(&mut conn))
            .instrument(span)
            .await
        {
            Ok(result) => Ok(result?),
            Err(_) => anyhow::bail!("no answer within {:?}", self.inner.command_timeout),
        }
    }

    /// Runs a Lua script (`EVALSHA`, loading it on first use), bounded by
    /// `redis.command_timeout` and in a `redis.command` span like [`Redis::query`]. Fails
    /// once the app has shut down.
    pub async fn invoke<T: FromRedisValue>(
        &self,
        script: &redis::ScriptInvocation<'_>,
    ) -> anyhow::Result<T> {
        if self.inner.closed.load(Ordering::Relaxed) {
            anyhow::bail!("the Redis client is closed (the app is shutting down)");
        }
        let span = tracing::info_span!(
            "redis.command",
            otel.name = "redis.EVALSHA",
            otel.kind = "client",
            db.system = "redis",
            db.operation.name = "EVALSHA",
        );
        let mut conn = self.manager.clone();
        match tokio::time::timeout(
            self.inner.command_timeout,
            script.invoke_async::<T>(&mut conn),
        )
        .instrument(span)
        .await
        {
            Ok(result) => Ok(result?),
            Err(_) => anyhow::bail!("no answer within {:?}", self.inner.command_timeout),
        }
    }

    /// One `PING` round trip.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let pong: String = self.query(&redis::cmd("PING")).await?;
        anyhow::ensure!(pong == "PONG", "unexpected PING answer `{pong}`");
        Ok(())
    }

    /// Pings until Redis answers, with exponential backoff, for at most
    /// `redis.startup_timeout`. The error names the (masked) URL and the last failure.
    pub async fn connect_with_retry(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let deadline = started + self.inner.startup_timeout;
        let mut delay = Duration::from_millis(100);
        let mut attempt = 1u32;
        loop {
            match self.ping().await {
                Ok(()) => {
                    tracing::info!(url = %self.inner.masked_url, attempt, "connected to Redis");
                    return Ok(());
                }
                Err(err) => {
                    let now = Instant::now();
                    if now + delay >= deadline {
                        anyhow::bail!(
                            "cannot reach Redis at {} after {:.0?} ({attempt} attempts): {err:#}",
                            self.inner.masked_url,
                            now - started,
                        );
                    }
                    tracing::debug!(url = %self.inner.masked_url, attempt, error = %format!("{err:#}"), "Redis not reachable yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                    attempt += 1;
                }
            }
        }
    }

    /// Publishes `message` as JSON on `channel`; returns how many subscribers received it.
    pub async fn publish<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
    ) -> anyhow::Result<usize> {
        let payload = serde_json::to_vec(message).context("serializing the message")?;
        self.query(redis::cmd("PUBLISH").arg(channel).arg(payload))
            .await
            .with_context(|| format!("publishing on `{channel}`"))
    }

    /// Subscribes to `channel` on a dedicated connection; the stream yields each JSON message
    /// published there (by any instance). Messages that do not decode as `T` are logged and
    /// skipped. The stream ends when the connection drops: subscribe again to resume
    /// (messages published in between are lost, as always with Redis pub/sub).
    pub async fn subscribe<T: DeserializeOwned + Send + 'static>(
        &self,
        channel: &str,
    ) -> anyhow::Result<impl Stream<Item = T> + Send + Unpin + 'static + use<T>> {
        let timeout = self.inner.command_timeout.max(Duration::from_secs(1));
        let mut pubsub = tokio::time::timeout(timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {timeout:?}"))?
            .with_context(|| format!("connecting to Redis at {}", self.inner.masked_url))?;
        tokio::time::timeout(timeout, pubsub.subscribe(channel))
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {timeout:?}"))?
            .with_context(|| format!("subscribing to `{channel}`"))?;
        let channel = channel.to_owned();
        Ok(pubsub.into_on_message().filter_map(move |msg| {
            let decoded = match serde_json::from_slice::<T>(msg.get_payload_bytes()) {
                Ok(value) => Some(value),
                Err(err) => {
                    tracing::warn!(channel, error = %err, "undecodable pub/sub message skipped");
                    None
                }
            };
            futures_util::future::ready(decoded)
        }))
    }

    /// Logs a "Redis unavailable" warning, at most once per 10 s per client; the warnings
    /// left out in between are counted in the next one's `suppressed` field.
    pub(crate) fn warn_unavailable(&self, operation: &str, err: &anyhow::Error) {
        if let Some(suppressed) = self.inner.warnings.permit() {
            tracing::warn!(
                url = %self.inner.masked_url,
                operation,
                suppressed,
                error = %format!("{err:#}"),
                "Redis unavailable; serving without the cache"
            );
        }
    }

    /// Stops using the connection: later commands fail at once (the cache only loads).
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Relaxed);
    }
}

impl Component for Redis {
    fn name(&self) -> &str {
        "redis"
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if let Err(err) = self.connect_with_retry().await {
                // Optional dependency: start anyway; the connection manager reconnects on
                // the next command once Redis is back.
                tracing::warn!(error = %format!("{err:#}"), "starting without Redis; the cache is bypassed until it answers");
            }
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.close();
            tracing::info!("Redis client closed");
        })
    }

    fn probe(&self) -> Option<Arc<dyn Probe>> {
        Some(Arc::new(RedisProbe(self.clone())))
    }
}

/// `/health` probe: a `PING`. Optional: readiness does not depend on it.
pub struct RedisProbe(pub Redis);

impl Probe for RedisProbe {
    fn name(&self) -> &str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.0
                .ping()
                .await
                .map_err(|e| format!("{e:#}").chars().take(300).collect())
        })
    }

    fn required(&self) -> bool {
        false
    }
}

/// Lets one warning through per [`WARN_INTERVAL`] and counts the rest.
#[derive(Default)]
struct WarnLimiter {
    /// Milliseconds since `epoch` of the last warning let through, plus one (0: never).
    last: AtomicU64,
    suppressed: AtomicU64,
    epoch: std::sync::OnceLock<Instant>,
}

impl WarnLimiter {
    /// `Some(suppressed since the last one)` when a warning may be logged now.
    fn permit(&self) -> Option<u64> {
        let epoch = *self.epoch.get_or_init(Instant::now);
        let now = epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_INTERVAL.as_millis() as u64;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_rate_limited_and_counted() {
        let limiter = WarnLimiter::default();
        assert_eq!(limiter.permit(), Some(0));
        for _ in 0..5 {
            assert_eq!(limiter.permit(), None);
        }
        assert_eq!(limiter.suppressed.load(Ordering::Relaxed), 5);
    }
}
