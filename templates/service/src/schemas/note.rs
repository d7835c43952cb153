//! The JSON of `/api/notes`: validated inputs and the output shape.
//!
//! A field that fails its `#[validate]` rule is a 422 problem+json naming the field, before
//! the handler runs; an unknown field is refused too (`deny_unknown_fields`), so a typo in a
//! client is an error instead of a silently ignored key.

use serde::{Deserialize, Serialize};
use starter::mongo::{
    bson::{DateTime, oid::ObjectId},
    oid,
};
use validator::{Validate, ValidationError};

use crate::models::Note;

/// Each tag is 1 to 30 characters and not blank.
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

/// `POST /api/notes`.
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

/// `PATCH /api/notes/{id}`: only the fields present change; the others keep their value.
#[derive(Debug, Default, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    #[validate(length(min = 1, max = 100))]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    pub content: Option<String>,
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    pub tags: Option<Vec<String>>,
}

/// The filters of `GET /api/notes` (paging comes from the kit's `PageParams`).
#[derive(Debug, Default, Deserialize, Validate)]
pub struct NoteFilter {
    /// Full-text search over title and content.
    #[validate(length(min = 1, max = 200))]
    pub q: Option<String>,
    /// Only notes with this tag.
    #[validate(length(min = 1, max = 30))]
    pub tag: Option<String>,
}

/// A note as clients see it.
#[derive(Debug, Serialize)]
pub struct NoteOut {
    /// The ObjectId as its 24-character hex string.
    #[serde(with = "oid::hex")]
    pub id: ObjectId,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// RFC 3339, e.g. `2025-01-31T12:00:00Z`.
    pub created_at: String,
    pub updated_at: String,
}

fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string()
        .unwrap_or_else(|_| t.timestamp_millis().to_string())
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
