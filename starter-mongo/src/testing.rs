//! A fresh database per test, dropped afterwards, so tests can run in parallel.
//!
//! ```no_run
//! # async fn t() {
//! let db = starter_mongo::testing::TestDb::new().await;
//! let notes = db.mongo().collection::<mongodb::bson::Document>("notes");
//! // … use it; the database is dropped when `db` goes out of scope.
//! # }
//! ```
//!
//! The server comes from `APP_MONGO__URL`. Without it the test fails and says how to start
//! one: `scripts/with-devdb cargo test`.

use mongodb::Client;

use crate::{Mongo, settings::MongoSettings};

/// The command that runs tests with a dev database.
pub const DEVDB_HINT: &str = "no MongoDB for tests: set APP_MONGO__URL, or run the tests through `scripts/with-devdb cargo test` (it starts a local nx-27017)";

/// The MongoDB URL for tests, or a panic naming the command that provides one.
pub fn mongo_url() -> String {
    match std::env::var("APP_MONGO__URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("{DEVDB_HINT}"),
    }
}

/// A uniquely named database on the test server, dropped on drop.
pub struct TestDb {
    mongo: Mongo,
    settings: MongoSettings,
}

impl TestDb {
    /// Connects (failing the test if the server does not answer) and picks a new name.
    pub async fn new() -> Self {
        let settings = MongoSettings {
            url: mongo_url(),
            database: format!("test_{}", uuid::Uuid::new_v4().simple()),
            ..MongoSettings::default()
        };
        let mongo = Mongo::new(&settings).await.expect("valid APP_MONGO__URL");
        if let Err(e) = mongo.ping().await {
            panic!("{DEVDB_HINT}\nping failed: {e}");
        }
        Self { mongo, settings }
    }

    pub fn mongo(&self) -> &Mongo {
        &self.mongo
    }

    /// Settings pointing at this database (for an app under test, or `APP_MONGO__*` vars).
    pub fn settings(&self) -> &MongoSettings {
        &self.settings
    }

    /// Points an app's `settings` at this database: its URL and name. The rest (timeouts,
    /// the cursor secret) stays as configured, so the app runs as it would in production.
    ///
    /// ```no_run
    /// # async fn t(mut settings: starter_mongo::MongoSettings) {
    /// let db = starter_mongo::testing::TestDb::new().await;
    /// db.configure(&mut settings); // e.g. `&mut app_settings.mongo`
    /// # }
    /// ```
    pub fn configure(&self, settings: &mut MongoSettings) {
        settings.url = self.settings.url.clone();
        settings.database = self.settings.database.clone();
    }

    pub fn name(&self) -> &str {
        &self.settings.database
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop is synchronous and the test's runtime may be shutting down: use a new
        // client on a thread with its own small runtime.
        let url = self.settings.url.clone();
        let name = self.settings.database.clone();
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let client = Client::with_uri_str(&url).await.ok()?;
                client.database(&name).drop().await.ok()?;
                client.shutdown().await;
                Some(())
            })
        })
        .join();
        if !matches!(joined, Ok(Some(()))) {
            eprintln!(
                "warning: could not drop test database {}",
                self.settings.database
            );
        }
    }
}
