//! What the crawler keeps in MongoDB: `items` (the data, one per item page, keyed by the
//! page's canonical URL) and `pages` (every URL fetched: status, validators for the next
//! conditional fetch, where a redirect went, and broken links with their status).
//!
//! Writes replace whole documents (`replace_one`) rather than `$set` fields: the dev
//! stand-in server (nx-27017 0.8.1) stores a date given to `$set` as a string, which
//! breaks reading it back and the date filters; a replacement keeps BSON dates.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use starter::mongo::{
    DbError, Mongo, MongoDocument, Repository,
    bson::{DateTime, doc, oid::ObjectId},
    index::Index,
};

use crate::page::Extracted;

/// One collected item.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "items")]
pub struct Item {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The canonical URL of the page it was found on: the upsert key.
    #[mongo(unique)]
    pub url: String,
    pub title: String,
    pub category: Option<String>,
    pub price: Option<f64>,
    /// The item's own date (published, posted), as the page gives it.
    pub date: Option<DateTime>,
    /// SHA-256 of the extracted fields: an equal hash means nothing to write.
    pub content_hash: String,
    pub created_at: DateTime,
    /// When the content last changed (not when it was last seen).
    #[mongo(index = desc)]
    pub updated_at: DateTime,
}

/// The last fetch of one URL.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "pages")]
pub struct PageRecord {
    #[mongo(unique)]
    pub url: String,
    /// HTTP status of the last answer; 0 when none came (timeout, refused connection).
    #[mongo(index)]
    pub status: i32,
    /// Why no answer came, or why the answer was not used.
    pub error: Option<String>,
    pub content_type: Option<String>,
    /// Validators sent back as `If-None-Match` / `If-Modified-Since` next time.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Where a redirect pointed.
    pub location: Option<String>,
    /// The page that linked here (for a broken link: where it is).
    pub referrer: Option<String>,
    pub depth: u32,
    /// The page's links (absolute, normalised): a 304 next time still leads to them.
    #[serde(default)]
    pub links: Vec<String>,
    pub fetched_at: DateTime,
}

/// What saving an item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Inserted,
    Updated,
    Unchanged,
}

/// The two collections. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub items: Repository<Item>,
    pub pages: Repository<PageRecord>,
}

impl Store {
    /// Registers the collections (their indexes are made when `mongo` starts).
    pub fn register(mongo: Mongo) -> Mongo {
        mongo.register::<Item>().register::<PageRecord>()
    }

    pub fn new(mongo: &Mongo) -> Self {
        Self {
            items: mongo.repo(),
            pages: mongo.repo(),
        }
    }

    /// The text index of search (`title`, `category`). Not declared with the other
    /// indexes: those are created at every start, and nx-27017 0.8.1 fails to create an
    /// existing text index again once the collection has documents (and does not list
    /// it). So: create it, and if that fails, accept the failure when a `$text` query
    /// works, which proves the index is there. (MongoDB itself just succeeds.)
    pub async fn ensure_search_index(&self) -> Result<(), DbError> {
        let items = self.items.collection();
        let Err(err) = items
            .create_index(Index::text(&["title", "category"]))
            .await
        else {
            return Ok(());
        };
        match items
            .find_one(doc! { "$text": { "$search": "probe" } })
            .await
        {
            Ok(_) => Ok(()),
            Err(_) => Err(err.into()),
        }
    }

    /// The last fetch of `url`, if any.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub async fn page(&self, url: &str) -> Result<Option<PageRecord>, DbError> {
        self.pages.find_one(doc! { "url": url }).await
    }

    /// The last fetch of every URL on `origin`'s scheme, host and port, by URL.
    pub async fn pages_under(
        &self,
        origin: &url::Url,
    ) -> Result<HashMap<String, PageRecord>, DbError> {
        let prefix = origin.origin().ascii_serialization();
        let pattern = format!("^{}/", escape_regex(&prefix));
        let pages: Vec<PageRecord> = self
            .pages
            .collection()
            .find(doc! { "url": { "$regex": pattern } })
            .await?
            .try_collect()
            .await?;
        Ok(pages.into_iter().map(|p| (p.url.clone(), p)).collect())
    }

    /// Records a fetch, replacing the previous one of the same URL.
    pub async fn record_page(&self, page: &PageRecord) -> Result<(), DbError> {
        self.pages
            .collection()
            .replace_one(doc! { "url": &page.url }, page)
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Upserts the item of `url`: inserted when new, updated (with `updated_at`) when its
    /// content hash changed, untouched otherwise.
    pub async fn save_item(&self, url: &str, item: &Extracted) -> Result<Saved, DbError> {
        let hash = item.content_hash();
        let now = DateTime::now();
        let date = item
            .date
            .map(|d| DateTime::from_millis((d.unix_timestamp_nanos() / 1_000_000) as i64));
        // Insert first: on a first crawl that is one round trip; a known URL is refused
        // by the unique index and compared.
        let new = Item {
            id: ObjectId::new(),
            url: url.to_owned(),
            title: item.title.clone(),
            category: item.category.clone(),
            price: item.price,
            date,
            content_hash: hash.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.items.insert(&new).await {
            Ok(_) => return Ok(Saved::Inserted),
            Err(e) if e.is_duplicate_key() => {}
            Err(e) => return Err(e),
        }
        match self.items.find_one(doc! { "url": url }).await? {
            // Deleted in between: the next crawl inserts it again.
            None => Ok(Saved::Unchanged),
            Some(old) if old.content_hash == hash => Ok(Saved::Unchanged),
            Some(old) => {
                let old_hash = old.content_hash.clone();
                let new = Item {
                    title: item.title.clone(),
                    category: item.category.clone(),
                    price: item.price,
                    date,
                    content_hash: hash,
                    updated_at: now,
                    ..old
                };
                // Only if no other crawl changed it since it was read; if one did, its
                // content is as current as ours.
                let replaced = self
                    .items
                    .collection()
                    .replace_one(doc! { "_id": new.id, "content_hash": &old_hash }, &new)
                    .await?;
                Ok(if replaced.matched_count == 1 {
                    Saved::Updated
                } else {
                    Saved::Unchanged
                })
            }
        }
    }
}

/// `text` with the regular-expression metacharacters escaped. Hand-written: eight lines
/// against a `regex` dependency for its `escape` alone.
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$/-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
