//! Storage for tests. The S3 server comes from the environment that
//! `scripts/with-services` sets (`APP_STORAGE__S3__*`, a moto server); without it, S3 tests
//! fail and say how to get one.

use std::time::Duration;

use crate::{Backend, S3Settings, StorageSettings};

/// The command that runs tests with the S3 server (and Redis, and the dev database).
pub const SERVICES_HINT: &str = "no S3 server for tests: set APP_STORAGE__S3__ENDPOINT and APP_STORAGE__S3__BUCKET (plus __ACCESS_KEY_ID, __SECRET_ACCESS_KEY, __REGION, __ALLOW_HTTP), or run the tests through `scripts/with-services cargo test` (it starts a local moto S3 server)";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `[storage]` settings for the test S3 server, or a panic naming [`SERVICES_HINT`].
/// The bucket exists already (`scripts/with-services` creates it); tests share it, so each
/// should use keys under a prefix of its own ([`unique`]).
pub fn s3_settings() -> StorageSettings {
    let (Some(endpoint), Some(bucket)) = (
        env("APP_STORAGE__S3__ENDPOINT"),
        env("APP_STORAGE__S3__BUCKET"),
    ) else {
        panic!("{SERVICES_HINT}");
    };
    StorageSettings {
        backend: Backend::S3,
        s3: S3Settings {
            bucket,
            region: env("APP_STORAGE__S3__REGION").unwrap_or_else(|| "us-east-1".into()),
            endpoint: Some(endpoint),
            access_key_id: env("APP_STORAGE__S3__ACCESS_KEY_ID").map(Into::into),
            secret_access_key: env("APP_STORAGE__S3__SECRET_ACCESS_KEY").map(Into::into),
            allow_http: env("APP_STORAGE__S3__ALLOW_HTTP").is_some_and(|v| v == "true"),
            presign_ttl: Duration::from_secs(60),
            startup_timeout: Duration::from_secs(10),
        },
        ..StorageSettings::default()
    }
}

/// A key prefix unique to this call (`{prefix}-{uuid}`).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
