//! The board service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process.

use serde::Deserialize;
use starter::{
    App,
    auth::{AuthService, AuthSettings},
    config::{self, ConfigError, CoreSettings, Profile},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings},
};
use utoipa::OpenApi;

use crate::{comments, models, posts};

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

/// The title and description of `/openapi.json`; the routes add their operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Board", version = "0.1.0",
        description = "A public board: anyone reads posts and comments; members write.\n\n\
            - Only the author edits a post or comment (someone else: 403).\n\
            - The author or an `admin` deletes it (moderation).\n\
            - Reading a post counts a view.\n\n\
            Log in at `POST /auth/login`, then send `Authorization: Bearer <access_token>` \
            (the Authorize button). Errors are `application/problem+json` (RFC 9457)."),
    tags((name = "posts"), (name = "comments"))
)]
struct ApiDoc;

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = Mongo::new(&settings.mongo)
        .await?
        .register::<models::Post>()
        .register::<models::Comment>();
    let mongo = starter::auth::mongo::register(mongo);
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins);
    let state = models::BoardState::new(&mongo, &auth);

    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api(OpenApiRouter::new().nest(
            "/api",
            posts::router(state.clone()).merge(comments::router(state)),
        ))
        // Order matters: the database is up before the admin is seeded.
        .component(mongo)
        .component(auth))
}
