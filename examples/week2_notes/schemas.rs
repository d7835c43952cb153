//! API input and output: validated request bodies and the JSON clients see.

use serde::{Deserialize, Serialize};
use starter::mongo::bson::{DateTime, oid::ObjectId};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::models::{Comment, Note};

/// Each tag is 1–30 characters; a note has at most 20.
fn valid_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags
        .iter()
        .any(|t| t.trim().is_empty() || t.chars().count() > 30)
    {
        let mut e = ValidationError::new("tag");
        e.message = Some("each tag must be 1 to 30 characters long".into());
        return Err(e);
    }
    Ok(())
}

/// The body of `POST /api/notes`. The `#[schema]` bounds repeat the `#[validate]` ones
/// so the document tells clients what the server checks.
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
    /// Up to 20 tags of 1 to 30 characters.
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// PATCH body: only the fields present are changed.
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
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tag": "urgent"}))]
pub struct TagIn {
    #[validate(length(min = 1, max = 30))]
    #[schema(min_length = 1, max_length = 30)]
    pub tag: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Done on Tuesday"}))]
pub struct CommentIn {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub body: String,
}

/// Filters of `GET /api/notes` (paging comes from `PageParams`).
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

fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string()
        .unwrap_or_else(|_| t.timestamp_millis().to_string())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Buy milk", "content": "2 litres",
    "tags": ["home"], "comment_count": 0, "created_at": "2026-12-01T09:00:00Z",
    "updated_at": "2026-12-01T09:00:00Z"}))]
pub struct NoteOut {
    /// ObjectId, 24 hex digits.
    #[serde(with = "starter::mongo::oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub comment_count: i64,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Note> for NoteOut {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            title: n.title,
            content: n.content,
            tags: n.tags,
            comment_count: n.comment_count,
            created_at: rfc3339(n.created_at),
            updated_at: rfc3339(n.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c4", "note_id": "665f1c2ab4d4c3a1e0a1b2c3",
    "body": "Done on Tuesday", "created_at": "2026-12-01T09:05:00Z"}))]
pub struct CommentOut {
    #[serde(with = "starter::mongo::oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    #[serde(with = "starter::mongo::oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub note_id: ObjectId,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id,
            note_id: c.note_id,
            body: c.body,
            created_at: rfc3339(c.created_at),
        }
    }
}

/// A comment with the title of its note, as the `$lookup` aggregation returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentCommentOut {
    #[serde(flatten)]
    pub comment: CommentOut,
    pub note_title: String,
}
