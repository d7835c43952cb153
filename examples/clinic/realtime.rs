//! Live updates for the staff dashboards: `POST /api/realtime/ticket` (any staff) gives a
//! single-use ticket, and `GET /api/events?ticket=…` streams Server-Sent Events.
//!
//! Events go to every connected staff member (`Audience::All`: only staff get tickets)
//! through a Redis Stream, so a dashboard connected to any instance sees the bookings and
//! payments made on any other. Kinds: `appointment.booked`, `appointment.changed`,
//! `appointment.checked_in`, `payment.recorded`. Their data is a short summary: ids,
//! times, amounts and the patient's name, never a phone number.

use axum::{
    extract::State,
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

use crate::models::{ClinicState, STAFF, allow};

/// The realtime routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(ticket))
        .routes(routes!(events))
        .with_state(state)
}

/// A ticket for one event stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    /// For `GET /api/events?ticket=`; works once.
    pub ticket: String,
    /// Seconds until it expires unused.
    pub expires_in: u64,
}

/// A single-use ticket for the event stream. Any staff.
#[utoipa::path(post, path = "/realtime/ticket", tag = "realtime", security(("bearer" = [])),
    responses((status = 200, description = "The ticket", body = TicketOut)))]
async fn ticket(State(s): State<ClinicState>, user: AuthUser) -> Result<Json<TicketOut>, ApiError> {
    allow(&user, STAFF)?;
    let ticket =
        s.tickets.issue(&user.id).await.map_err(|e| {
            ApiError::unavailable("tickets cannot be issued right now").with_source(e)
        })?;
    Ok(Json(TicketOut {
        ticket,
        expires_in: s.events.settings().ticket_ttl.as_secs(),
    }))
}

/// The clinic's events as Server-Sent Events; `Last-Event-ID` resumes after a reconnect.
#[utoipa::path(get, path = "/events", tag = "realtime",
    params(("ticket" = String, Query, description = "From `POST /api/realtime/ticket`"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    responses(
        (status = 200, description = "`event:` the kind, `data:` JSON", content_type = "text/event-stream", body = String),
        (status = 401, description = "Missing, used or expired ticket"),
    ))]
async fn events(
    State(s): State<ClinicState>,
    resume: Resume,
    TicketUser(user): TicketUser,
) -> Response {
    s.events.sse(&user, resume.0).into_response()
}
