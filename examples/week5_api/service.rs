//! The one service layer behind both API versions: ownership, storage and pagination live
//! here, once. `v1` and `v2` only translate between their HTTP shapes and these types, so
//! a fix here fixes both versions, and a note written through one is read through the other.

use axum::extract::FromRef;
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::{AuthService, Jwt},
    mongo::{
        Mongo, Repository, Sort,
        bson::{self, Bson, DateTime, Document, doc, oid::ObjectId},
    },
    pagination::{DEFAULT_LIMIT, Page, PageParams},
};
use utoipa::IntoParams;
use validator::Validate;

use crate::models::{Contact, Note};

/// A note to create, whichever version's body it came from.
pub struct NewNote {
    pub title: String,
    pub content: String,
    pub contact: Option<Contact>,
}

/// A partial update: `None` keeps a field. `contact: Some(None)` removes the contact.
#[derive(Default)]
pub struct NoteChanges {
    pub title: Option<String>,
    pub content: Option<String>,
    pub contact: Option<Option<Contact>>,
}

/// `?limit=&cursor=`: the list parameters, the same in both versions (a v1 cursor even
/// works in v2: one repository, one query, one cursor).
#[derive(Debug, Clone, Deserialize, Serialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Notes per page.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100, default = 20, example = 20)]
    pub limit: u32,
    /// Where to continue: the `next_cursor` of the previous page. Opaque and signed; it
    /// only works with the query it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512, nullable = false)]
    pub cursor: Option<String>,
}

fn default_limit() -> u32 {
    DEFAULT_LIMIT
}

/// The notes of each user, in MongoDB.
#[derive(Clone)]
pub struct NotesService {
    notes: Repository<Note>,
}

impl NotesService {
    pub fn new(mongo: &Mongo) -> Self {
        Self {
            notes: mongo.repo(),
        }
    }

    pub async fn create(&self, owner: &str, new: NewNote) -> Result<Note, ApiError> {
        let now = DateTime::now();
        let note = Note {
            id: ObjectId::new(),
            owner_id: owner.to_owned(),
            title: new.title,
            content: new.content,
            contact: new.contact,
            created_at: now,
            updated_at: now,
        };
        self.notes.insert(&note).await?;
        Ok(note)
    }

    /// One page of the owner's notes, newest first.
    pub async fn page(&self, owner: &str, params: &ListParams) -> Result<Page<Note>, ApiError> {
        let params = PageParams {
            limit: params.limit,
            skip: None,
            cursor: params.cursor.clone(),
        };
        let page = self
            .notes
            .page(
                doc! { "owner_id": owner },
                Sort::desc("created_at"),
                &params,
            )
            .await?;
        Ok(page)
    }

    pub async fn get(&self, owner: &str, id: ObjectId) -> Result<Note, ApiError> {
        self.notes
            .find_one(owned(owner, id))
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn update(
        &self,
        owner: &str,
        id: ObjectId,
        changes: NoteChanges,
    ) -> Result<Note, ApiError> {
        let mut fields = Document::new();
        if let Some(title) = changes.title {
            fields.insert("title", title);
        }
        if let Some(content) = changes.content {
            fields.insert("content", content);
        }
        if let Some(contact) = changes.contact {
            let value = match contact {
                Some(contact) => bson::to_bson(&contact).map_err(ApiError::internal)?,
                None => Bson::Null,
            };
            fields.insert("contact", value);
        }
        if fields.is_empty() {
            return self.get(owner, id).await;
        }
        self.notes
            .update_one(
                owned(owner, id),
                doc! { "$set": fields, "$currentDate": { "updated_at": true } },
            )
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn delete(&self, owner: &str, id: ObjectId) -> Result<(), ApiError> {
        if self.notes.delete_one(owned(owner, id)).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }
}

/// The filter that makes a note private: its id *and* its owner. Another user's note is
/// simply not found (404, not 403: whether it exists is not theirs to learn).
fn owned(owner: &str, id: ObjectId) -> Document {
    doc! { "_id": id, "owner_id": owner }
}

fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("note {id} does not exist"))
}

/// The state of both versions' routes. `Jwt: FromRef` lets `AuthUser` check tokens.
#[derive(Clone, FromRef)]
pub struct NotesState {
    pub notes: NotesService,
    jwt: Jwt,
}

impl NotesState {
    pub fn new(notes: NotesService, auth: &AuthService) -> Self {
        Self {
            notes,
            jwt: auth.jwt().clone(),
        }
    }
}

/// `#[serde(deserialize_with = "present")]` with `#[serde(default)]` on an
/// `Option<Option<T>>`: a field left out is `None` (keep), `null` is `Some(None)` (clear),
/// a value is `Some(Some(v))`. Plain serde folds the first two together.
pub fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}
