//! The week 2 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process, so they exercise the
//! same routes, middleware, indexes and start-up as the binary.

use serde::Deserialize;
use starter::{
    App,
    config::{self, ConfigError, CoreSettings, Profile},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings},
};
use utoipa::OpenApi;

use crate::{models, routes};

/// The document's title and description; the routes add their own operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Week 2 notes", version = "0.1.0",
        description = "Notes and comments on MongoDB: CRUD, tags, text search, cursor paging, a `$lookup` and a transaction."),
    tags((name = "notes"), (name = "comments"))
)]
struct ApiDoc;

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
        .openapi(ApiDoc::openapi())
        .api(OpenApiRouter::new().nest("/api", routes::router(routes::AppState::new(&mongo))))
        .component(mongo))
}
