//! `/api/posts`: public reading (list, search, one post with its view count), writing for
//! members, editing for the author, deleting for the author or an admin.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pagination::{Page, PageParams},
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::models::{BoardState, Change, Post, not_found, refused, rfc3339, search, writable};

/// The post routes.
pub fn router(state: BoardState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .with_state(state)
}

// ------------------------------------------------------------------------- HTTP shapes

/// A post as everyone sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "author_id": "665f1c2ab4d4c3a1e0a1b2c4",
    "title": "Hello board", "body": "first post", "views": 3,
    "created_at": "2026-01-01T09:30:00Z", "updated_at": "2026-01-01T09:30:00Z"}))]
pub struct PostOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    /// The author's user id.
    pub author_id: String,
    pub title: String,
    pub body: String,
    /// How many times the post was read (`GET /api/posts/{id}`).
    #[schema(minimum = 0)]
    pub views: i64,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Post> for PostOut {
    fn from(p: Post) -> Self {
        Self {
            id: p.id,
            author_id: p.author_id,
            title: p.title,
            body: p.body,
            views: p.views,
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

/// The body of `POST /api/posts`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Hello board", "body": "first post"}))]
pub struct NewPost {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub body: String,
}

/// The body of `PATCH /api/posts/{id}`: the fields to change; the others are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "edited"}))]
pub struct PostPatch {
    /// `null` or left out: unchanged.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// `null` or left out: unchanged.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub body: Option<String>,
}

/// `?q=`: the search of the list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostSearch {
    /// Posts whose title or body contains this text, ignoring case. No control characters.
    // A control character has no place in a search, and a NUL would fail in the database (a 5xx).
    #[validate(
        length(min = 1, max = 100),
        non_control_character(message = "must not contain control characters")
    )]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

// ---------------------------------------------------------------------------- handlers

const ID_DOC: &str = "The post's id";

/// Lists posts, newest first; `q` searches titles and bodies. Public.
#[utoipa::path(get, path = "/posts", tag = "posts", params(PageParams, PostSearch),
    responses((status = 200, description = "One page of posts", body = Page<PostOut>)))]
async fn list(
    State(s): State<BoardState>,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<PostSearch>,
) -> Result<Json<Page<PostOut>>, ApiError> {
    let query = filter.q.as_deref().map(search).unwrap_or_default();
    let posts = s.posts.page(query, Sort::desc("created_at"), &page).await?;
    Ok(Json(posts.map(PostOut::from)))
}

/// Writes a post as the caller.
#[utoipa::path(post, path = "/posts", tag = "posts", security(("bearer" = [])),
    request_body = NewPost,
    responses((status = 201, description = "Created", body = PostOut,
        headers(("Location" = String, description = "`/api/posts/{id}` of the new post")))))]
async fn create(
    State(s): State<BoardState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewPost>,
) -> Result<impl IntoResponse, ApiError> {
    let now = DateTime::now();
    let post = Post {
        id: ObjectId::new(),
        author_id: user.id,
        title: input.title,
        body: input.body,
        views: 0,
        created_at: now,
        updated_at: now,
    };
    s.posts.insert(&post).await?;
    let location = HeaderValue::from_str(&format!("/api/posts/{}", post.id.to_hex()))
        .expect("a hex id is valid header text");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(PostOut::from(post)),
    ))
}

/// Reads a post, and counts the read. Public.
#[utoipa::path(get, path = "/posts/{id}", tag = "posts",
    params(("id" = String, Path, description = ID_DOC, pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    responses(
        (status = 200, description = "The post, this read counted in `views`", body = PostOut),
        (status = 404, description = "No such post (`not_found`)"),
    ))]
async fn read(State(s): State<BoardState>, IdPath(id): IdPath) -> Result<Json<PostOut>, ApiError> {
    // Read and count in one atomic step: no lost update between concurrent readers.
    let post = s
        .posts
        .update_one(doc! { "_id": id }, doc! { "$inc": { "views": 1 } })
        .await?
        .ok_or_else(|| not_found("post", id))?;
    Ok(Json(post.into()))
}

/// Changes the fields given; keeps the others. The author only.
#[utoipa::path(patch, path = "/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = ID_DOC, pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    request_body = PostPatch,
    responses(
        (status = 200, description = "The post as changed", body = PostOut),
        (status = 403, description = "Someone else's post (`forbidden`)"),
        (status = 404, description = "No such post (`not_found`)"),
    ))]
async fn update(
    State(s): State<BoardState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<PostPatch>,
) -> Result<Json<PostOut>, ApiError> {
    let mut fields = Document::new();
    if let Some(title) = patch.title {
        fields.insert("title", title);
    }
    if let Some(body) = patch.body {
        fields.insert("body", body);
    }
    let filter = writable(id, &user, Change::Edit);
    let post = if fields.is_empty() {
        s.posts.find_one(filter).await?
    } else {
        s.posts
            .update_one(
                filter,
                doc! { "$set": fields, "$currentDate": { "updated_at": true } },
            )
            .await?
    };
    match post {
        Some(post) => Ok(Json(post.into())),
        None => Err(refused(&s.posts, id, "post", Change::Edit).await),
    }
}

/// Deletes a post and its comments. Its author, or an admin.
#[utoipa::path(delete, path = "/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = ID_DOC, pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    responses(
        (status = 204, description = "Deleted, with its comments"),
        (status = 403, description = "Someone else's post, and the caller is not an admin (`forbidden`)"),
        (status = 404, description = "No such post (`not_found`)"),
    ))]
async fn remove(
    State(s): State<BoardState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if !s
        .posts
        .delete_one(writable(id, &user, Change::Delete))
        .await?
    {
        return Err(refused(&s.posts, id, "post", Change::Delete).await);
    }
    // After the post: a comment left behind if this fails is unreachable (the comment
    // routes look the post up first), never shown under a missing post.
    s.comments
        .collection()
        .delete_many(doc! { "post_id": id.to_hex() })
        .await
        .map_err(starter::mongo::DbError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
