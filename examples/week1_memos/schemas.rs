//! Request and response types (FastAPI's Pydantic schemas), with their validation rules.
//!
//! `#[derive(Deserialize, Validate)]` is the Rust spelling of a Pydantic `BaseModel` with
//! `Field(min_length=…)` and `field_validator`s: serde checks the shape and types, then
//! `validator` checks the rules. `ValidJson<T>`/`ValidQuery<T>` run both and answer 422
//! naming each field at fault.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use validator::{Validate, ValidationError};

/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 30;

/// A memo as the API returns it (the `response_model`).
#[derive(Debug, Clone, Serialize)]
pub struct Memo {
    pub id: u64,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    /// RFC 3339, e.g. `2025-01-31T09:30:00.123Z`.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `null` until the first update.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// Body of `POST /api/memos` and `PUT /api/memos/{id}` (a full replacement).
///
/// Unknown fields are ignored, like Pydantic's default.
#[derive(Debug, Clone, Deserialize, Validate)]
pub struct MemoIn {
    /// 1–100 characters (characters, not bytes: 100 Hangul syllables are fine).
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    pub content: String,
    /// At most 10 tags, each 1–30 characters.
    #[serde(default)]
    #[validate(length(max = 10), custom(function = "valid_tags"))]
    pub tags: Vec<String>,
}

/// Body of `PATCH /api/memos/{id}`: only the fields present change (`exclude_unset`).
#[derive(Debug, Clone, Default, Deserialize, Validate)]
pub struct MemoPatch {
    // On an `Option`, the rules apply to the value when there is one.
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    pub content: Option<String>,
    #[validate(length(max = 10), custom(function = "valid_tags"))]
    pub tags: Option<Vec<String>>,
}

/// Filters of `GET /api/memos?tag=…&q=…`. Paging (`limit`, `skip`, `cursor`) is a separate
/// `PageParams` read from the same query string.
#[derive(Debug, Clone, Default, Deserialize, Validate)]
pub struct MemoFilter {
    /// Only memos with this tag (case-insensitive).
    #[validate(length(min = 1, max = 30))]
    pub tag: Option<String>,
    /// Only memos whose title or content contains this text (case-insensitive).
    #[validate(length(min = 1, max = 100))]
    pub q: Option<String>,
}

/// A title of spaces only is empty in all but name. (An empty title is already caught by
/// `length(min = 1)`, so this rule stays quiet then: one error per problem.)
fn not_blank(value: &str) -> Result<(), ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        let mut err = ValidationError::new("blank");
        err.message = Some("must not be blank".into());
        return Err(err);
    }
    Ok(())
}

/// Each tag 1–30 characters. (`validator` has no "each item" rule for plain strings, so a
/// custom function checks them; Pydantic would use `list[constr(min_length=1, max_length=30)]`.)
fn valid_tags(tags: &[String]) -> Result<(), ValidationError> {
    let chars = |t: &String| t.chars().count();
    if let Some((index, _)) = tags
        .iter()
        .enumerate()
        .find(|(_, t)| !(1..=MAX_TAG_CHARS).contains(&chars(t)))
    {
        let mut err = ValidationError::new("tag_length");
        err.message = Some(
            format!("each tag must be 1 to {MAX_TAG_CHARS} characters long (tags[{index}] is not)")
                .into(),
        );
        return Err(err);
    }
    Ok(())
}
