//! # starter-mongo
//!
//! MongoDB for apps built on `starter-core`, with the official `mongodb` driver:
//!
//! - [`Mongo`]: a client from `[mongo]` settings that is a lifespan [`Component`]: it pings
//!   with retries at start-up, creates the declared indexes, closes at shutdown, and adds a
//!   `mongo` probe to `/health`;
//! - [`index::Index`]: declarative unique, text, TTL and sort indexes, usually declared with
//!   `#[derive(MongoDocument)]` (see [`macro@MongoDocument`]);
//! - [`oid`]: ObjectId ↔ hex string for serde, and the [`oid::IdPath`] extractor (422 for a
//!   malformed id);
//! - [`Repository`]: insert/get/list, `$set` partial updates, `$push`/`$addToSet`, delete,
//!   offset and signed-cursor pagination, text search;
//! - [`Mongo::transaction`]: multi-document transactions with the retry rules of the spec;
//! - [`DbError`]: converts into `ApiError`: duplicate key → 409, unreachable → 503,
//!   bad cursor → 422;
//! - [`testing::TestDb`]: a fresh, uniquely named database per test.
//!
//! ```no_run
//! use mongodb::bson::{oid::ObjectId, DateTime};
//! use serde::{Deserialize, Serialize};
//! use starter_mongo::{Mongo, MongoDocument, MongoSettings};
//!
//! #[derive(Serialize, Deserialize, MongoDocument)]
//! #[mongo(collection = "notes", index(text = ["title"]))]
//! struct Note {
//!     #[mongo(id)]
//!     #[serde(rename = "_id")]
//!     id: ObjectId,
//!     title: String,
//!     #[mongo(index = desc)]
//!     created_at: DateTime,
//! }
//!
//! # async fn run(settings: MongoSettings) -> anyhow::Result<()> {
//! let mongo = Mongo::new(&settings).await?.register::<Note>();
//! let notes = mongo.repo::<Note>();
//! // App::new(&core).component(mongo.clone()) connects it at start-up.
//! # let _ = notes; Ok(())
//! # }
//! ```
//!
//! [`Component`]: starter_core::Component

pub mod connection;
pub mod cursor;
pub mod error;
pub mod index;
pub mod oid;
pub mod repo;
pub mod settings;
pub mod testing;

pub use connection::Mongo;
pub use error::DbError;
pub use repo::{MongoDocument, Repository, Sort, with_text_search};
pub use settings::MongoSettings;
/// `#[derive(MongoDocument)]`: declares the collection and indexes next to the fields.
pub use starter_macros::MongoDocument;

/// The driver and BSON crates, so apps use the same versions as the kit.
pub use mongodb::{self, bson};

// The derive names this crate `::starter_mongo`, also when used inside it.
extern crate self as starter_mongo;
