//! The SSE and WebSocket endpoints: replay, live events, heartbeats and slow-client eviction.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{
        FromRef, FromRequestParts, Query, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::request::Parts,
    response::{
        IntoResponse, Response,
        sse::{self, KeepAlive, Sse},
    },
};
use futures_util::{SinkExt, Stream};
use serde::Deserialize;
use starter_core::ApiError;
use tokio::{
    sync::mpsc,
    task::JoinHandle,
    time::{Instant, MissedTickBehavior},
};

use crate::{
    bus::{EventBus, SubscriptionError, Transport},
    event::{Event, StreamId, cmp_ids},
    tickets::{TicketUser, Tickets},
};

/// Replayed events fetched from Redis per round trip.
const REPLAY_PAGE: usize = 100;

/// How a connection's event feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client went away.
    ClientGone,
    /// The bus stopped (shutdown).
    Stopped,
    /// The client fell behind the broadcast channel.
    Lagged,
    /// An event waited longer than `slow_client_timeout` to be taken by the connection.
    Slow,
    /// Replaying from Redis failed.
    ReplayFailed,
}

#[derive(Deserialize)]
struct ResumeQuery {
    last_event_id: Option<String>,
}

/// Where a client resumes: the id in the `Last-Event-ID` header (sent by `EventSource` when
/// it reconnects) or, for clients that cannot set it, in `?last_event_id=`; `None` for live
/// events only. A malformed id is a 422 problem (`invalid_event_id`). Put it before
/// [`TicketUser`] so that a bad request does not use up the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume(pub Option<StreamId>);

impl<S: Send + Sync> FromRequestParts<S> for Resume {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = match parts.headers.get("last-event-id") {
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| ApiError::bad_request("Last-Event-ID is not ASCII"))?
                    .trim()
                    .to_owned(),
            ),
            None => {
                Query::<ResumeQuery>::try_from_uri(&parts.uri)
                    .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?
                    .0
                    .last_event_id
            }
        };
        match raw.filter(|s| !s.is_empty()) {
            None => Ok(Self(None)),
            Some(raw) => raw.parse().map(|id| Self(Some(id))).map_err(|e| {
                ApiError::invalid_field("last_event_id", "invalid_event_id", format!("{e}"))
            }),
        }
    }
}

/// Feeds one connection: subscribes to live events first, then replays what was stored after
/// `resume` and goes on with the live events newer than the last replayed one (so nothing is
/// missed or sent twice). Events go into a queue of `connection_queue` entries; a send that
/// cannot complete within `slow_client_timeout` (the client does not read) or a broadcast lag
/// ends the feed and drops its buffers, and the connection closes.
fn spawn_feed(
    bus: &EventBus,
    user_id: String,
    resume: Option<StreamId>,
    transport: Transport,
) -> (mpsc::Receiver<Arc<Event>>, JoinHandle<End>) {
    let settings = bus.settings();
    let (tx, rx) = mpsc::channel(settings.connection_queue);
    let timeout = settings.slow_client_timeout;
    let mut live = bus.subscribe(&user_id);
    let guard = bus.connection_guard(transport);
    let bus = bus.clone();
    let task = tokio::spawn(async move {
        let _guard = guard;
        let stopped = bus.stopped();
        let send = |event: Arc<Event>| {
            let tx = tx.clone();
            async move {
                match tx.send_timeout(event, timeout).await {
                    Ok(()) => Ok(()),
                    Err(mpsc::error::SendTimeoutError::Timeout(_)) => Err(End::Slow),
                    Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(End::ClientGone),
                }
            }
        };
        let mut last_sent: Option<String> = None;
        let feed = async {
            if let Some(mut cursor) = resume {
                loop {
                    let (page, next) =
                        bus.range_after(cursor, REPLAY_PAGE).await.map_err(|err| {
                            tracing::warn!(error = %format!("{err:#}"), "realtime replay failed");
                            End::ReplayFailed
                        })?;
                    for event in page {
                        last_sent = Some(event.id.clone());
                        if event.audience.includes(&user_id) {
                            send(Arc::new(event)).await?;
                        }
                    }
                    match next {
                        Some(next) => cursor = next,
                        None => break,
                    }
                }
            }
            let floor = last_sent.or_else(|| resume.map(|r| r.to_string()));
            loop {
                let event = tokio::select! {
                    event = live.recv() => event,
                    () = tx.closed() => return Err(End::ClientGone),
                };
                let event = match event {
                    Ok(event) => event,
                    Err(SubscriptionError::Lagged(_)) => return Err(End::Lagged),
                    Err(SubscriptionError::Closed) => return Err(End::Stopped),
                };
                if floor
                    .as_deref()
                    .is_some_and(|floor| cmp_ids(&event.id, floor).is_le())
                {
                    continue;
                }
                send(event).await?;
            }
        };
        let end = tokio::select! {
            result = feed => match result {
                Ok(()) => End::Stopped,
                Err(end) => end,
            },
            () = stopped.cancelled() => End::Stopped,
        };
        match end {
            End::Slow | End::Lagged => {
                tracing::info!(reason = ?end, "realtime client too slow; connection closed");
            }
            _ => tracing::debug!(reason = ?end, "realtime connection ended"),
        }
        end
    });
    (rx, task)
}

/// The error that aborts the SSE response of a client that fell behind or did not read.
#[derive(Debug)]
pub struct Evicted(End);

