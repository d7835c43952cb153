//! Pagination parameters and the page shape every list route answers with.
//!
//! `GET /items?limit=20&skip=40` (offset) or `GET /items?limit=20&cursor=…` (cursor), never
//! both. The answer is `{"items": [...], "next_cursor": "…" | null}`.

use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// `limit` (1–100, default 20) with either `skip` or an opaque `cursor`.
///
/// Extract it with [`crate::extract::ValidQuery`] next to a second `Query<Filter>` for the
/// route's own parameters: both read the same query string, and each ignores the other's
/// keys. (Flattening it into one struct would report `page.limit` instead of `limit`.)
#[derive(Debug, Clone, Deserialize, Validate, utoipa::IntoParams)]
#[validate(schema(function = "skip_xor_cursor"))]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: u32,
    /// Items to skip (offset paging); not with `cursor`.
    #[serde(default)]
    #[validate(range(max = 1_000_000))]
    #[param(maximum = 1_000_000)]
    pub skip: Option<u64>,
    /// The `next_cursor` of the previous page; not with `skip`.
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

fn default_limit() -> u32 {
    DEFAULT_LIMIT
}

impl Default for PageParams {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            skip: None,
            cursor: None,
        }
    }
}

fn skip_xor_cursor(p: &PageParams) -> Result<(), ValidationError> {
    if p.skip.is_some() && p.cursor.is_some() {
        let mut e = ValidationError::new("exclusive");
        e.message = Some("use either skip or cursor, not both".into());
        return Err(e);
    }
    Ok(())
}

/// One page of results. `next_cursor` is `null` on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{from_query_str, validation_error};

    fn parse(q: &str) -> Result<PageParams, crate::ApiError> {
        let p: PageParams = from_query_str(q)?;
        p.validate().map_err(validation_error)?;
        Ok(p)
    }

    #[test]
    fn limits_are_checked_and_named() {
        for q in ["limit=0", "limit=101", "limit=abc", "limit=-1"] {
            let err = parse(q).unwrap_err();
            assert_eq!(err.errors()[0].field, "limit", "{q}");
        }
        assert_eq!(parse("").unwrap().limit, 20);
        assert_eq!(parse("limit=100&skip=5").unwrap().skip, Some(5));
    }

    #[test]
    fn skip_and_cursor_are_exclusive() {
        let err = parse("skip=1&cursor=abc").unwrap_err();
        assert_eq!(err.errors()[0].code, "exclusive");
    }
}
