//! [`EventBus`]: publish into a Redis Stream, one reader per instance, local fan-out.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use futures_util::{Stream, future::BoxFuture};
use redis::{
    AsyncConnectionConfig,
    streams::{StreamId as Entry, StreamRangeReply, StreamReadReply},
};
use starter_core::{Component, health::Probe};
use starter_redis::Redis;
use tokio::{sync::broadcast, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    event::{Audience, Event, StreamId},
    settings::RealtimeSettings,
};

/// How long one `XREAD` blocks in Redis before it is issued again.
const BLOCK: Duration = Duration::from_secs(5);
/// Entries fetched per `XREAD`/`XRANGE`.
const BATCH: usize = 256;
/// Reconnection backoff of the reader.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where events are stored.
enum Backend {
    Redis(Redis),
    /// Without Redis: this instance only, the last `maxlen` events in memory.
    Local(Mutex<LocalLog>),
}

#[derive(Default)]
struct LocalLog {
    last: StreamId,
    entries: VecDeque<(StreamId, Event)>,
}

/// The realtime event bus of one instance.
///
/// [`publish`](Self::publish) appends to the Redis Stream `{key_prefix}:events` (trimmed
/// to about `maxlen` entries), so every instance sees every event and a reconnecting client
/// can be replayed what it missed. Each instance runs one background reader (`XREAD BLOCK`
/// on a dedicated connection, reconnecting with backoff and resuming after the last id it
/// saw, so an outage loses nothing that Redis kept) that forwards events to an in-process
/// broadcast channel; [`subscribe`](Self::subscribe) listens there. The reader starts after
/// the newest entry present when it first connects: events published before are replayed
/// to clients that ask, not broadcast.
///
/// It is a [`Component`]: start-up spawns the reader, shutdown stops it and ends the open
/// connections. Its optional `realtime` probe is down while the reader is not connected.
/// Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    settings: RealtimeSettings,
    stream_key: String,
    sender: broadcast::Sender<Arc<Event>>,
    reader: Mutex<Option<JoinHandle<()>>>,
    stop: CancellationToken,
    reading: AtomicBool,
    live: AtomicUsize,
}

impl EventBus {
    /// A bus on `redis` with `[realtime]` settings. Nothing runs until [`start`](Self::start)
    /// (or the app's start-up, when registered as a component).
    pub fn new(redis: Redis, settings: &RealtimeSettings) -> Self {
        Self::with_backend(Backend::Redis(redis), settings)
    }

    /// A bus for an app without Redis: events reach the clients of this instance only, and
    /// the last `maxlen` of them are kept in memory for replay. Logs a warning, since
    /// clients connected to other instances miss these events.
    pub fn local(settings: &RealtimeSettings) -> Self {
        tracing::warn!(
            "no Redis for realtime events: they reach the clients of this instance only"
        );
        let bus = Self::with_backend(Backend::Local(Mutex::default()), settings);
        bus.inner.reading.store(true, Ordering::Relaxed);
        bus
    }

    fn with_backend(backend: Backend, settings: &RealtimeSettings) -> Self {
        let (sender, _) = broadcast::channel(settings.broadcast_capacity);
        Self {
            inner: Arc::new(Inner {
                stream_key: format!("{}:events", settings.key_prefix),
                backend,
                settings: settings.clone(),
                sender,
                reader: Mutex::new(None),
                stop: CancellationToken::new(),
                reading: AtomicBool::new(false),
                live: AtomicUsize::new(0),
            }),
        }
    }

    /// The settings the bus was built with.
    pub fn settings(&self) -> &RealtimeSettings {
        &self.inner.settings
    }

    /// The Redis Stream key.
    pub fn stream_key(&self) -> &str {
        &self.inner.stream_key
    }

    /// Appends an event; returns it with its id. `kind` must be non-empty and on one line
    /// (it becomes the SSE `event:` field).
    pub async fn publish(
        &self,
        kind: &str,
        audience: Audience,
        data: serde_json::Value,
    ) -> anyhow::Result<Event> {
        let cmd = self.xadd(kind, &audience, &data)?;
        let redis = match &self.inner.backend {
            Backend::Redis(redis) => redis,
            Backend::Local(log) => {
                let mut log = log.lock().expect("local log lock");
                return Ok(self.append_local(&mut log, kind.to_owned(), audience, data));
            }
        };
        let id: String = redis
            .query(&cmd)
            .await
            .with_context(|| format!("publishing a `{kind}` event"))?;
        Ok(Event {
            id,
            kind: kind.to_owned(),
            audience,
            data,
        })
    }

