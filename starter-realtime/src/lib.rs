//! # starter-realtime
//!
//! Server-to-browser events for apps built on `starter-core`, over WebSocket and
//! Server-Sent Events, shared by every instance of the app through a Redis Stream.
//!
//! - [`EventBus`]: [`publish`](EventBus::publish) appends to the stream
//!   `{key_prefix}:events` (`XADD MAXLEN ~`); one reader per instance follows it
//!   (`XREAD BLOCK`, reconnecting after a Redis outage without losing what Redis kept) and
//!   fans out locally. The stream id is the event id, so a client that reconnects with
//!   `Last-Event-ID` gets what it missed, then live events, without gaps or duplicates. It
//!   is a [`Component`](starter_core::Component) (register it after the `Redis` component)
//!   with an optional `realtime` probe. Without Redis, [`EventBus::local`] and
//!   [`Tickets::local`] serve one instance from memory (with a warning);
//! - [`Tickets`] and the [`TicketUser`] extractor: browsers cannot put an `Authorization`
//!   header on a WebSocket or an `EventSource`, so an authenticated route of the app issues
//!   a single-use ticket (30 s by default) that the client passes as `?ticket=`;
//! - [`routes`] (`GET /sse`, `GET /ws`), or [`sse_handler`] / [`ws_handler`] in your own
//!   router, or [`EventBus::sse`] / [`EventBus::websocket`] (with the [`Resume`] extractor)
//!   behind your own authentication:
//!   heartbeats (SSE keep-alive comments, WebSocket pings with a pong deadline), and slow
//!   clients are dropped, never buffered without bound: a connection that falls
//!   `broadcast_capacity` events behind, or whose events wait `slow_client_timeout` to be
//!   written, is closed. The socket of an SSE client that stopped reading is closed by
//!   the server itself: `App` closes a connection whose writes stay blocked for
//!   `server.send_timeout` (`starter_core::app::SendTimeoutListener`);
//! - the gauge `realtime_connections{transport="sse"|"ws"}` (open connections of this
//!   instance), recorded through the `metrics` facade and served by the app's `/metrics`.
//!
//! ```no_run
//! use axum::{Json, Router, extract::State, routing::post};
//! use starter_realtime::{Audience, EventBus, RealtimeSettings, Tickets, routes};
//! use starter_redis::Redis;
//!
//! # async fn run(redis: Redis, settings: RealtimeSettings) -> anyhow::Result<()> {
//! let bus = EventBus::new(redis.clone(), &settings);
//! let tickets = Tickets::new(redis, &settings);
//! // App::new(&core).component(bus.clone()) starts the reader at start-up.
//! // The app's own authenticated route hands out tickets:
//! let issue = {
//!     let tickets = tickets.clone();
//!     move || async move { Json(tickets.issue("user-42").await.unwrap()) }
//! };
//! let app: Router = Router::new()
//!     .route("/api/realtime/ticket", post(issue))
//!     .nest("/realtime", routes(bus.clone(), tickets));
//! bus.publish("note.created", Audience::user("user-42"), serde_json::json!({"id": 7}))
//!     .await?;
//! # Ok(())
//! # }
//! ```

pub mod bus;
pub mod connection;
pub mod event;
pub mod settings;
pub mod tickets;

pub use bus::{EventBus, RealtimeProbe, Subscription, SubscriptionError};
pub use connection::{Evicted, Realtime, Resume, routes, sse_handler, ws_handler};
pub use event::{Audience, Event, InvalidStreamId, StreamId};
pub use settings::RealtimeSettings;
pub use tickets::{TicketUser, Tickets};
