//! Against a real Redis (`APP_REDIS__URL`, from `scripts/with-services`), with the realtime
//! routes served on 127.0.0.1:0 and real WebSocket/SSE clients; the restart test runs its
//! own `redis-server`.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::{Value, json};
use starter_core::{app::SendTimeoutListener, health::Probe};
use starter_realtime::{Audience, Event, EventBus, RealtimeSettings, StreamId, Tickets, routes};
use starter_redis::{
    Redis, RedisSettings,
    testing::{SERVICES_HINT, test_redis, unique},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WAIT: Duration = Duration::from_secs(10);

fn settings() -> RealtimeSettings {
    RealtimeSettings {
        key_prefix: unique("rt"),
        heartbeat: Duration::from_secs(5),
        ..RealtimeSettings::default()
    }
}

/// One app instance: a bus, its tickets and the realtime routes on an OS-assigned port.
struct Instance {
    bus: EventBus,
    tickets: Tickets,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Instance {
    async fn start(redis: Redis, settings: &RealtimeSettings) -> Self {
        let bus = EventBus::new(redis.clone(), settings);
        let tickets = Tickets::new(redis, settings);
        Self::serve(bus, tickets, settings).await
    }

    async fn serve(bus: EventBus, tickets: Tickets, settings: &RealtimeSettings) -> Self {
        bus.start();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = SendTimeoutListener::new(listener, settings.slow_client_timeout);
        let app = routes(bus.clone(), tickets.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        eventually("the reader follows the stream", || {
            let bus = bus.clone();
            async move { bus.is_reading() }
        })
        .await;
        Self {
            bus,
            tickets,
            addr,
            server,
        }
    }

    async fn ticket(&self, user: &str) -> String {
        self.tickets.issue(user).await.unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) {
        self.bus.stop().await;
        self.server.abort();
        let _ = self.server.await;
    }
}

/// Polls `check` every 50 ms until it is true, for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {WAIT:?}: {what}");
}

// ---------------------------------------------------------------- SSE client

/// One SSE frame: its fields, or a comment-only frame (a heartbeat).
#[derive(Debug, Default, Clone, PartialEq)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    comment: bool,
}

/// A streaming SSE reader over a reqwest body.
struct SseClient {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl SseClient {
    async fn connect(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            body: response.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next frame, or `None` when the body ends (or fails).
    async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in raw.lines() {
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    match name {
                        "" => frame.comment = true,
                        "id" => frame.id = Some(value),
                        "event" => frame.event = Some(value),
                        "data" => frame.data = Some(value),
                        _ => {}
                    }
                }
                return Some(frame);
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    /// The next event frame (skipping heartbeats), within 10 s.
    async fn event(&mut self) -> Frame {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.frame().await {
                    Some(frame) if frame.id.is_some() => return frame,
                    Some(_) => continue,
                    None => panic!("the SSE stream ended"),
                }
            }
        })
        .await
        .expect("an SSE event within 10 s")
    }
}

async fn ws_connect(
    addr: SocketAddr,
    ticket: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?ticket={ticket}"))
        .await
        .unwrap();
    socket
}

