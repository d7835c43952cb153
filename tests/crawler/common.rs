//! Helpers: a crawler on a fresh database, the app on the same database, polling.

use std::{future::Future, time::Duration};

use starter::{config, mongo::Mongo};
pub use starter_test::{TestApp, TestDb};

use crate::{
    app,
    crawl::{CrawlOptions, Crawler},
    store::Store,
};

/// Options of the tests: two requests per host at most, short backoff, short timeout.
pub fn options() -> CrawlOptions {
    CrawlOptions {
        concurrency_per_host: 2,
        backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        ..CrawlOptions::default()
    }
}

/// The store on `db`, with its indexes made (as `Mongo`'s start-up does in the app).
pub async fn store(db: &TestDb) -> Store {
    let mongo = Store::register(Mongo::new(db.settings()).await.expect("mongo settings"));
    mongo.ensure_indexes().await.expect("indexes");
    let store = Store::new(&mongo);
    store.ensure_search_index().await.expect("the search index");
    store
}

pub async fn crawler(db: &TestDb, options: CrawlOptions) -> Crawler {
    Crawler::new(store(db).await, options).expect("a crawler")
}

/// The example's settings as `main` loads them, on `db`, with the test Redis and a job
/// namespace of its own, then `change`.
pub fn settings(db: &TestDb, change: impl FnOnce(&mut app::Settings)) -> app::Settings {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    db.configure(&mut settings.mongo);
    settings.core.server.port = 0;
    settings.redis.url = starter_redis::testing::redis_url();
    settings.jobs.namespace = format!("{}-jobs", db.name());
    change(&mut settings);
    let profile = settings.core.profile;
    config::Settings::check(&settings, profile).expect("the changed settings are valid");
    settings
}

/// The app on `db`.
pub async fn serve(db: &TestDb, change: impl FnOnce(&mut app::Settings)) -> TestApp {
    let app = app::build(&settings(db, change), options())
        .await
        .expect("the app builds");
    TestApp::serve(app).await
}

/// Polls `check` every 100 ms until it gives `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
