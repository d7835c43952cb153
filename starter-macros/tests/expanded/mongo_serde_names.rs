//! Index keys are the names serde stores: `rename_all`, `rename`, raw identifiers, dotted
//! paths; an explicit `crate` path; a struct whose id is not called `id`.

use serde::{Deserialize, Serialize};
use starter_mongo::{MongoDocument, bson::doc};

#[derive(Serialize, Deserialize)]
struct Address {
    city: String,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[serde(rename_all = "camelCase")]
#[mongo(crate = "starter_mongo", collection = "people")]
#[mongo(index(asc = "homeAddress.city", desc = "createdAt"))]
struct Person {
    // Stored as `_id`: nothing named `id` needs checking.
    #[serde(rename = "_id")]
    key: String,
    // Not the document id: another field is `_id`.
    id: u32,
    #[mongo(index = desc)]
    created_at: i64,
    #[serde(rename = "mail")]
    #[mongo(unique)]
    email: String,
    #[mongo(index)]
    r#type: String,
    home_address: Address,
    #[serde(skip)]
    cache: Option<String>,
}

/// `rename(serialize = …)` is what is stored.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "legacy", index(text = ["body_text"]))]
struct Legacy {
    #[mongo(id)]
    #[serde(rename(serialize = "_id", deserialize = "_id"))]
    id: String,
    #[serde(rename(serialize = "body_text", deserialize = "body"))]
    body: String,
}

#[test]
fn mongo_serde_names() {
    let keys: Vec<_> = Person::indexes().into_iter().map(|i| i.keys).collect();
    assert_eq!(
        keys,
        [
            doc! { "createdAt": -1 },
            doc! { "mail": 1 },
            doc! { "type": 1 },
            doc! { "homeAddress.city": 1, "createdAt": -1 },
        ]
    );
    let person = Person {
        key: "k".into(),
        id: 1,
        created_at: 0,
        email: String::new(),
        r#type: String::new(),
        home_address: Address {
            city: String::new(),
        },
        cache: None,
    };
    let _ = (&person.key, person.id, &person.cache);
    assert_eq!(Legacy::indexes()[0].keys, doc! { "body_text": "text" });
    assert_eq!(Legacy::COLLECTION, "legacy");
}
