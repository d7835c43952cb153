//! Single-use connection tickets: how a browser authenticates a WebSocket or EventSource,
//! which cannot carry an `Authorization` header.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{
    extract::{FromRef, FromRequestParts, Query},
    http::{StatusCode, request::Parts},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use starter_core::ApiError;
use starter_redis::Redis;

use crate::settings::RealtimeSettings;

/// Random bytes per ticket.
const TICKET_BYTES: usize = 32;
/// Length of a ticket: base64url of 32 bytes, unpadded.
const TICKET_LEN: usize = 43;

/// Issues and redeems tickets stored in Redis (`{key_prefix}:ticket:{ticket}`).
///
/// The app's own authenticated route calls [`issue`](Self::issue) and returns the ticket;
/// the browser opens `/ws?ticket=…` or `/sse?ticket=…` within `ticket_ttl`; the
/// [`TicketUser`] extractor redeems it once. No long-lived credential ever sits in a URL.
#[derive(Clone)]
pub struct Tickets {
    store: Store,
    prefix: String,
    ttl: Duration,
}

#[derive(Clone)]
enum Store {
    Redis(Redis),
    /// Without Redis: ticket → (user, expiry), valid on this instance only.
    Local(Arc<Mutex<HashMap<String, (String, Instant)>>>),
}

impl Tickets {
    /// Tickets on `redis`, living `ticket_ttl`.
    pub fn new(redis: Redis, settings: &RealtimeSettings) -> Self {
        Self::with_store(Store::Redis(redis), settings)
    }

    /// Tickets kept in this instance's memory, for an app without Redis (with
    /// [`EventBus::local`](crate::EventBus::local)): a ticket is only valid on the instance
    /// that issued it.
    pub fn local(settings: &RealtimeSettings) -> Self {
        Self::with_store(Store::Local(Arc::default()), settings)
    }

    fn with_store(store: Store, settings: &RealtimeSettings) -> Self {
        Self {
            store,
            prefix: format!("{}:ticket:", settings.key_prefix),
            ttl: settings.ticket_ttl,
        }
    }

    /// A new ticket for `user_id`: 32 random bytes, base64url, valid once for `ticket_ttl`.
    pub async fn issue(&self, user_id: &str) -> anyhow::Result<String> {
        let mut bytes = [0u8; TICKET_BYTES];
        getrandom::fill(&mut bytes).context("no OS randomness for a ticket")?;
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let redis = match &self.store {
            Store::Redis(redis) => redis,
            Store::Local(map) => {
                let now = Instant::now();
                let mut map = map.lock().expect("tickets lock");
                // Expired tickets go as new ones come, so the map stays as small as the
                // number of tickets issued within one `ticket_ttl`.
                map.retain(|_, (_, expires)| *expires > now);
                map.insert(ticket.clone(), (user_id.to_owned(), now + self.ttl));
                return Ok(ticket);
            }
        };
        let stored: Option<String> = redis
            .query(
                redis::cmd("SET")
                    .arg(format!("{}{ticket}", self.prefix))
                    .arg(user_id)
                    .arg("NX")
                    .arg("PX")
                    .arg(self.ttl.as_millis().max(1) as u64),
            )
            .await
            .context("storing a ticket")?;
        anyhow::ensure!(stored.is_some(), "ticket collision");
        Ok(ticket)
    }

    /// The user a ticket was issued for, once: the ticket is deleted as it is read.
    /// `None` for an unknown, used or expired ticket (and for one that is malformed, without
    /// asking Redis).
    pub async fn redeem(&self, ticket: &str) -> anyhow::Result<Option<String>> {
        if ticket.len() != TICKET_LEN
            || !ticket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Ok(None);
        }
        let redis = match &self.store {
            Store::Redis(redis) => redis,
            Store::Local(map) => {
                let entry = map.lock().expect("tickets lock").remove(ticket);
                return Ok(entry
                    .filter(|(_, expires)| *expires > Instant::now())
                    .map(|(user, _)| user));
            }
        };
        redis
            .query(redis::cmd("GETDEL").arg(format!("{}{ticket}", self.prefix)))
            .await
            .context("redeeming a ticket")
    }
}

#[derive(Deserialize)]
struct TicketQuery {
    ticket: Option<String>,
}

/// The user of a redeemed `?ticket=`: put it before the WebSocket/SSE extractors of a route.
/// A missing, unknown, used or expired ticket is a 401 problem (`ticket_missing`,
/// `ticket_invalid`); Redis being down is a 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketUser(pub String);

impl<S> FromRequestParts<S> for TicketUser
where
    Tickets: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<TicketQuery>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        let Some(ticket) = query.ticket.filter(|t| !t.is_empty()) else {
            return Err(unauthorized(
                "ticket_missing",
                "a `ticket` query parameter is required (issued by an authenticated route)",
            ));
        };
        match Tickets::from_ref(state).redeem(&ticket).await {
            Ok(Some(user)) => Ok(Self(user)),
            Ok(None) => Err(unauthorized(
                "ticket_invalid",
                "the ticket is unknown, already used or expired",
            )),
            Err(err) => {
                Err(ApiError::unavailable("tickets cannot be checked right now").with_source(err))
            }
        }
    }
}

/// A 401 without `WWW-Authenticate: Bearer` (a bearer token is not what these routes take).
fn unauthorized(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code).with_detail(detail)
}
