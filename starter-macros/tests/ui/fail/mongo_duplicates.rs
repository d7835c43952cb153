use serde::{Deserialize, Serialize};
use starter_mongo::{MongoDocument, bson::oid::ObjectId};

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", collection = "notes2")]
#[mongo(index(asc = "title", asc = "title", name = "a", name = "b"))]
struct Keys {
    #[mongo(unique)]
    #[mongo(unique)]
    title: String,
}

// Two text indexes; an index equal to another; an index on `_id`.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["title"]), index(text = ["content"]))]
#[mongo(index(asc = "email"))]
struct Indexes {
    #[serde(rename = "_id")]
    #[mongo(index)]
    id: ObjectId,
    title: String,
    content: String,
    #[mongo(index)]
    email: String,
}

// Shapes that are not an index.
#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(unique), index(text = ["title"], asc = "email", unique))]
#[mongo(index)]
struct Shapes {
    title: String,
    email: String,
}

fn main() {}
