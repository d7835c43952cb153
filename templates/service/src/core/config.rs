//! The settings of this service: the kit's core sections (`server`, `cors`, `log`) plus
//! `[mongo]`{% if auth %} and `[auth]`{% endif %}.
//!
//! Layers, later wins: built-in defaults, `config/default.toml`, `config/{profile}.toml`
//! (`APP_PROFILE` = `dev` | `stage` | `prod`), then environment variables
//! `APP_<SECTION>__<KEY>`, e.g. `APP_SERVER__PORT=9000` or `APP_MONGO__URL=mongodb://…`.
//! Unknown keys inside a section are errors, so a typo does not pass silently.
//!
//! To add a section of your own, add a field with a `Default` type here and a table to
//! `config/default.toml`; call its check (if any) from [`Settings::check`].

use serde::Deserialize;
{%- if auth %}
use starter::auth::AuthSettings;
{%- endif %}
use starter::{
    config::{self, ConfigError, CoreSettings, Profile},
    mongo::MongoSettings,
};

/// Everything the service reads from config files and the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `server`, `cors`, `log` and the profile, at the top level (flattened), as the kit's
    /// `App` and logging expect them.
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
{%- if auth %}
    pub auth: AuthSettings,
{%- endif %}
}

impl config::Settings for Settings {
    /// Runs after loading. In stage and prod, each section refuses weak values (a default
    /// secret, a wildcard CORS origin with credentials, …) and names the key to fix.
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
{%- if auth %}
        self.mongo.check(profile)?;
        self.auth.check(profile)
{%- else %}
        self.mongo.check(profile)
{%- endif %}
    }
}

impl Settings {
    /// Loads and checks the settings for the profile in `APP_PROFILE`.
    pub fn load() -> Result<Self, ConfigError> {
        config::load()
    }
}
