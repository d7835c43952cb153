//! `[realtime]` settings: stream key, retention, heartbeats, slow clients, tickets.

use std::time::Duration;

use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, invalid, secs_f64};

/// Behaviour of the event bus, its endpoints and tickets.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeSettings {
    /// Prefix of the Redis keys: the stream is `{prefix}:events`, a ticket
    /// `{prefix}:ticket:{ticket}`. Apps sharing one Redis use different prefixes.
    pub key_prefix: String,
    /// Approximate number of events the stream keeps (`XADD MAXLEN ~`): how far back a
    /// reconnecting client can be replayed.
    pub maxlen: usize,
    /// Interval of SSE keep-alive comments and WebSocket pings. A WebSocket whose pong is
    /// missing for two intervals is closed.
    #[serde(with = "secs_f64")]
    pub heartbeat: Duration,
    /// A connection whose events wait longer than this to be written is closed (the client
    /// does not read): memory per connection stays bounded.
    #[serde(with = "secs_f64")]
    pub slow_client_timeout: Duration,
    /// Lifetime of an unredeemed ticket.
    #[serde(with = "secs_f64")]
    pub ticket_ttl: Duration,
    /// Capacity of the in-process broadcast channel. A connection that reads, but falls
    /// this many events behind, is closed (a stalled one by `slow_client_timeout`); the
    /// client resumes from its last event id.
    pub broadcast_capacity: usize,
    /// Events a connection may have queued for its client before it counts as slow.
    pub connection_queue: usize,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            key_prefix: "realtime".into(),
            maxlen: 10_000,
            heartbeat: Duration::from_secs(15),
            slow_client_timeout: Duration::from_secs(30),
            ticket_ttl: Duration::from_secs(30),
            broadcast_capacity: 1024,
            connection_queue: 64,
        }
    }
}

impl RealtimeSettings {
    /// Refuses an empty or blank key prefix, zero sizes and zero durations, and a ticket
    /// lifetime under 1 ms (Redis expiries are whole milliseconds).
    pub fn check(&self, _profile: Profile) -> Result<(), ConfigError> {
        if self.key_prefix.trim().is_empty() || self.key_prefix.contains(char::is_whitespace) {
            return Err(invalid(
                "realtime.key_prefix",
                "must be non-empty, without whitespace",
            ));
        }
        for (key, value) in [
            ("realtime.maxlen", self.maxlen),
            ("realtime.broadcast_capacity", self.broadcast_capacity),
            ("realtime.connection_queue", self.connection_queue),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        for (key, value) in [
            ("realtime.heartbeat", self.heartbeat),
            ("realtime.slow_client_timeout", self.slow_client_timeout),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.ticket_ttl < Duration::from_millis(1) {
            return Err(invalid("realtime.ticket_ttl", "must be at least 1 ms"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_zeroes_are_refused() {
        assert!(RealtimeSettings::default().check(Profile::Prod).is_ok());
        let cases = [
            (
                RealtimeSettings {
                    key_prefix: " ".into(),
                    ..Default::default()
                },
                "realtime.key_prefix",
            ),
            (
                RealtimeSettings {
                    maxlen: 0,
                    ..Default::default()
                },
                "realtime.maxlen",
            ),
            (
                RealtimeSettings {
                    heartbeat: Duration::ZERO,
                    ..Default::default()
                },
                "realtime.heartbeat",
            ),
            (
                RealtimeSettings {
                    ticket_ttl: Duration::ZERO,
                    ..Default::default()
                },
                "realtime.ticket_ttl",
            ),
        ];
        for (settings, key) in cases {
            let err = settings.check(Profile::Dev).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }
}
