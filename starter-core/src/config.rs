//! Layered, typed configuration with dev/stage/prod profiles.
//!
//! Layers, later wins:
//! 1. built-in defaults (`Default` of your settings type),
//! 2. `config/default.toml`,
//! 3. `config/{profile}.toml`,
//! 4. environment variables `APP_<SECTION>__<KEY>` (e.g. `APP_SERVER__PORT=9000`), and
//!    `APP_<SECTION>__<KEY>_FILE` naming a file whose content is the value (Docker secrets:
//!    `APP_AUTH__JWT_SECRET_FILE=/run/secrets/jwt_secret`; see [`EnvFiles`]).
//!
//! The profile comes from `APP_PROFILE` (`dev` when unset); the folder from `APP_CONFIG_DIR`
//! (`config` when unset). Missing files are fine: defaults and env alone are a valid config.
//!
//! An app extends the settings by flattening [`CoreSettings`] into its own type and adding
//! sections; each section checks itself for the profile:
//!
//! ```
//! use serde::Deserialize;
//! use starter_core::config::{self, ConfigError, CoreSettings, Profile, Settings};
//!
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default)]
//! struct AppSettings {
//!     #[serde(flatten)]
//!     core: CoreSettings,
//!     greeting: Greeting, // read from [greeting] or APP_GREETING__TEXT
//! }
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Greeting {
//!     text: String,
//! }
//! impl Default for Greeting {
//!     fn default() -> Self {
//!         Self { text: "hello".into() }
//!     }
//! }
//!
//! impl Settings for AppSettings {
//!     fn check(&self, profile: Profile) -> Result<(), ConfigError> {
//!         self.core.check(profile)
//!     }
//! }
//!
//! let settings: AppSettings = config::load().expect("valid config");
//! assert_eq!(settings.greeting.text, "hello");
//! ```

use std::{net::IpAddr, path::PathBuf, time::Duration};

use figment::{
    Figment, Metadata, Provider,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Map},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Environment variable that selects the profile.
pub const PROFILE_ENV: &str = "APP_PROFILE";
/// Environment variable that names the folder holding the TOML files.
pub const CONFIG_DIR_ENV: &str = "APP_CONFIG_DIR";
/// Prefix of every environment variable read as configuration.
pub const ENV_PREFIX: &str = "APP_";
/// Suffix of an environment variable that names a file holding the value ([`EnvFiles`]).
pub const FILE_SUFFIX: &str = "_FILE";
/// Secrets shorter than this are refused in stage and prod.
pub const MIN_SECRET_LEN: usize = 32;

/// The deployment profile. `dev` is lenient; `stage` and `prod` are strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Dev,
    Stage,
    Prod,
}

impl Profile {
    /// Stage and prod refuse weak settings; dev accepts them.
    pub fn is_strict(self) -> bool {
        !matches!(self, Profile::Dev)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Stage => "stage",
            Profile::Prod => "prod",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dev" | "development" => Ok(Profile::Dev),
            "stage" | "staging" => Ok(Profile::Stage),
            "prod" | "production" => Ok(Profile::Prod),
            other => Err(ConfigError::Invalid {
                key: PROFILE_ENV.into(),
                reason: format!("unknown profile `{other}`; use dev, stage or prod"),
            }),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why configuration could not be loaded. Every variant names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Parse(Box<figment::Error>),
    #[error("invalid configuration `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Parse(Box::new(e))
    }
}

/// A settings type an app loads with [`load`]. `check` runs after loading and is where
/// stage/prod refuse weak values; call the `check` of each section you contain.
///
/// Built-in defaults are the `Default` of each section: mark every struct `#[serde(default)]`
/// so that a key missing from files and env keeps its default.
pub trait Settings: DeserializeOwned {
    fn check(&self, profile: Profile) -> Result<(), ConfigError>;
}