impl std::fmt::Display for Evicted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "realtime connection closed: {:?}", self.0)
    }
}

impl std::error::Error for Evicted {}

impl EventBus {
    /// An SSE response of `user_id`'s events: first those stored after `resume` (an event
    /// id), then live ones, with a keep-alive comment every `heartbeat`. The response ends
    /// when the bus stops; it is aborted when the client is too slow, and the client resumes
    /// with `Last-Event-ID`.
    pub fn sse(
        &self,
        user_id: &str,
        resume: Option<StreamId>,
    ) -> Sse<impl Stream<Item = Result<sse::Event, Evicted>> + Send + 'static> {
        let (rx, task) = spawn_feed(self, user_id.to_owned(), resume, Transport::Sse);
        let events = futures_util::stream::unfold((rx, Some(task)), |(mut rx, task)| async move {
            if let Some(event) = rx.recv().await {
                let frame = sse::Event::default()
                    .id(&event.id)
                    .event(&event.kind)
                    .json_data(&event.data)
                    .unwrap_or_else(|_| sse::Event::default().comment("unencodable event"));
                return Some((Ok(frame), (rx, task)));
            }
            // The feed is over: a clean end, or an error that aborts the response.
            let end = match task?.await {
                Ok(end) => end,
                Err(_) => End::Stopped,
            };
            match end {
                End::Stopped | End::ClientGone => None,
                other => Some((Err(Evicted(other)), (rx, None))),
            }
        });
        Sse::new(events).keep_alive(KeepAlive::new().interval(self.settings().heartbeat))
    }

    /// Answers a WebSocket upgrade with `user_id`'s events as JSON text frames (replayed
    /// after `resume` first, like [`sse`](Self::sse)). The server pings every `heartbeat` and
    /// closes the socket when no pong came for two intervals, when a send does not complete
    /// within `slow_client_timeout`, or when the client lags.
    pub fn websocket(
        &self,
        upgrade: WebSocketUpgrade,
        user_id: &str,
        resume: Option<StreamId>,
    ) -> Response {
        let bus = self.clone();
        let user_id = user_id.to_owned();
        upgrade.on_upgrade(move |socket| async move {
            let (rx, task) = spawn_feed(&bus, user_id, resume, Transport::WebSocket);
            run_socket(
                socket,
                rx,
                bus.settings().heartbeat,
                bus.settings().slow_client_timeout,
            )
            .await;
            task.abort();
        })
    }
}

async fn run_socket(
    mut socket: WebSocket,
    mut rx: mpsc::Receiver<Arc<Event>>,
    heartbeat: Duration,
    send_timeout: Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_pong = Instant::now();
    loop {
        let message = tokio::select! {
            event = rx.recv() => match event {
                Some(event) => match serde_json::to_string(&*event) {
                    Ok(json) => Message::Text(json.into()),
                    Err(_) => continue,
                },
                // The feed ended: bus stopped, lag or slow client.
                None => Message::Close(None),
            },
            _ = ping.tick() => {
                if last_pong.elapsed() > heartbeat * 2 {
                    tracing::info!("realtime WebSocket without pong; closing");
                    return;
                }
                Message::Ping(Default::default())
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Pong(_))) => { last_pong = Instant::now(); continue; }
                Some(Ok(Message::Close(_))) => {
                    // Completes the closing handshake (the reply is queued by tungstenite).
                    let _ = tokio::time::timeout(send_timeout, socket.close()).await;
                    return;
                }
                None | Some(Err(_)) => return,
                // Pings are answered by axum; client text is not part of the protocol.
                Some(Ok(_)) => continue,
            },
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(send_timeout, socket.send(message)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => return,
            Err(_) => {
                tracing::info!("realtime WebSocket client too slow; connection closed");
                return;
            }
        }
    }
}

/// State of [`routes`]: the bus and the tickets.
#[derive(Clone)]
pub struct Realtime {
    /// The event bus.
    pub bus: EventBus,
    /// The tickets that authenticate connections.
    pub tickets: Tickets,
}

impl FromRef<Realtime> for EventBus {
    fn from_ref(state: &Realtime) -> Self {
        state.bus.clone()
    }
}

impl FromRef<Realtime> for Tickets {
    fn from_ref(state: &Realtime) -> Self {
        state.tickets.clone()
    }
}

/// `GET` handler: the SSE stream of the ticket's user. Mount it in any router whose state
/// provides [`EventBus`] and [`Tickets`] (`FromRef`).
pub async fn sse_handler(
    State(bus): State<EventBus>,
    Resume(resume): Resume,
    TicketUser(user): TicketUser,
) -> Response {
    bus.sse(&user, resume).into_response()
}

/// `GET` handler: the WebSocket of the ticket's user (see [`EventBus::websocket`]).
pub async fn ws_handler(
    State(bus): State<EventBus>,
    Resume(resume): Resume,
    TicketUser(user): TicketUser,
    upgrade: WebSocketUpgrade,
) -> Response {
    bus.websocket(upgrade, &user, resume)
}

/// `GET /sse` and `GET /ws` ([`sse_handler`], [`ws_handler`]), both authenticated by
/// `?ticket=`. Merge or nest it into the app's router.
pub fn routes(bus: EventBus, tickets: Tickets) -> axum::Router {
    axum::Router::new()
        .route("/sse", axum::routing::get(sse_handler))
        .route("/ws", axum::routing::get(ws_handler))
        .with_state(Realtime { bus, tickets })
}
