//! The week 2 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process, so they exercise the
//! same routes, middleware, indexes and start-up as the binary.

use serde::Deserialize;
use starter::{
    App,
    config::{self, ConfigError, CoreSettings, Profile},
    mongo::{Mongo, MongoSettings},
};

use crate::{models, routes};

/// The settings of this service: the core sections plus `[mongo]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)
    }
}

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    // Building the client does not connect yet; the `mongo` component does at start-up.
    let mongo = Mongo::new(&settings.mongo)
        .await?
        .register::<models::Note>()
        .register::<models::Comment>();

    Ok(App::new(&settings.core)
        .nest("/api", routes::router(routes::AppState::new(&mongo)))
        .component(mongo))
}
