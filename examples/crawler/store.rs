//! What the crawler keeps in MongoDB: `items` (the data, one per item page, keyed by the
//! page's canonical URL) and `pages` (every URL fetched: status, validators for the next
//! conditional fetch, where a redirect went, and broken links with their status).

use serde::{Deserialize, Serialize};
use starter::mongo::{
    DbError, Mongo, MongoDocument, Repository,
    bson::{self, DateTime, doc, oid::ObjectId},
};

use crate::page::Extracted;

/// One collected item.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "items", index(text = ["title", "category"]))]
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

    /// The last fetch of `url`, if any.
    pub async fn page(&self, url: &str) -> Result<Option<PageRecord>, DbError> {
        self.pages.find_one(doc! { "url": url }).await
    }

    /// Records a fetch, replacing the previous one of the same URL.
    pub async fn record_page(&self, page: &PageRecord) -> Result<(), DbError> {
        let fields = bson::to_document(page)?;
        self.pages
            .collection()
            .update_one(doc! { "url": &page.url }, doc! { "$set": fields })
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
        match self.items.find_one(doc! { "url": url }).await? {
            None => {
                let new = Item {
                    id: ObjectId::new(),
                    url: url.to_owned(),
                    title: item.title.clone(),
                    category: item.category.clone(),
                    price: item.price,
                    date,
                    content_hash: hash,
                    created_at: now,
                    updated_at: now,
                };
                match self.items.insert(&new).await {
                    Ok(_) => Ok(Saved::Inserted),
                    // Another crawl inserted it first; its content is as current as ours.
                    Err(e) if e.is_duplicate_key() => Ok(Saved::Unchanged),
                    Err(e) => Err(e),
                }
            }
            Some(old) if old.content_hash == hash => Ok(Saved::Unchanged),
            Some(old) => {
                self.items
                    .set(
                        doc! { "_id": old.id },
                        doc! {
                            "title": &item.title,
                            "category": &item.category,
                            "price": item.price,
                            "date": date,
                            "content_hash": hash,
                            "updated_at": now,
                        },
                    )
                    .await?;
                Ok(Saved::Updated)
            }
        }
    }
}