/// The sections every app has: `server`, `cors`, `log`, `docs`, `metrics`, `otel` and
/// `sentry`, plus the active profile.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CoreSettings {
    /// Set from `APP_PROFILE`, not from files.
    pub profile: Profile,
    pub server: ServerSettings,
    pub cors: CorsSettings,
    pub log: LogSettings,
    pub docs: crate::docs::DocsSettings,
    pub metrics: crate::metrics::MetricsSettings,
    pub sentry: crate::sentry::SentrySettings,
    pub otel: crate::otel::OtelSettings,
}

impl Settings for CoreSettings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.cors.check(profile)?;
        self.metrics.check(self.server.port)?;
        self.sentry.check()?;
        self.otel.check()?;
        self.server.check()
    }
}

/// `[server]`: where to listen and the limits of each request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    /// `0` asks the OS for a free port; the bound address is logged.
    pub port: u16,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// A request that takes longer is answered 503 `request_timeout`.
    #[serde(with = "secs_f64")]
    pub request_timeout: Duration,
    /// After SIGINT/SIGTERM, in-flight requests get this long to finish.
    #[serde(with = "secs_f64")]
    pub shutdown_grace: Duration,
    /// A connection whose writes stay blocked this long (the client stopped reading, and
    /// the socket buffers are full) is closed, as nginx's `send_timeout`. Idle connections
    /// and slow but moving downloads are not affected.
    #[serde(with = "secs_f64")]
    pub send_timeout: Duration,
    /// After SIGINT/SIGTERM and before the grace period: new connections are refused at
    /// once (a proxy then retries them on another instance, POSTs included, since nothing
    /// was sent), and the open ones keep being served, each response saying
    /// `Connection: close`, until their clients close them, for at most this long. Only
    /// then are idle connections closed, so that a proxy never sends a request on a
    /// connection the instance is closing (which it could not retry for a POST). 0 (the
    /// default) skips it; behind a proxy, set it above the proxy's keep-alive timeout for
    /// idle upstream connections (the `prod` and `stage` profiles: 5 s).
    #[serde(with = "secs_f64")]
    pub drain: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
            drain: Duration::ZERO,
        }
    }
}

impl ServerSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.body_limit == 0 {
            return Err(invalid("server.body_limit", "must be greater than 0"));
        }
        if self.request_timeout.is_zero() {
            return Err(invalid("server.request_timeout", "must be greater than 0"));
        }
        if self.send_timeout.is_zero() {
            return Err(invalid("server.send_timeout", "must be greater than 0"));
        }
        Ok(())
    }
}

/// `[cors]`: which browser origins may call the API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsSettings {
    /// Exact origins such as `http://localhost:5173`, or `["*"]` for any origin.
    pub allowed_origins: Vec<String>,
    /// Let the browser send cookies (needed for refresh-token cookies).
    pub allow_credentials: bool,
    /// Request headers allowed besides the kit's own (Authorization, Content-Type, Accept,
    /// If-None-Match, If-Match, X-Request-Id, X-CSRF-Token).
    pub extra_allowed_headers: Vec<String>,
    /// Response headers JS may read besides the kit's own (X-Request-Id, Retry-After, ETag,
    /// Location, WWW-Authenticate).
    pub extra_exposed_headers: Vec<String>,
    /// How long a browser may cache a preflight answer.
    #[serde(with = "secs_f64")]
    pub max_age: Duration,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self {
            // The Vite dev server of the Vue front end.
            allowed_origins: vec!["http://localhost:5173".into()],
            allow_credentials: true,
            extra_allowed_headers: Vec::new(),
            extra_exposed_headers: Vec::new(),
            max_age: Duration::from_secs(600),
        }
    }
}

