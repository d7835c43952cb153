//! The week 4 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process.

use axum::extract::FromRef;
use serde::Deserialize;
use starter::{
    App,
    auth::{AuthService, AuthSettings, Jwt},
    config::{self, ConfigError, CoreSettings, Profile},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings, Repository},
};
use starter_redis::{Cache, Redis, RedisSettings};
use utoipa::OpenApi;

use crate::notes;

/// The document's title and description; the routes add their own operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Week 4 files", version = "0.1.0",
        description = "Per-user notes with file attachments, thumbnails made by a job queue, \
            live events over WebSocket and SSE, and a Redis cache with ETags. \
            Log in with `POST /auth/login`, then use Authorize with the `access_token`."),
    tags((name = "notes"), (name = "attachments"), (name = "jobs"), (name = "realtime"))
)]
struct ApiDoc;

/// The settings of this service: the core sections plus `[mongo]`, `[auth]` and `[redis]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
    pub auth: AuthSettings,
    pub redis: RedisSettings,
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)?;
        self.auth.check(profile)?;
        self.redis.check(profile)
    }
}

/// What every route of this service shares. `Jwt: FromRef` is what lets `AuthUser` verify
/// tokens.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub notes: Repository<notes::Note>,
    pub cache: Cache,
    pub jwt: Jwt,
}

impl AppState {
    /// Tells the user's live connections (WebSocket and SSE, on any instance).
    pub async fn notify(&self, _user_id: &str, _kind: &str, _data: serde_json::Value) {}
}

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = Mongo::new(&settings.mongo).await?.register::<notes::Note>();
    let mongo = starter::auth::mongo::register(mongo);
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins);
    let redis = Redis::new(&settings.redis)?;
    let state = AppState {
        notes: mongo.repo(),
        cache: redis.cache("week4"),
        jwt: auth.jwt().clone(),
    };

    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api(OpenApiRouter::new().nest("/api", notes::router().with_state(state)))
        .component(mongo)
        .component(redis)
        .component(auth))
}
