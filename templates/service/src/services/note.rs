//! The notes use cases: create, read, list, update, delete.
{%- if auth %}
//!
//! Always on behalf of an owner: a user never sees, changes or deletes another user's note
//! (it is a 404, not a 403, so its existence does not leak).
{%- endif %}
//!
//! Errors are `ApiError`s, the kit's problem+json: [`NoteError`] converts into one, and so
//! do database errors, with `?` (duplicate key → 409, server unreachable → 503, bad cursor
//! → 422).

use starter::{
    ApiError, IntoApiError,
    mongo::bson::{DateTime, Document, oid::ObjectId},
    pagination::{Page, PageParams},
};

use crate::{
    models::Note,
    repositories::NoteRepository,
    schemas::{NoteFilter, NoteIn, NotePatch},
};

/// Cheap to clone: each request gets its copy from the state.
#[derive(Clone)]
pub struct NoteService {
    repo: NoteRepository,
}

/// What can go wrong in these use cases besides the database. `#[derive(IntoApiError)]`
/// maps each variant to a status and a stable `code` (what clients branch on); the
/// `#[error]` text becomes the problem's `detail` (for humans; it may change).
#[derive(Debug, thiserror::Error, IntoApiError)]
pub enum NoteError {
    #[error("note {0} does not exist")]
    #[api_error(status = 404, code = "note_not_found")]
    NotFound(ObjectId),
}

impl NoteService {
    pub fn new(repo: NoteRepository) -> Self {
        Self { repo }
    }

    pub async fn create(&self, {% if auth %}owner_id: &str, {% endif %}input: NoteIn) -> Result<Note, ApiError> {
        let now = DateTime::now();
        let note = Note {
            id: ObjectId::new(),
{%- if auth %}
            owner_id: owner_id.to_owned(),
{%- endif %}
            title: input.title,
            content: input.content,
            tags: input.tags,
            created_at: now,
            updated_at: now,
        };
        self.repo.insert(&note).await?;
        tracing::info!(note_id = %note.id, "note created");
        Ok(note)
    }

    pub async fn get(&self, {% if auth %}owner_id: &str, {% endif %}id: ObjectId) -> Result<Note, ApiError> {
        let note = self.repo.find({% if auth %}owner_id, {% endif %}id).await?;
        note.ok_or_else(|| NoteError::NotFound(id).into())
    }

    pub async fn list(
        &self,
{%- if auth %}
        owner_id: &str,
{%- endif %}
        filter: &NoteFilter,
        page: &PageParams,
    ) -> Result<Page<Note>, ApiError> {
        Ok(self
            .repo
            .page({% if auth %}owner_id, {% endif %}filter.tag.as_deref(), filter.q.as_deref(), page)
            .await?)
    }

    /// Changes only the fields present in `patch`.
{%- if auth %}
    pub async fn update(
        &self,
        owner_id: &str,
        id: ObjectId,
        patch: NotePatch,
    ) -> Result<Note, ApiError> {
{%- else %}
    pub async fn update(&self, id: ObjectId, patch: NotePatch) -> Result<Note, ApiError> {
{%- endif %}
        let mut fields = Document::new();
        if let Some(title) = patch.title {
            fields.insert("title", title);
        }
        if let Some(content) = patch.content {
            fields.insert("content", content);
        }
        if let Some(tags) = patch.tags {
            fields.insert("tags", tags);
        }
        let note = self.repo.update({% if auth %}owner_id, {% endif %}id, fields).await?;
        note.ok_or_else(|| NoteError::NotFound(id).into())
    }

    pub async fn delete(&self, {% if auth %}owner_id: &str, {% endif %}id: ObjectId) -> Result<(), ApiError> {
        if self.repo.delete({% if auth %}owner_id, {% endif %}id).await? {
            tracing::info!(note_id = %id, "note deleted");
            Ok(())
        } else {
            Err(NoteError::NotFound(id).into())
        }
    }
}
