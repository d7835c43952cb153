//! Handlers of `/api/notes`. Each returns `Result<_, ApiError>`; repository errors
//! (`DbError`) convert with `?`: duplicate key → 409, database down → 503, bad cursor → 422.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use futures_util::TryStreamExt;
use starter::{
    ApiError,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        DbError, Mongo, Repository, Sort,
        bson::{self, DateTime, Document, doc, oid::ObjectId},
        oid::IdPath,
        with_text_search,
    },
    pagination::{Page, PageParams},
};

use crate::{
    models::{Comment, Note},
    schemas::{
        CommentIn, CommentOut, NoteFilter, NoteIn, NoteOut, NotePatch, RecentCommentOut, TagIn,
    },
};

/// What handlers get through `State`: cloned per request, cheap (handles share one pool).
#[derive(Clone)]
pub struct AppState {
    mongo: Mongo,
    notes: Repository<Note>,
    comments: Repository<Comment>,
}

impl AppState {
    pub fn new(mongo: &Mongo) -> Self {
        Self {
            mongo: mongo.clone(),
            notes: mongo.repo(),
            comments: mongo.repo(),
        }
    }
}

/// The routes, each documented by the `#[utoipa::path]` on its handler; `routes!` takes
/// the path from there, so the document and the router cannot disagree.
pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read, update, remove))
        .routes(routes!(push_tag))
        .routes(routes!(add_comment, list_comments))
        .routes(routes!(recent_comments))
        .with_state(state)
}

/// Newest first; `_id` breaks ties between notes created in the same millisecond.
const NEWEST_FIRST: Sort = Sort::desc("created_at");

/// Comments of one note. Written `{"$in": [id]}` rather than `{"note_id": id}` (the same
/// query on MongoDB) because the dev stand-in, nx-27017 0.8.1, only matches an ObjectId
/// outside `_id` through `$in`.
fn by_note(id: ObjectId) -> Document {
    doc! { "note_id": { "$in": [id] } }
}

fn not_found(id: ObjectId) -> ApiError {
    ApiError::not_found(format!("note {id} does not exist"))
}

/// Creates a note; `Location` names it.
#[utoipa::path(post, path = "/notes", tag = "notes", request_body = NoteIn,
    responses((status = 201, description = "Created", body = NoteOut,
        headers(("Location" = String, description = "The new note's URL")))))]
async fn create(
    State(s): State<AppState>,
    ValidJson(input): ValidJson<NoteIn>,
) -> Result<impl IntoResponse, ApiError> {
    let now = DateTime::now();
    let note = Note {
        id: ObjectId::new(),
        title: input.title,
        content: input.content,
        tags: input.tags,
        comment_count: 0,
        created_at: now,
        updated_at: now,
    };
    s.notes.insert(&note).await?;
    let mut headers = HeaderMap::new();
    let location = format!("/api/notes/{}", note.id);
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("hex ids are valid header values"),
    );
    Ok((StatusCode::CREATED, headers, Json(NoteOut::from(note))))
}

/// Lists notes, newest first: offset (`skip`) or cursor paging, by tag or full text.
#[utoipa::path(get, path = "/notes", tag = "notes", params(PageParams, NoteFilter),
    responses((status = 200, description = "One page", body = Page<NoteOut>)))]
async fn list(
    State(s): State<AppState>,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<NoteFilter>,
) -> Result<Json<Page<NoteOut>>, ApiError> {
    let mut query = Document::new();
    if let Some(tag) = &filter.tag {
        query.insert("tags", tag);
    }
    if let Some(q) = &filter.q {
        query = with_text_search(query, q);
    }
    let notes = s.notes.page(query, NEWEST_FIRST, &page).await?;
    Ok(Json(notes.map(NoteOut::from)))
}

/// One note.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 200, body = NoteOut), (status = 404, description = "No such note")))]
async fn read(State(s): State<AppState>, IdPath(id): IdPath) -> Result<Json<NoteOut>, ApiError> {
    let note = s.notes.get(id).await?.ok_or_else(|| not_found(id))?;
    Ok(Json(note.into()))
}

/// Changes the fields present in the body (`$set`).
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")), request_body = NotePatch,
    responses((status = 200, body = NoteOut), (status = 404, description = "No such note")))]
async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<NotePatch>,
) -> Result<Json<NoteOut>, ApiError> {
    // Only the fields present in the body go into `$set`; the others stay as they are.
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
    let filter = doc! { "_id": id };
    let note = if fields.is_empty() {
        s.notes.get(id).await?
    } else {
        // `$currentDate` stamps the server's clock, so replicas agree on the time.
        s.notes
            .update_one(
                filter,
                doc! { "$set": fields, "$currentDate": { "updated_at": true } },
            )
            .await?
    }
    .ok_or_else(|| not_found(id))?;
    Ok(Json(note.into()))
}

