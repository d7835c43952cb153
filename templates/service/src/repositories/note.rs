//! The queries of the `notes` collection, on top of the kit's generic `Repository<Note>`
//! (insert, find, `$set` updates, delete, offset and cursor pagination).
{%- if auth %}
//!
//! Every query is scoped to an owner: [`owned`] is the one filter that makes a note
//! private, so another user's note is simply not found.
{%- endif %}

use starter::{
    mongo::{
        DbError, Mongo, Repository, Sort,
        bson::{Document, doc, oid::ObjectId},
        with_text_search,
    },
    pagination::{Page, PageParams},
};

use crate::models::Note;

/// Newest first; the kit's `Sort` adds `_id` as the tie-break, so the order is total and
/// cursor pages never skip or repeat a note.
const NEWEST_FIRST: Sort = Sort::desc("created_at");

/// The `notes` collection. Cheap to clone: it shares the client's connection pool.
#[derive(Clone)]
pub struct NoteRepository {
    notes: Repository<Note>,
}
{%- if auth %}

/// The note `id` if it belongs to `owner_id`.
fn owned(owner_id: &str, id: ObjectId) -> Document {
    doc! { "_id": id, "owner_id": owner_id }
}
{%- endif %}

impl NoteRepository {
    pub fn new(mongo: &Mongo) -> Self {
        Self {
            notes: mongo.repo(),
        }
    }

    pub async fn insert(&self, note: &Note) -> Result<(), DbError> {
        self.notes.insert(note).await?;
        Ok(())
    }
{% if auth %}
    pub async fn find(&self, owner_id: &str, id: ObjectId) -> Result<Option<Note>, DbError> {
        self.notes.find_one(owned(owner_id, id)).await
    }
{%- else %}
    pub async fn find(&self, id: ObjectId) -> Result<Option<Note>, DbError> {
        self.notes.get(id).await
    }
{%- endif %}

    /// One page, newest first, optionally only notes with `tag` and/or matching the
    /// full-text search `text` (a text index covers title and content).
    pub async fn page(
        &self,
{%- if auth %}
        owner_id: &str,
{%- endif %}
        tag: Option<&str>,
        text: Option<&str>,
        page: &PageParams,
    ) -> Result<Page<Note>, DbError> {
{%- if auth %}
        let mut filter = doc! { "owner_id": owner_id };
{%- else %}
        let mut filter = Document::new();
{%- endif %}
        if let Some(tag) = tag {
            // Matches when the `tags` array contains the value.
            filter.insert("tags", tag);
        }
        if let Some(text) = text {
            filter = with_text_search(filter, text);
        }
        self.notes.page(filter, NEWEST_FIRST, page).await
    }

    /// Sets `fields` (`$set`) and stamps `updated_at` with the server's clock
    /// (`$currentDate`); returns the note after the update, `None` if it does not exist.
    /// An empty `fields` changes nothing and returns the note as it is.
{%- if auth %}
    pub async fn update(
        &self,
        owner_id: &str,
        id: ObjectId,
        fields: Document,
    ) -> Result<Option<Note>, DbError> {
        let filter = owned(owner_id, id);
{%- else %}
    pub async fn update(&self, id: ObjectId, fields: Document) -> Result<Option<Note>, DbError> {
        let filter = doc! { "_id": id };
{%- endif %}
        if fields.is_empty() {
            return self.notes.find_one(filter).await;
        }
        self.notes
            .update_one(
                filter,
                doc! { "$set": fields, "$currentDate": { "updated_at": true } },
            )
            .await
    }

    /// `true` if a note was deleted.
{%- if auth %}
    pub async fn delete(&self, owner_id: &str, id: ObjectId) -> Result<bool, DbError> {
        self.notes.delete_one(owned(owner_id, id)).await
    }
{%- else %}
    pub async fn delete(&self, id: ObjectId) -> Result<bool, DbError> {
        self.notes.delete(id).await
    }
{%- endif %}
}