impl CorsSettings {
    pub fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        let wildcard = self.allowed_origins.iter().any(|o| o.trim() == "*");
        if wildcard && self.allow_credentials {
            // Browsers reject `*` with credentials anyway; in dev we fall back to mirroring
            // nothing, in stage/prod it is a configuration mistake worth stopping for.
            if profile.is_strict() {
                return Err(invalid(
                    "cors.allowed_origins",
                    "a wildcard origin `*` cannot be combined with cors.allow_credentials = true; list the origins",
                ));
            }
        }
        for (key, names) in [
            ("cors.extra_allowed_headers", &self.extra_allowed_headers),
            ("cors.extra_exposed_headers", &self.extra_exposed_headers),
        ] {
            if let Some(bad) = names
                .iter()
                .find(|n| http::HeaderName::from_bytes(n.as_bytes()).is_err())
            {
                return Err(invalid(key, format!("`{bad}` is not a header name")));
            }
        }
        for origin in self.allowed_origins.iter().filter(|o| o.trim() != "*") {
            if http::HeaderValue::from_str(origin).is_err()
                || !(origin.starts_with("http://") || origin.starts_with("https://"))
            {
                return Err(invalid(
                    "cors.allowed_origins",
                    format!("`{origin}` is not an origin like https://app.example.com"),
                ));
            }
        }
        Ok(())
    }
}

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-friendly multi-line output (the dev default).
    Pretty,
    /// One JSON object per line (the stage/prod default).
    Json,
}

/// `[log]`: level filter and format.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// An `EnvFilter` directive; `RUST_LOG`, when set, wins.
    pub level: String,
    /// `None` picks by profile: pretty in dev, JSON in stage/prod.
    pub format: Option<LogFormat>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: None,
        }
    }
}

impl LogSettings {
    pub fn format_for(&self, profile: Profile) -> LogFormat {
        self.format.unwrap_or(if profile.is_strict() {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        })
    }
}

/// Reads the profile from `APP_PROFILE`.
pub fn profile_from_env() -> Result<Profile, ConfigError> {
    match std::env::var(PROFILE_ENV) {
        Ok(v) if !v.trim().is_empty() => v.parse(),
        _ => Ok(Profile::Dev),
    }
}

/// The figment with all four layers, for apps that want to inspect or extend it.
pub fn figment(profile: Profile) -> Figment {
    let dir = std::env::var(CONFIG_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("config"));
    Figment::new()
        .merge(Toml::file(dir.join("default.toml")))
        .merge(Toml::file(dir.join(format!("{profile}.toml"))))
        .merge(
            Env::prefixed(ENV_PREFIX)
                .ignore(&["PROFILE", "CONFIG_DIR"])
                .filter(|key| !is_file_reference(key.as_str()))
                .split("__"),
        )
        .merge(EnvFiles)
        .merge(Serialized::default("profile", profile))
}

/// `<SECTION>__<KEY>_FILE` (the name after `APP_`, any case): a value read from a file.
fn is_file_reference(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // `LOG__FILE` would be a key named `file`, not a file reference for the key `log.`.
    upper
        .strip_suffix(FILE_SUFFIX)
        .is_some_and(|key| key.contains("__") && !key.ends_with('_'))
}

/// The figment layer of `APP_<SECTION>__<KEY>_FILE=/path` variables: `section.key` gets the
/// file's content with trailing newlines trimmed, parsed as the plain env var would be (so
/// `9000` is a number and `[…]` a list, as with `APP_SERVER__PORT=9000`).
///
/// This is how Docker (and Kubernetes) secrets reach the settings without putting them in
/// the environment. A file that cannot be read is an error naming the variable and the path;
/// setting both `APP_X__Y` and `APP_X__Y_FILE` is an error too, since neither can win
/// obviously. Figment has no such provider, so it is written here.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvFiles;