/// Deletes a note and its comments.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such note")))]
async fn remove(State(s): State<AppState>, IdPath(id): IdPath) -> Result<StatusCode, ApiError> {
    // The note and its comments go together: a transaction, so no orphan comments remain.
    let (notes, comments) = (s.notes.clone(), s.comments.clone());
    let deleted = s
        .mongo
        .transaction(|session| {
            let (notes, comments) = (notes.clone(), comments.clone());
            Box::pin(async move {
                let res = notes
                    .collection()
                    .delete_one(doc! { "_id": id })
                    .session(&mut *session)
                    .await?;
                comments
                    .collection()
                    .delete_many(by_note(id))
                    .session(&mut *session)
                    .await?;
                Ok::<_, DbError>(res.deleted_count == 1)
            })
        })
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}

/// `$push`: appends the tag to the note's array in one atomic update.
#[utoipa::path(post, path = "/notes/{id}/tags", tag = "notes", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")), request_body = TagIn,
    responses((status = 200, description = "The note with the tag appended", body = NoteOut), (status = 404, description = "No such note")))]
async fn push_tag(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ValidJson(input): ValidJson<TagIn>,
) -> Result<Json<NoteOut>, ApiError> {
    let note = s
        .notes
        .update_one(
            doc! { "_id": id },
            doc! { "$push": { "tags": input.tag }, "$currentDate": { "updated_at": true } },
        )
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(note.into()))
}

/// A multi-document transaction: the comment is inserted and the note's `comment_count`
/// bumped together. If the note does not exist, nothing is written.
#[utoipa::path(post, path = "/notes/{id}/comments", tag = "comments", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")), request_body = CommentIn,
    responses((status = 201, description = "Created", body = CommentOut), (status = 404, description = "No such note")))]
async fn add_comment(
    State(s): State<AppState>,
    IdPath(note_id): IdPath,
    ValidJson(input): ValidJson<CommentIn>,
) -> Result<impl IntoResponse, ApiError> {
    let comment = Comment {
        id: ObjectId::new(),
        note_id,
        body: input.body,
        created_at: DateTime::now(),
    };
    let (notes, comments) = (s.notes.clone(), s.comments.clone());
    let found = s
        .mongo
        .transaction(|session| {
            let (notes, comments, comment) = (notes.clone(), comments.clone(), comment.clone());
            Box::pin(async move {
                let bumped = notes
                    .collection()
                    .update_one(
                        doc! { "_id": note_id },
                        doc! { "$inc": { "comment_count": 1 } },
                    )
                    .session(&mut *session)
                    .await?;
                if bumped.matched_count == 0 {
                    // Returning early makes `transaction` commit an empty transaction;
                    // nothing was written.
                    return Ok(false);
                }
                comments.insert_in(session, &comment).await?;
                Ok(true)
            })
        })
        .await?;
    if !found {
        return Err(not_found(note_id));
    }
    Ok((StatusCode::CREATED, Json(CommentOut::from(comment))))
}

/// The comments of one note, oldest first.
#[utoipa::path(get, path = "/notes/{id}/comments", tag = "comments", params(("id" = String, Path, description = "The note's ObjectId (24 hex digits)")),
    responses((status = 200, body = Vec<CommentOut>), (status = 404, description = "No such note")))]
async fn list_comments(
    State(s): State<AppState>,
    IdPath(id): IdPath,
) -> Result<Json<Vec<CommentOut>>, ApiError> {
    if s.notes.get(id).await?.is_none() {
        return Err(not_found(id));
    }
    let comments = s
        .comments
        .list(by_note(id), Sort::asc("created_at"), 1000)
        .await?;
    Ok(Json(comments.into_iter().map(CommentOut::from).collect()))
}

/// An aggregation with `$lookup`: the newest comments, each joined with the title of its
/// note, in one round trip instead of one query per comment.
#[utoipa::path(get, path = "/comments/recent", tag = "comments", params(PageParams),
    responses((status = 200, description = "Newest first, each with its note's title", body = Vec<RecentCommentOut>)))]
async fn recent_comments(
    State(s): State<AppState>,
    ValidQuery(page): ValidQuery<PageParams>,
) -> Result<Json<Vec<RecentCommentOut>>, ApiError> {
    let pipeline = [
        doc! { "$sort": { "created_at": -1, "_id": -1 } },
        doc! { "$limit": i64::from(page.limit) },
        doc! { "$lookup": {
            "from": "notes",
            "localField": "note_id",
            "foreignField": "_id",
            "as": "note",
        }},
        // One note per comment: turn the joined array into a sub-document.
        doc! { "$unwind": "$note" },
    ];
    let docs: Vec<Document> = s
        .comments
        .collection()
        .clone_with_type::<Document>()
        .aggregate(pipeline)
        .await
        .map_err(DbError::from)?
        .try_collect()
        .await
        .map_err(DbError::from)?;
    let mut out = Vec::with_capacity(docs.len());
    for mut d in docs {
        let note_title = d
            .get_document("note")
            .ok()
            .and_then(|n| n.get_str("title").ok())
            .unwrap_or_default()
            .to_owned();
        d.remove("note");
        let comment: Comment = bson::from_document(d).map_err(DbError::from)?;
        out.push(RecentCommentOut {
            note_title,
            comment: comment.into(),
        });
    }
    Ok(Json(out))
}
