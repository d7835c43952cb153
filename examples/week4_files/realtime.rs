//! `/api/realtime`: live events for the logged-in user, over SSE or a WebSocket.
//!
//! A browser cannot send `Authorization` on a WebSocket or an `EventSource`, and a
//! long-lived token in a URL ends up in logs and histories. So the client first asks
//! `POST /api/realtime/ticket` (with its bearer token) for a ticket: random, single-use,
//! valid 30 s, and connects with `?ticket=…`.
//!
//! Events (`note.changed`, `attachment.added`, `thumbnail.ready`) go through a Redis
//! Stream, so a client connected to any instance gets the events caused on any other.
//! An SSE client that reconnects sends `Last-Event-ID` and gets what it missed.

use axum::{
    extract::{State, WebSocketUpgrade},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::Json,
};
use starter_realtime::{Resume, TicketUser};
use utoipa::ToSchema;

use crate::app::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"ticket": "kq3v0Jx0mVZ0J9pY4d9c1nqWm7kq3v0Jx0mVZ0J9pY4", "expires_in": 30}))]
pub struct TicketOut {
    /// For `?ticket=` on `/api/realtime/events` or `/api/realtime/ws`; works once.
    pub ticket: String,
    /// Seconds until it expires unused.
    pub expires_in: u64,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ticket))
        .routes(routes!(events))
        .routes(routes!(websocket))
}

/// A single-use ticket for one realtime connection.
#[utoipa::path(post, path = "/realtime/ticket", tag = "realtime", security(("bearer" = [])),
    responses((status = 200, body = TicketOut)))]
async fn ticket(State(s): State<AppState>, user: AuthUser) -> Result<Json<TicketOut>, ApiError> {
    let ticket =
        s.tickets.issue(&user.id).await.map_err(|e| {
            ApiError::unavailable("tickets cannot be issued right now").with_source(e)
        })?;
    Ok(Json(TicketOut {
        ticket,
        expires_in: s.tickets_ttl.as_secs(),
    }))
}

/// The caller's events as Server-Sent Events; a keep-alive comment every 15 s.
#[utoipa::path(get, path = "/realtime/events", tag = "realtime",
    params(("ticket" = String, Query, description = "From `POST /api/realtime/ticket`"),
        ("last_event_id" = Option<String>, Query, description = "Resume after this event (or the `Last-Event-ID` header)"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event (sent by `EventSource` when it reconnects)")),
    responses(
        (status = 200, description = "The event stream: `id:` the event id, `event:` its kind, `data:` JSON", content_type = "text/event-stream", body = String),
        (status = 401, description = "Missing, used or expired ticket"),
    ))]
async fn events(
    State(s): State<AppState>,
    resume: Resume,
    TicketUser(user): TicketUser,
) -> Response {
    s.events.sse(&user, resume.0).into_response()
}

/// The caller's events over a WebSocket, as JSON text frames (`{id, kind, audience, data}`).
#[utoipa::path(get, path = "/realtime/ws", tag = "realtime",
    params(("ticket" = String, Query, description = "From `POST /api/realtime/ticket`"),
        ("last_event_id" = Option<String>, Query, description = "Resume after this event")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, description = "Missing, used or expired ticket"),
    ))]
async fn websocket(
    State(s): State<AppState>,
    resume: Resume,
    TicketUser(user): TicketUser,
    upgrade: WebSocketUpgrade,
) -> Response {
    s.events.websocket(upgrade, &user, resume.0)
}
