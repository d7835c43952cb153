//! `[mongo]` settings: `APP_MONGO__URL`, `APP_MONGO__DATABASE`, timeouts and the cursor key.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, check_secret, invalid, secs_f64};

/// The dev default of `mongo.cursor_secret`; stage and prod refuse it.
pub const DEV_CURSOR_SECRET: &str = "dev-only-cursor-secret-change-me";

/// Connection and behaviour of the MongoDB client.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MongoSettings {
    /// A MongoDB connection string. Credentials in it are masked in every message.
    pub url: String,
    /// The database the app uses.
    pub database: String,
    /// How long one operation waits for a reachable server before it fails (then 503).
    /// Short, so that an outage is reported in seconds instead of hanging requests.
    #[serde(with = "secs_f64")]
    pub server_selection_timeout: Duration,
    /// TCP connect timeout of a new connection.
    #[serde(with = "secs_f64")]
    pub connect_timeout: Duration,
    /// How long start-up keeps retrying the first ping before it gives up.
    #[serde(with = "secs_f64")]
    pub startup_timeout: Duration,
    /// Key that signs pagination cursors, so a tampered cursor is refused.
    pub cursor_secret: SecretString,
}

impl Default for MongoSettings {
    fn default() -> Self {
        Self {
            url: "mongodb://127.0.0.1:27017".into(),
            database: "app".into(),
            server_selection_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(3),
            startup_timeout: Duration::from_secs(20),
            cursor_secret: SecretString::from(DEV_CURSOR_SECRET),
        }
    }
}

impl MongoSettings {
    pub fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        if !(self.url.starts_with("mongodb://") || self.url.starts_with("mongodb+srv://")) {
            return Err(invalid(
                "mongo.url",
                "must start with mongodb:// or mongodb+srv://",
            ));
        }
        if self.database.is_empty()
            || self
                .database
                .contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return Err(invalid(
                "mongo.database",
                "must be a non-empty name without / \\ . space \" $",
            ));
        }
        check_secret(
            "mongo.cursor_secret",
            &self.cursor_secret,
            &[DEV_CURSOR_SECRET],
            profile,
        )
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
    fn masks_credentials_only() {
        assert_eq!(
            mask_url("mongodb://bob:s3cr%40t@db:27017/app?authSource=admin"),
            "mongodb://***@db:27017/app?authSource=admin"
        );
        assert_eq!(
            mask_url("mongodb://127.0.0.1:27017"),
            "mongodb://127.0.0.1:27017"
        );
        assert_eq!(
            mask_url("mongodb+srv://u:p@cluster.example.net/?x=a@b"),
            "mongodb+srv://***@cluster.example.net/?x=a@b"
        );
    }

    #[test]
    fn strict_profiles_refuse_the_dev_cursor_secret() {
        let s = MongoSettings::default();
        assert!(s.check(Profile::Dev).is_ok());
        let err = s.check(Profile::Prod).unwrap_err().to_string();
        assert!(err.contains("mongo.cursor_secret"), "{err}");
    }

    #[test]
    fn bad_url_and_database_name_are_refused() {
        let s = MongoSettings {
            url: "postgres://x".into(),
            ..Default::default()
        };
        assert!(
            s.check(Profile::Dev)
                .unwrap_err()
                .to_string()
                .contains("mongo.url")
        );
        let s = MongoSettings {
            database: "a.b".into(),
            ..Default::default()
        };
        assert!(
            s.check(Profile::Dev)
                .unwrap_err()
                .to_string()
                .contains("mongo.database")
        );
    }
}
