//! Declarative indexes, created at start-up. Creating an index that already exists with the
//! same keys and options is a no-op, so start-up is idempotent.
//!
//! ```
//! use starter_mongo::index::Index;
//! let indexes = vec![
//!     Index::desc("created_at"),
//!     Index::unique("email"),
//!     Index::text(&["title", "content"]),
//!     Index::ttl("expires_at", std::time::Duration::ZERO),
//! ];
//! # let _ = indexes;
//! ```

use std::time::Duration;

use mongodb::{
    IndexModel,
    bson::{Document, doc},
    options::IndexOptions,
};

/// Builders of common index shapes, with stable names.
pub struct Index;

impl Index {
    /// Ascending index on one field, named `<field>_1`.
    pub fn asc(field: &str) -> IndexModel {
        Self::on(doc! { field: 1 }, IndexOptions::default())
    }

    /// Descending index on one field, named `<field>_-1` (newest-first listings).
    pub fn desc(field: &str) -> IndexModel {
        Self::on(doc! { field: -1 }, IndexOptions::default())
    }

    /// Unique index on one field: a second document with the same value is a 409.
    pub fn unique(field: &str) -> IndexModel {
        Self::on(
            doc! { field: 1 },
            IndexOptions::builder().unique(true).build(),
        )
    }

    /// Full-text index over the fields, for `{"$text": {"$search": …}}`.
    /// A collection can have only one text index.
    pub fn text(fields: &[&str]) -> IndexModel {
        let mut keys = Document::new();
        for f in fields {
            keys.insert(*f, "text");
        }
        Self::on(keys, IndexOptions::default())
    }

    /// TTL index: a document is deleted `after` the time in its `field` (a BSON date).
    /// `Duration::ZERO` means "at the time in the field".
    pub fn ttl(field: &str, after: Duration) -> IndexModel {
        Self::on(
            doc! { field: 1 },
            IndexOptions::builder().expire_after(after).build(),
        )
    }

    /// Any keys and options; the name defaults to MongoDB's `<field>_<dir>_…` convention.
    pub fn on(keys: Document, mut options: IndexOptions) -> IndexModel {
        if options.name.is_none() {
            options.name = Some(default_name(&keys));
        }
        IndexModel::builder().keys(keys).options(options).build()
    }
}

fn default_name(keys: &Document) -> String {
    keys.iter()
        .map(|(k, v)| match v {
            mongodb::bson::Bson::String(s) => format!("{k}_{s}"),
            mongodb::bson::Bson::Int32(n) => format!("{k}_{n}"),
            mongodb::bson::Bson::Int64(n) => format!("{k}_{n}"),
            other => format!("{k}_{other}"),
        })
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_mongodb_convention() {
        let name = |m: IndexModel| m.options.unwrap().name.unwrap();
        assert_eq!(name(Index::desc("created_at")), "created_at_-1");
        assert_eq!(
            name(Index::text(&["title", "content"])),
            "title_text_content_text"
        );
        assert_eq!(name(Index::unique("email")), "email_1");
    }
}
