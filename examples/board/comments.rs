//! Comments: `/api/posts/{id}/comments` to read (public) and write (members), and
//! `/api/comments/{id}` to edit (the author) or delete (the author or an admin).

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        Sort,
        bson::{DateTime, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pagination::{Page, PageParams},
};
use utoipa::ToSchema;
use validator::Validate;

use crate::models::{BoardState, Change, Comment, not_found, refused, rfc3339, writable};

/// The comment routes.
pub fn router(state: BoardState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, remove))
        .with_state(state)
}

/// A comment as everyone sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c5", "post_id": "665f1c2ab4d4c3a1e0a1b2c3",
    "author_id": "665f1c2ab4d4c3a1e0a1b2c4", "body": "nice",
    "created_at": "2026-01-01T09:31:00Z", "updated_at": "2026-01-01T09:31:00Z"}))]
pub struct CommentOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    #[schema(pattern = "^[0-9a-f]{24}$")]
    pub post_id: String,
    /// The author's user id.
    pub author_id: String,
    pub body: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id,
            post_id: c.post_id,
            author_id: c.author_id,
            body: c.body,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// The body of `POST /api/posts/{id}/comments` and of `PATCH /api/comments/{id}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "nice"}))]
pub struct CommentIn {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub body: String,
}

/// 404 unless the post exists.
async fn post_exists(s: &BoardState, id: ObjectId) -> Result<(), ApiError> {
    match s.posts.get(id).await? {
        None => Err(not_found("post", id)),
        Some(_) => Ok(()),
    }
}

/// A post's comments, oldest first. Public.
#[utoipa::path(get, path = "/posts/{id}/comments", tag = "comments",
    params(("id" = String, Path, description = "The post's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3"), PageParams),
    responses(
        (status = 200, description = "One page of comments", body = Page<CommentOut>),
        (status = 404, description = "No such post (`not_found`)"),
    ))]
async fn list(
    State(s): State<BoardState>,
    IdPath(post_id): IdPath,
    ValidQuery(page): ValidQuery<PageParams>,
) -> Result<Json<Page<CommentOut>>, ApiError> {
    post_exists(&s, post_id).await?;
    let comments = s
        .comments
        .page(
            doc! { "post_id": post_id.to_hex() },
            Sort::asc("created_at"),
            &page,
        )
        .await?;
    Ok(Json(comments.map(CommentOut::from)))
}

/// Comments on a post as the caller.
#[utoipa::path(post, path = "/posts/{id}/comments", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The post's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    request_body = CommentIn,
    responses(
        (status = 201, description = "Created", body = CommentOut),
        (status = 404, description = "No such post (`not_found`)"),
    ))]
async fn create(
    State(s): State<BoardState>,
    user: AuthUser,
    IdPath(post_id): IdPath,
    ValidJson(input): ValidJson<CommentIn>,
) -> Result<(StatusCode, Json<CommentOut>), ApiError> {
    post_exists(&s, post_id).await?;
    let now = DateTime::now();
    let comment = Comment {
        id: ObjectId::new(),
        post_id: post_id.to_hex(),
        author_id: user.id,
        body: input.body,
        created_at: now,
        updated_at: now,
    };
    s.comments.insert(&comment).await?;
    Ok((StatusCode::CREATED, Json(comment.into())))
}

/// Changes a comment's text. The author only.
#[utoipa::path(patch, path = "/comments/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The comment's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c5")),
    request_body = CommentIn,
    responses(
        (status = 200, description = "The comment as changed", body = CommentOut),
        (status = 403, description = "Someone else's comment (`forbidden`)"),
        (status = 404, description = "No such comment (`not_found`)"),
    ))]
async fn update(
    State(s): State<BoardState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(input): ValidJson<CommentIn>,
) -> Result<Json<CommentOut>, ApiError> {
    let changed = s
        .comments
        .update_one(
            writable(id, &user, Change::Edit),
            doc! { "$set": { "body": input.body }, "$currentDate": { "updated_at": true } },
        )
        .await?;
    match changed {
        Some(comment) => Ok(Json(comment.into())),
        None => Err(refused(&s.comments, id, "comment", Change::Edit).await),
    }
}

/// Deletes a comment. Its author, or an admin.
#[utoipa::path(delete, path = "/comments/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The comment's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c5")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Someone else's comment, and the caller is not an admin (`forbidden`)"),
        (status = 404, description = "No such comment (`not_found`)"),
    ))]
async fn remove(
    State(s): State<BoardState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if s.comments
        .delete_one(writable(id, &user, Change::Delete))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(refused(&s.comments, id, "comment", Change::Delete).await)
    }
}
