//! Every index shape, with the collection name and the default of no indexes.
// Two compound indexes that start with the same field repeat `asc = "author"`, which
// clippy's duplicated_attributes lint takes for a repeated attribute.
#![allow(clippy::duplicated_attributes)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use starter_mongo::{
    MongoDocument,
    bson::{DateTime, doc, oid::ObjectId},
    mongodb::IndexModel,
};

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["title", "content"]))]
#[mongo(index(asc = "author", desc = "created_at"))]
#[mongo(index(asc = "author", asc = "slug", unique, name = "author_slug"))]
struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    id: ObjectId,
    title: String,
    content: String,
    author: String,
    slug: String,
    #[mongo(index = desc)]
    created_at: DateTime,
    #[mongo(unique)]
    email: String,
    #[mongo(index)]
    tag: String,
    #[mongo(ttl = "30d")]
    expires_at: DateTime,
    #[mongo(ttl = 0, unique, index = desc)]
    purge_at: DateTime,
}

/// No `#[mongo(index…)]`: the trait's default, no indexes.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "audit.log")]
struct Plain {
    #[serde(rename = "_id")]
    id: ObjectId,
}

/// Generic types work; the bounds are the user's (and here replace serde's inferred ones).
#[derive(Serialize, Deserialize, MongoDocument)]
#[serde(bound = "")]
#[mongo(collection = "boxes")]
struct Boxed<T: Serialize + serde::de::DeserializeOwned + Send + Sync + Unpin + 'static> {
    #[mongo(index)]
    value: T,
}

fn summary(m: &IndexModel) -> (String, String, bool, Option<Duration>) {
    let o = m.options.clone().unwrap();
    (
        o.name.unwrap(),
        m.keys.to_string(),
        o.unique.unwrap_or(false),
        o.expire_after,
    )
}

#[test]
fn mongo_indexes() {
    assert_eq!(Note::COLLECTION, "notes");
    assert_eq!(Plain::COLLECTION, "audit.log");
    assert!(Plain::indexes().is_empty());
    assert_eq!(<Boxed<i32>>::COLLECTION, "boxes");
    assert_eq!(<Boxed<String>>::indexes()[0].keys, doc! { "value": 1 });

    let got: Vec<_> = Note::indexes().iter().map(summary).collect();
    let want = [
        ("created_at_-1", doc! { "created_at": -1 }, false, None),
        ("email_1", doc! { "email": 1 }, true, None),
        ("tag_1", doc! { "tag": 1 }, false, None),
        (
            "expires_at_1",
            doc! { "expires_at": 1 },
            false,
            Some(Duration::from_secs(30 * 24 * 3600)),
        ),
        (
            "purge_at_-1",
            doc! { "purge_at": -1 },
            true,
            Some(Duration::ZERO),
        ),
        (
            "title_text_content_text",
            doc! { "title": "text", "content": "text" },
            false,
            None,
        ),
        (
            "author_1_created_at_-1",
            doc! { "author": 1, "created_at": -1 },
            false,
            None,
        ),
        ("author_slug", doc! { "author": 1, "slug": 1 }, true, None),
    ];
    let want: Vec<_> = want
        .into_iter()
        .map(|(name, keys, unique, ttl)| (name.to_owned(), keys.to_string(), unique, ttl))
        .collect();
    assert_eq!(got, want);
}