impl Provider for EnvFiles {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("`{ENV_PREFIX}…{FILE_SUFFIX}` file(s)"))
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        // A figment of one keyed layer per file nests and merges the keys as `Env` does.
        let mut layers = Figment::new();
        for (name, path) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            let Some(rest) = strip_prefix_ignore_case(name, ENV_PREFIX) else {
                continue;
            };
            if !is_file_reference(rest) {
                continue;
            }
            let plain = &name[..name.len() - FILE_SUFFIX.len()];
            if std::env::var_os(plain).is_some() {
                return Err(format!("both {plain} and {name} are set; keep one").into());
            }
            let content = std::fs::read_to_string(&path)
                .map_err(|e| format!("{name}: cannot read `{}`: {e}", path.to_string_lossy()))?;
            let key = rest[..rest.len() - FILE_SUFFIX.len()]
                .to_ascii_lowercase()
                .replace("__", ".");
            let Ok(value) = content
                .trim_end_matches(['\n', '\r'])
                .parse::<figment::value::Value>();
            layers = layers.merge(Serialized::default(&key, value));
        }
        layers.data()
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Loads settings from all layers for the profile in `APP_PROFILE`, then runs their checks.
pub fn load<S: Settings>() -> Result<S, ConfigError> {
    let profile = profile_from_env()?;
    let settings: S = figment(profile).extract()?;
    settings.check(profile)?;
    Ok(settings)
}

/// Builds a [`ConfigError::Invalid`] for `key`.
pub fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Refuses, in stage and prod, a secret that is short or equal to a known default.
///
/// `key` is the dotted config key (`auth.jwt_secret`); the error names it and the env var.
pub fn check_secret(
    key: &str,
    secret: &SecretString,
    known_defaults: &[&str],
    profile: Profile,
) -> Result<(), ConfigError> {
    if !profile.is_strict() {
        return Ok(());
    }
    let value = secret.expose_secret();
    let env = format!(
        "{ENV_PREFIX}{}",
        key.to_ascii_uppercase().replacen('.', "__", 1)
    );
    if known_defaults.contains(&value) || value.to_ascii_lowercase().contains("change-me") {
        return Err(invalid(
            key,
            format!("the default secret is not allowed in the {profile} profile; set {env}"),
        ));
    }
    if value.len() < MIN_SECRET_LEN {
        return Err(invalid(
            key,
            format!(
                "must be at least {MIN_SECRET_LEN} bytes in the {profile} profile (got {}); set {env}",
                value.len()
            ),
        ));
    }
    Ok(())
}

/// (De)serializes a `Duration` as seconds (`30`, `0.5`), the friendliest form in TOML and env.
pub mod secs_f64 {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs)
            .map_err(|_| D::Error::custom("expected a non-negative number of seconds"))
    }
}

