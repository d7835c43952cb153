//! The week 4 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process.

use std::{sync::Arc, time::Duration};

use axum::extract::{DefaultBodyLimit, FromRef};
use serde::Deserialize;
use starter::{
    App,
    auth::{AuthService, AuthSettings, Jwt, redis_limits::RedisLimits},
    config::{self, ConfigError, CoreSettings, Profile, invalid},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings, Repository},
    timeout::RequestTimeoutLayer,
};
use starter_files::{Storage, StorageSettings};
use starter_jobs::{JobQueue, Jobs, JobsSettings, Tasks};
use starter_realtime::{Audience, EventBus, RealtimeSettings, Tickets};
use starter_redis::{Cache, Redis, RedisSettings};
use utoipa::OpenApi;

use crate::{
    attachments::{self, Attachment},
    notes, realtime,
    thumbnails::{self, MakeThumbnail, ThumbnailDeps},
};

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

/// `[attachments]`: this service's own section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentSettings {
    /// Largest file accepted, in bytes (413 above).
    pub max_size: u64,
    /// How long an upload or a download may take to be answered: the attachment routes'
    /// own request timeout, longer than `server.request_timeout` for the other routes.
    #[serde(with = "starter::config::secs_f64")]
    pub timeout: Duration,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self {
            max_size: 512 * 1024 * 1024,
            timeout: Duration::from_secs(600),
        }
    }
}

/// The settings of this service: the core sections, `[mongo]`, `[auth]`, `[redis]`,
/// `[storage]`, `[jobs]`, `[realtime]` and `[attachments]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
    pub auth: AuthSettings,
    pub redis: RedisSettings,
    pub storage: StorageSettings,
    pub jobs: JobsSettings,
    pub realtime: RealtimeSettings,
    pub attachments: AttachmentSettings,
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)?;
        self.auth.check(profile)?;
        self.redis.check(profile)?;
        self.storage.check(profile)?;
        self.jobs.check(profile)?;
        self.realtime.check(profile)?;
        if self.attachments.max_size == 0 {
            return Err(invalid("attachments.max_size", "must be at least 1 byte"));
        }
        if self.attachments.timeout.is_zero() {
            return Err(invalid("attachments.timeout", "must be greater than 0"));
        }
        Ok(())
    }
}

/// What every route of this service shares. `Jwt` and `Tickets` through `FromRef` are what
/// the `AuthUser` and `TicketUser` extractors need.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub notes: Repository<notes::Note>,
    pub attachments: Repository<Attachment>,
    pub cache: Cache,
    pub jwt: Jwt,
    pub storage: Storage,
    pub tasks: Tasks,
    pub jobs: Jobs,
    pub thumbnails: JobQueue<MakeThumbnail>,
    pub events: EventBus,
    pub tickets: Tickets,
    #[from_ref(skip)]
    pub max_upload: u64,
    #[from_ref(skip)]
    pub presign_ttl: Duration,
    #[from_ref(skip)]
    pub tickets_ttl: Duration,
}

impl AppState {
    /// Tells the user's live connections (WebSocket and SSE, on any instance). Best effort:
    /// the change is saved either way, and a client that missed it sees it on reload.
    pub async fn notify(&self, user_id: &str, kind: &str, data: serde_json::Value) {
        if let Err(err) = self
            .events
            .publish(kind, Audience::user(user_id), data)
            .await
        {
            tracing::warn!(error = %err, kind, "event not published");
        }
    }
}

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = Mongo::new(&settings.mongo)
        .await?
        .register::<notes::Note>()
        .register::<Attachment>();
    let mongo = starter::auth::mongo::register(mongo);
    let redis = Redis::new(&settings.redis)?;
    // Behind a load balancer, a client's login quota must hold whichever instance answers.
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins)
        .with_shared_limits(Arc::new(
            RedisLimits::new(redis.clone()).with_prefix(&settings.auth.rate_limit.key_prefix),
        ));
    let storage = Storage::new(&settings.storage)?;
    let jobs = Jobs::new(&redis, &settings.jobs);
    let thumbnails = jobs.queue::<MakeThumbnail>("thumbnails");
    let events = EventBus::new(redis.clone(), &settings.realtime);
    let tasks = Tasks::new(settings.jobs.shutdown_grace);
    let state = AppState {
        notes: mongo.repo(),
        attachments: mongo.repo(),
        cache: redis.cache("week4"),
        jwt: auth.jwt().clone(),
        storage: storage.clone(),
        tasks: tasks.clone(),
        jobs: jobs.clone(),
        thumbnails: thumbnails.clone(),
        events: events.clone(),
        tickets: Tickets::new(redis.clone(), &settings.realtime),
        max_upload: settings.attachments.max_size,
        presign_ttl: settings.storage.s3.presign_ttl,
        tickets_ttl: settings.realtime.ticket_ttl,
    };
    let deps = ThumbnailDeps {
        attachments: state.attachments.clone(),
        storage: storage.clone(),
        events: events.clone(),
    };
    // This instance also works the queue; a bigger deployment can run workers apart.
    let worker =
        thumbnails.worker(move |job, ctx| thumbnails::make_thumbnail(deps.clone(), job, ctx));

    // The multipart envelope around the file is small; the exact limit is enforced on
    // the file's bytes while they stream.
    let body_limit = usize::try_from(settings.attachments.max_size)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let api = notes::router()
        .merge(
            attachments::router()
                .layer(DefaultBodyLimit::max(body_limit))
                .layer(RequestTimeoutLayer::new(settings.attachments.timeout)),
        )
        .merge(thumbnails::router())
        .merge(realtime::router())
        .with_state(state);

    // Start-up in this order, shutdown in reverse: nothing is stopped while something
    // started after it may still use it.
    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api(OpenApiRouter::new().nest("/api", api))
        .component(mongo)
        .component(redis)
        .component(storage)
        .component(events)
        .component(worker)
        .component(tasks)
        .component(auth))
}
