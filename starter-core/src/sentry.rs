//! Error reporting to Sentry (cargo feature `sentry`): panics and 5xx responses, each with
//! the request id, the matched route, the release and the environment; off unless
//! `sentry.dsn` is set.
//!
//! ```toml
//! [sentry]
//! # dsn: APP_SENTRY__DSN, or APP_SENTRY__DSN_FILE naming a file (Docker secrets)
//! # environment = "prod"      # default: the profile
//! # release = "notes@1.2.0"   # default: the OpenAPI title (as a slug) @ its version
//! sample_rate = 1.0           # share of events sent
//! ```
//!
//! - [`App`](crate::App) creates the client when it builds its router ([`init`]);
//!   [`crate::logging::flush`] (called by `App::run` and [`crate::exit_code`]) sends what
//!   is queued, waiting up to [`FLUSH_TIMEOUT`], and closes it ([`flush`]).
//! - Every request gets a Hub of its own ([`RequestLayer`] in [`crate::layers::stack`],
//!   sentry-tower's `SentryLayer`), whose scope carries the `request_id` tag (the
//!   `x-request-id` the response echoes), the matched route as the transaction (and a
//!   `route` tag), and the request's method and path.
//! - A panic is reported by sentry's panic hook, which runs in the request's Hub, before
//!   `CatchPanicLayer` answers 500; that 500 is then not reported again. The hook sends
//!   the event before it returns (waiting up to the SDK's `shutdown_timeout`, 2 s, on the
//!   panicking thread), so a panic just before shutdown is not lost.
//! - Other responses from 500 to 599 are reported as one event each, except 503: the kit
//!   answers 503 for request timeouts, the shutdown cut-off, readiness and dependencies that
//!   are down, which are load and outages (the metrics count them), not bugs, and one event
//!   per request during an outage would flood the project. 4xx are never reported.
//!
//! **What an event never carries.** Three layers, because one missed case leaks a secret:
//! 1. the request's context is built here, not by sentry-tower's `SentryHttpLayer` (which
//!    copies the full URL, query string included, and every header it does not know to be
//!    sensitive): the method, and the URL without query string or fragment, with no header,
//!    cookie or body;
//! 2. `send_default_pii = false`, so the SDK itself adds no IP address or user;
//! 3. [`scrub`] runs last on every event (`before_send`): it drops whatever another
//!    integration or an app's own `sentry::configure_scope` may have added (request
//!    headers, cookies, bodies, query strings; a user's email, IP address and username;
//!    the `Authorization`, `Cookie` and `Proxy-Authorization` headers by name) and masks
//!    email addresses in messages and exception values, as [`crate::pii::Email`] prints
//!    them (`a***@example.com`): a panic message such as "no account for alice@example.com"
//!    must not send the address.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Profile, invalid};

/// `[sentry]`: where and what errors are reported (see the module docs).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentrySettings {
    /// The project's DSN (`https://key@o1.ingest.sentry.io/2`); `None` turns reporting off.
    /// Secret: it lets anyone send events to the project.
    #[serde(skip_serializing)]
    pub dsn: Option<SecretString>,
    /// `None`: the profile (`dev`, `stage`, `prod`).
    pub environment: Option<String>,
    /// `None`: the app's OpenAPI title as a slug, `@`, its version (`notes-api@1.2.0`), the
    /// version `build_info` reports.
    pub release: Option<String>,
    /// The share of events sent, from 0 to 1.
    pub sample_rate: f32,
}

impl Default for SentrySettings {
    fn default() -> Self {
        Self {
            dsn: None,
            environment: None,
            release: None,
            sample_rate: 1.0,
        }
    }
}

