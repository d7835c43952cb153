//! The `serve` side, from settings to a ready-to-run [`App`]: the API over the collected
//! items, and the re-crawl job. `main` runs what [`build`] returns; the tests serve it
//! in-process.

use std::time::Duration;

use axum::extract::FromRef;
use serde::Deserialize;
use starter::{
    App,
    config::{self, ConfigError, CoreSettings, Profile, invalid},
    docs::OpenApiRouter,
    mongo::{Mongo, MongoSettings},
};
use starter_jobs::{JobQueue, Jobs, JobsSettings, Tasks};
use starter_redis::{Redis, RedisSettings};
use url::Url;
use utoipa::OpenApi;

use crate::{
    api,
    crawl::{CrawlOptions, Crawler},
    recrawl::{self, CrawlJob},
    store::Store,
};

/// The document's title and description; the routes add their own operations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Crawler", version = "0.1.0",
        description = "Items collected by the crawler: list with filters, full-text search, \
            statistics by category and by day, a CSV export, broken links, and crawl jobs."),
    tags((name = "items"), (name = "crawls"))
)]
struct ApiDoc;

/// `[crawler]`: the scheduled re-crawl.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlerSettings {
    /// The site re-crawled on schedule; `None`: no schedule (`POST /api/crawls` still works).
    pub recrawl_url: Option<Url>,
    /// How often a crawl job is queued; `None`: no schedule.
    #[serde(with = "humantime_opt")]
    pub recrawl_every: Option<Duration>,
}

mod humantime_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| humantime::parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The settings of `serve`: the core sections, `[mongo]`, `[redis]`, `[jobs]` and
/// `[crawler]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
    pub redis: RedisSettings,
    pub jobs: JobsSettings,
    pub crawler: CrawlerSettings,
}

impl config::Settings for Settings {
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)?;
        self.redis.check(profile)?;
        self.jobs.check(profile)?;
        match (&self.crawler.recrawl_url, self.crawler.recrawl_every) {
            (Some(_), None) | (None, Some(_)) => Err(invalid(
                "crawler.recrawl_every",
                "recrawl_url and recrawl_every go together",
            )),
            (_, Some(every)) if every < Duration::from_secs(1) => {
                Err(invalid("crawler.recrawl_every", "must be at least 1s"))
            }
            _ => Ok(()),
        }
    }
}

/// What the routes share.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Store,
    pub crawls: JobQueue<CrawlJob>,
}

/// The service, not started yet; crawl jobs run with `options`.
pub async fn build(settings: &Settings, options: CrawlOptions) -> anyhow::Result<App> {
    let mongo = Store::register(Mongo::new(&settings.mongo).await?);
    let store = Store::new(&mongo);
    let redis = Redis::new(&settings.redis)?;
    let jobs = Jobs::new(&redis, &settings.jobs);
    let crawls = jobs.queue::<CrawlJob>("crawls");
    let crawler = Crawler::new(store.clone(), options)?;
    // This instance also works the queue; a bigger deployment can run workers apart.
    let worker = crawls.worker(move |job, ctx| recrawl::run(crawler.clone(), job, ctx));
    let tasks = Tasks::from_settings(&settings.jobs);
    if let (Some(url), Some(every)) = (
        &settings.crawler.recrawl_url,
        settings.crawler.recrawl_every,
    ) {
        tasks.spawn(
            "recrawl schedule",
            recrawl::schedule(crawls.clone(), url.clone(), every, tasks.shutdown_token()),
        );
    }
    let search_index = store.clone();
    let state = AppState { store, crawls };
    let api = api::router().with_state(state).merge(jobs.router());

    Ok(App::new(&settings.core)
        .openapi(ApiDoc::openapi())
        .api(OpenApiRouter::new().nest("/api", api))
        .component(mongo)
        .on_startup("search index", move || async move {
            Ok(search_index.ensure_search_index().await?)
        })
        .component(redis)
        .component(worker)
        .component(tasks))
}
