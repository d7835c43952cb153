//! The clinic service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process.

use serde::{Deserialize, Serialize};
use starter::{
    App,
    auth::{AuthService, AuthSettings},
    config::{self, ConfigError, CoreSettings, Profile},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings},
};
use starter_jobs::{Jobs, JobsSettings};
use starter_realtime::{EventBus, RealtimeSettings, Tickets};
use starter_redis::{Redis, RedisSettings};
use utoipa::{
    OpenApi, ToSchema,
    openapi::{RefOr, ResponseBuilder},
};

use crate::{
    appointments, invoices, models, patients, procedures, realtime, reminders, reports, staff,
    treatments,
};

/// The settings of this service: the core sections plus `[mongo]`, `[auth]`, `[redis]`,
/// `[realtime]` and `[clinic]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
    pub auth: AuthSettings,
    pub redis: RedisSettings,
    pub realtime: RealtimeSettings,
    pub jobs: JobsSettings,
    pub clinic: ClinicSettings,
}

/// `[clinic]`: what `GET /api/clinic` tells the staff app.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ClinicSettings {
    pub name: String,
    /// An IANA zone name: times are stored and sent in UTC, shown in this zone.
    pub timezone: String,
    /// The chair numbers an appointment may use.
    pub chairs: Vec<u32>,
    /// Seconds between two sweeps for tomorrow's reminders (see `reminders`).
    #[schema(ignore)]
    #[serde(skip_serializing)]
    pub reminder_sweep_secs: u64,
}

impl Default for ClinicSettings {
    fn default() -> Self {
        Self {
            name: "서울 스마일 치과".into(),
            timezone: "Asia/Seoul".into(),
            chairs: vec![1, 2, 3],
            reminder_sweep_secs: 600,
        }
    }
}

impl ClinicSettings {
    /// The clinic's time zone (`check` made sure it exists).
    pub fn zone(&self) -> Result<jiff::tz::TimeZone, jiff::Error> {
        jiff::tz::TimeZone::get(&self.timezone)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("clinic.{key}"),
            reason: reason.into(),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if self.zone().is_err() {
            return Err(invalid(
                "timezone",
                "must name an IANA time zone, such as Asia/Seoul",
            ));
        }
        if self.chairs.is_empty() {
            return Err(invalid("chairs", "must list at least one chair"));
        }
        if self.reminder_sweep_secs == 0 {
            return Err(invalid("reminder_sweep_secs", "must be at least 1"));
        }
        Ok(())
    }
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)?;
        self.auth.check(profile)?;
        self.redis.check(profile)?;
        self.realtime.check(profile)?;
        self.jobs.check(profile)?;
        self.clinic.check()
    }
}

/// The title and description of `/openapi.json`; the routes add their operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Clinic", version = "0.1.0",
        description = "A dental clinic's staff API: patients, the procedure catalogue, \
            appointments without double booking.\n\n\
            Roles: `admin`, `dentist`, `receptionist` (see the role matrix in the example's \
            docs). Log in at `POST /auth/login`, then send `Authorization: Bearer \
            <access_token>`. Money is integer KRW; times are RFC 3339 UTC. Errors are \
            `application/problem+json` (RFC 9457)."),
    tags((name = "clinic"), (name = "staff"), (name = "patients"), (name = "procedures"),
        (name = "appointments"), (name = "treatments"), (name = "invoices"), (name = "realtime"), (name = "reports"))
)]
struct ApiDoc;

/// `settings` with `Idempotency-Key` among the CORS request headers: the staff app on the
/// Vite dev server (another origin) sends it with every payment, and a preflight that does
/// not allow it fails the payment in the browser.
fn with_idempotency_header(settings: &CoreSettings) -> CoreSettings {
    let mut core = settings.clone();
    let headers = &mut core.cors.extra_allowed_headers;
    if !headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case(invoices::IDEMPOTENCY_KEY))
    {
        headers.push(invoices::IDEMPOTENCY_KEY.into());
    }
    core
}

/// `router` with a 403 documented on each of its bearer-token operations: each serves only
/// the roles of its row in the matrix (`models::allow`), so any of them can refuse a caller.
/// The kit's document finisher gives the response its problem+json body.
fn with_role_refusals(mut router: OpenApiRouter) -> OpenApiRouter {
    for item in router.get_openapi_mut().paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                operation
                    .responses
                    .responses
                    .entry("403".to_owned())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description("Not one of the roles this route serves (`forbidden`)")
                                .build(),
                        )
                    });
            }
        }
    }
    router
}

/// The OpenAPI document, pretty JSON, exactly as the built service serves `/openapi.json`
/// ([`App::openapi_document`]); building connects to nothing, so no server is needed.
pub async fn openapi_json(settings: &Settings) -> anyhow::Result<String> {
    Ok(build(settings).await?.openapi_document().to_pretty_json()?)
}

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = models::register(Mongo::new(&settings.mongo).await?);
    let mongo = starter::auth::mongo::register(mongo);
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?
        .with_allowed_origins(&settings.core.cors.allowed_origins);
    let redis = Redis::new(&settings.redis)?;
    let events = EventBus::new(redis.clone(), &settings.realtime);
    let tickets = Tickets::new(redis.clone(), &settings.realtime);
    let state = models::ClinicState::new(
        &mongo,
        &auth,
        settings.clinic.clone(),
        events.clone(),
        tickets,
    );
    let jobs = Jobs::new(&redis, &settings.jobs);
    let reminders = jobs.queue::<reminders::Reminder>("clinic-reminders");
    let worker = {
        let state = state.clone();
        reminders.worker(move |job, ctx| reminders::remind(state.clone(), job, ctx))
    };
    let sweep = reminders::ReminderSweep::new(
        state.clone(),
        reminders,
        std::time::Duration::from_secs(settings.clinic.reminder_sweep_secs),
    );

    Ok(App::new(&with_idempotency_header(&settings.core))
        .openapi(ApiDoc::openapi())
        .api(starter::auth::router(auth.clone()))
        .api(with_role_refusals(
            OpenApiRouter::new().nest(
                "/api",
                staff::router(state.clone())
                    .merge(patients::router(state.clone()))
                    .merge(procedures::router(state.clone()))
                    .merge(appointments::router(state.clone()))
                    .merge(treatments::router(state.clone()))
                    .merge(invoices::router(state.clone()))
                    .merge(realtime::router(state.clone()))
                    .merge(reports::router(state)),
            ),
        ))
        // Order matters: the database is up before the admin is seeded.
        .component(mongo)
        .component(redis)
        .component(events)
        .component(auth)
        .component(worker)
        .component(sweep))
}
