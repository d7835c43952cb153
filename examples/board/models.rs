//! What is stored (posts and comments), the state the routes share, and the rules both
//! kinds of item follow: who may change them, and how a search becomes a filter.

use axum::extract::FromRef;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use starter::{
    ApiError,
    auth::{ADMIN_ROLE, AuthService, AuthUser, Jwt},
    mongo::{
        Mongo, MongoDocument, Repository,
        bson::{DateTime, Document, doc, oid::ObjectId},
    },
};

/// A post. Anyone reads it; its author edits it; its author or an admin deletes it.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "board_posts")]
pub struct Post {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The author's user id (the token's `sub`). Only the id: an email is personal data,
    /// and a public page must not show it.
    #[mongo(index)]
    pub author_id: String,
    pub title: String,
    pub body: String,
    /// Reads of the post, counted by `$inc` (see the example's header).
    pub views: i64,
    /// Newest-first listing, and the cursor's position.
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A comment on a post, with the same rules as a post.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(
    collection = "board_comments",
    index(asc = "post_id", asc = "created_at")
)]
pub struct Comment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The post's id as hex, like `author_id`: the nx-27017 dev database matches an
    /// ObjectId outside `_id` only through `$in` (see `starter::auth::mongo`).
    pub post_id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The state of every board route. `Jwt: FromRef` lets `AuthUser` check tokens.
#[derive(Clone, FromRef)]
pub struct BoardState {
    pub posts: Repository<Post>,
    pub comments: Repository<Comment>,
    jwt: Jwt,
}

impl BoardState {
    pub fn new(mongo: &Mongo, auth: &AuthService) -> Self {
        Self {
            posts: mongo.repo(),
            comments: mongo.repo(),
            jwt: auth.jwt().clone(),
        }
    }
}

/// What a caller wants to do to an item someone wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only the author.
    Edit,
    /// The author, or an admin moderating.
    Delete,
}

/// The filter of a write: the item's id, and its author unless an admin deletes. The rule
/// is part of the write itself, so nothing can change hands between a check and the write.
pub fn writable(id: ObjectId, user: &AuthUser, change: Change) -> Document {
    if change == Change::Delete && user.has_role(ADMIN_ROLE) {
        doc! { "_id": id }
    } else {
        doc! { "_id": id, "author_id": &user.id }
    }
}

/// Why a write filtered by [`writable`] matched nothing: the item does not exist (404), or
/// it does and is not the caller's to change (403).
pub async fn refused<T>(repo: &Repository<T>, id: ObjectId, what: &str, change: Change) -> ApiError
where
    T: Serialize + DeserializeOwned + Send + Sync + Unpin,
{
    match repo.get(id).await {
        Ok(None) => not_found(what, id),
        Ok(Some(_)) if change == Change::Edit => {
            ApiError::forbidden(format!("only its author can edit this {what}"))
        }
        Ok(_) => ApiError::forbidden(format!(
            "only its author or an admin can delete this {what}"
        )),
        Err(e) => e.into(),
    }
}

pub fn not_found(what: &str, id: ObjectId) -> ApiError {
    ApiError::not_found(format!("{what} {id} does not exist"))
}

/// `?q=` as a filter: title or body contains `q`, ignoring case. The text is escaped, so
/// `a.b` or `(` match themselves: a user's search is never a pattern (nor a slow one).
/// `regex::escape` writes `\` before each metacharacter, which MongoDB's PCRE reads as the
/// literal character too.
pub fn search(q: &str) -> Document {
    let pattern = regex::escape(q);
    doc! { "$or": [
        { "title": { "$regex": &pattern, "$options": "i" } },
        { "body": { "$regex": &pattern, "$options": "i" } },
    ]}
}

/// RFC 3339, for the JSON answers.
pub fn rfc3339(t: DateTime) -> String {
    // Every date a `DateTime::now()` made is inside RFC 3339's range (years 0–9999).
    t.try_to_rfc3339_string()
        .expect("a stored timestamp is between years 0 and 9999")
}
