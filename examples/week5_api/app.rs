//! The week 5 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process.

use serde::Deserialize;
use starter::{
    App,
    auth::{AuthService, AuthSettings},
    config::{self, ConfigError, CoreSettings, Profile},
    mongo::{Mongo, MongoSettings},
};
use utoipa::OpenApi;

use crate::{
    models,
    service::{NotesService, NotesState},
    v1, v2,
};

/// The settings of this service: the core sections plus `[mongo]` and `[auth]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
    pub auth: AuthSettings,
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)?;
        self.auth.check(profile)
    }
}

/// The title and description of `/openapi.json`, and of each version's document.
#[derive(OpenApi)]
#[openapi(info(
    title = "Notes API (week 5)",
    version = "2.0.0",
    description = "The notes of each user, in two versions.\n\n\
        - `/api/v2` is current.\n\
        - `/api/v1` is **deprecated** and answers until its sunset (the `Sunset` header) with \
          `Deprecation`, `Sunset` and `Link: rel=\"successor-version\"` headers.\n\n\
        Log in at `POST /auth/login`, then send `Authorization: Bearer <access_token>` \
        (the Authorize button). Errors are `application/problem+json` (RFC 9457)."
))]
struct ApiDoc;

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = Mongo::new(&settings.mongo)
        .await?
        .register::<models::Note>();
    let mongo = starter::auth::mongo::register(mongo);
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins);
    // One service, one repository: the versions differ only in their HTTP shapes.
    let notes = NotesState::new(NotesService::new(&mongo), &auth);

    // Order matters for the documents: each version's document starts from what is
    // registered before it (the info above, the auth routes' `bearer` scheme).
    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api_version("v1", v1::router(notes.clone()))
        .api_version("v2", v2::router(notes))
        .component(mongo)
        .component(auth))
}
