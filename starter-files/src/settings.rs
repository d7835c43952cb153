//! `[storage]` settings: local directory or S3 bucket.

use std::{path::PathBuf, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, invalid, secs_f64};

/// Where files are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A directory on the local disk (`storage.root`).
    #[default]
    Local,
    /// An S3 bucket, or a bucket of an S3-compatible server (`storage.s3`).
    S3,
}

/// The `[storage]` section.
///
/// ```toml
/// [storage]
/// backend = "s3"
/// [storage.s3]
/// bucket = "uploads"
/// endpoint = "http://127.0.0.1:9000"   # only for S3-compatible servers
/// ```
///
/// The secrets come from the environment: `APP_STORAGE__S3__ACCESS_KEY_ID`,
/// `APP_STORAGE__S3__SECRET_ACCESS_KEY`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    pub backend: Backend,
    /// The directory of the `local` backend (created at start-up).
    pub root: PathBuf,
    /// The `s3` backend.
    pub s3: S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Local,
            root: PathBuf::from("data/files"),
            s3: S3Settings::default(),
        }
    }
}

/// The `[storage.s3]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// The URL of an S3-compatible server (MinIO, moto, …); `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Static credentials. When both are empty, the AWS defaults apply (environment, instance
    /// metadata, web identity).
    pub access_key_id: Option<SecretString>,
    pub secret_access_key: Option<SecretString>,
    /// Allows an `http://` endpoint (a local test server); never needed for AWS.
    pub allow_http: bool,
    /// Default lifetime of presigned download URLs.
    #[serde(with = "secs_f64")]
    pub presign_ttl: Duration,
    /// How long start-up keeps retrying the bucket check before failing.
    #[serde(with = "secs_f64")]
    pub startup_timeout: Duration,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            presign_ttl: Duration::from_secs(300),
            startup_timeout: Duration::from_secs(10),
        }
    }
}

/// The longest presigned URL lifetime S3 accepts (SigV4: 7 days).
const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl StorageSettings {
    /// Refuses an empty local root, and for S3: a missing bucket or region, half of a key
    /// pair, an endpoint that is not an `http(s)://` URL, `http://` without `allow_http`,
    /// `allow_http` in prod, a zero or over-7-days `presign_ttl`.
    pub fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        match self.backend {
            Backend::Local => {
                if self.root.as_os_str().is_empty() {
                    return Err(invalid("storage.root", "must not be empty"));
                }
                Ok(())
            }
            Backend::S3 => self.s3.check(profile),
        }
    }
}

impl S3Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        if self.bucket.trim().is_empty() {
            return Err(invalid(
                "storage.s3.bucket",
                "is required when storage.backend = \"s3\" (APP_STORAGE__S3__BUCKET)",
            ));
        }
        if self.region.trim().is_empty() {
            return Err(invalid("storage.s3.region", "must not be empty"));
        }
        let has =
            |s: &Option<SecretString>| s.as_ref().is_some_and(|s| !s.expose_secret().is_empty());
        if has(&self.access_key_id) != has(&self.secret_access_key) {
            return Err(invalid(
                "storage.s3.access_key_id",
                "access_key_id and secret_access_key must be set together",
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            let url = url::Url::parse(endpoint)
                .map_err(|e| invalid("storage.s3.endpoint", format!("is not a URL: {e}")))?;
            match url.scheme() {
                "https" => {}
                "http" if self.allow_http => {}
                "http" => {
                    return Err(invalid(
                        "storage.s3.endpoint",
                        "is http:// but storage.s3.allow_http is false",
                    ));
                }
                _ => return Err(invalid("storage.s3.endpoint", "must be an http(s):// URL")),
            }
        }
        if self.allow_http && profile == Profile::Prod {
            return Err(invalid(
                "storage.s3.allow_http",
                "must be false in the prod profile",
            ));
        }
        if self.presign_ttl.is_zero() || self.presign_ttl > MAX_PRESIGN_TTL {
            return Err(invalid(
                "storage.s3.presign_ttl",
                "must be between 1 second and 7 days (604800)",
            ));
        }
        if self.startup_timeout.is_zero() {
            return Err(invalid(
                "storage.s3.startup_timeout",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> StorageSettings {
        StorageSettings {
            backend: Backend::S3,
            s3: S3Settings {
                bucket: "b".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn default_is_local_and_valid() {
        let s = StorageSettings::default();
        assert_eq!(s.backend, Backend::Local);
        assert!(s.check(Profile::Prod).is_ok());
        assert!(s3().check(Profile::Prod).is_ok());
    }

    #[test]
    fn s3_errors_name_their_key() {
        let cases: Vec<(StorageSettings, &str)> = vec![
            (
                StorageSettings {
                    backend: Backend::S3,
                    ..Default::default()
                },
                "storage.s3.bucket",
            ),
            (
                {
                    let mut s = s3();
                    s.s3.endpoint = Some("http://127.0.0.1:9000".into());
                    s
                },
                "storage.s3.endpoint",
            ),
            (
                {
                    let mut s = s3();
                    s.s3.access_key_id = Some("AKIA".into());
                    s
                },
                "storage.s3.access_key_id",
            ),
            (
                {
                    let mut s = s3();
                    s.s3.presign_ttl = Duration::ZERO;
                    s
                },
                "storage.s3.presign_ttl",
            ),
        ];
        for (settings, key) in cases {
            let err = settings.check(Profile::Dev).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
        let mut s = s3();
        s.s3.endpoint = Some("http://127.0.0.1:9000".into());
        s.s3.allow_http = true;
        assert!(s.check(Profile::Dev).is_ok());
        let err = s.check(Profile::Prod).unwrap_err().to_string();
        assert!(err.contains("storage.s3.allow_http"), "{err}");
    }

    #[test]
    fn deserializes_from_toml_shape() {
        let s: StorageSettings = serde_json::from_value(serde_json::json!({
            "backend": "s3",
            "s3": {"bucket": "up", "presign_ttl": 60, "allow_http": true,
                   "endpoint": "http://localhost:1"}
        }))
        .unwrap();
        assert_eq!(s.backend, Backend::S3);
        assert_eq!(s.s3.presign_ttl, Duration::from_secs(60));
        assert_eq!(s.s3.region, "us-east-1");
    }
}