    /// Appends several events at once (one `MULTI`/`EXEC` round trip: all or none, with
    /// consecutive ids); returns them with their ids, in order.
    pub async fn publish_batch(
        &self,
        events: impl IntoIterator<Item = (String, Audience, serde_json::Value)>,
    ) -> anyhow::Result<Vec<Event>> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut pending = Vec::new();
        for (kind, audience, data) in events {
            pipe.add_command(self.xadd(&kind, &audience, &data)?);
            pending.push((kind, audience, data));
        }
        let redis = match &self.inner.backend {
            _ if pending.is_empty() => return Ok(Vec::new()),
            Backend::Redis(redis) => redis,
            Backend::Local(log) => {
                let mut log = log.lock().expect("local log lock");
                return Ok(pending
                    .into_iter()
                    .map(|(kind, audience, data)| self.append_local(&mut log, kind, audience, data))
                    .collect());
            }
        };
        // The shared connection's response timeout (`redis.command_timeout`) bounds it.
        let ids: Vec<String> = pipe
            .query_async(&mut redis.connection())
            .await
            .context("publishing a batch of events")?;
        anyhow::ensure!(ids.len() == pending.len(), "unexpected XADD batch reply");
        Ok(ids
            .into_iter()
            .zip(pending)
            .map(|(id, (kind, audience, data))| Event {
                id,
                kind,
                audience,
                data,
            })
            .collect())
    }

    /// Stores and broadcasts one event without Redis. Under the log's lock, so that ids
    /// reach subscribers in increasing order.
    fn append_local(
        &self,
        log: &mut LocalLog,
        kind: String,
        audience: Audience,
        data: serde_json::Value,
    ) -> Event {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let id = log.last.next(now_ms);
        log.last = id;
        let event = Event {
            id: id.to_string(),
            kind,
            audience,
            data,
        };
        log.entries.push_back((id, event.clone()));
        if log.entries.len() > self.inner.settings.maxlen {
            log.entries.pop_front();
        }
        let _ = self.inner.sender.send(Arc::new(event.clone()));
        event
    }

    /// The `XADD` of one event: fields `kind`, `data` (JSON) and `user` (absent for
    /// [`Audience::All`]).
    fn xadd(
        &self,
        kind: &str,
        audience: &Audience,
        data: &serde_json::Value,
    ) -> anyhow::Result<redis::Cmd> {
        anyhow::ensure!(
            !kind.is_empty() && !kind.contains(['\r', '\n']),
            "an event kind must be non-empty and without line breaks"
        );
        let payload = serde_json::to_string(data).context("serializing the event data")?;
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.inner.stream_key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.inner.settings.maxlen)
            .arg("*")
            .arg("kind")
            .arg(kind)
            .arg("data")
            .arg(payload);
        if let Audience::User(user) = audience {
            cmd.arg("user").arg(user);
        }
        Ok(cmd)
    }

    /// Live events for `user_id` (those for [`Audience::All`] and for this user), from now.
    pub fn subscribe(&self, user_id: &str) -> Subscription {
        Subscription {
            rx: self.inner.sender.subscribe(),
            user_id: user_id.to_owned(),
        }
    }

    /// The events for `user_id` stored after `last_id` (exclusive), oldest first: at most
    /// `maxlen`, the stream's length. Older events than the stream keeps are gone.
    pub async fn replay_since(&self, last_id: &str, user_id: &str) -> anyhow::Result<Vec<Event>> {
        let mut cursor: StreamId = last_id
            .parse()
            .with_context(|| format!("invalid event id `{last_id}`"))?;
        let mut events = Vec::new();
        loop {
            let (page, next) = self.range_after(cursor, BATCH).await?;
            events.extend(page.into_iter().filter(|e| e.audience.includes(user_id)));
            match next {
                Some(next) => cursor = next,
                None => return Ok(events),
            }
        }
    }

    /// Up to `count` events of any audience after `after`, and the cursor to continue from
    /// when the page was full.
    pub(crate) async fn range_after(
        &self,
        after: StreamId,
        count: usize,
    ) -> anyhow::Result<(Vec<Event>, Option<StreamId>)> {
        let redis = match &self.inner.backend {
            Backend::Redis(redis) => redis,
            Backend::Local(log) => {
                let log = log.lock().expect("local log lock");
                let page: Vec<Event> = log
                    .entries
                    .iter()
                    .filter(|(id, _)| *id > after)
                    .take(count)
                    .map(|(_, event)| event.clone())
                    .collect();
                let next = (page.len() == count)
                    .then(|| page.last().and_then(|e| e.id.parse().ok()))
                    .flatten();
                return Ok((page, next));
            }
        };
        let reply: StreamRangeReply = redis
            .query(
                redis::cmd("XRANGE")
                    .arg(&self.inner.stream_key)
                    .arg(format!("({after}"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(count),
            )
            .await
            .context("reading the event stream")?;
        let next = if reply.ids.len() == count {
            reply.ids.last().and_then(|e| e.id.parse().ok())
        } else {
            None
        };
        Ok((reply.ids.iter().filter_map(decode).collect(), next))
    }

    /// Spawns the reader (once). Called by the app's start-up.
    pub fn start(&self) {
        let Backend::Redis(redis) = &self.inner.backend else {
            return;
        };
        let mut reader = self.inner.reader.lock().expect("reader lock");
        if reader.is_none() {
            *reader = Some(tokio::spawn(read_loop(self.inner.clone(), redis.clone())));
        }
    }

    /// Stops the reader and ends every open connection. Called by the app's shutdown.
    pub async fn stop(&self) {
        self.inner.stop.cancel();
        let handle = self.inner.reader.lock().expect("reader lock").take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    /// Whether the reader is connected to Redis and following the stream.
    pub fn is_reading(&self) -> bool {
        self.inner.reading.load(Ordering::Relaxed)
    }

    /// Open WebSocket and SSE connections of this instance (a gauge for metrics and tests).
    pub fn live_connections(&self) -> usize {
        self.inner.live.load(Ordering::Relaxed)
    }

    /// Cancelled when the bus stops.
    pub(crate) fn stopped(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    /// Counts a connection in [`live_connections`](Self::live_connections) and in the
    /// `realtime_connections{transport}` metric until dropped.
    pub(crate) fn connection_guard(&self, transport: Transport) -> ConnectionGuard {
        static DESCRIBE: std::sync::Once = std::sync::Once::new();
        DESCRIBE.call_once(|| {
            metrics::describe_gauge!(
                CONNECTIONS,
                "Open realtime connections of this instance, by transport (sse or ws)."
            );
        });
        self.inner.live.fetch_add(1, Ordering::Relaxed);
        let gauge = metrics::gauge!(CONNECTIONS, "transport" => transport.as_str());
        gauge.increment(1.0);
        ConnectionGuard(self.inner.clone(), gauge)
    }
}

const CONNECTIONS: &str = "realtime_connections";

/// How a client receives its events: the `transport` label of `realtime_connections`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Transport {
    Sse,
    WebSocket,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::WebSocket => "ws",
        }
    }
}

