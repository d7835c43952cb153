//! The MongoDB connection: built from `[mongo]`, started and stopped with the app.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use futures_util::future::BoxFuture;
use mongodb::{
    Client, ClientSession, Collection, Database, IndexModel,
    bson::{Document, doc},
    error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT},
    options::ClientOptions,
};
use starter_core::{Component, health::Probe};
use tokio::time::Instant;

use crate::{
    cursor::CursorCodec,
    error::DbError,
    repo::{MongoDocument, Repository},
    settings::{MongoSettings, mask_url},
};

/// How many times [`Mongo::transaction`] runs its body when the server says the
/// transaction failed transiently (write conflict, primary step-down).
const MAX_TRANSACTION_ATTEMPTS: u32 = 5;

/// A MongoDB client and database handle, plus the indexes to create at start-up.
///
/// Cheap to clone. Register it with `App::component(mongo.clone())` to get:
/// - at start-up: ping with retries (bounded by `mongo.startup_timeout`), then index creation;
/// - in `/health` and `/health/ready`: a `mongo` ping probe;
/// - at shutdown: the client is closed.
#[derive(Clone)]
pub struct Mongo {
    client: Client,
    db: Database,
    cursors: CursorCodec,
    indexes: Arc<Vec<(String, Vec<IndexModel>)>>,
    masked_url: String,
    startup_timeout: Duration,
}

impl Mongo {
    /// Builds the client. No connection is made yet (the first one happens at start-up),
    /// but a malformed URL fails here.
    pub async fn new(settings: &MongoSettings) -> anyhow::Result<Self> {
        let masked_url = mask_url(&settings.url);
        let mut options = ClientOptions::parse(&settings.url)
            .await
            .with_context(|| format!("invalid mongo.url `{masked_url}`"))?;
        // Short timeouts: when the server is gone, requests fail with 503 in seconds
        // instead of hanging for the driver's default 30 s. A URL that sets them wins.
        options
            .server_selection_timeout
            .get_or_insert(settings.server_selection_timeout);
        options
            .connect_timeout
            .get_or_insert(settings.connect_timeout);
        options.app_name.get_or_insert_with(|| "starter".to_owned());
        let client = Client::with_options(options)
            .with_context(|| format!("invalid mongo.url `{masked_url}`"))?;
        let db = client.database(&settings.database);
        Ok(Self {
            client,
            db,
            cursors: CursorCodec::new(settings.cursor_secret.clone()),
            indexes: Arc::new(Vec::new()),
            masked_url,
            startup_timeout: settings.startup_timeout,
        })
    }

    /// Declares the indexes of `T`, created at start-up.
    pub fn register<T: MongoDocument>(mut self) -> Self {
        Arc::make_mut(&mut self.indexes).push((T::COLLECTION.to_owned(), T::indexes()));
        self
    }

