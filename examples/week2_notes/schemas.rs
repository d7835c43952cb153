//! API input and output: validated request bodies and the JSON clients see.

use serde::{Deserialize, Serialize};
use starter::mongo::bson::{DateTime, oid::ObjectId};
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

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    #[validate(length(min = 1, max = 100))]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    pub content: String,
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    pub tags: Vec<String>,
}

/// PATCH body: only the fields present are changed.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    #[validate(length(min = 1, max = 100))]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    pub content: Option<String>,
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TagIn {
    #[validate(length(min = 1, max = 30))]
    pub tag: String,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    #[validate(length(min = 1, max = 2000))]
    pub body: String,
}

/// Filters of `GET /api/notes` (paging comes from `PageParams`).
#[derive(Debug, Deserialize, Validate)]
pub struct NoteFilter {
    /// Full-text search over title and content.
    #[validate(length(min = 1, max = 200))]
    pub q: Option<String>,
    #[validate(length(min = 1, max = 30))]
    pub tag: Option<String>,
}

fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string()
        .unwrap_or_else(|_| t.timestamp_millis().to_string())
}

#[derive(Debug, Serialize)]
pub struct NoteOut {
    #[serde(with = "starter::mongo::oid::hex")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub comment_count: i64,
    pub created_at: String,
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

#[derive(Debug, Serialize)]
pub struct CommentOut {
    #[serde(with = "starter::mongo::oid::hex")]
    pub id: ObjectId,
    #[serde(with = "starter::mongo::oid::hex")]
    pub note_id: ObjectId,
    pub body: String,
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
#[derive(Debug, Serialize)]
pub struct RecentCommentOut {
    #[serde(flatten)]
    pub comment: CommentOut,
    pub note_title: String,
}
