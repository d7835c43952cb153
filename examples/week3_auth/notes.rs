//! `/api/notes`: the week 2 contract, per user. Every handler takes an `AuthUser`, so
//! there is no way to reach a note without a valid access token, and every query is
//! filtered by `owner_id`, so one user's note is simply not found (404) for another.

use axum::{
    extract::{FromRef, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::{AuthService, AuthUser, Jwt},
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        Mongo, MongoDocument, Repository, Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
        with_text_search,
    },
    pagination::{Page, PageParams},
};
use utoipa::{IntoParams, ToSchema};
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Buy milk", "content": "2 litres", "tags": ["home"]}))]
pub struct NoteIn {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub content: String,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Buy oat milk"}))]
pub struct NotePatch {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub content: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteFilter {
    /// Full-text search over title and content.
    // A control character has no place in a search, and a NUL would fail in the database (a 5xx).
    #[validate(
        length(min = 1, max = 200),
        non_control_character(message = "must not contain control characters")
    )]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Only notes with this tag.
    #[validate(length(min = 1, max = 30))]
    #[param(min_length = 1, max_length = 30)]
    pub tag: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Buy milk", "content": "2 litres",
    "tags": ["home"], "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z"}))]
pub struct NoteOut {
    /// ObjectId, 24 hex digits.
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
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

/// The notes routes; each needs a bearer token (documented by `security` on each path).
pub fn router(state: NotesState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .with_state(state)
}

/// The one filter that makes a note private: its id *and* its owner.
fn owned(id: ObjectId, user: &AuthUser) -> Document {
    doc! { "_id": id, "owner_id": &user.id }
}

fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("note {id} does not exist"))
}

/// Creates a note owned by the caller.
#[utoipa::path(post, path = "/notes", tag = "notes", security(("bearer" = [])), request_body = NoteIn,
    responses((status = 201, description = "Created", body = NoteOut)))]
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

/// The caller's notes, newest first.
#[utoipa::path(get, path = "/notes", tag = "notes", security(("bearer" = [])), params(PageParams, NoteFilter),
    responses((status = 200, description = "One page", body = Page<NoteOut>)))]
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

/// One of the caller's notes.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 200, body = NoteOut), (status = 404, description = "No such note of yours")))]
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

/// Changes the fields present in the body.
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")), request_body = NotePatch,
    responses((status = 200, body = NoteOut), (status = 404, description = "No such note of yours")))]
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

/// Deletes one of the caller's notes.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such note of yours")))]
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
