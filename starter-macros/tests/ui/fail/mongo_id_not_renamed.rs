use serde::{Deserialize, Serialize};
use starter_mongo::{MongoDocument, bson::oid::ObjectId};

// A field named `id` is taken for the document id.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes")]
struct Note {
    id: ObjectId,
    title: String,
}

// So is the field marked `#[mongo(id)]`, whatever its name.
#[derive(Serialize, Deserialize, MongoDocument)]
#[serde(rename_all = "camelCase")]
#[mongo(collection = "users")]
struct User {
    #[mongo(id)]
    user_id: ObjectId,
    name: String,
}

// Two ids.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "tags")]
struct Tag {
    #[mongo(id)]
    #[serde(rename = "_id")]
    id: ObjectId,
    #[mongo(id)]
    name: String,
}

fn main() {}