/// Decrements the live connection gauges when dropped.
pub(crate) struct ConnectionGuard(Arc<Inner>, metrics::Gauge);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
        self.1.decrement(1.0);
    }
}

/// Live events for one user; see [`EventBus::subscribe`].
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Event>>,
    user_id: String,
}

/// Why a [`Subscription`] yields no more events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionError {
    /// The subscriber fell behind the broadcast channel's capacity and missed this many
    /// events: its connection should close (the client resumes from its last id).
    Lagged(u64),
    /// The bus is gone.
    Closed,
}

impl std::fmt::Display for SubscriptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Lagged(n) => write!(f, "subscriber lagged behind by {n} events"),
            Self::Closed => f.write_str("the event bus is closed"),
        }
    }
}

impl std::error::Error for SubscriptionError {}

impl Subscription {
    /// The next event for this user.
    pub async fn recv(&mut self) -> Result<Arc<Event>, SubscriptionError> {
        loop {
            match self.rx.recv().await {
                Ok(event) if event.audience.includes(&self.user_id) => return Ok(event),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return Err(SubscriptionError::Lagged(n));
                }
                Err(broadcast::error::RecvError::Closed) => return Err(SubscriptionError::Closed),
            }
        }
    }

    /// As a stream that ends after its first error.
    pub fn into_stream(
        self,
    ) -> impl Stream<Item = Result<Arc<Event>, SubscriptionError>> + Send + 'static {
        futures_util::stream::unfold(Some(self), |state| async move {
            let mut sub = state?;
            match sub.recv().await {
                Ok(event) => Some((Ok(event), Some(sub))),
                Err(err) => Some((Err(err), None)),
            }
        })
    }
}

