//! Stored documents: what the `notes` and `comments` collections hold.
//!
//! `#[derive(MongoDocument)]` declares each collection and its indexes next to the fields;
//! `Mongo::register` creates the indexes at start-up.

use serde::{Deserialize, Serialize};
use starter::mongo::{
    MongoDocument,
    bson::{DateTime, oid::ObjectId},
};

// No index on `tags`: real MongoDB would use one for the tag filter, but the dev stand-in
// (nx-27017 0.8.1) stops matching array elements once the array field is indexed. Add
// `#[mongo(index)]` to `tags` when you run on MongoDB only.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["title", "content"]))]
pub struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// Kept in step with the `comments` collection by a transaction.
    #[serde(default)]
    pub comment_count: i64,
    // Newest-first listing. (A compound `index(desc = "created_at", desc = "_id")` would also
    // cover the tie-break, but the dev stand-in server cannot index `_id` in a compound.)
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "comments")]
pub struct Comment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(index)]
    pub note_id: ObjectId,
    pub body: String,
    pub created_at: DateTime,
}
