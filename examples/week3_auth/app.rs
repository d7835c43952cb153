//! The week 3 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process, so they exercise the
//! same routes, middleware, stores and start-up (admin seeding included) as the binary.

use serde::Deserialize;
use starter::{
    App,
    auth::{AuthService, AuthSettings},
    config::{self, ConfigError, CoreSettings, Profile},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings},
};
use utoipa::OpenApi;

use crate::{admin, notes};

/// The document's title and description; the routes add their own operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Week 3 auth", version = "0.1.0",
        description = "Per-user notes behind JWT access tokens, refresh cookies, an admin-only route. \
            Log in with `POST /auth/login`, then use Authorize with the `access_token`."),
    tags((name = "notes"), (name = "admin", description = "Role `admin` only"))
)]
struct ApiDoc;

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

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = Mongo::new(&settings.mongo).await?.register::<notes::Note>();
    // The `users`, `refresh_tokens` and `refresh_families` collections, with their indexes.
    let mongo = starter::auth::mongo::register(mongo);
    // Browser logins are accepted from the CORS origins only (login CSRF).
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins);

    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api(
            OpenApiRouter::new().nest("/api", notes::router(notes::NotesState::new(&mongo, &auth))),
        )
        .api(OpenApiRouter::new().nest("/admin", admin::router(&mongo, &auth)))
        // Order matters: the database is up before the admin is seeded.
        .component(mongo)
        .component(auth))
}
