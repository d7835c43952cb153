//! Stored documents: what the `notes` and `comments` collections hold.

use mongodb::IndexModel;
use serde::{Deserialize, Serialize};
use starter::mongo::{
    MongoDocument,
    bson::{DateTime, oid::ObjectId},
    index::Index,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// Kept in step with the `comments` collection by a transaction.
    #[serde(default)]
    pub comment_count: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl MongoDocument for Note {
    const COLLECTION: &'static str = "notes";
    fn indexes() -> Vec<IndexModel> {
        vec![
            // Newest-first listing. (A compound `{created_at: -1, _id: -1}` would also cover
            // the tie-break, but the dev stand-in server cannot index `_id` in a compound.)
            Index::desc("created_at"),
            // No index on `tags`: real MongoDB would use one for the tag filter, but the
            // dev stand-in (nx-27017 0.8.1) stops matching array elements once the array
            // field is indexed. Add `Index::asc("tags")` when you run on MongoDB only.
            Index::text(&["title", "content"]),
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub note_id: ObjectId,
    pub body: String,
    pub created_at: DateTime,
}

impl MongoDocument for Comment {
    const COLLECTION: &'static str = "comments";
    fn indexes() -> Vec<IndexModel> {
        vec![Index::asc("note_id")]
    }
}