impl SentrySettings {
    /// Refuses a DSN that does not parse, a sample rate outside 0–1, and a DSN in a build
    /// without the `sentry` feature (which would silently report nothing).
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(invalid("sentry.sample_rate", "must be between 0 and 1"));
        }
        let Some(dsn) = &self.dsn else {
            return Ok(());
        };
        #[cfg(feature = "sentry")]
        {
            use secrecy::ExposeSecret;
            // The error does not repeat the DSN: it holds the project's key.
            if dsn.expose_secret().parse::<::sentry::types::Dsn>().is_err() {
                return Err(invalid(
                    "sentry.dsn",
                    "is not a Sentry DSN like https://<key>@<host>/<project-id>",
                ));
            }
            Ok(())
        }
        #[cfg(not(feature = "sentry"))]
        {
            let _ = dsn;
            Err(invalid(
                "sentry.dsn",
                "is set, but this build has no Sentry support: enable the `sentry` feature \
                 (starter-kit's or starter-core's), or unset APP_SENTRY__DSN",
            ))
        }
    }

    /// The environment events carry: `environment`, or the profile.
    pub fn environment_for(&self, profile: Profile) -> String {
        self.environment
            .clone()
            .unwrap_or_else(|| profile.as_str().to_owned())
    }

    /// The release events carry: `release`, or `<title as a slug>@<version>`.
    pub fn release_for(&self, info: &utoipa::openapi::Info) -> String {
        self.release
            .clone()
            .unwrap_or_else(|| format!("{}@{}", slug(&info.title), info.version))
    }
}

/// `Notes API (week 5)` → `notes-api-week-5`: a release name of lowercase letters, digits
/// and single dashes (Sentry refuses spaces and slashes in releases).
fn slug(title: &str) -> String {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() {
        "app".to_owned()
    } else {
        words.join("-")
    }
}

/// How long [`flush`] waits for queued events to be sent.
pub const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(feature = "sentry")]
/// Masks every email address in `text` as [`crate::pii::Email`] prints it
/// (`alice@example.com` → `a***@example.com`); text without one is borrowed as is.
pub fn mask_emails(text: &str) -> std::borrow::Cow<'_, str> {
    use std::sync::LazyLock;
    // A local part of letters, digits or `._%+-`, then a domain whose last label is
    // letters (so `tokio@1.0` is no address); the same shape scripts/check-log-pii finds.
    static EMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[\p{L}]{2,}\b").expect("valid regex")
    });
    EMAIL.replace_all(text, |found: &regex::Captures<'_>| {
        crate::pii::Email::from(&found[0]).to_string()
    })
}

#[cfg(feature = "sentry")]
mod enabled;
#[cfg(feature = "sentry")]
pub use enabled::{RequestLayer, RequestService, scrub};

/// Creates the process's Sentry client when `sentry.dsn` is set (once; later calls do
/// nothing). Without a DSN nothing is created: not even `SENTRY_DSN` from the
/// environment is read, the settings decide.
#[cfg(feature = "sentry")]
pub fn init(settings: &crate::config::CoreSettings, info: &utoipa::openapi::Info) {
    enabled::init(settings, info);
}

/// Sends the queued events (waiting up to [`FLUSH_TIMEOUT`]) and closes the client; events
/// captured after this are dropped. [`crate::logging::flush`] calls it.
#[cfg(feature = "sentry")]
pub fn flush() {
    enabled::flush();
}

/// Without the `sentry` feature: nothing to create (the config check refuses a DSN).
#[cfg(not(feature = "sentry"))]
pub fn init(_settings: &crate::config::CoreSettings, _info: &utoipa::openapi::Info) {}

/// Without the `sentry` feature: nothing to send.
#[cfg(not(feature = "sentry"))]
pub fn flush() {}

/// The per-request layer of [`crate::layers::stack`], when `sentry.dsn` is set.
#[cfg(feature = "sentry")]
pub(crate) fn request_layer(settings: &crate::config::CoreSettings) -> Option<RequestLayer> {
    settings.sentry.dsn.is_some().then_some(RequestLayer)
}

/// Without the `sentry` feature: no layer.
#[cfg(not(feature = "sentry"))]
pub(crate) fn request_layer(
    _settings: &crate::config::CoreSettings,
) -> Option<tower::layer::util::Identity> {
    None
}

