//! The JSON of `/api/notes`: validated inputs and the output shape.
//!
//! A field that fails its `#[validate]` rule is a 422 problem+json naming the field, before
//! the handler runs; an unknown field is refused too (`deny_unknown_fields`), so a typo in a
//! client is an error instead of a silently ignored key.
//!
//! `ToSchema` / `IntoParams` put the same shapes and limits in the OpenAPI document
//! (`/openapi.json`, `/docs`): keep each `#[schema(...)]` limit equal to its `#[validate]`.

use serde::{Deserialize, Serialize};
use starter::mongo::{
    bson::{DateTime, oid::ObjectId},
    oid,
};
use utoipa::{IntoParams, ToSchema};
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
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Groceries", "content": "milk, eggs", "tags": ["home"]}))]
pub struct NoteIn {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub content: String,
    /// At most 20 tags, each 1 to 30 characters and not blank.
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// `PATCH /api/notes/{id}`: only the fields present change; the others keep their value.
/// A field sent as `null` is left unchanged too.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Groceries for Sunday"}))]
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

/// The filters of `GET /api/notes` (paging comes from the kit's `PageParams`).
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
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

/// A note as clients see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Groceries", "content": "milk, eggs",
    "tags": ["home"], "created_at": "2025-01-31T12:00:00Z", "updated_at": "2025-01-31T12:00:00Z"}))]
pub struct NoteOut {
    /// The ObjectId as its 24-character hex string.
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
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
