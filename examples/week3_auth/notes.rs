//! `/api/notes`: the week 2 contract, per user. Every handler takes an `AuthUser`, so
//! there is no way to reach a note without a valid access token, and every query is
//! filtered by `owner_id`, so one user's note is simply not found (404) for another.

use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    routing::get,
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::{AuthService, AuthUser, Jwt},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        Mongo, MongoDocument, Repository, Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
        with_text_search,
    },
    pagination::{Page, PageParams},
};
use validator::Validate;

/// A stored note, with its owner.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "user_notes", index(text = ["title", "content"]))]
pub struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The owner's user id (hex; see `starter_auth::mongo` for why not an ObjectId).
    /// Indexed: every query starts with the owner.
    #[mongo(index)]
    pub owner_id: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// Newest-first listing.
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    #[validate(length(min = 1, max = 100))]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    pub content: String,
    #[serde(default)]
    #[validate(length(max = 20))]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    #[validate(length(min = 1, max = 100))]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    pub content: Option<String>,
    #[validate(length(max = 20))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Validate)]
pub struct NoteFilter {
    #[validate(length(min = 1, max = 200))]
    pub q: Option<String>,
    #[validate(length(min = 1, max = 30))]
    pub tag: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NoteOut {
    #[serde(with = "oid::hex")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string().unwrap_or_default()
}

impl From<Note> for NoteOut {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            title: n.title,
            content: n.content,
            tags: n.tags,
            created_at: rfc3339(n.created_at),
            updated_at: rfc3339(n.updated_at),
        }
    }
}

/// State of the notes routes. `Jwt: FromRef` is what lets `AuthUser` verify tokens.
#[derive(Clone, FromRef)]
pub struct NotesState {
    notes: Repository<Note>,
    jwt: Jwt,
}

impl NotesState {
    pub fn new(mongo: &Mongo, auth: &AuthService) -> Self {
        Self {
            notes: mongo.repo(),
            jwt: auth.jwt().clone(),
        }
    }
}

pub fn router(state: NotesState) -> Router {
    Router::new()
        .route("/notes", get(list).post(create))
        .route("/notes/{id}", get(read).patch(update).delete(remove))
        .with_state(state)
}

/// The one filter that makes a note private: its id *and* its owner.
fn owned(id: ObjectId, user: &AuthUser) -> Document {
    doc! { "_id": id, "owner_id": &user.id }
}

fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("note {id} does not exist"))
}

async fn create(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NoteIn>,
) -> Result<(StatusCode, Json<NoteOut>), ApiError> {
    let now = DateTime::now();
    let note = Note {
        id: ObjectId::new(),
        owner_id: user.id,
        title: input.title,
        content: input.content,
        tags: input.tags,
        created_at: now,
        updated_at: now,
    };
    s.notes.insert(&note).await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}

async fn list(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<NoteFilter>,
) -> Result<Json<Page<NoteOut>>, ApiError> {
    let mut query = doc! { "owner_id": &user.id };
    if let Some(tag) = &filter.tag {
        query.insert("tags", tag);
    }
    if let Some(q) = &filter.q {
        query = with_text_search(query, q);
    }
    let notes = s.notes.page(query, Sort::desc("created_at"), &page).await?;
    Ok(Json(notes.map(NoteOut::from)))
}

async fn read(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<NoteOut>, ApiError> {
    let note = s
        .notes
        .find_one(owned(id, &user))
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(note.into()))
}

async fn update(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<NotePatch>,
) -> Result<Json<NoteOut>, ApiError> {
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
    let note = if fields.is_empty() {
        s.notes.find_one(owned(id, &user)).await?
    } else {
        s.notes
            .update_one(
                owned(id, &user),
                doc! { "$set": fields, "$currentDate": { "updated_at": true } },
            )
            .await?
    };
    Ok(Json(note.ok_or_else(|| not_found(id))?.into()))
}

async fn remove(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if s.notes.delete_one(owned(id, &user)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}