/// Names the request's route (the matched pattern, or `<unmatched>`) on its Hub's scope:
/// the events' transaction and `route` tag. Called by the stack's router.
pub(crate) fn record_route(request: &axum::extract::Request, route: &str) {
    #[cfg(feature = "sentry")]
    enabled::record_route(request, route);
    #[cfg(not(feature = "sentry"))]
    let _ = (request, route);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sentry")]
    #[test]
    fn emails_in_text_are_masked() {
        assert_eq!(
            mask_emails("no account for alice@example.com, nor bob.k+x@mail.example.co.kr."),
            "no account for a***@example.com, nor b***@mail.example.co.kr."
        );
        assert_eq!(
            mask_emails("tokio@1.0 is a version"),
            "tokio@1.0 is a version"
        );
        assert!(matches!(
            mask_emails("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn releases_default_to_the_title_slug_and_version() {
        let info = utoipa::openapi::InfoBuilder::new()
            .title("Notes API (v2)")
            .version("1.2.0")
            .build();
        let settings = SentrySettings::default();
        assert_eq!(settings.release_for(&info), "notes-api-v2@1.2.0");
        assert_eq!(settings.environment_for(Profile::Stage), "stage");
        let settings = SentrySettings {
            release: Some("notes@9".into()),
            environment: Some("eu".into()),
            ..SentrySettings::default()
        };
        assert_eq!(settings.release_for(&info), "notes@9");
        assert_eq!(settings.environment_for(Profile::Stage), "eu");
    }

    #[test]
    fn the_check_refuses_bad_rates_and_names_the_key() {
        let bad = SentrySettings {
            sample_rate: 1.5,
            ..SentrySettings::default()
        };
        assert!(
            bad.check()
                .unwrap_err()
                .to_string()
                .contains("sentry.sample_rate")
        );
        let with_dsn = SentrySettings {
            dsn: Some(SecretString::from("https://key@127.0.0.1/1")),
            ..SentrySettings::default()
        };
        // With the feature a valid DSN passes; without it, any DSN is refused.
        assert_eq!(with_dsn.check().is_ok(), cfg!(feature = "sentry"));
        if cfg!(not(feature = "sentry")) {
            let err = with_dsn.check().unwrap_err().to_string();
            assert!(
                err.contains("sentry.dsn") && err.contains("`sentry` feature"),
                "{err}"
            );
        }
    }

    /// `APP_SENTRY__DSN_FILE` (Docker secrets) sets the DSN; a build without the feature
    /// refuses it, naming the key.
    #[test]
    // `figment::Jail::expect_with` takes closures returning `Result<(), figment::Error>`.
    #[allow(clippy::result_large_err)]
    fn the_dsn_is_read_from_a_file_and_refused_without_the_feature() {
        use secrecy::ExposeSecret;
        figment::Jail::expect_with(|jail| {
            jail.create_file("dsn", "https://key@127.0.0.1/1\n")?;
            let path = jail.directory().join("dsn");
            jail.set_env("APP_SENTRY__DSN_FILE", path.display());
            jail.set_env("APP_SENTRY__SAMPLE_RATE", "0.5");
            let loaded = crate::config::load::<crate::config::CoreSettings>();
            if cfg!(feature = "sentry") {
                let settings = loaded.unwrap();
                let dsn = settings.sentry.dsn.as_ref().unwrap();
                assert_eq!(dsn.expose_secret(), "https://key@127.0.0.1/1");
                assert_eq!(settings.sentry.sample_rate, 0.5);
            } else {
                let err = loaded.unwrap_err().to_string();
                assert!(err.contains("sentry.dsn"), "{err}");
            }
            Ok(())
        });
    }

    #[cfg(feature = "sentry")]
    #[test]
    fn a_dsn_that_does_not_parse_is_refused_without_repeating_it() {
        let settings = SentrySettings {
            dsn: Some(SecretString::from("not-a-dsn-secretkey")),
            ..SentrySettings::default()
        };
        let err = settings.check().unwrap_err().to_string();
        assert!(
            err.contains("sentry.dsn") && !err.contains("secretkey"),
            "{err}"
        );
    }
}