async fn publish(bus: &EventBus, kind: &str, audience: Audience, n: u64) -> Event {
    bus.publish(kind, audience, json!({ "n": n }))
        .await
        .unwrap()
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn an_event_published_on_one_instance_reaches_ws_and_sse_clients_of_both() {
    let settings = settings();
    let a = Instance::start(test_redis().await, &settings).await;
    let b = Instance::start(test_redis().await, &settings).await;

    let mut ws = ws_connect(a.addr, &a.ticket("alice").await).await;
    let sse_url = b.url(&format!("/sse?ticket={}", b.ticket("alice").await));
    let mut sse = SseClient::connect(&sse_url, None).await;
    eventually("both connections are live", || async {
        a.bus.live_connections() == 1 && b.bus.live_connections() == 1
    })
    .await;

    // Bob's event is filtered out; alice's and the broadcast one arrive, in order.
    publish(&a.bus, "note.shared", Audience::user("bob"), 0).await;
    let mine = publish(&a.bus, "note.shared", Audience::user("alice"), 1).await;
    let all = publish(&a.bus, "notice", Audience::All, 2).await;

    for want in [&mine, &all] {
        let frame = sse.event().await;
        assert_eq!(frame.id.as_deref(), Some(want.id.as_str()));
        assert_eq!(frame.event.as_deref(), Some(want.kind.as_str()));
        let data: Value = serde_json::from_str(frame.data.as_deref().unwrap()).unwrap();
        assert_eq!(data, want.data);

        let text = loop {
            match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
                Some(Ok(WsMessage::Text(text))) => break text,
                Some(Ok(_)) => continue,
                other => panic!("WebSocket ended: {other:?}"),
            }
        };
        let got: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(&got, want);
    }

    ws.close(None).await.unwrap();
    drop(sse);
    eventually("both connections are closed", || async {
        a.bus.live_connections() == 0 && b.bus.live_connections() == 0
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn sse_resumes_after_last_event_id_without_gaps_or_duplicates() {
    let instance = Instance::start(test_redis().await, &settings()).await;
    let url = |ticket: String| instance.url(&format!("/sse?ticket={ticket}"));

    let mut sse = SseClient::connect(&url(instance.ticket("u1").await), None).await;
    eventually("live", || async { instance.bus.live_connections() == 1 }).await;
    let first = publish(&instance.bus, "tick", Audience::All, 1).await;
    assert_eq!(sse.event().await.id.as_deref(), Some(first.id.as_str()));
    drop(sse);
    eventually("closed", || async { instance.bus.live_connections() == 0 }).await;

    let second = publish(&instance.bus, "tick", Audience::user("u1"), 2).await;
    publish(&instance.bus, "tick", Audience::user("u2"), 99).await;
    let third = publish(&instance.bus, "tick", Audience::All, 3).await;

    let mut sse = SseClient::connect(&url(instance.ticket("u1").await), Some(&first.id)).await;
    let fourth = publish(&instance.bus, "tick", Audience::All, 4).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(sse.event().await.id.unwrap());
    }
    assert_eq!(
        ids,
        [second.id.clone(), third.id.clone(), fourth.id.clone()]
    );
    // Nothing else (no duplicate) before the next live event.
    let fifth = publish(&instance.bus, "tick", Audience::All, 5).await;
    assert_eq!(sse.event().await.id.as_ref(), Some(&fifth.id));

    // The same, through the API.
    let replayed: Vec<String> = instance
        .bus
        .replay_since(&first.id, "u1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(replayed, [second.id, third.id, fourth.id.clone(), fifth.id]);

    // `?last_event_id=` works too; a malformed id is a 422 problem.
    let ticket = instance.ticket("u1").await;
    let mut sse = SseClient::connect(
        &instance.url(&format!("/sse?ticket={ticket}&last_event_id={}", fourth.id)),
        None,
    )
    .await;
    assert_eq!(sse.event().await.data.as_deref(), Some(r#"{"n":5}"#));
    let ticket = instance.ticket("u1").await;
    let response = reqwest::Client::new()
        .get(instance.url(&format!("/sse?ticket={ticket}")))
        .header("Last-Event-ID", "not-an-id")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "invalid_event_id");
    // The refused request did not use up the ticket.
    assert_eq!(
        instance.tickets.redeem(&ticket).await.unwrap().as_deref(),
        Some("u1")
    );
    instance.stop().await;
}

#[tokio::test]
async fn tickets_are_single_use_short_lived_and_required() {
    let settings = RealtimeSettings {
        ticket_ttl: Duration::from_millis(300),
        ..settings()
    };
    let instance = Instance::start(test_redis().await, &settings).await;
    let tickets = &instance.tickets;

    let ticket = tickets.issue("u7").await.unwrap();
    assert_eq!(ticket.len(), 43);
    assert_ne!(ticket, tickets.issue("u7").await.unwrap());
    assert_eq!(
        tickets.redeem(&ticket).await.unwrap().as_deref(),
        Some("u7")
    );
    assert_eq!(tickets.redeem(&ticket).await.unwrap(), None, "single use");
    let expiring = tickets.issue("u7").await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(tickets.redeem(&expiring).await.unwrap(), None, "expired");
    assert_eq!(tickets.redeem("short").await.unwrap(), None);

    let client = reqwest::Client::new();
    let used = tickets.issue("u7").await.unwrap();
    tickets.redeem(&used).await.unwrap();
    for (path, code) in [
        ("/sse".to_owned(), "ticket_missing"),
        ("/sse?ticket=".to_owned(), "ticket_missing"),
        (format!("/sse?ticket={}", "A".repeat(43)), "ticket_invalid"),
        (format!("/sse?ticket={used}"), "ticket_invalid"),
        ("/ws".to_owned(), "ticket_missing"),
        (format!("/ws?ticket={used}"), "ticket_invalid"),
    ] {
        let response = client.get(instance.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{path}");
    }
    // The WebSocket handshake is refused too.
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?ticket={used}", instance.addr)).await;
    assert!(refused.is_err());
    assert_eq!(instance.bus.live_connections(), 0);
    instance.stop().await;
}

#[tokio::test]
async fn heartbeats_keep_connections_alive_and_a_silent_websocket_is_closed() {
    let settings = RealtimeSettings {
        heartbeat: Duration::from_millis(200),
        ..settings()
    };
    let instance = Instance::start(test_redis().await, &settings).await;

    // SSE: keep-alive comments while nothing is published.
    let url = instance.url(&format!("/sse?ticket={}", instance.ticket("u").await));
    let mut sse = SseClient::connect(&url, None).await;
    let started = Instant::now();
    for _ in 0..3 {
        let frame = tokio::time::timeout(Duration::from_secs(2), sse.frame())
            .await
            .expect("a heartbeat within 2 s")
            .expect("open stream");
        assert!(frame.comment && frame.id.is_none(), "{frame:?}");
    }
    assert!(started.elapsed() >= Duration::from_millis(400));
    drop(sse);

    // WebSocket: pings arrive; a client that answers them stays connected.
    let mut ws = ws_connect(instance.addr, &instance.ticket("u").await).await;
    let mut pings = 0;
    let deadline = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < deadline {
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            match message {
                Some(Ok(WsMessage::Ping(_))) => pings += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(pings >= 3, "{pings} pings");
    assert_eq!(instance.bus.live_connections(), 1, "answered pings keep it");
    drop(ws);
    eventually("closed", || async { instance.bus.live_connections() == 0 }).await;

    // A client that never reads (so never answers pings) is closed after 2 intervals.
    let silent = ws_connect(instance.addr, &instance.ticket("u").await).await;
    eventually("live", || async { instance.bus.live_connections() == 1 }).await;
    let opened = Instant::now();
    eventually("the silent socket is closed", || async {
        instance.bus.live_connections() == 0
    })
    .await;
    assert!(opened.elapsed() >= Duration::from_millis(300));
    drop(silent);
    instance.stop().await;
}

/// A raw HTTP client of `/sse` with a small receive buffer that never reads.
async fn non_reading_sse_client(instance: &Instance) -> tokio::net::TcpStream {
    let ticket = instance.ticket("u").await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(instance.addr).await.unwrap();
    stream
        .write_all(format!("GET /sse?ticket={ticket} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    eventually("live", || async { instance.bus.live_connections() == 1 }).await;
    stream
}

/// Publishes 1 KB events until the instance drops its only connection; returns how many.
async fn flood_until_dropped(instance: &Instance, max_events: usize) -> usize {
    let payload = "x".repeat(1024);
    let mut published = 0;
    let started = Instant::now();
    while instance.bus.live_connections() == 1 {
        assert!(
            published < max_events && started.elapsed() < Duration::from_secs(30),
            "still connected after {published} events in {:?}",
            started.elapsed()
        );
        instance
            .bus
            .publish("bulk", Audience::All, json!(payload))
            .await
            .unwrap();
        published += 1;
    }
    published
}

#[tokio::test]
async fn a_client_lagging_behind_the_broadcast_channel_is_dropped_and_resumes() {
    let settings = RealtimeSettings {
        // Far beyond the test: only the lag can end the connection.
        slow_client_timeout: Duration::from_secs(120),
        broadcast_capacity: 4,
        ..settings()
    };
    let instance = Instance::start(test_redis().await, &settings).await;
    let url = |ticket: String| instance.url(&format!("/sse?ticket={ticket}"));
    let mut sse = SseClient::connect(&url(instance.ticket("u").await), None).await;
    eventually("live", || async { instance.bus.live_connections() == 1 }).await;

    // One transaction: the reader gets all 20 in one XREAD and broadcasts them at once,
    // 16 more than the channel holds for this (reading, but not yet scheduled) client.
    let batch = instance
        .bus
        .publish_batch((0..20).map(|n| ("burst".to_owned(), Audience::All, json!({ "n": n }))))
        .await
        .unwrap();
    eventually("the lagging connection is dropped", || async {
        instance.bus.live_connections() == 0
    })
    .await;
    let mut seen = Vec::new();
    let drained = tokio::time::timeout(WAIT, async {
        while let Some(frame) = sse.frame().await {
            seen.extend(frame.id);
        }
    })
    .await;
    assert!(drained.is_ok(), "the SSE response did not end");
    assert!(seen.len() < batch.len(), "{seen:?}");

    // The client resumes from the last id it saw and gets the rest, in order.
    let last = seen.last().cloned().unwrap_or_else(|| "0-0".to_owned());
    let mut sse = SseClient::connect(&url(instance.ticket("u").await), Some(&last)).await;
    let rest: Vec<&Event> = batch.iter().filter(|e| !seen.contains(&e.id)).collect();
    for want in rest {
        assert_eq!(sse.event().await.id.as_ref(), Some(&want.id));
    }
    instance.stop().await;
}

#[tokio::test]
async fn slow_sse_client_is_disconnected_and_not_buffered() {
    const MAX_EVENTS: usize = 20_000;
    const AFTER: usize = 500;
    let settings = RealtimeSettings {
        slow_client_timeout: Duration::from_millis(500),
        connection_queue: 8,
        // Large enough that the send timeout, not the broadcast lag, ends the connection.
        broadcast_capacity: 2 * MAX_EVENTS,
        ..settings()
    };
    let instance = Instance::start(test_redis().await, &settings).await;
    let mut stream = non_reading_sse_client(&instance).await;
    // Once the socket buffers are full, the client's events wait; after
    // `slow_client_timeout` the connection is dropped.
    let published = flood_until_dropped(&instance, MAX_EVENTS).await;
    // Events after the eviction are not queued for the dropped client.
    let after = "y".repeat(1024);
    for _ in 0..AFTER {
        instance
            .bus
            .publish("bulk", Audience::All, json!(after))
            .await
            .unwrap();
    }

    // The socket is closed server-side: reading drains what was in flight, then ends.
    let mut received = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the socket open");
    assert!(received.starts_with(b"HTTP/1.1 200"));
    let events = received.windows(6).filter(|w| w == b"event:").count();
    assert!(
        events < published,
        "{events} of {published} events delivered"
    );
    assert!(
        !received.windows(16).any(|w| w == &after.as_bytes()[..16]),
        "an event published after the eviction reached the client"
    );
    assert_eq!(instance.bus.live_connections(), 0);
    instance.stop().await;
}

#[tokio::test]
async fn without_redis_events_and_tickets_stay_in_one_instance() {
    let settings = RealtimeSettings {
        maxlen: 3,
        ticket_ttl: Duration::from_millis(200),
        ..settings()
    };
    let bus = EventBus::local(&settings);
    assert!(starter_core::Component::probe(&bus).is_none());
    let instance = Instance::serve(bus, Tickets::local(&settings), &settings).await;
    let url = |ticket: String| instance.url(&format!("/sse?ticket={ticket}"));

    let ticket = instance.ticket("u").await;
    let mut sse = SseClient::connect(&url(ticket.clone()), None).await;
    assert_eq!(
        instance.tickets.redeem(&ticket).await.unwrap(),
        None,
        "used"
    );
    let expiring = instance.ticket("u").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(instance.tickets.redeem(&expiring).await.unwrap(), None);

    let first = publish(&instance.bus, "tick", Audience::All, 1).await;
    assert_eq!(sse.event().await.id.as_ref(), Some(&first.id));
    drop(sse);
    let batch = instance
        .bus
        .publish_batch((2..6).map(|n| ("tick".to_owned(), Audience::All, json!({ "n": n }))))
        .await
        .unwrap();
    let ids: Vec<&String> = batch.iter().map(|e| &e.id).collect();
    assert!(
        ids.windows(2)
            .all(|w| w[0].parse::<StreamId>().unwrap() < w[1].parse().unwrap())
    );

    // Only the newest `maxlen` (3) are kept for replay.
    let mut sse = SseClient::connect(&url(instance.ticket("u").await), Some(&first.id)).await;
    for want in &batch[1..] {
        assert_eq!(sse.event().await.id.as_ref(), Some(&want.id));
    }
    let live = publish(&instance.bus, "tick", Audience::user("u"), 6).await;
    assert_eq!(sse.event().await.id, Some(live.id));
    drop(sse);
    instance.stop().await;
}

#[tokio::test]
async fn shutdown_stops_the_reader_and_ends_open_connections() {
    let instance = Instance::start(test_redis().await, &settings()).await;
    let url = instance.url(&format!("/sse?ticket={}", instance.ticket("u").await));
    let mut sse = SseClient::connect(&url, None).await;
    let mut ws = ws_connect(instance.addr, &instance.ticket("u").await).await;
    eventually("live", || async { instance.bus.live_connections() == 2 }).await;

    starter_core::Component::shutdown(&instance.bus).await;
    assert!(!instance.bus.is_reading());
    let ended = tokio::time::timeout(WAIT, sse.frame()).await.unwrap();
    assert_eq!(ended, None, "the SSE response ends");
    let closed = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert!(
        matches!(closed, Some(Ok(WsMessage::Close(_))) | None),
        "{closed:?}"
    );
    eventually("closed", || async { instance.bus.live_connections() == 0 }).await;
    instance.stop().await;
}

#[tokio::test]
async fn as_an_app_component_the_reader_follows_the_lifespan_and_errors_are_problems() {
    let settings = settings();
    let redis = test_redis().await;
    let bus = EventBus::new(redis.clone(), &settings);
    let tickets = Tickets::new(redis, &settings);
    let (router, health, mut lifespan) =
        starter_core::App::new(&starter_core::config::CoreSettings::default())
            .component(bus.clone())
            .nest("/realtime", routes(bus.clone(), tickets.clone()))
            .into_router();
    assert!(!bus.is_reading());
    lifespan.startup().await.unwrap();
    health.set_started(true);
    eventually("the reader follows the stream", || {
        let bus = bus.clone();
        async move { bus.is_reading() }
    })
    .await;
    let report = health.report().await;
    assert_eq!(report.checks["realtime"].status, "up");

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let response = reqwest::get(format!("http://{addr}/realtime/sse"))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "ticket_missing");
    assert_eq!(body["instance"], "/realtime/sse");
    let ticket = tickets.issue("u").await.unwrap();
    let mut sse =
        SseClient::connect(&format!("http://{addr}/realtime/sse?ticket={ticket}"), None).await;
    let event = publish(&bus, "tick", Audience::All, 1).await;
    assert_eq!(sse.event().await.id, Some(event.id));

    lifespan.shutdown().await;
    assert!(!bus.is_reading());
    assert_eq!(tokio::time::timeout(WAIT, sse.frame()).await.unwrap(), None);
    server.abort();
}

// ---------------------------------------------------------------- Redis restart

/// A private `redis-server` on a fixed port, killed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    fn spawn(port: u16, dir: &std::path::Path) -> Child {
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `redis-server` from PATH ({e}); {SERVICES_HINT}")
            })
    }

    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("starter-realtime-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Self::spawn(port, &dir);
        Self { child, port, dir }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port, &self.dir);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn the_reader_reconnects_after_a_redis_restart_and_loses_nothing() {
    let mut server = Server::new();
    let redis = Redis::new(&RedisSettings {
        url: format!("redis://127.0.0.1:{}", server.port),
        startup_timeout: Duration::from_secs(10),
        ..RedisSettings::default()
    })
    .unwrap();
    redis
        .connect_with_retry()
        .await
        .expect("private redis-server");
    let instance = Instance::start(redis.clone(), &settings()).await;
    let url = instance.url(&format!("/sse?ticket={}", instance.ticket("u").await));
    let mut sse = SseClient::connect(&url, None).await;
    eventually("live", || async { instance.bus.live_connections() == 1 }).await;
    let before = publish(&instance.bus, "tick", Audience::All, 1).await;
    assert_eq!(sse.event().await.id, Some(before.id));

    let probe = starter_realtime::RealtimeProbe(instance.bus.clone());
    assert!(!probe.required() && probe.check().await.is_ok());
    server.stop();
    eventually("the reader notices the outage", || async {
        !instance.bus.is_reading()
    })
    .await;
    assert!(probe.check().await.is_err());
    assert!(
        instance
            .bus
            .publish("tick", Audience::All, json!({}))
            .await
            .is_err()
    );

    // Published as soon as Redis answers, before the reader is back: not lost.
    server.restart();
    redis
        .connect_with_retry()
        .await
        .expect("restarted redis-server");
    let after = publish(&instance.bus, "tick", Audience::All, 2).await;
    assert_eq!(sse.event().await.id, Some(after.id));
    assert!(instance.bus.is_reading() && probe.check().await.is_ok());
    let later = publish(&instance.bus, "tick", Audience::All, 3).await;
    assert_eq!(sse.event().await.id, Some(later.id));
    assert_eq!(
        instance.bus.live_connections(),
        1,
        "the client stayed connected"
    );
    drop(sse);
    instance.stop().await;
}