#[cfg(test)]
// `figment::Jail::expect_with` takes closures returning `Result<(), figment::Error>`.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct AppSettings {
        #[serde(flatten)]
        core: CoreSettings,
        extra: Extra,
    }

    #[derive(Debug, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Extra {
        secret: SecretString,
        items: u32,
    }

    impl Default for Extra {
        fn default() -> Self {
            Self {
                secret: SecretString::from("dev-secret-change-me"),
                items: 3,
            }
        }
    }

    impl Settings for AppSettings {
        fn check(&self, profile: Profile) -> Result<(), ConfigError> {
            self.core.check(profile)?;
            check_secret("extra.secret", &self.extra.secret, &[], profile)
        }
    }

    #[test]
    fn defaults_alone_make_a_dev_config() {
        Jail::expect_with(|_| {
            let s: AppSettings = load().unwrap();
            assert_eq!(s.core.profile, Profile::Dev);
            assert_eq!(s.core.server.port, 8080);
            assert_eq!(s.core.server.body_limit, 2 * 1024 * 1024);
            assert_eq!(s.core.cors.allowed_origins, ["http://localhost:5173"]);
            assert_eq!(s.extra.items, 3);
            Ok(())
        });
    }

    #[test]
    fn layers_apply_in_order_default_file_profile_file_env() {
        Jail::expect_with(|jail| {
            jail.create_dir("config")?;
            jail.create_file(
                "config/default.toml",
                "[server]\nport = 1000\nbody_limit = 10\n[extra]\nitems = 1\n",
            )?;
            jail.create_file("config/stage.toml", "[server]\nport = 2000\n")?;
            jail.set_env("APP_PROFILE", "stage");
            jail.set_env("APP_EXTRA__SECRET", "x".repeat(40));
            jail.set_env("APP_SERVER__BODY_LIMIT", "20");
            let s: AppSettings = load().unwrap();
            assert_eq!(s.core.profile, Profile::Stage);
            assert_eq!(s.core.server.port, 2000, "profile file beats default file");
            assert_eq!(s.core.server.body_limit, 20, "env beats files");
            assert_eq!(s.extra.items, 1, "default file beats built-in default");
            Ok(())
        });
    }

    #[test]
    fn strict_profiles_refuse_default_and_short_secrets_naming_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("APP_PROFILE", "prod");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("extra.secret"), "{err}");
            assert!(err.contains("APP_EXTRA__SECRET"), "{err}");

            jail.set_env("APP_EXTRA__SECRET", "short-but-not-default");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("extra.secret") && err.contains("32"), "{err}");

            jail.set_env("APP_PROFILE", "dev");
            assert!(load::<AppSettings>().is_ok(), "dev accepts weak secrets");
            Ok(())
        });
    }

    #[test]
    fn strict_profiles_refuse_wildcard_cors_with_credentials() {
        Jail::expect_with(|jail| {
            jail.set_env("APP_PROFILE", "stage");
            jail.set_env("APP_EXTRA__SECRET", "y".repeat(40));
            jail.set_env("APP_CORS__ALLOWED_ORIGINS", "[\"*\"]");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("cors.allowed_origins"), "{err}");
            jail.set_env("APP_CORS__ALLOW_CREDENTIALS", "false");
            assert!(load::<AppSettings>().is_ok());
            Ok(())
        });
    }

    #[test]
    fn unknown_profile_and_typo_keys_are_errors() {
        Jail::expect_with(|jail| {
            jail.set_env("APP_PROFILE", "production-ish");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("APP_PROFILE"), "{err}");
            jail.set_env("APP_PROFILE", "dev");
            jail.set_env("APP_SERVER__PROT", "9000");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("prot"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_file_variable_sets_the_key_to_the_trimmed_file_content() {
        Jail::expect_with(|jail| {
            jail.create_file("jwt", &format!("{}\n", "s".repeat(40)))?;
            jail.create_file("port", "9123\r\n")?;
            let dir = jail.directory().to_path_buf();
            jail.set_env("APP_PROFILE", "prod");
            jail.set_env("APP_EXTRA__SECRET_FILE", dir.join("jwt").display());
            jail.set_env("APP_SERVER__PORT_FILE", dir.join("port").display());
            let s: AppSettings = load().unwrap();
            assert_eq!(s.extra.secret.expose_secret(), "s".repeat(40));
            assert_eq!(
                s.core.server.port, 9123,
                "parsed as the plain variable would be"
            );
            Ok(())
        });
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_the_variable() {
        Jail::expect_with(|jail| {
            jail.set_env("APP_EXTRA__SECRET_FILE", "/nonexistent/secret");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(err.contains("APP_EXTRA__SECRET_FILE"), "{err}");
            assert!(err.contains("/nonexistent/secret"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_variable_and_its_file_variable_together_are_an_error() {
        Jail::expect_with(|jail| {
            jail.create_file("items", "7")?;
            let path = jail.directory().join("items");
            jail.set_env("APP_EXTRA__ITEMS_FILE", path.display());
            assert_eq!(load::<AppSettings>().unwrap().extra.items, 7);
            jail.set_env("APP_EXTRA__ITEMS", "8");
            let err = load::<AppSettings>().unwrap_err().to_string();
            assert!(
                err.contains("APP_EXTRA__ITEMS ") && err.contains("APP_EXTRA__ITEMS_FILE"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn durations_are_seconds() {
        Jail::expect_with(|jail| {
            jail.set_env("APP_SERVER__SHUTDOWN_GRACE", "2.5");
            let s: AppSettings = load().unwrap();
            assert_eq!(s.core.server.shutdown_grace, Duration::from_millis(2500));
            Ok(())
        });
    }
}