    /// Declares indexes of a collection without a [`MongoDocument`] type.
    pub fn with_indexes(mut self, collection: &str, indexes: Vec<IndexModel>) -> Self {
        Arc::make_mut(&mut self.indexes).push((collection.to_owned(), indexes));
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    /// A repository of `T` with the CRUD and pagination helpers.
    pub fn repo<T: MongoDocument>(&self) -> Repository<T> {
        Repository::new(self.db.collection(T::COLLECTION), self.cursors.clone())
    }

    /// The codec that signs this app's pagination cursors.
    pub fn cursor_codec(&self) -> &CursorCodec {
        &self.cursors
    }

    /// One `ping` round trip.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    /// Pings until the server answers, with exponential backoff, for at most
    /// `mongo.startup_timeout`. The error names the (masked) URL and the last failure.
    pub async fn connect_with_retry(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let deadline = started + self.startup_timeout;
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1u32;
        loop {
            match self.ping().await {
                Ok(()) => {
                    tracing::info!(url = %self.masked_url, database = self.db.name(), attempt, "connected to MongoDB");
                    return Ok(());
                }
                Err(err) => {
                    let now = Instant::now();
                    if now + delay >= deadline {
                        anyhow::bail!(
                            "cannot reach MongoDB at {} after {:.0?} ({attempt} attempts): {}",
                            self.masked_url,
                            now - started,
                            short_reason(&err)
                        );
                    }
                    tracing::warn!(url = %self.masked_url, attempt, error = %short_reason(&err), "MongoDB not reachable yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                    attempt += 1;
                }
            }
        }
    }

    /// Creates every registered index. Existing identical indexes are left as they are.
    pub async fn ensure_indexes(&self) -> anyhow::Result<()> {
        for (collection, models) in self.indexes.iter() {
            if models.is_empty() {
                continue;
            }
            self.db
                .collection::<Document>(collection)
                .create_indexes(models.clone())
                .await
                .with_context(|| format!("creating the indexes of `{collection}`"))?;
            tracing::debug!(collection, count = models.len(), "indexes ensured");
        }
        Ok(())
    }

    /// Runs `body` in a multi-document transaction and commits it.
    ///
    /// The body is run again (up to 5 times) when the server labels the failure
    /// `TransientTransactionError`, and the commit is retried on
    /// `UnknownTransactionCommitResult`, as the MongoDB drivers specification recommends.
    /// Pass the session to every operation inside (`.session(&mut *s)`); the body may run
    /// more than once, so it must not have side effects outside the database.
    ///
    /// ```no_run
    /// # use starter_mongo::{Mongo, DbError};
    /// # use mongodb::bson::doc;
    /// # async fn f(mongo: Mongo) -> Result<(), DbError> {
    /// let accounts = mongo.collection::<mongodb::bson::Document>("accounts");
    /// mongo
    ///     .transaction(|s| {
    ///         let accounts = accounts.clone();
    ///         Box::pin(async move {
    ///             accounts.update_one(doc! {"_id": 1}, doc! {"$inc": {"balance": -10}}).session(&mut *s).await?;
    ///             accounts.update_one(doc! {"_id": 2}, doc! {"$inc": {"balance": 10}}).session(&mut *s).await?;
    ///             Ok(())
    ///         })
    ///     })
    ///     .await
    /// # }
    /// ```
    pub async fn transaction<T, F>(&self, mut body: F) -> Result<T, DbError>
    where
        F: for<'s> FnMut(&'s mut ClientSession) -> BoxFuture<'s, Result<T, DbError>>,
    {
        let mut session = self.client.start_session().await?;
        let mut attempt = 1;
        'body: loop {
            session.start_transaction().await?;
            let value = match body(&mut session).await {
                Ok(value) => value,
                Err(err) => {
                    // Aborting can itself fail on a dead connection; the server then
                    // aborts the transaction on its own when the session expires.
                    let _ = session.abort_transaction().await;
                    if has_label(&err, TRANSIENT_TRANSACTION_ERROR)
                        && attempt < MAX_TRANSACTION_ATTEMPTS
                    {
                        attempt += 1;
                        tracing::debug!(attempt, "transient transaction error; retrying");
                        continue 'body;
                    }
                    return Err(err);
                }
            };
            loop {
                match session.commit_transaction().await {
                    Ok(()) => return Ok(value),
                    Err(e) if attempt < MAX_TRANSACTION_ATTEMPTS => {
                        attempt += 1;
                        if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) {
                            continue;
                        }
                        if e.contains_label(TRANSIENT_TRANSACTION_ERROR) {
                            continue 'body;
                        }
                        return Err(e.into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

fn has_label(err: &DbError, label: &str) -> bool {
    matches!(err, DbError::Mongo(e) if e.contains_label(label))
}

/// The driver's server-selection message lists the whole topology; keep its first sentence
/// and the first server's error ("Connection refused", "authentication failed", …).
fn short_reason(err: &DbError) -> String {
    let text = err.to_string();
    let head = text.split(" Topology:").next().unwrap_or(&text).trim();
    let cause = text
        .find("Error: Kind: ")
        .map(|i| &text[i + "Error: Kind: ".len()..])
        .and_then(|rest| rest.split(", labels").next());
    let reason = match cause {
        Some(cause) => format!("{head} ({cause})"),
        None => head.to_owned(),
    };
    reason.chars().take(300).collect()
}

impl Component for Mongo {
    fn name(&self) -> &str {
        "mongo"
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.connect_with_retry().await?;
            self.ensure_indexes().await
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.client.clone().shutdown().await;
            tracing::info!("MongoDB client closed");
        })
    }

    fn probe(&self) -> Option<Arc<dyn Probe>> {
        Some(Arc::new(MongoProbe(self.clone())))
    }
}

/// `/health` probe: a `ping`.
pub struct MongoProbe(Mongo);

impl Probe for MongoProbe {
    fn name(&self) -> &str {
        "mongo"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.0.ping().await.map_err(|e| short_reason(&e)) })
    }
}
