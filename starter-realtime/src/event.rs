//! What travels on the bus: [`Event`], its [`Audience`] and the ordering of stream ids.

use std::{cmp::Ordering, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every connected user.
    All,
    /// The connections of one user (the id the ticket was issued for).
    User(String),
}

impl Audience {
    /// Events for one user.
    pub fn user(id: impl Into<String>) -> Self {
        Self::User(id.into())
    }

    /// Whether `user_id` receives events sent to this audience.
    pub fn includes(&self, user_id: &str) -> bool {
        match self {
            Self::All => true,
            Self::User(id) => id == user_id,
        }
    }
}

/// One event, as stored in the Redis Stream and sent to clients. WebSocket clients get it
/// as JSON; SSE clients get `id:` = [`Event::id`], `event:` = [`Event::kind`] and
/// `data:` = [`Event::data`] as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The Redis Stream entry id (`1718000000000-0`): increasing, so a client resumes with
    /// the last one it saw.
    pub id: String,
    /// What happened (`note.created`): the SSE event name.
    pub kind: String,
    /// Who receives it.
    pub audience: Audience,
    /// The payload.
    pub data: serde_json::Value,
}

/// A parsed stream id (`ms-seq`; a bare `ms` means `ms-0`), ordered like Redis orders them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamId {
    ms: u64,
    seq: u64,
}

impl StreamId {
    /// Before every entry.
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };

    /// The id Redis would give the next entry at `now_ms`: later than `self`, even when
    /// the clock went back.
    pub(crate) fn next(self, now_ms: u64) -> StreamId {
        if now_ms > self.ms {
            StreamId { ms: now_ms, seq: 0 }
        } else {
            StreamId {
                ms: self.ms,
                seq: self.seq + 1,
            }
        }
    }
}

impl FromStr for StreamId {
    type Err = InvalidStreamId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        let digits = |p: &str| {
            if p.is_empty() || p.len() > 20 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidStreamId);
            }
            p.parse::<u64>().map_err(|_| InvalidStreamId)
        };
        Ok(Self {
            ms: digits(ms)?,
            seq: digits(seq)?,
        })
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A string that is not a Redis Stream id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStreamId;

impl fmt::Display for InvalidStreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an event id (expected `<milliseconds>-<sequence>`)")
    }
}

impl std::error::Error for InvalidStreamId {}

/// Orders two ids from Redis; an unparsable one sorts first (it never comes from Redis).
pub(crate) fn cmp_ids(a: &str, b: &str) -> Ordering {
    a.parse::<StreamId>().ok().cmp(&b.parse::<StreamId>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_order_numerically() {
        let a: StreamId = "9-5".parse().unwrap();
        let b: StreamId = "10-0".parse().unwrap();
        assert!(a < b);
        assert_eq!("10".parse::<StreamId>().unwrap(), b);
        assert_eq!(b.to_string(), "10-0");
        for bad in ["", "-", "1-", "a-1", "1-2-3", "+", "1 -2"] {
            assert_eq!(bad.parse::<StreamId>(), Err(InvalidStreamId), "{bad}");
        }
        assert_eq!(cmp_ids("2-1", "10-0"), Ordering::Less);
        assert_eq!(b.next(5).to_string(), "10-1");
        assert_eq!(b.next(11).to_string(), "11-0");
    }

    #[test]
    fn audience_includes() {
        assert!(Audience::All.includes("u1"));
        assert!(Audience::user("u1").includes("u1"));
        assert!(!Audience::user("u1").includes("u2"));
        assert_eq!(
            serde_json::to_value(Audience::user("u1")).unwrap(),
            serde_json::json!({"user": "u1"})
        );
    }
}
