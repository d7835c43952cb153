//! A note, as stored in the `notes` collection, and the indexes its queries need.
//!
//! `#[derive(MongoDocument)]` declares the collection and its indexes next to the fields;
//! `Mongo::register` (see [`crate::db::connect`]) creates them at start-up. An index on a
//! field that does not exist is a compile error.

use serde::{Deserialize, Serialize};
use starter::mongo::{
    MongoDocument,
    bson::{DateTime, oid::ObjectId},
};

// The text index serves `?q=` (full-text search over title and content). No index on
// `tags`: real MongoDB would use one for `?tag=`, but the dev stand-in (nx-27017) stops
// matching array elements once an array field is indexed. Add `#[mongo(index)]` to `tags`
// when you run on MongoDB only.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["title", "content"]))]
pub struct Note {
    /// `_id` in MongoDB, a hex string in JSON (see [`crate::schemas::NoteOut`]).
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
{%- if auth %}
    /// The owner's user id, as a hex string: the same form as the token's `sub`, and the
    /// dev stand-in matches ObjectIds outside `_id` only through `$in`. Indexed: every
    /// query filters by owner first.
    #[mongo(index)]
    pub owner_id: String,
{%- endif %}
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// BSON dates (not strings), so they sort and compare as time. Indexed newest first,
    /// the order of the listing.
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}
