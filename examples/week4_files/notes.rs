//! `/api/notes`: the week 3 per-user notes, read through the Redis cache and answered with
//! an `ETag`.
//!
//! - Reads (`GET /notes`, `GET /notes/{id}`) are cache-aside: the JSON text and its tag
//!   are kept in Redis for [`CACHE_TTL`] under the owner's prefix. The request's log line
//!   says `cache=hit|miss|bypass`. With Redis down the lookup is a `bypass`: the answer
//!   comes from MongoDB, and nothing fails.
//! - Every write drops the owner's whole prefix (lists and reads), then publishes a
//!   `note.changed` event to the owner's live connections.
//! - `If-None-Match` with the current tag answers `304` without a body; the tag is computed
//!   from the JSON, so it changes exactly when the answer does.

use std::time::Duration;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use starter::{
    ApiError,
    auth::AuthUser,
    conditional::TaggedJson,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        MongoDocument, Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pagination::{Page, PageParams},
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;

/// How long a cached read may live. Writes invalidate at once; the TTL bounds what a
/// failed invalidation (Redis unreachable during the write) can leave behind.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

/// A stored note, with its owner.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
// No text index here (weeks 2 and 3 teach search): the dev stand-in database cannot
// create one again on a collection that holds documents, and this service is restarted
// on its data (a killed worker's job is finished by the next start).
#[mongo(collection = "notes")]
pub struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(index)]
    pub owner_id: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "X-ray of 36", "content": "before the crown", "tags": ["patient"]}))]
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
#[schema(example = json!({"title": "X-ray of 36 and 37"}))]
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

#[derive(Debug, Serialize, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteFilter {
    /// Only notes with this tag.
    #[validate(length(min = 1, max = 30))]
    #[param(min_length = 1, max_length = 30)]
    pub tag: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "X-ray of 36", "content": "before the crown",
    "tags": ["patient"], "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z"}))]
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

pub fn rfc3339(t: DateTime) -> String {
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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
}

/// The one filter that makes a note private: its id *and* its owner.
pub fn owned(id: ObjectId, user: &AuthUser) -> Document {
    doc! { "_id": id, "owner_id": &user.id }
}

pub fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("note {id} does not exist"))
}

/// The owner's cache prefix: every cached read of theirs starts with it.
fn prefix(user: &AuthUser) -> String {
    format!("{}:", user.id)
}

/// Drops the owner's cached reads and tells their live connections. A failed invalidation
/// is logged, not returned: the write itself succeeded, and the entry expires anyway.
async fn changed(s: &AppState, user: &AuthUser, id: ObjectId, action: &str) {
    if let Err(err) = s.cache.invalidate_prefix(&prefix(user)).await {
        tracing::warn!(error = %err, "cached notes not invalidated; they expire within the TTL");
    }
    s.notify(
        &user.id,
        "note.changed",
        json!({"note_id": id.to_hex(), "action": action}),
    )
    .await;
}

/// Creates a note owned by the caller.
#[utoipa::path(post, path = "/notes", tag = "notes", security(("bearer" = [])), request_body = NoteIn,
    responses((status = 201, description = "Created", body = NoteOut)))]
async fn create(
    State(s): State<AppState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NoteIn>,
) -> Result<(StatusCode, Json<NoteOut>), ApiError> {
    let now = DateTime::now();
    let note = Note {
        id: ObjectId::new(),
        owner_id: user.id.clone(),
        title: input.title,
        content: input.content,
        tags: input.tags,
        created_at: now,
        updated_at: now,
    };
    s.notes.insert(&note).await?;
    changed(&s, &user, note.id, "created").await;
    Ok((StatusCode::CREATED, Json(note.into())))
}

/// The caller's notes, newest first. Cached; `ETag` and `304` for `If-None-Match`.
#[utoipa::path(get, path = "/notes", tag = "notes", security(("bearer" = [])), params(PageParams, NoteFilter),
    responses(
        (status = 200, description = "One page", body = Page<NoteOut>,
            headers(("ETag" = String, description = "Weak tag of this page"))),
        (status = 304, description = "The page is unchanged since the `If-None-Match` tag")))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<NoteFilter>,
) -> Result<Response, ApiError> {
    // The query goes into the key as a hash: tags are the user's text, and keys appear in
    // debug logs.
    let query = serde_json::to_vec(&(&page.limit, &page.skip, &page.cursor, &filter))
        .map_err(ApiError::internal)?;
    let key = format!("{}list:{:x}", prefix(&user), Sha256::digest(query));
    let tagged = s
        .cache
        .get_or_load(&key, CACHE_TTL, || async {
            let mut query = doc! { "owner_id": &user.id };
            if let Some(tag) = &filter.tag {
                query.insert("tags", tag);
            }
            let notes = s.notes.page(query, Sort::desc("created_at"), &page).await?;
            TaggedJson::new(&notes.map(NoteOut::from))
        })
        .await?;
    Ok(tagged.respond(&headers))
}

/// One of the caller's notes. Cached; `ETag` and `304` for `If-None-Match`.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses(
        (status = 200, body = NoteOut, headers(("ETag" = String, description = "Weak tag of this note"))),
        (status = 304, description = "The note is unchanged since the `If-None-Match` tag"),
        (status = 404, description = "No such note of yours")))]
async fn read(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let key = format!("{}note:{}", prefix(&user), id.to_hex());
    let tagged = s
        .cache
        .get_or_load(&key, CACHE_TTL, || async {
            let note = s
                .notes
                .find_one(owned(id, &user))
                .await?
                .ok_or_else(|| not_found(id))?;
            TaggedJson::new(&NoteOut::from(note))
        })
        .await?;
    Ok(tagged.respond(&headers))
}

/// Changes the fields present in the body.
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")), request_body = NotePatch,
    responses((status = 200, body = NoteOut), (status = 404, description = "No such note of yours")))]
async fn update(
    State(s): State<AppState>,
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
    let note = note.ok_or_else(|| not_found(id))?;
    changed(&s, &user, id, "updated").await;
    Ok(Json(note.into()))
}

/// Deletes one of the caller's notes and, in the background, its attachments' files.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", security(("bearer" = [])), params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such note of yours")))]
async fn remove(
    State(s): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if !s.notes.delete_one(owned(id, &user)).await? {
        return Err(not_found(id));
    }
    crate::attachments::remove_all_in_background(&s, id);
    changed(&s, &user, id, "deleted").await;
    Ok(StatusCode::NO_CONTENT)
}
