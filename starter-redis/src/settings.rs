//! `[redis] settings`: `APP_REDIS__URL` and timeouts.

use std::time::Duration;

use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, invalid, secs_f64};

/// Connection and behaviour of the Redis client.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// A `redis://` or `rediss://` URL. A password in it is masked in every message.
    pub url: String,
    /// TCP connect timeout of a (re)connection.
    #[serde(with = "secs_f64")]
    pub connect_timeout: Duration,
    /// How long one command may take before it counts as failed (the cache then falls back
    /// to the loader). Short: a slow cache must not slow requests down.
    #[serde(with = "secs_f64")]
    pub command_timeout: Duration,
    /// How long start-up keeps retrying the first `PING`. Redis is optional: when it still
    /// does not answer, start-up logs a warning and goes on; the client reconnects later.
    #[serde(with = "secs_f64")]
    pub startup_timeout: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_millis(500),
            startup_timeout: Duration::from_secs(3),
        }
    }
}

impl RedisSettings {
    /// Refuses a URL that is not `redis://`/`rediss://`/`redis+unix://`/`unix://` or does
    /// not parse, and zero timeouts.
    pub fn check(&self, _profile: Profile) -> Result<(), ConfigError> {
        if !["redis://", "rediss://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| self.url.starts_with(s))
        {
            return Err(invalid(
                "redis.url",
                "must start with redis://, rediss://, redis+unix:// or unix://",
            ));
        }
        if redis::Client::open(self.url.as_str()).is_err() {
            return Err(invalid("redis.url", "is not a valid Redis URL"));
        }
        for (key, value) in [
            ("redis.connect_timeout", self.connect_timeout),
            ("redis.command_timeout", self.command_timeout),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }
}

/// The URL with any `user:password@` replaced by `***@`, for messages and logs.
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..scheme_end + 3], &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_urls_are_refused() {
        assert!(RedisSettings::default().check(Profile::Prod).is_ok());
        let s = RedisSettings {
            url: "http://x".into(),
            ..Default::default()
        };
        let err = s.check(Profile::Dev).unwrap_err().to_string();
        assert!(err.contains("redis.url"), "{err}");
        let s = RedisSettings {
            command_timeout: Duration::ZERO,
            ..Default::default()
        };
        let err = s.check(Profile::Dev).unwrap_err().to_string();
        assert!(err.contains("redis.command_timeout"), "{err}");
    }

    #[test]
    fn masks_credentials_only() {
        assert_eq!(
            mask_url("redis://:s3cret@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(mask_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