/// Decodes a stream entry; malformed ones (not written by [`EventBus::publish`]) are skipped.
fn decode(entry: &Entry) -> Option<Event> {
    let kind: Option<String> = entry.get("kind");
    let data: Option<String> = entry.get("data");
    let (Some(kind), Some(data)) = (kind, data) else {
        tracing::warn!(id = %entry.id, "stream entry without kind or data skipped");
        return None;
    };
    let data = match serde_json::from_str(&data) {
        Ok(data) => data,
        Err(err) => {
            tracing::warn!(id = %entry.id, error = %err, "stream entry with invalid JSON skipped");
            return None;
        }
    };
    let audience = match entry.get::<String>("user") {
        Some(user) => Audience::User(user),
        None => Audience::All,
    };
    Some(Event {
        id: entry.id.clone(),
        kind,
        audience,
        data,
    })
}

/// The reader: follows the stream until the bus stops, reconnecting with backoff.
async fn read_loop(inner: Arc<Inner>, redis: Redis) {
    let mut last_id: Option<String> = None;
    let mut backoff = MIN_BACKOFF;
    loop {
        let result = tokio::select! {
            () = inner.stop.cancelled() => break,
            result = follow(&inner, &redis, &mut last_id, &mut backoff) => result,
        };
        inner.reading.store(false, Ordering::Relaxed);
        if let Err(err) = result {
            tracing::warn!(
                url = %redis.masked_url(),
                retry_in_ms = backoff.as_millis() as u64,
                error = %format!("{err:#}"),
                "realtime reader lost Redis; reconnecting"
            );
        }
        tokio::select! {
            () = inner.stop.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    inner.reading.store(false, Ordering::Relaxed);
}

/// One connection's worth of reading; returns on the first error.
async fn follow(
    inner: &Inner,
    redis: &Redis,
    last_id: &mut Option<String>,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    // A dedicated connection: `XREAD BLOCK` would stall every other command sharing it.
    // The response timeout exceeds the block time, so a silently dead link is noticed.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(BLOCK + Duration::from_secs(5)));
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .context("connecting the reader")?;
    let cursor = match last_id.clone() {
        Some(id) => id,
        None => {
            // First connection: start after the newest entry (earlier ones are replays).
            let newest: StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(&inner.stream_key)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
                .context("reading the newest event id")?;
            let id = newest
                .ids
                .first()
                .map_or_else(|| StreamId::ZERO.to_string(), |e| e.id.clone());
            last_id.insert(id).clone()
        }
    };
    let mut cursor = cursor;
    inner.reading.store(true, Ordering::Relaxed);
    *backoff = MIN_BACKOFF;
    tracing::debug!(stream = %inner.stream_key, after = %cursor, "realtime reader following");
    loop {
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(&inner.stream_key)
            .arg(&cursor)
            .query_async(&mut conn)
            .await
            .context("XREAD")?;
        for key in reply.into_iter().flat_map(|r| r.keys) {
            for entry in &key.ids {
                if let Some(event) = decode(entry) {
                    // No receiver (no open connection) is fine.
                    let _ = inner.sender.send(Arc::new(event));
                }
                cursor.clone_from(&entry.id);
                *last_id = Some(entry.id.clone());
            }
        }
    }
}

impl Component for EventBus {
    fn name(&self) -> &str {
        "realtime"
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.start();
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop().await;
            tracing::info!("realtime reader stopped");
        })
    }

    /// Ends the open SSE and WebSocket connections as soon as the server drains, so that
    /// they do not hold the shutdown for its whole grace period; clients reconnect (to
    /// another instance) and resume with `Last-Event-ID`.
    fn drain(&self) {
        self.inner.stop.cancel();
    }

    fn probe(&self) -> Option<Arc<dyn Probe>> {
        match self.inner.backend {
            Backend::Redis(_) => Some(Arc::new(RealtimeProbe(self.clone()))),
            Backend::Local(_) => None,
        }
    }
}

/// `/health` probe: down while the reader is not following the stream. Optional: readiness
/// does not depend on it (the app serves its other routes without Redis).
pub struct RealtimeProbe(pub EventBus);

impl Probe for RealtimeProbe {
    fn name(&self) -> &str {
        "realtime"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            if self.0.is_reading() {
                Ok(())
            } else {
                Err("the event reader is not connected to Redis".into())
            }
        })
    }

    fn required(&self) -> bool {
        false
    }
}
